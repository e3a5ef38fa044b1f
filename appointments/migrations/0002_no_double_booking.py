"""No double booking, enforced by PostgreSQL itself.

Exclusion constraints over half-open [start, end) ranges: one clinician, one room and one
patient can never hold two overlapping live appointments (cancelled and no-show rows do
not count). Back-to-back appointments are allowed. On SQLite these operations do nothing;
the booking service checks and writes inside one IMMEDIATE transaction instead.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from clinic.migration_ops import RunSQLOnPostgres

LIVE = "status IN ('booked', 'arrived', 'completed')"


def exclusion(name: str, column: str, extra: str = "") -> RunSQLOnPostgres:
    return RunSQLOnPostgres(
        f"ALTER TABLE appointments_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({LIVE}{extra})",
        f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        exclusion("appointment_no_clinician_overlap", "clinician_id"),
        exclusion("appointment_no_room_overlap", "room_id", " AND room_id IS NOT NULL"),
        exclusion("appointment_no_patient_overlap", "patient_id"),
    ]
