from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Practice"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import m2m_changed, post_migrate, post_save

        from . import roles, sessions, two_factor
        from .models import User

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="clinic-sync-roles")
        m2m_changed.connect(roles.sync_staff_flag, sender=User.groups.through)
        user_logged_in.connect(sessions.session_started, dispatch_uid="clinic-session-started")
        user_logged_in.connect(
            two_factor.session_two_factor_flag, dispatch_uid="clinic-two-factor-flag"
        )
        user_logged_out.connect(sessions.session_ended, dispatch_uid="clinic-session-ended")
        post_save.connect(
            sessions.sessions_end_on_deactivation,
            sender=User,
            dispatch_uid="clinic-sessions-end-on-deactivation",
        )
