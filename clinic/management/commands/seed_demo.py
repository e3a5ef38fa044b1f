"""Demo data for trying the product: staff, locations, rooms and about 200 patients.

Idempotent: running it again changes nothing that is already there. Refuses to run
unless the settings allow demo data (never in production).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic.demo import seed


class Command(BaseCommand):
    help = "Load demo data (locations, staff with demo sign-ins, ~200 patients). Idempotent."

    def handle(self, *args, **options) -> None:
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "seed_demo refuses to run here: demo data and demo passwords are for local "
                "development only (DEMO_DATA_ALLOWED is off in these settings)."
            )
        with transaction.atomic():
            summary = seed.seed_all()
        for line in summary:
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Sign in as physio, frontdesk, manager or admin "
                "with password 'demo' (demo only)."
            )
        )
