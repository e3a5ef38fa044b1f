"""Each clinician's live appointments by start, with their end, type and room alongside.

The slot finder reads weeks of appointments for many clinicians at once; from this
index PostgreSQL answers without visiting the table (an index-only scan, once VACUUM
has marked the pages visible). SQLite ignores ``include`` and keeps the partial index.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appointments", "0005_appointment_not_too_long")]

    operations = [
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status__in", ("booked", "arrived", "completed"))),
                fields=["clinician", "starts_at"],
                include=("ends_at", "appointment_type", "room"),
                name="appt_live_clinician_start_idx",
            ),
        ),
    ]
