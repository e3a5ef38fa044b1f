import datetime
from unittest import mock

from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from tests.factories import PatientFactory


def test_front_desk_home_offers_search_registration_and_recent_patients(
    front_desk_client, patient
) -> None:
    response = front_desk_client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Good to see you, Fran Miller" in page
    assert "Find a patient" in page
    assert "1 active patient." in page
    assert "Register a patient" in page
    assert "Hannah Wright" in page
    assert "Open the admin site" not in page


def test_home_counts_and_lists_only_active_patients(front_desk_client, db) -> None:
    PatientFactory.create_batch(2)
    PatientFactory(first_name="Gone", last_name="Away", archived_at="2026-01-01T00:00:00Z")
    page = front_desk_client.get(reverse("home")).content.decode()
    assert "2 active patients." in page
    assert "Gone" not in page


def test_home_lists_the_five_most_recently_registered_patients(front_desk_client, db) -> None:
    patients = [PatientFactory(first_name=f"First{n}", last_name="Recent") for n in range(7)]
    start = timezone.now() - datetime.timedelta(days=7)
    for day, registered in enumerate(patients):
        Patient.objects.filter(pk=registered.pk).update(
            created_at=start + datetime.timedelta(days=day)
        )
    page = front_desk_client.get(reverse("home")).content.decode()
    assert page.count("First") == 5
    assert patients[-1].first_name in page
    assert patients[0].first_name not in page


def test_home_says_so_when_no_patients_are_registered(physio_client) -> None:
    page = physio_client.get(reverse("home")).content.decode()
    assert "No patients yet." in page
    assert "0 active patients." in page


def test_physio_home_shows_the_registry_but_not_the_admin(physio_client) -> None:
    page = physio_client.get(reverse("home")).content.decode()
    assert "Find a patient" in page
    assert "Open the admin site" not in page
    assert "Practice admin" not in page


def test_practice_manager_home_links_to_the_admin_site(manager_client) -> None:
    page = manager_client.get(reverse("home")).content.decode()
    assert "Practice maintenance" in page
    assert reverse("admin:index") in page


def test_person_without_a_role_is_told_to_ask_for_one_and_sees_no_patients(
    outsider_client, patient
) -> None:
    response = outsider_client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your account has no role yet" in page
    assert "Find a patient" not in page
    assert "Hannah" not in page
    assert reverse("patients:list") not in page


def test_staff_with_a_role_are_not_told_to_ask_for_one(front_desk_client) -> None:
    page = front_desk_client.get(reverse("home")).content.decode()
    assert "Your account has no role yet" not in page


def test_healthz_answers_ok_without_signing_in(client, db) -> None:
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_fails(client, db) -> None:
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=DatabaseError("connection refused"),
    ):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.content == b"database unavailable"


def test_healthz_refuses_a_post(client, db) -> None:
    assert client.post(reverse("healthz")).status_code == 405
