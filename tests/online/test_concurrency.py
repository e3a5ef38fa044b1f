"""Twenty patients confirming the same time on the public pages at once: one booking."""

import pytest
from django.test import Client

from appointments import online_services as online
from appointments.models import Appointment
from patients.models import Patient
from tests.races import run_at_once

from .conftest import local_slot, make_details, post_confirm

ATTEMPTS = 20

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_twenty_visitors_confirming_one_time_get_one_booking(clinic, monkeypatch) -> None:
    monkeypatch.setattr(online, "CONFIRM_RATE_PER_IP", "1000/h")
    starts_at = local_slot(clinic["location"], days=4, hour=18)
    payloads = [
        make_details(
            clinic,
            starts_at,
            first_name=f"Racer{index}",
            email=f"racer{index}@example.com",
            phone=f"+4479111234{index:02d}",
        )
        for index in range(ATTEMPTS)
    ]

    def confirm(index: int) -> tuple[int, str]:
        response = post_confirm(Client(), payloads[index])
        return response.status_code, response.content.decode()

    statuses, failures = run_at_once(confirm, ATTEMPTS)
    crashes = [repr(f) for f in failures]
    assert crashes == []
    codes = sorted(code for code, _ in statuses)
    assert codes == [302] + [409] * (ATTEMPTS - 1)
    assert all("That time was just taken" in body for code, body in statuses if code == 409)
    assert Appointment.objects.count() == 1
    # The losers' records were rolled back with their bookings: nothing left to review.
    assert Patient.objects.filter(registered_online=True).count() == 1
