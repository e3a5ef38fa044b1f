from .views import episodes, history, notes, plans

app_name = "treatments"

urlpatterns = [*episodes.urlpatterns, *plans.urlpatterns, *notes.urlpatterns, *history.urlpatterns]
