"""Sign-in and permissions.

The practice grants permissions through roles only (``clinic/roles.py``; the admin site
offers no per-user permissions and no group editing, and ``sync_roles`` keeps each role's
group holding exactly its row of the table). So a person's permissions follow from their
role names, which every page reads anyway: no permission queries per request.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import models

from .compiled_queries import CompiledRead
from .roles import ROLE_PERMISSIONS, Role

_ROLES = {role.value: role for role in Role}
User = get_user_model()


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
        their role names (every page checks them), in one query compiled once."""
        try:
            user = _signed_in.get(int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None:
            return None
        user.__dict__["role_names"] = frozenset(filter(None, (user.role_list or "").split(",")))
        return user if self.user_can_authenticate(user) else None


def _signed_in_query(user_id: int) -> models.QuerySet:
    return (
        User.objects.select_related("staff_profile")
        .annotate(role_list=JoinedNames("groups__name"))
        .filter(pk=user_id)
    )


_signed_in = CompiledRead(_signed_in_query)


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
