"""The main navigation: its links reversed once per URL configuration, and the reader's
permissions checked in one place, rather than a ``{% url %}`` tag and a ``perms`` lookup
for each link on every page."""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

LINKS = {
    "home": "home",
    "day": "appointments:day",
    "week": "appointments:week",
    "find": "appointments:find",
    "waitlist": "appointments:waitlist",
    "patients": "patients:list",
    "register": "patients:create",
    "registrations": "patients:review_list",
    "reports": "reports:index",
    "admin": "admin:index",
    "feed": "appointments:feed_settings",
    "password": "password_change",
    "two_factor": "two_factor",
    "logout": "logout",
}

PERMISSIONS = {
    "view_appointments": "appointments.view_appointment",
    "view_waitlist": "appointments.view_waitlistentry",
    "view_patients": "patients.view_patient",
    "add_patients": "patients.add_patient",
    "review_registrations": "patients.archive_patient",
}


@functools.lru_cache(maxsize=16)
def _links(root_urlconf: str, urlconf: str | None, prefix: str) -> dict[str, str]:
    return {key: reverse(name, urlconf=urlconf) for key, name in LINKS.items()}


@register.simple_tag(takes_context=True)
def main_nav(context: template.Context) -> dict:
    """The links and which of them the signed-in person may follow."""
    nav = dict(_links(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix()))
    user = context.get("user")
    if user is not None and user.is_authenticated:
        nav.update({key: user.has_perm(perm) for key, perm in PERMISSIONS.items()})
    return nav
