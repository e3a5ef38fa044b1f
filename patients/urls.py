from django.urls import path

from . import export_views, fhir_views, history_views, import_views, review_views, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_update, name="update"),
    path("<int:pk>/archive/", views.patient_archive, name="archive"),
    path("<int:pk>/restore/", views.patient_restore, name="restore"),
    *review_views.urlpatterns,
    *history_views.urlpatterns,
    *import_views.urlpatterns,
    *fhir_views.urlpatterns,
    *export_views.urlpatterns,
]
