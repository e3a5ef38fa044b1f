"""The one table of roles and what each may do.

Roles are stored as Django groups of the same name; ``sync_roles`` makes the groups and
their permissions match this table exactly. Views check permissions, never role names.
"""

from django.db import models


class Role(models.TextChoices):
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    FRONT_DESK = "front_desk", "Front desk"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"


#: Roles whose holders may sign in to the admin site (``is_staff`` follows this).
ADMIN_SITE_ROLES = frozenset({Role.PRACTICE_MANAGER})

_PATIENT_READ = {"patients.view_patient"}
_PATIENT_WRITE = {"patients.add_patient", "patients.change_patient"}

_SCHEDULE_READ = {"appointments.view_appointment"}
_SCHEDULE_WRITE = {"appointments.add_appointment", "appointments.change_appointment"}
_WAITLIST = {
    "appointments.view_waitlistentry",
    "appointments.add_waitlistentry",
    "appointments.change_waitlistentry",
}


def _maintain(app_label: str, *models: str) -> set[str]:
    """View, add and change (never delete) in the admin site."""
    return {
        f"{app_label}.{action}_{model}" for model in models for action in ("view", "add", "change")
    }


#: The clinical record: physiotherapists only. Managers and front desk see none of it.
_CLINICAL = _maintain(
    "treatments",
    "episode",
    "assessment",
    "treatmentplan",
    "intervention",
    "visitnote",
    "addendum",
    "dryneedlingconsent",
)

#: Record history. A patient's details: physiotherapists and managers. An episode's
#: history: its treating physiotherapist in full (through the clinical permissions);
#: managers see who changed which fields and when, never the values.
_PATIENT_HISTORY = {"patients.view_historicalpatient"}
_CLINICAL_CHANGE_LOG = {"treatments.view_historicalepisode"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.PHYSIOTHERAPIST: frozenset(
        _CLINICAL
        | {"treatments.view_exercise"}
        | _PATIENT_READ
        | _PATIENT_WRITE
        | _SCHEDULE_READ
        | _SCHEDULE_WRITE
        | {"appointments.view_waitlistentry"}
        | _PATIENT_HISTORY
    ),
    Role.FRONT_DESK: frozenset(
        _PATIENT_READ
        | _PATIENT_WRITE
        | {"patients.archive_patient"}
        | _SCHEDULE_READ
        | _SCHEDULE_WRITE
        | _WAITLIST
        | {"appointments.view_outboxmessage"}
    ),
    Role.PRACTICE_MANAGER: frozenset(
        _PATIENT_READ
        | _PATIENT_WRITE
        | {"patients.archive_patient", "patients.export_patient"}
        | _SCHEDULE_READ
        | {"appointments.view_waitlistentry", "appointments.view_outboxmessage"}
        | _maintain("clinic", "user", "staffprofile", "location", "room")
        | {"clinic.view_accessevent"}
        | _maintain(
            "appointments",
            "appointmenttype",
            "workinghours",
            "timeoff",
            "closure",
            "practicesettings",
        )
        | _maintain("treatments", "exercise", "clinicalsettings")
        | _PATIENT_HISTORY
        | _CLINICAL_CHANGE_LOG
    ),
}


def sync_roles(verbosity: int = 0) -> None:
    """Create one group per role and give it exactly the permissions in the table."""
    from django.contrib.auth.models import Group, Permission

    for role, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for name in sorted(permission_names):
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
        if verbosity >= 2:
            print(f"Role {role.label}: {len(wanted)} permissions")


def sync_roles_after_migrate(sender, verbosity: int = 1, **kwargs) -> None:
    sync_roles(verbosity)


def sync_staff_flag(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """Keep ``is_staff`` equal to "holds a role that uses the admin site"."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from .models import User

    users = User.objects.filter(pk__in=pk_set or []) if reverse else [instance]
    if reverse and action == "post_clear":
        users = User.objects.filter(is_staff=True)
    for user in users:
        user_sync_staff_flag(user)


def user_sync_staff_flag(user) -> None:
    admin_groups = {role.value for role in ADMIN_SITE_ROLES}
    should_be_staff = user.is_superuser or user.groups.filter(name__in=admin_groups).exists()
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("role_names", None)


def user_set_roles(user, roles) -> None:
    """Give ``user`` exactly ``roles`` (staff flag follows through the signal)."""
    from django.contrib.auth.models import Group

    sync_roles_if_missing()
    user.groups.set(Group.objects.filter(name__in=[Role(role).value for role in roles]))
    user_sync_staff_flag(user)


def sync_roles_if_missing() -> None:
    from django.contrib.auth.models import Group

    if Group.objects.filter(name__in=[role.value for role in Role]).count() != len(Role):
        sync_roles()
