"""The benchmark dataset: ``seed_bench --patients 100000 --appointments 1000000 …``.

Refuses to run where demo data is not allowed (production) and on a database that already
holds patients unless ``--force`` is given: benchmark rows must never mix with real ones.
"""

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from appointments.models import Appointment
from bench.dataset import USERNAME_PREFIX, Size, dataset_build
from patients.models import Patient


class Command(BaseCommand):
    help = "Write a large benchmark dataset (patients, years of appointments, signed notes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True)
        parser.add_argument("--appointments", type=int, required=True)
        parser.add_argument("--clinicians", type=int, default=40)
        parser.add_argument("--locations", type=int, default=5)
        parser.add_argument(
            "--episodes-share",
            type=float,
            default=0.1,
            help="Share of patients with an episode of care and signed notes (default 0.1).",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--force", action="store_true", help="Run even though the database holds patients."
        )

    def handle(self, *args, **options) -> None:
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "seed_bench refuses to run here: benchmark data is for a scratch database "
                "(DEMO_DATA_ALLOWED is off in these settings)."
            )
        if Patient.objects.exists() and not options["force"]:
            raise CommandError(
                "seed_bench refuses to run: this database already holds patients. Use an "
                "empty database (or --force if it holds nothing but test data)."
            )
        if Appointment.objects.filter(clinician__username__startswith=USERNAME_PREFIX).exists():
            raise CommandError(
                "seed_bench refuses to run: this database already holds a benchmark dataset."
            )
        size = Size(
            patients=options["patients"],
            appointments=options["appointments"],
            clinicians=options["clinicians"],
            locations=options["locations"],
            episodes_share=options["episodes_share"],
        )
        if min(size.patients, size.appointments, size.clinicians, size.locations) < 1:
            raise CommandError("Give at least one patient, appointment, clinician and location.")
        if not 0 <= size.episodes_share <= 1:
            raise CommandError("--episodes-share is a fraction between 0 and 1.")
        self._shown: dict[str, int] = {}
        started = time.monotonic()
        counts = dataset_build(size, seed=options["seed"], progress=self._progress)
        if connection.vendor == "postgresql":
            # Merge the GIN pending lists and give the planner statistics, as autovacuum
            # would after a day of real use. VACUUM cannot run inside a transaction (as when
            # called from a test); ANALYZE alone still gives the planner its statistics.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        elapsed = time.monotonic() - started
        rows = counts["patients"] + counts["appointments"] + counts["signed notes"]
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Benchmark dataset written in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)."
            )
        )

    def _progress(self, label: str, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if sys.stdout.isatty() and self.stdout._out is sys.stdout:
            end = "\n" if done >= total else ""
            self.stdout.write(f"\r{label} {done}/{total} ({percent}%)", ending=end)
            self.stdout.flush()
        elif percent // 10 > self._shown.get(label, -1) or done >= total:
            self._shown[label] = percent // 10
            self.stdout.write(f"{label} {done}/{total} ({percent}%)")
