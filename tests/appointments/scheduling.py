"""Helpers for the scheduling tests: local times, rooms, time off, closures, waitlist."""

import datetime
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from appointments import services
from appointments.models import Appointment, Closure, TimeOff, WaitlistEntry
from clinic.models import StaffProfile
from tests.factories import LocationFactory, PatientFactory

from .factories import AppointmentTypeFactory

LONDON = ZoneInfo("Europe/London")


def at(day: datetime.date, hhmm: str, zone: ZoneInfo = LONDON) -> datetime.datetime:
    """The aware datetime of a local wall-clock time on ``day``."""
    return datetime.datetime.combine(day, datetime.time.fromisoformat(hhmm), tzinfo=zone)


def day_ahead(days: int = 14, weekday: int | None = None) -> datetime.date:
    """A London date at least ``days`` ahead, moved on to ``weekday`` (0 = Monday) if given."""
    day = timezone.localdate(timezone=LONDON) + datetime.timedelta(days=days)
    if weekday is not None:
        day += datetime.timedelta(days=(weekday - day.weekday()) % 7)
    return day


def book(
    *, patient, clinician, location, appointment_type, starts_at, by=None, **kwargs
) -> Appointment:
    return services.appointment_book(
        patient=patient,
        clinician=clinician,
        location=location,
        appointment_type=appointment_type,
        starts_at=starts_at,
        by=by,
        **kwargs,
    )


def certify_dry_needling(
    clinician, *, on: datetime.date, expires: datetime.date | None = None
) -> StaffProfile:
    profile, _ = StaffProfile.objects.get_or_create(user=clinician)
    profile.dry_needling_certified_on = on
    profile.dry_needling_expires_on = expires
    profile.save()
    clinician.refresh_from_db()
    return profile


class TimeOffFactory(DjangoModelFactory):
    class Meta:
        model = TimeOff

    kind = TimeOff.Kind.LEAVE
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=8))


class ClosureFactory(DjangoModelFactory):
    class Meta:
        model = Closure

    location = None
    starts_on = factory.LazyFunction(day_ahead)
    ends_on = factory.LazyAttribute(lambda c: c.starts_on)
    reason = "Public holiday"


class WaitlistEntryFactory(DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    patient = factory.SubFactory(PatientFactory)
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    location = factory.SubFactory(LocationFactory)
