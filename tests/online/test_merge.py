"""Front desk merges an online registration into the existing patient."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from appointments.models import OutboxMessage, Status, WaitlistEntry
from patients.merge import patient_merge
from patients.models import Patient
from tests.appointments.factories import AppointmentFactory, AppointmentTypeFactory
from tests.factories import LocationFactory, PatientFactory
from treatments.models import DryNeedlingConsent, Episode

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(db) -> Patient:
    return PatientFactory(
        first_name="Hannah",
        last_name="Wright",
        date_of_birth=datetime.date(1985, 3, 2),
        email="h.wright@example.net",
        phone="",
        registered_online=True,
        needs_review=True,
    )


@pytest.fixture
def existing(db) -> Patient:
    return PatientFactory(
        first_name="Hannah",
        last_name="Wright",
        date_of_birth=datetime.date(1985, 3, 2),
        email="",
        phone="+447911123456",
    )


def _everything_for(patient: Patient, physio) -> dict:
    appointment = AppointmentFactory(patient=patient, discount_percent=33)
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.CONFIRMATION,
        appointment=appointment,
        patient=patient,
        to="h.wright@example.net",
        subject="s",
        body_text="b",
        dedupe_key=f"t:{appointment.pk}",
    )
    entry = WaitlistEntry.objects.create(
        patient=patient, appointment_type=AppointmentTypeFactory(), location=LocationFactory()
    )
    episode = Episode.objects.create(patient=patient, clinician=physio, title="Knee")
    consent = DryNeedlingConsent.objects.create(
        patient=patient,
        consented_on=timezone.localdate(),
        method="written_paper",
        recorded_by=physio,
    )
    return {"appointment": appointment, "entry": entry, "episode": episode, "consent": consent}


def test_merging_moves_everything_and_archives_the_registration(
    registration, existing, front_desk, physio
) -> None:
    rows = _everything_for(registration, physio)
    moved = patient_merge(duplicate=registration, into=existing, by=front_desk)
    for row in rows.values():
        row.refresh_from_db()
        assert row.patient_id == existing.pk
    assert OutboxMessage.objects.get().patient == existing
    assert moved["appointments"] == 1 and len(moved) == 5, moved
    registration.refresh_from_db()
    existing.refresh_from_db()
    assert registration.is_archived and not registration.needs_review
    assert registration.archived_by == front_desk
    assert existing.email == "h.wright@example.net"
    assert existing.phone == "+447911123456"
    note = LogEntry.objects.get(object_id=str(registration.pk))
    assert f"merged into patient #{existing.pk}" in note.change_message


def test_the_discount_goes_when_the_kept_patient_was_seen_before(
    registration, existing, front_desk
) -> None:
    AppointmentFactory(
        patient=existing,
        status=Status.COMPLETED,
        starts_at=timezone.now() - datetime.timedelta(days=20),
    )
    online = AppointmentFactory(patient=registration, discount_percent=33)
    patient_merge(duplicate=registration, into=existing, by=front_desk)
    online.refresh_from_db()
    assert online.discount_percent == 0


def test_the_discount_stays_for_a_first_appointment(registration, existing, front_desk) -> None:
    online = AppointmentFactory(patient=registration, discount_percent=33)
    patient_merge(duplicate=registration, into=existing, by=front_desk)
    online.refresh_from_db()
    assert online.discount_percent == 33


def test_overlapping_appointments_stop_the_merge_and_change_nothing(
    registration, existing, front_desk
) -> None:
    start = timezone.now() + datetime.timedelta(days=2)
    AppointmentFactory(patient=existing, starts_at=start)
    online = AppointmentFactory(patient=registration, starts_at=start)
    with pytest.raises(ValidationError, match="same time"):
        patient_merge(duplicate=registration, into=existing, by=front_desk)
    online.refresh_from_db()
    registration.refresh_from_db()
    assert online.patient == registration and not registration.is_archived


def test_only_an_online_registration_can_be_merged_away(existing, front_desk) -> None:
    other = PatientFactory()
    with pytest.raises(ValidationError):
        patient_merge(duplicate=other, into=existing, by=front_desk)
    with pytest.raises(ValidationError):
        patient_merge(duplicate=existing, into=existing, by=front_desk)


def test_an_archived_patient_cannot_receive_a_merge(registration, existing, front_desk) -> None:
    existing.archived_at = timezone.now()
    existing.save()
    with pytest.raises(ValidationError, match="archived"):
        patient_merge(duplicate=registration, into=existing, by=front_desk)


# --- Pages ------------------------------------------------------------------------------


def test_the_review_list_shows_online_registrations_with_their_matches(
    front_desk_client, registration, existing
) -> None:
    PatientFactory(first_name="Reviewed", registered_online=True, needs_review=False)
    response = front_desk_client.get(reverse("patients:review_list"))
    assert response.status_code == 200
    assert "Hannah Wright" in response.text
    assert "Reviewed" not in response.text
    assert reverse("patients:merge", args=[registration.pk]) in response.text


def test_front_desk_merges_from_the_review_page(front_desk_client, registration, existing) -> None:
    url = reverse("patients:merge", args=[registration.pk])
    page = front_desk_client.get(url)
    assert page.status_code == 200
    assert "born 02/03/1985" in page.text
    response = front_desk_client.post(url, {"action": "merge", "into": existing.pk})
    assert response.status_code == 302
    assert response.url == existing.get_absolute_url()
    registration.refresh_from_db()
    assert registration.is_archived


def test_merging_into_someone_who_is_not_a_candidate_is_refused(
    front_desk_client, registration
) -> None:
    stranger = PatientFactory(first_name="Zed", last_name="Zulu", email="z@z.example", phone="")
    url = reverse("patients:merge", args=[registration.pk])
    response = front_desk_client.post(url, {"action": "merge", "into": stranger.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    registration.refresh_from_db()
    assert not registration.is_archived


def test_keeping_a_registration_takes_it_off_the_list(front_desk_client, registration) -> None:
    url = reverse("patients:merge", args=[registration.pk])
    response = front_desk_client.post(url, {"action": "keep"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert not registration.needs_review and not registration.is_archived
    assert front_desk_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("client_name", "status"),
    [
        ("front_desk_client", 200),
        ("manager_client", 200),
        ("physio_client", 403),
        ("outsider_client", 403),
    ],
)
def test_who_may_review_online_registrations(request, registration, client_name, status) -> None:
    client = request.getfixturevalue(client_name)
    assert client.get(reverse("patients:review_list")).status_code == status
    assert client.get(reverse("patients:merge", args=[registration.pk])).status_code == status


def test_a_physio_cannot_merge(physio_client, registration, existing) -> None:
    url = reverse("patients:merge", args=[registration.pk])
    assert physio_client.post(url, {"action": "merge", "into": existing.pk}).status_code == 403
    registration.refresh_from_db()
    assert not registration.is_archived


def test_anonymous_visitors_are_sent_to_sign_in(client, registration) -> None:
    for url in (
        reverse("patients:review_list"),
        reverse("patients:merge", args=[registration.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
