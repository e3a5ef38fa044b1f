"""The appointment tables' own rules: the database refuses an appointment longer than
``LONGEST_APPOINTMENT``, which the range reads rely on."""

import datetime
import sqlite3

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from appointments.models import (
    APPOINTMENT_NOT_TOO_LONG,
    LONGEST_APPOINTMENT,
    Appointment,
    PracticeSettings,
    Weekday,
)
from treatments.models import ClinicalSettings

from .factories import AppointmentFactory, AppointmentTypeFactory
from .scheduling import at, day_ahead

pytestmark = pytest.mark.django_db

DAY = day_ahead(14, weekday=Weekday.TUESDAY)
SECOND = datetime.timedelta(seconds=1)
NINE_HOURS = datetime.timedelta(hours=9)


@pytest.mark.parametrize("length", [LONGEST_APPOINTMENT + SECOND, NINE_HOURS])
def test_the_database_refuses_an_appointment_longer_than_eight_hours(length) -> None:
    starts_at = at(DAY, "08:00")

    with pytest.raises(IntegrityError, match=APPOINTMENT_NOT_TOO_LONG), transaction.atomic():
        AppointmentFactory(starts_at=starts_at, ends_at=starts_at + length)

    assert not Appointment.objects.exists()


def test_the_database_refuses_stretching_an_appointment_to_nine_hours() -> None:
    appointment = AppointmentFactory(starts_at=at(DAY, "08:00"))

    appointment.ends_at = appointment.starts_at + NINE_HOURS
    with pytest.raises(IntegrityError, match=APPOINTMENT_NOT_TOO_LONG), transaction.atomic():
        appointment.save()

    appointment.refresh_from_db()
    assert appointment.duration == datetime.timedelta(minutes=45)


@pytest.mark.parametrize("starts", ["08:00", "08:00:00.250"])
def test_an_appointment_of_exactly_eight_hours_is_accepted(starts) -> None:
    starts_at = at(DAY, starts)

    appointment = AppointmentFactory(starts_at=starts_at, ends_at=starts_at + LONGEST_APPOINTMENT)

    appointment.refresh_from_db()
    assert appointment.duration == LONGEST_APPOINTMENT


def test_an_appointment_that_ends_before_it_starts_is_still_refused() -> None:
    starts_at = at(DAY, "08:00")

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(starts_at=starts_at, ends_at=starts_at - SECOND)


def test_validating_a_nine_hour_appointment_gives_the_message() -> None:
    appointment = AppointmentFactory(starts_at=at(DAY, "08:00"))
    appointment.ends_at = appointment.starts_at + NINE_HOURS

    with pytest.raises(ValidationError) as excinfo:
        appointment.validate_constraints()

    assert excinfo.value.messages == ["An appointment cannot last longer than 8 hours."]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="about the SQLite table")
def test_a_sqlite_client_without_django_enforces_the_length_too() -> None:
    """The check uses SQLite's own functions, so the sqlite3 shell or a restore still works."""
    name = Appointment._meta.db_table
    AppointmentFactory(starts_at=at(DAY, "08:00"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [name])
        (table,) = cursor.fetchone()
        cursor.execute(f"SELECT * FROM {name}")
        row = dict(
            zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True)
        )
    plain = sqlite3.connect(":memory:")
    plain.execute(table)

    def insert(**changes) -> None:
        values = {**row, **changes}
        placeholders = ", ".join("?" * len(values))
        plain.execute(
            f"INSERT INTO {name} ({', '.join(values)}) VALUES ({placeholders})",
            list(values.values()),
        )

    insert(id=1, starts_at="2030-01-01 08:00:00", ends_at="2030-01-01 16:00:00")
    with pytest.raises(sqlite3.IntegrityError, match=APPOINTMENT_NOT_TOO_LONG):
        insert(id=2, starts_at="2030-01-01 08:00:00", ends_at="2030-01-01 16:00:01")
    plain.close()


def test_overlapping_finds_a_long_appointment_that_started_hours_before_the_window() -> None:
    starts_at = at(DAY, "08:00")
    long = AppointmentFactory(
        starts_at=starts_at, ends_at=starts_at + LONGEST_APPOINTMENT - datetime.timedelta(minutes=1)
    )

    assert list(Appointment.objects.overlapping(at(DAY, "15:30"), at(DAY, "16:30"))) == [long]
    assert not Appointment.objects.overlapping(at(DAY, "15:59"), at(DAY, "16:30")).exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [("09:00", "10:00"), ("15:30", "16:30"), ("12:00", "12:01"), ("06:00", "07:00")],
)
def test_the_sql_for_live_overlapping_finds_what_the_queryset_finds(start, end) -> None:
    """The schedule reads written as SQL use the same rule as ``live().overlapping()``."""
    from appointments.models import Status, live_overlapping_sql

    for wall, minutes, status in [("08:00", 479, Status.BOOKED), ("09:30", 45, Status.ARRIVED),
                                  ("10:00", 30, Status.COMPLETED), ("12:00", 30, Status.CANCELLED),
                                  ("16:30", 60, Status.NO_SHOW)]:  # fmt: skip
        begins = at(DAY, wall)
        AppointmentFactory(
            starts_at=begins, ends_at=begins + datetime.timedelta(minutes=minutes), status=status
        )
    window = at(DAY, start), at(DAY, end)
    condition, values = live_overlapping_sql(*window, connection, prefix="a.")

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT a.id FROM {Appointment._meta.db_table} a WHERE {condition}", values)
        found = {row[0] for row in cursor.fetchall()}

    expected = set(Appointment.objects.live().overlapping(*window).values_list("pk", flat=True))
    assert found == expected
    assert expected or start == "06:00"


def test_the_database_refuses_an_appointment_type_longer_than_eight_hours() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentTypeFactory(name="Marathon", duration_minutes=481)

    assert AppointmentTypeFactory(name="Full day", duration_minutes=480).duration == (
        LONGEST_APPOINTMENT
    )


def test_the_practice_settings_are_made_once_and_read_afresh(django_assert_num_queries) -> None:
    PracticeSettings.objects.all().delete()
    made = PracticeSettings.load()
    assert PracticeSettings.objects.get().pk == made.pk == 1
    PracticeSettings.objects.update(online_max_future_bookings=7)

    with django_assert_num_queries(1):
        assert PracticeSettings.load().online_max_future_bookings == 7
    # Each singleton reads its own table.
    assert isinstance(ClinicalSettings.load(), ClinicalSettings)
    assert isinstance(PracticeSettings.load(), PracticeSettings)
