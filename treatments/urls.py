from .views import episodes, notes, plans

app_name = "treatments"

urlpatterns = [*episodes.urlpatterns, *plans.urlpatterns, *notes.urlpatterns]
