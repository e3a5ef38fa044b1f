import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessEvent
from patients.models import Patient
from patients.views import _SEARCH, _read_rows
from tests.factories import PatientFactory

LIST = reverse("patients:list")
CREATE = reverse("patients:create")
#: Session, user, permissions (2), count, page, and for the menu the user's display name
#: and role names. The same however many patients exist.
LIST_QUERY_BUDGET = 4  # session, person with profile and roles, matching rows, access log


def registration(**changes) -> dict:
    return {
        "first_name": "Imogen",
        "last_name": "Castellano",
        "date_of_birth": "17/05/1994",
        "sex": "female",
        "funding": "self_pay",
        "phone": "07911 123456",
        "email": "Imogen@Example.com",
        **changes,
    }


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _archive(patient: Patient) -> None:
    Patient.objects.filter(pk=patient.pk).update(archived_at=timezone.now())
    patient.refresh_from_db()


def test_front_desk_registers_a_patient_and_sees_the_record(front_desk_client, front_desk):
    response = front_desk_client.post(CREATE, registration(), follow=True)
    patient = Patient.objects.get()
    assert response.redirect_chain == [(patient.get_absolute_url(), 302)]
    page = response.content.decode()
    assert "Imogen Castellano is registered." in page
    assert "+447911123456" in page
    assert patient.phone == "+447911123456"
    assert patient.email == "imogen@example.com"
    assert patient.date_of_birth == datetime.date(1994, 5, 17)
    assert patient.created_by == front_desk


def test_physio_can_register_a_patient(physio_client) -> None:
    response = physio_client.post(CREATE, registration())
    assert response.status_code == 302
    assert Patient.objects.count() == 1


def test_invalid_registration_shows_the_errors_and_creates_nothing(front_desk_client) -> None:
    response = front_desk_client.post(
        CREATE, registration(first_name="", phone="12345", date_of_birth="2999-01-01")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert "Enter a valid phone number, e.g. 07911 123456." in page
    assert "The date of birth cannot be in the future." in page
    assert Patient.objects.count() == 0


def test_registration_form_keeps_what_was_typed_after_an_error(front_desk_client) -> None:
    response = front_desk_client.post(CREATE, registration(phone="12345"))
    page = response.content.decode()
    assert 'value="Castellano"' in page
    assert 'value="12345"' in page


def test_possible_duplicate_is_shown_and_nothing_is_registered(front_desk_client) -> None:
    existing = PatientFactory(
        first_name="Imogen", last_name="Castellano", date_of_birth=datetime.date(1994, 5, 17)
    )
    response = front_desk_client.post(CREATE, registration())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Possible duplicate." in page
    assert existing.get_absolute_url() in page
    assert "This is a different person: register anyway" in page
    assert Patient.objects.count() == 1

    response = front_desk_client.post(CREATE, registration(confirm_not_duplicate="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(last_name="Castellano").count() == 2


def test_front_desk_edits_a_patient(front_desk_client, patient) -> None:
    url = reverse("patients:update", args=[patient.pk])
    assert "Edit Hannah Wright" in front_desk_client.get(url).content.decode()
    data = registration(first_name="Hannah", last_name="Wright-Ellis", phone="07912 345678")
    response = front_desk_client.post(url, data, follow=True)
    assert "The patient&#x27;s details are saved." in response.content.decode()
    patient.refresh_from_db()
    assert patient.last_name == "Wright-Ellis"
    assert patient.phone == "+447912345678"
    assert list(Patient.objects.search("ellis")) == [patient]


def test_invalid_edit_changes_nothing(front_desk_client, patient) -> None:
    url = reverse("patients:update", args=[patient.pk])
    response = front_desk_client.post(url, registration(email="not-an-address"))
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    patient.refresh_from_db()
    assert patient.last_name == "Wright"
    assert patient.email == "hannah.wright@example.com"


def test_front_desk_archives_a_patient(front_desk_client, front_desk, patient) -> None:
    response = front_desk_client.post(reverse("patients:archive", args=[patient.pk]), follow=True)
    assert response.redirect_chain == [(patient.get_absolute_url(), 302)]
    page = response.content.decode()
    assert "Hannah Wright is archived. The record is kept and can be restored." in page
    assert "Archived on" in page
    assert "by Fran Miller" in page
    assert ">Restore</button>" in page
    assert "Edit details" not in page
    patient.refresh_from_db()
    assert patient.is_archived
    assert patient.archived_by == front_desk


def test_archiving_twice_says_so(front_desk_client, patient) -> None:
    _archive(patient)
    archived_at = patient.archived_at
    response = front_desk_client.post(reverse("patients:archive", args=[patient.pk]))
    assert messages_of(response) == ["This patient is already archived."]
    patient.refresh_from_db()
    assert patient.archived_at == archived_at


def test_front_desk_restores_an_archived_patient(front_desk_client, patient) -> None:
    _archive(patient)
    response = front_desk_client.post(reverse("patients:restore", args=[patient.pk]), follow=True)
    page = response.content.decode()
    assert "Hannah Wright is restored." in page
    assert "Edit details" in page
    patient.refresh_from_db()
    assert not patient.is_archived
    assert patient.archived_by is None


def test_restoring_an_active_patient_says_so(front_desk_client, patient) -> None:
    response = front_desk_client.post(reverse("patients:restore", args=[patient.pk]))
    assert messages_of(response) == ["This patient is not archived."]


def test_archive_needs_a_post(front_desk_client, patient) -> None:
    assert front_desk_client.get(reverse("patients:archive", args=[patient.pk])).status_code == 405
    patient.refresh_from_db()
    assert not patient.is_archived


def test_physio_cannot_archive_a_patient(physio_client, patient) -> None:
    page = physio_client.get(patient.get_absolute_url()).content.decode()
    assert ">Archive</button>" not in page
    response = physio_client.post(reverse("patients:archive", args=[patient.pk]))
    assert response.status_code == 403
    patient.refresh_from_db()
    assert not patient.is_archived


def test_physio_cannot_restore_a_patient(physio_client, patient) -> None:
    _archive(patient)
    response = physio_client.post(reverse("patients:restore", args=[patient.pk]))
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.is_archived


def test_an_archived_patient_cannot_be_edited(front_desk_client, patient) -> None:
    _archive(patient)
    url = reverse("patients:update", args=[patient.pk])
    response = front_desk_client.get(url, follow=True)
    assert response.redirect_chain == [(patient.get_absolute_url(), 302)]
    assert "An archived patient cannot be edited; restore the record first." in (
        response.content.decode()
    )
    response = front_desk_client.post(url, registration(first_name="Changed"))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.first_name == "Hannah"


def test_a_patient_that_does_not_exist_is_404(front_desk_client, db) -> None:
    assert front_desk_client.get(reverse("patients:detail", args=[999999])).status_code == 404
    assert front_desk_client.post(reverse("patients:archive", args=[999999])).status_code == 404


def test_outsider_sees_no_patient(outsider_client, patient) -> None:
    for url in (LIST, patient.get_absolute_url(), reverse("patients:update", args=[patient.pk])):
        response = outsider_client.get(url)
        assert response.status_code == 403
        assert b"Hannah" not in response.content


def test_detail_page_shows_contact_details_and_medical_alerts(physio_client, db) -> None:
    patient = PatientFactory(
        first_name="Ava",
        last_name="Green",
        allergy_latex=True,
        anticoagulants_or_bleeding_disorder=True,
        other_alerts="Pacemaker",
        funding="insurer",
        insurer="Bupa",
        policy_number="P123",
    )
    page = physio_client.get(patient.get_absolute_url()).content.decode()
    assert "Medical alerts:" in page
    for alert in ("Allergy: latex", "Anticoagulants or bleeding disorder", "Pacemaker"):
        assert alert in page
    assert "Insurer: Bupa (policy P123)" in page
    assert "not yet accepted" in page


def test_names_are_shown_as_text_never_as_markup(front_desk_client, db) -> None:
    response = front_desk_client.post(
        CREATE, registration(first_name="<script>alert(1)</script>"), follow=True
    )
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Castellano is registered." in page
    listing = front_desk_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in listing


@pytest.fixture
def mixed_registry(db) -> None:
    PatientFactory(first_name="Active", last_name="Smith")
    gone = PatientFactory(first_name="Former", last_name="Smith")
    _archive(gone)


def _names(response) -> list[str]:
    return [patient.first_name for patient in response.context["page"]]


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("", ["Active"]),
        ("active", ["Active"]),
        ("archived", ["Former"]),
        ("all", ["Active", "Former"]),
    ],
)
def test_list_filters_active_and_archived(front_desk_client, mixed_registry, status, shown):
    response = front_desk_client.get(LIST, {"status": status})
    assert response.status_code == 200
    assert sorted(_names(response)) == shown
    page = response.content.decode()
    assert ("Archived</span>" in page) == ("Former" in shown)


def test_list_search_shows_matches_only(front_desk_client, mixed_registry) -> None:
    PatientFactory(first_name="Zoë", last_name="Jones")
    response = front_desk_client.get(LIST, {"q": "zoe"})
    assert _names(response) == ["Zoë"]
    assert 'value="zoe"' in response.content.decode()


def test_list_says_when_nobody_matches(front_desk_client, mixed_registry) -> None:
    page = front_desk_client.get(LIST, {"q": "nguyen"}).content.decode()
    assert "No patients match “nguyen”." in page


def test_htmx_search_returns_only_the_results_table(front_desk_client, mixed_registry) -> None:
    response = front_desk_client.get(LIST, {"q": "smith"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert '<nav class="navbar' not in page
    assert page.lstrip().startswith("<table")
    assert "Smith, Active" in page
    assert "Smith, Former" not in page


def test_full_page_search_has_the_form_and_results(front_desk_client, mixed_registry) -> None:
    page = front_desk_client.get(LIST, {"q": "smith"}).content.decode()
    assert "<html" in page
    assert 'id="patient-results"' in page
    assert "Smith, Active" in page


@pytest.mark.parametrize(
    "params",
    [{"status": "deleted"}, {"page": "0"}, {"page": "lots"}, {"q": "x" * 101}, {"q": "a\x00b"}],
)
def test_bad_search_input_shows_a_message_and_no_patients(
    front_desk_client, mixed_registry, params
):
    response = front_desk_client.get(LIST, params)
    assert response.status_code == 200
    assert "That search could not be run" in response.content.decode()
    assert _names(response) == []


def test_list_is_paginated_25_to_a_page(front_desk_client, db) -> None:
    for n in range(30):
        PatientFactory(first_name=f"P{n:02d}", last_name="Page")
    first = front_desk_client.get(LIST)
    assert len(_names(first)) == 25
    page = first.content.decode()
    assert "Page 1 of 2" in page
    assert "?page=2" in page

    second = front_desk_client.get(LIST, {"page": "2"})
    assert sorted(_names(second)) == [f"P{n:02d}" for n in range(25, 30)]
    assert "Page 2 of 2" in second.content.decode()


def test_pagination_keeps_the_search(front_desk_client, db) -> None:
    for n in range(30):
        PatientFactory(first_name=f"P{n:02d}", last_name="Page")
    PatientFactory.create_batch(5, last_name="Other")
    page = front_desk_client.get(LIST, {"q": "page", "status": "all"}).content.decode()
    assert "?q=page&amp;status=all&amp;page=2" in page


def test_a_page_past_the_end_shows_the_last_page(front_desk_client, db) -> None:
    for n in range(30):
        PatientFactory(first_name=f"P{n:02d}", last_name="Page")
    response = front_desk_client.get(LIST, {"page": "99"})
    assert response.status_code == 200
    assert "Page 2 of 2" in response.content.decode()


@pytest.mark.parametrize("count", [5, 50])
@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),
        ({"status": "all"}, {}),
        ({"q": "smi"}, {}),
        ({"q": "smi", "page": "2"}, {"HX-Request": "true"}),
        ({"q": "07400"}, {"HX-Request": "true"}),
    ],
)
def test_list_and_search_cost_the_same_queries_however_many_patients(
    front_desk_client, django_assert_max_num_queries, count: int, params, headers
) -> None:
    PatientFactory.create_batch(count, last_name="Smith", preferred_name="Smudge")
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        response = front_desk_client.get(LIST, params, headers=headers)
    assert response.status_code == 200
    assert len(_names(response)) == min(count, 25)


def test_a_search_matching_too_many_shows_a_handful_and_asks_for_more(
    front_desk_client, db, monkeypatch
) -> None:
    monkeypatch.setattr("patients.views.SEARCH_COUNT_CAP", 3)
    for first in ["Ann", "Bea", "Cal", "Dee", "Eve"]:
        PatientFactory(first_name=first, last_name="Smith")
    PatientFactory(first_name="Zed", last_name="Jones")

    response = front_desk_client.get(LIST, {"q": "smi"}, headers={"HX-Request": "true"})

    page = response.content.decode()
    shown = _names(response)
    assert "More than 3 patients match “smi”: these are 3 of them." in page
    assert len(shown) == 3
    assert set(shown) < {"Ann", "Bea", "Cal", "Dee", "Eve"}
    assert shown == sorted(shown)  # the handful is in name order
    assert "Page 1 of" not in page


def test_a_broad_search_shows_its_first_page_in_name_order_and_logs_the_search(
    front_desk_client, db, monkeypatch
) -> None:
    monkeypatch.setattr("patients.views.SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr("patients.views.PAGE_SIZE", 2)
    for first in ["Eve", "Dee", "Cal", "Bea", "Ann"]:
        PatientFactory(first_name=first, last_name="Smith")

    response = front_desk_client.get(LIST, {"q": "smi"}, headers={"HX-Request": "true"})

    shown = _names(response)
    assert len(shown) == 2 and shown == sorted(shown)
    assert "More than 3 patients match “smi”: these are 2 of them." in response.content.decode()
    assert AccessEvent.objects.filter(action="search", object_type="patients.patient").count() == 1
    # Where the database tells how many it found before they are read, the rest are not.
    rows, count = _read_rows(_SEARCH.statement("active", "smi"), cap=3, enough=2)
    assert count == 4
    assert len(rows) == (2 if connection.vendor == "postgresql" else 4)
    assert all(isinstance(row.date_of_birth, datetime.date) for row in rows)


def test_a_search_within_the_cap_lists_every_match_in_name_order(
    front_desk_client, db, monkeypatch
) -> None:
    monkeypatch.setattr("patients.views.SEARCH_COUNT_CAP", 3)
    for first in ["Cal", "Ann", "Bea"]:
        PatientFactory(first_name=first, last_name="Smith")

    response = front_desk_client.get(LIST, {"q": "smi"})

    assert _names(response) == ["Ann", "Bea", "Cal"]
    assert "More than" not in response.content.decode()


def test_a_long_list_pages_through_the_first_patients_in_name_order(
    front_desk_client, db, monkeypatch
) -> None:
    monkeypatch.setattr("patients.views.LIST_COUNT_CAP", 3)
    monkeypatch.setattr("patients.views.PAGE_SIZE", 2)
    for last in ["Evans", "Brown", "Adams", "Davis", "Clark"]:
        PatientFactory(first_name="Pat", last_name=last)

    first = front_desk_client.get(LIST)
    second = front_desk_client.get(LIST, {"page": "2"})

    assert [p.last_name for p in first.context["page"]] == ["Adams", "Brown"]
    assert [p.last_name for p in second.context["page"]] == ["Clark"]
    assert "More than 3 patients: the list goes as far as the first 3 in name order." in (
        first.content.decode()
    )
    assert "Page 2 of 2" in second.content.decode()


def test_patient_page_lists_appointments_in_the_locations_wall_clock_time(
    front_desk_client, patient
) -> None:
    from appointments.models import Status
    from clinic.roles import Role
    from tests.appointments.factories import AppointmentFactory, AppointmentTypeFactory
    from tests.factories import LocationFactory, UserFactory

    sydney = LocationFactory(name="Harbour", time_zone="Australia/Sydney")
    clinician = UserFactory(first_name="Ana", last_name="<b>Bold</b>", roles=[Role.PHYSIOTHERAPIST])
    kind = AppointmentTypeFactory(name="Knee <review>")
    # 23:30 UTC on 30 November 2031 is 10:30 on Monday 1 December in Sydney (summer time).
    upcoming = AppointmentFactory(
        patient=patient,
        clinician=clinician,
        location=sydney,
        appointment_type=kind,
        starts_at=datetime.datetime(2031, 11, 30, 23, 30, tzinfo=datetime.UTC),
    )
    past = AppointmentFactory(
        patient=patient,
        location=sydney,
        starts_at=timezone.now() - datetime.timedelta(days=3),
        status=Status.CANCELLED,
        late_cancellation=True,
    )

    page = front_desk_client.get(patient.get_absolute_url()).content.decode()

    assert (
        f'<li><a href="/appointments/{upcoming.pk}/">Mon 1 Dec 2031, 10:30</a> · '
        "Knee &lt;review&gt; with Ana &lt;b&gt;Bold&lt;/b&gt; · "
        '<span class="badge status-badge status-booked">Booked</span></li>'
    ) in page
    assert f'href="/appointments/{past.pk}/"' in page
    assert 'status-cancelled">Cancelled</span> <span class="badge text-bg-warning">late</span>' in (
        page
    )
