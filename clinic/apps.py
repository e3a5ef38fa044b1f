from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Practice"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_migrate

        from . import roles
        from .models import User

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="clinic-sync-roles")
        m2m_changed.connect(roles.sync_staff_flag, sender=User.groups.through)
