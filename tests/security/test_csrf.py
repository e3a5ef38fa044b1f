"""A state-changing POST without a CSRF token is refused and changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from appointments.models import Appointment, Status
from patients.models import Patient

from ..appointments.factories import AppointmentFactory
from ..treatments.note_factories import draft_note, episode_for, visit_for
from .test_object_authorization import snapshot


def _csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def targets(db, patient, physio) -> dict:
    episode = episode_for(patient, physio)
    return {
        "appointment": AppointmentFactory(patient=patient, clinician=physio),
        "note": draft_note(visit_for(patient, physio), episode, physio),
        "episode": episode,
    }


def _requests(patient, t) -> list[tuple[str, str, dict]]:
    """(role, URL, body) of requests that would change data if the token were not checked."""
    return [
        ("front_desk", reverse("patients:archive", args=[patient.pk]), {}),
        (
            "front_desk",
            reverse("patients:update", args=[patient.pk]),
            {"first_name": "Changed", "last_name": "Changed", "date_of_birth": "1990-01-01"},
        ),
        (
            "front_desk",
            reverse("appointments:cancel", args=[t["appointment"].pk]),
            {"cancelled_by": "patient", "reason": "ill"},
        ),
        (
            "front_desk",
            reverse("appointments:status", args=[t["appointment"].pk]),
            {"to_status": Status.ARRIVED},
        ),
        ("physio", reverse("treatments:note_sign", args=[patient.pk, t["note"].pk]), {}),
        (
            "physio",
            reverse("treatments:episode_update", args=[patient.pk, t["episode"].pk]),
            {"title": "Changed", "body_region": "knee", "side": "left"},
        ),
    ]


def test_posts_without_a_token_are_refused_and_change_nothing(
    patient, targets, front_desk, physio
) -> None:
    users = {"front_desk": front_desk, "physio": physio}
    before = snapshot()
    for role, url, body in _requests(patient, targets):
        response = _csrf_client(users[role]).post(url, body)
        assert response.status_code == 403, url
    assert snapshot() == before
    patient.refresh_from_db()
    assert not patient.is_archived
    assert Appointment.objects.get(pk=targets["appointment"].pk).status == Status.BOOKED


def test_the_public_booking_confirmation_needs_a_token_too(db) -> None:
    response = Client(enforce_csrf_checks=True).post(reverse("booking:confirm"), {"details": "x"})
    assert response.status_code == 403


def test_with_the_token_the_same_post_goes_through(patient, front_desk) -> None:
    client = _csrf_client(front_desk)
    client.get(reverse("patients:detail", args=[patient.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("patients:archive", args=[patient.pk]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Patient.objects.get(pk=patient.pk).is_archived
