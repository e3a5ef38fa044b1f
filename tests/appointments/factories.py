"""Scheduling factories: appointment types, working hours and appointments."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from appointments.models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Status,
    Weekday,
    WorkingHours,
)
from clinic.roles import Role
from tests.factories import LocationFactory, PatientFactory, UserFactory


class AppointmentTypeFactory(DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ["name"]

    name = "Follow-up"
    duration_minutes = 45
    price = Decimal("60.00")
    needs_room = False


class WorkingHoursFactory(DjangoModelFactory):
    class Meta:
        model = WorkingHours

    clinician = factory.SubFactory(UserFactory, roles=[Role.PHYSIOTHERAPIST])
    location = factory.SubFactory(LocationFactory)
    weekday = Weekday.MONDAY
    start_time = datetime.time(8, 0)
    end_time = datetime.time(20, 0)


def works_every_day(clinician, location) -> None:
    """Working hours 08:00–20:00 every day, so the booking service accepts any such time."""
    for weekday in Weekday:
        WorkingHoursFactory(clinician=clinician, location=location, weekday=weekday)


class AppointmentFactory(DjangoModelFactory):
    """A booked appointment with the status row the booking service would have written."""

    class Meta:
        model = Appointment
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(UserFactory, roles=[Role.PHYSIOTHERAPIST])
    location = factory.SubFactory(LocationFactory)
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + a.appointment_type.duration)
    price = factory.LazyAttribute(lambda a: a.appointment_type.price)
    status = Status.BOOKED

    @factory.post_generation
    def status_history(self, create: bool, extracted, **kwargs) -> None:
        if create:
            AppointmentStatusChange.objects.create(
                appointment=self, from_status="", to_status=self.status
            )
