"""The scheduling tests' shared places and people."""

from decimal import Decimal

import pytest

from clinic.roles import Role
from tests.factories import LocationFactory, UserFactory

from .factories import AppointmentTypeFactory, works_every_day


@pytest.fixture
def london(db):
    return LocationFactory(name="Islington", time_zone="Europe/London")


@pytest.fixture
def follow_up(db):
    return AppointmentTypeFactory(name="Follow-up", duration_minutes=45, price=Decimal("60.00"))


@pytest.fixture
def clinic(physio, london):
    """Islington, where the physiotherapist works every day 08:00–20:00."""
    works_every_day(physio, london)
    return london


@pytest.fixture
def colleague(london):
    user = UserFactory(
        username="colleague", first_name="Colin", last_name="Baker", roles=[Role.PHYSIOTHERAPIST]
    )
    works_every_day(user, london)
    return user
