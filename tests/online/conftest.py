"""A clinic that takes online bookings: one location, one physiotherapist, one service."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments import online_services
from appointments.models import PracticeSettings
from clinic.roles import Role
from tests.appointments.factories import AppointmentTypeFactory, works_every_day
from tests.factories import LocationFactory, StaffProfileFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def practice(db):
    settings = PracticeSettings.load()
    settings.new_patient_discount_percent = 33
    settings.min_booking_notice_minutes = 60
    settings.booking_horizon_days = 90
    settings.online_max_future_bookings = 3
    settings.cancellation_notice_hours = 24
    settings.save()
    return settings


@pytest.fixture
def location(db):
    return LocationFactory(name="Riverside", phone="+442079460123", time_zone="Europe/London")


@pytest.fixture
def clinician(location):
    user = UserFactory(
        username="alex", first_name="Alex", last_name="Moreno", roles=[Role.PHYSIOTHERAPIST]
    )
    StaffProfileFactory(user=user, display_name="Alex Moreno", bookable_online=True)
    works_every_day(user, location)
    return user


@pytest.fixture
def kind(db):
    return AppointmentTypeFactory(
        name="Initial assessment", duration_minutes=45, price=Decimal("60.00"), online_bookable=True
    )


@pytest.fixture
def clinic(practice, location, clinician, kind):
    return {"location": location, "clinician": clinician, "kind": kind, "practice": practice}


def local_slot(location, *, days: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A start on the quarter hour, ``days`` from today, in the location's zone (in UTC)."""
    day = timezone.localtime(timezone.now(), location.zone).date() + datetime.timedelta(days=days)
    local = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=location.zone)
    return local.astimezone(datetime.UTC)


def make_details(clinic, starts_at, **overrides) -> online_services.OnlineDetails:
    values = {
        "location_id": clinic["location"].pk,
        "appointment_type_id": clinic["kind"].pk,
        "clinician_id": clinic["clinician"].pk,
        "any_clinician": False,
        "starts_at": starts_at.isoformat(),
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1990-05-17",
        "email": "nora.quinn@example.com",
        "phone": "+447700900123",
        "declared_new": True,
        "reason": "Knee pain when running",
        "email_reminders": True,
    }
    values.update(overrides)
    return online_services.OnlineDetails(**values)


def post_confirm(client: Client, details, **extra):
    data = {"booking": online_services.details_sign(details), "website": "", **extra}
    return client.post(reverse("booking:confirm"), data)


def manage_url_for(token: str) -> str:
    return f"http://testserver{reverse('booking:manage', args=[token])}"
