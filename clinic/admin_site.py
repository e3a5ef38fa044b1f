"""The practice's admin site: Django's, named for the practice, with its list of every
model built only on the pages that show it."""

from functools import partial

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.functional import SimpleLazyObject


class PracticeAdminSite(admin.AdminSite):
    site_header = f"{settings.PRACTICE_NAME} — practice maintenance"
    site_title = settings.PRACTICE_NAME
    index_title = "Practice maintenance"
    # The index page lists every model; repeating that list beside every page costs more
    # than the patient search it sits next to.
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        """The models a person may see, grouped by app, worked out when a page first reads
        them. Every admin page's context carries the list (for the sidebar, off here), but
        only the index pages show it: a patient search no longer builds it, with its
        permission checks and singleton queries, to throw it away."""
        return SimpleLazyObject(partial(super().get_app_list, request, app_label))


class PracticeAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.PracticeAdminSite"
