from django.core.management.base import BaseCommand
from django.utils import timezone

from appointments import notifications


class Command(BaseCommand):
    help = (
        "Queue e-mail reminders for appointments coming up within the practice's reminder "
        "window, then send every pending message and retry failed ones. Safe to run every "
        "few minutes from cron: each appointment is reminded once per start time."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        queued = notifications.queue_due_reminders(now)
        sent, failed = notifications.deliver_pending(now)
        self.stdout.write(f"Reminders queued: {queued}; sent: {sent}; failed: {failed}")
