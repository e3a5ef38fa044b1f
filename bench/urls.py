"""The practice's URLs plus ``/bench-admin/``: Django's admin site with a patient list in
its default configuration (``search_fields`` on the name, phone and e-mail columns, full
result counts) — what a clinic gets from a plain ``ModelAdmin``. The benchmark measures
the practice's own tuned patient admin (``patients/admin.py``) against it."""

from django.contrib import admin
from django.urls import path

from clinic.urls import handler403
from clinic.urls import urlpatterns as practice_urlpatterns
from patients.models import Patient

default_site = admin.AdminSite(name="bench_default_admin")


class DefaultPatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email"]
    search_fields = ["first_name", "last_name", "phone", "email"]


default_site.register(Patient, DefaultPatientAdmin)

urlpatterns = [path("bench-admin/", default_site.urls), *practice_urlpatterns]

__all__ = ["handler403", "urlpatterns"]
