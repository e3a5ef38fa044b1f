"""No appointment longer than ``LONGEST_APPOINTMENT`` (8 hours), refused by the database.

``AppointmentQuerySet.overlapping()`` bounds ``starts_at`` from below by that length to
stay on its indexes, so it is only right while no longer appointment can exist. The check
is written in SQL each database evaluates itself (see ``appointments.expressions``), so
other SQLite clients can still write to the table. Adding it fails, with the database's
own message, if an existing row already breaks it; such rows must be corrected first.
"""

import datetime

import django.core.validators
from django.db import migrations, models

import appointments.expressions


class Migration(migrations.Migration):
    dependencies = [("appointments", "0004_appointment_history")]

    operations = [
        migrations.AlterField(
            model_name="appointmenttype",
            name="duration_minutes",
            field=models.PositiveSmallIntegerField(
                validators=[
                    django.core.validators.MinValueValidator(5),
                    django.core.validators.MaxValueValidator(
                        480,
                        message="An appointment type cannot last longer than 8 hours (480 minutes).",
                    ),
                ]
            ),
        ),
        migrations.AddConstraint(
            model_name="appointmenttype",
            constraint=models.CheckConstraint(
                condition=models.Q(("duration_minutes__lte", 480)),
                name="appointmenttype_duration_at_most_longest",
                violation_error_message=(
                    "An appointment type cannot last longer than 8 hours (480 minutes)."
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=appointments.expressions.EndsWithin(
                    "starts_at", "ends_at", limit=datetime.timedelta(seconds=28800)
                ),
                name="appointment_not_too_long",
                violation_error_message="An appointment cannot last longer than 8 hours.",
            ),
        ),
    ]
