"""The main navigation: its links reversed once per URL configuration, and the reader's
permissions checked in one place, rather than a ``{% url %}`` tag and a ``perms`` lookup
for each link on every page."""

from django import template

from clinic.links import cached_reverse

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


@register.simple_tag(takes_context=True)
def main_nav(context: template.Context) -> dict:
    """The links and which of them the signed-in person may follow."""
    nav = {key: cached_reverse(name) for key, name in LINKS.items()}
    user = context.get("user")
    if user is not None and user.is_authenticated:
        nav.update({key: user.has_perm(perm) for key, perm in PERMISSIONS.items()})
    return nav
