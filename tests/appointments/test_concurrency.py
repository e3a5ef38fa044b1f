"""No double booking under a race: many simultaneous attempts at one slot, one booking.

Runs on whichever database the suite runs on: PostgreSQL (exclusion constraints plus the
service's checks) and SQLite (IMMEDIATE transactions queue the writers).
"""

import datetime

import pytest

from appointments import services
from appointments.models import Appointment, Status
from clinic.roles import Role
from tests.appointments.factories import AppointmentTypeFactory, works_every_day
from tests.factories import LocationFactory, PatientFactory, UserFactory
from tests.races import run_at_once

ATTEMPTS = 20

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def _race(attempt) -> tuple[list, list[str]]:
    successes, failures = run_at_once(attempt, ATTEMPTS)
    crashes = [repr(f) for f in failures if not isinstance(f, services.BookingError)]
    assert crashes == []
    return successes, [" ".join(f.messages) for f in failures]


@pytest.fixture
def slot():
    location = LocationFactory(name="Race Clinic")
    clinician = UserFactory(username="racer", roles=[Role.PHYSIOTHERAPIST])
    works_every_day(clinician, location)
    kind = AppointmentTypeFactory(name="Race follow-up", duration_minutes=30)
    starts_at = datetime.datetime.now(location.zone).replace(
        hour=10, minute=0, second=0, microsecond=0
    ) + datetime.timedelta(days=7)
    return {"location": location, "clinician": clinician, "kind": kind, "starts_at": starts_at}


def test_twenty_patients_racing_for_one_slot_get_one_booking(slot) -> None:
    patients = [PatientFactory() for _ in range(ATTEMPTS)]

    def attempt(index: int):
        return services.appointment_book(
            patient=patients[index],
            clinician=slot["clinician"],
            location=slot["location"],
            appointment_type=slot["kind"],
            starts_at=slot["starts_at"],
            by=None,
            notify=False,
        )

    successes, refusals = _race(attempt)

    assert len(successes) == 1
    assert len(refusals) == ATTEMPTS - 1
    assert all("already has" in message or "just taken" in message for message in refusals)
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1


def test_one_patient_booked_twenty_times_at_once_with_different_clinicians_gets_one(slot) -> None:
    patient = PatientFactory()
    clinicians = [UserFactory(roles=[Role.PHYSIOTHERAPIST]) for _ in range(ATTEMPTS)]
    for clinician in clinicians:
        works_every_day(clinician, slot["location"])

    def attempt(index: int):
        return services.appointment_book(
            patient=patient,
            clinician=clinicians[index],
            location=slot["location"],
            appointment_type=slot["kind"],
            starts_at=slot["starts_at"],
            by=None,
            notify=False,
        )

    successes, refusals = _race(attempt)

    assert len(successes) == 1
    assert len(refusals) == ATTEMPTS - 1
    assert Appointment.objects.filter(patient=patient).count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("shared", ["clinician", "room", "patient"])
def test_the_database_itself_refuses_overlapping_live_appointments(slot, shared) -> None:
    from django.db import IntegrityError, transaction

    from tests.appointments.factories import AppointmentFactory
    from tests.factories import RoomFactory

    room = RoomFactory(location=slot["location"])
    first = AppointmentFactory(
        clinician=slot["clinician"],
        location=slot["location"],
        room=room,
        appointment_type=slot["kind"],
        starts_at=slot["starts_at"],
    )
    overlapping = {
        "clinician": UserFactory(roles=[Role.PHYSIOTHERAPIST]),
        "room": RoomFactory(location=slot["location"]),
        "patient": PatientFactory(),
        "location": slot["location"],
        "appointment_type": slot["kind"],
        "starts_at": slot["starts_at"] + datetime.timedelta(minutes=15),
    }
    overlapping[shared] = getattr(first, shared)

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(**overlapping)

    # Back to back is fine, and a cancelled appointment holds nothing.
    AppointmentFactory(**{**overlapping, "starts_at": first.starts_at - slot["kind"].duration})
    Appointment.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    AppointmentFactory(**overlapping)
