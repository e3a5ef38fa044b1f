"""The front desk's booking: a fixed number of queries however full the schedule is."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from appointments.models import Appointment, OutboxMessage, PracticeSettings, Weekday
from clinic.roles import Role
from tests.factories import PatientFactory, RoomFactory, UserFactory

from .factories import AppointmentFactory, AppointmentTypeFactory, works_every_day
from .scheduling import at, day_ahead

pytestmark = pytest.mark.django_db

DAY = day_ahead(14, weekday=Weekday.TUESDAY)
BOOKING_QUERIES = 24


@pytest.mark.parametrize(("colleagues", "per_day"), [(0, 0), (6, 8)])
def test_booking_queries_do_not_grow_with_the_schedule(
    colleagues,
    per_day,
    front_desk_client,
    physio,
    clinic,
    patient,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    PracticeSettings.load()
    treatment = AppointmentTypeFactory(name="Treatment", duration_minutes=45, needs_room=True)
    rooms = [RoomFactory(location=clinic, name=f"Room {n}") for n in range(1, 4)]
    for number in range(colleagues):
        colleague = UserFactory(roles=[Role.PHYSIOTHERAPIST])
        works_every_day(colleague, clinic)
        for hour in range(8, 8 + per_day):
            AppointmentFactory(clinician=colleague, location=clinic, appointment_type=treatment,
                               room=rooms[number] if number < len(rooms) else None,
                               patient=PatientFactory(),
                               starts_at=at(DAY, f"{hour:02d}:00"))  # fmt: skip
    data = {
        "patient": patient.pk,
        "appointment_type": treatment.pk,
        "location": clinic.pk,
        "clinician": physio.pk,
        "date": DAY.isoformat(),
        "time": "16:30",
    }

    with (
        django_assert_max_num_queries(BOOKING_QUERIES),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = front_desk_client.post(reverse("appointments:create"), data)

    booked = Appointment.objects.get(patient=patient)
    assert response.status_code == 302
    assert booked.starts_at == at(DAY, "16:30")
    assert booked.room is not None
    assert OutboxMessage.objects.get(appointment=booked).state == OutboxMessage.State.SENT
    assert mail.outbox[-1].to == [patient.email]
    assert booked.ends_at - booked.starts_at == datetime.timedelta(minutes=45)
