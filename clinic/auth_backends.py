"""Sign-in and permissions.

The practice grants permissions through roles only (``clinic/roles.py``; the admin site
offers no per-user permissions and no group editing, and ``sync_roles`` keeps each role's
group holding exactly its row of the table). So a person's permissions follow from their
role names, which every page reads anyway: no permission queries per request.
"""

from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import models

from .compiled_queries import ID_PLACEHOLDER, KEY_PLACEHOLDER, CompiledRead
from .roles import ROLE_PERMISSIONS, Role

_ROLES = {role.value: role for role in Role}
User = get_user_model()

#: The person read together with the session of the request being signed in, if they were
#: (``clinic.sessions``): set only while Django works out who signs the request.
READ_WITH_SESSION: ContextVar = ContextVar("person_read_with_session", default=None)


class RoleBackend(ModelBackend):
    """Django's model backend (same sign-in), with permissions read from the role table."""

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        if user_obj.is_superuser:
            return super().get_user_permissions(user_obj, obj)
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        if user_obj.is_superuser:
            return super().get_group_permissions(user_obj, obj)
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        granted: set[str] = set()
        for name in user_obj.role_names:
            if name in _ROLES:
                granted |= ROLE_PERMISSIONS[_ROLES[name]]
        return granted

    def get_user(self, user_id):
        """The signed-in person with their staff profile (every page shows their name) and
        their role names (every page checks them), in one query compiled once, unless they
        came with the session."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        user = READ_WITH_SESSION.get()
        if user is None or user.pk != user_id:
            user = _signed_in.get(user_id)
        if user is None:
            return None
        user.__dict__["role_names"] = frozenset(filter(None, (user.role_list or "").split(",")))
        return user if self.user_can_authenticate(user) else None


def _signed_in_people() -> models.QuerySet:
    # The role names in a subquery of their own: grouping the person's whole row by them
    # costs PostgreSQL several times as much to plan and run.
    role_names = (
        User.groups.through.objects.filter(user=models.OuterRef("pk"))
        .values("user")
        .annotate(names=JoinedNames("group__name"))
        .values("names")
    )
    return (
        User.objects.select_related("staff_profile")
        .annotate(role_list=models.Subquery(role_names, output_field=models.TextField()))
        .order_by()
    )


_signed_in = CompiledRead(lambda user_id: _signed_in_people().filter(pk=user_id), ID_PLACEHOLDER)
#: The person a session was recorded for (``UserSession``), to read with the session itself.
signed_in_by_session = CompiledRead(
    lambda key: _signed_in_people().filter(sessions__session_key=key), KEY_PLACEHOLDER
)


class JoinedNames(models.Aggregate):
    """The values joined with commas (role names hold none): ``STRING_AGG`` on PostgreSQL,
    ``GROUP_CONCAT`` on SQLite."""

    function = "GROUP_CONCAT"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s, ',')",
            **extra_context,
        )
