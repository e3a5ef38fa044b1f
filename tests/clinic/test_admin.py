import pytest
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import Location, Room, StaffProfile, User
from clinic.roles import Role
from patients.models import Patient
from patients.templatetags.patient_admin import _row_writer, patient_result_list
from tests.factories import LocationFactory, PatientFactory, RoomFactory, UserFactory

NEW_PASSWORD = "a long and unguessable passphrase"


def form_data(response) -> dict:
    """What the browser would send back for an admin form left as it is shown."""
    data = {}

    def add(form) -> None:
        for bound in form:
            value = bound.value()
            if value is not None:
                data[bound.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def _add_user(client: Client, roles: list[Role], **profile: str):
    url = reverse("admin:clinic_user_add")
    data = form_data(client.get(url))
    data |= {
        "username": "jo.new",
        "first_name": "Jo",
        "last_name": "New",
        "email": "jo@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "roles": [role.value for role in roles],
    }
    data |= {f"staff_profile-0-{name}": value for name, value in profile.items()}
    return client.post(url, data)


def test_manager_adds_a_physio_with_a_profile_through_the_admin(manager_client) -> None:
    response = _add_user(
        manager_client,
        [Role.PHYSIOTHERAPIST],
        display_name="Jo New",
        registration_number="PH999999",
    )
    assert response.status_code == 302
    user = User.objects.get(username="jo.new")
    assert user.roles == [Role.PHYSIOTHERAPIST]
    assert not user.is_staff
    assert user.check_password(NEW_PASSWORD)
    assert user.staff_profile.registration_number == "PH999999"
    signed_in = Client()
    signed_in.post(reverse("login"), {"username": "jo.new", "password": NEW_PASSWORD})
    assert signed_in.get(reverse("home")).status_code == 200


def test_manager_adding_a_manager_makes_them_staff(manager_client) -> None:
    response = _add_user(manager_client, [Role.PRACTICE_MANAGER, Role.FRONT_DESK])
    assert response.status_code == 302
    user = User.objects.get(username="jo.new")
    assert set(user.groups.values_list("name", flat=True)) == {"practice_manager", "front_desk"}
    assert user.is_staff
    assert not user.is_superuser


def test_adding_a_user_with_mismatched_passwords_creates_nobody(manager_client) -> None:
    url = reverse("admin:clinic_user_add")
    data = form_data(manager_client.get(url)) | {
        "username": "jo.new",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD + "!",
        "roles": ["front_desk"],
    }
    response = manager_client.post(url, data)
    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.content.decode()
    assert not User.objects.filter(username="jo.new").exists()


def test_manager_changes_roles_and_the_staff_flag_follows(manager_client, front_desk) -> None:
    url = reverse("admin:clinic_user_change", args=[front_desk.pk])
    data = form_data(manager_client.get(url)) | {"roles": ["front_desk", "practice_manager"]}
    assert manager_client.post(url, data).status_code == 302
    user = User.objects.get(pk=front_desk.pk)
    assert user.roles == [Role.FRONT_DESK, Role.PRACTICE_MANAGER]
    assert user.is_staff

    data = form_data(manager_client.get(url)) | {"roles": ["front_desk"]}
    assert manager_client.post(url, data).status_code == 302
    assert not User.objects.get(pk=front_desk.pk).is_staff


def test_manager_cannot_make_anyone_a_superuser(manager_client, front_desk) -> None:
    url = reverse("admin:clinic_user_change", args=[front_desk.pk])
    page = manager_client.get(url)
    assert "is_superuser" not in page.content.decode()
    data = form_data(page) | {"is_superuser": "on", "is_staff": "on"}
    assert manager_client.post(url, data).status_code == 302
    user = User.objects.get(pk=front_desk.pk)
    assert not user.is_superuser
    assert not user.is_staff


def test_manager_cannot_change_a_superuser(manager_client, superuser) -> None:
    url = reverse("admin:clinic_user_change", args=[superuser.pk])
    page = manager_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = manager_client.post(
        url, {"username": "root", "first_name": "Hacked", "is_active": "", "roles": []}
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active
    assert superuser.first_name != "Hacked"


def test_manager_cannot_change_a_superusers_password(manager_client, superuser) -> None:
    url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    response = manager_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert not superuser.check_password(NEW_PASSWORD)


def test_a_superuser_can_change_a_superuser(superuser) -> None:
    client = Client()
    client.force_login(superuser)
    other = UserFactory(username="root2", is_superuser=True, is_staff=True)
    url = reverse("admin:clinic_user_change", args=[other.pk])
    data = form_data(client.get(url)) | {"first_name": "Renamed"}
    assert client.post(url, data).status_code == 302
    other.refresh_from_db()
    assert other.first_name == "Renamed"


def test_nobody_can_delete_a_staff_account(manager_client, front_desk) -> None:
    response = manager_client.post(
        reverse("admin:clinic_user_delete", args=[front_desk.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert User.objects.filter(pk=front_desk.pk).exists()


def test_manager_edits_a_location_and_adds_a_room(manager_client) -> None:
    location = LocationFactory(name="Riverside")
    RoomFactory(location=location, name="Room 1")
    url = reverse("admin:clinic_location_change", args=[location.pk])
    data = form_data(manager_client.get(url)) | {
        "time_zone": "Europe/Dublin",
        "rooms-1-name": "Gym",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.time_zone == "Europe/Dublin"
    assert list(location.rooms.values_list("name", flat=True)) == ["Gym", "Room 1"]


def test_a_location_with_a_made_up_time_zone_is_refused(manager_client) -> None:
    location = LocationFactory(name="Riverside")
    url = reverse("admin:clinic_location_change", args=[location.pk])
    data = form_data(manager_client.get(url)) | {"time_zone": "Mars/Olympus_Mons"}
    response = manager_client.post(url, data)
    assert response.status_code == 200
    assert "is not an IANA time zone" in response.content.decode()
    location.refresh_from_db()
    assert location.time_zone == "Europe/London"


def test_manager_adds_a_location(manager_client) -> None:
    url = reverse("admin:clinic_location_add")
    data = form_data(manager_client.get(url)) | {
        "name": "Harbourside",
        "time_zone": "Europe/London",
        "rooms-0-name": "Room A",
    }
    assert manager_client.post(url, data).status_code == 302
    assert Room.objects.get(location__name="Harbourside").name == "Room A"


def test_manager_deactivates_a_room(manager_client) -> None:
    room = RoomFactory(name="Old gym")
    url = reverse("admin:clinic_room_change", args=[room.pk])
    data = form_data(manager_client.get(url))
    del data["active"]
    assert manager_client.post(url, data).status_code == 302
    room.refresh_from_db()
    assert not room.active


def test_manager_cannot_delete_a_location_or_room(manager_client) -> None:
    room = RoomFactory()
    location_delete = reverse("admin:clinic_location_delete", args=[room.location.pk])
    room_delete = reverse("admin:clinic_room_delete", args=[room.pk])
    assert manager_client.post(location_delete, {"post": "yes"}).status_code == 403
    assert manager_client.post(room_delete, {"post": "yes"}).status_code == 403
    assert Location.objects.filter(pk=room.location.pk).exists()
    assert Room.objects.filter(pk=room.pk).exists()


def test_staff_profile_with_expiry_before_certification_is_refused(manager_client, physio) -> None:
    profile = StaffProfile.objects.create(user=physio, display_name="Priya Shah")
    url = reverse("admin:clinic_staffprofile_change", args=[profile.pk])
    data = form_data(manager_client.get(url)) | {
        "dry_needling_certified_on": "2025-06-01",
        "dry_needling_expires_on": "2025-01-01",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 200
    assert "The expiry date must be after the certification date." in response.content.decode()
    profile.refresh_from_db()
    assert profile.dry_needling_expires_on is None


def _patient_client(request, who: str) -> Client:
    if who == "manager":
        return request.getfixturevalue("manager_client")
    client = Client()
    client.force_login(request.getfixturevalue("superuser"))
    return client


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_nobody_can_delete_a_patient_in_the_admin(request, who: str, patient) -> None:
    client = _patient_client(request, who)
    changelist = client.get(reverse("admin:patients_patient_changelist"))
    actions = [value for value, _ in changelist.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions

    delete_url = reverse("admin:patients_patient_delete", args=[patient.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:patients_patient_changelist"),
        {"action": "delete_selected", "_selected_action": [patient.pk], "post": "yes"},
    )
    assert bulk.status_code in {200, 302}
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_manager_archives_patients_with_the_admin_action(manager_client, manager, patient) -> None:
    other = PatientFactory()
    response = manager_client.post(
        reverse("admin:patients_patient_changelist"),
        {"action": "archive_selected", "_selected_action": [patient.pk, other.pk]},
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 patient(s) archived."]
    patient.refresh_from_db()
    assert patient.is_archived
    assert patient.archived_by == manager


def test_manager_restores_an_archived_patient_with_the_admin_action(manager_client, patient):
    Patient.objects.filter(pk=patient.pk).update(archived_at="2026-01-01T00:00:00Z")
    response = manager_client.post(
        reverse("admin:patients_patient_changelist"),
        {"action": "restore_selected", "_selected_action": [patient.pk]},
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 patient(s) restored."]
    patient.refresh_from_db()
    assert not patient.is_archived


@pytest.mark.parametrize(
    "query",
    ["wright", "Hannah Wright", "07911 123456", "+447911123456", "hannah.wright@example"],
)
def test_admin_patient_search_finds_the_patient(manager_client, patient, query: str) -> None:
    PatientFactory(first_name="Someone", last_name="Else", email="else@example.com")
    response = manager_client.get(reverse("admin:patients_patient_changelist"), {"q": query})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [patient]
    assert "Wright" in response.content.decode()


def test_admin_patient_search_that_matches_nobody_shows_no_one(manager_client, patient) -> None:
    response = manager_client.get(
        reverse("admin:patients_patient_changelist"), {"q": "nobody-of-that-name"}
    )
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_patient_added_in_the_admin_gets_a_normalised_phone_and_an_author(
    manager_client, manager
) -> None:
    url = reverse("admin:patients_patient_add")
    data = form_data(manager_client.get(url)) | {
        "first_name": "Amal",
        "last_name": "Haddad",
        "date_of_birth": "1990-02-14",
        "phone": "07912 345678",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient = Patient.objects.get(last_name="Haddad")
    assert patient.phone == "+447912345678"
    assert patient.created_by == manager


def test_admin_patient_search_matching_too_many_lists_the_cap_and_says_so(
    manager_client, monkeypatch
) -> None:
    monkeypatch.setattr("patients.admin.COUNT_CAP", 3)
    for first in ["Cal", "Ann", "Eve", "Bea", "Dee"]:
        PatientFactory(first_name=first, last_name="Smith")

    response = manager_client.get(reverse("admin:patients_patient_changelist"), {"q": "smi"})

    shown = [p.first_name for p in response.context["cl"].result_list]
    assert len(shown) == 3
    assert shown == sorted(shown)
    assert [str(m) for m in response.context["messages"]] == [
        "More than 3 patients match “smi”: the list shows 3 of them. Type more of the name, "
        "or add a date of birth."
    ]


def test_admin_patient_search_within_the_cap_lists_all_in_name_order(
    manager_client, monkeypatch
) -> None:
    monkeypatch.setattr("patients.admin.COUNT_CAP", 3)
    for first in ["Cal", "Ann", "Bea"]:
        PatientFactory(first_name=first, last_name="Smith")

    response = manager_client.get(reverse("admin:patients_patient_changelist"), {"q": "smi"})

    assert [p.first_name for p in response.context["cl"].result_list] == ["Ann", "Bea", "Cal"]
    assert not list(response.context["messages"])


def test_admin_patient_search_says_the_cap_was_reached_only_for_the_filtered_list(
    manager_client, monkeypatch
) -> None:
    monkeypatch.setattr("patients.admin.COUNT_CAP", 3)
    for first in ["Cal", "Ann", "Bea"]:
        PatientFactory(first_name=first, last_name="Smith")
    for first in ["Dee", "Eve"]:
        PatientFactory(first_name=first, last_name="Smith", archived_at=timezone.now())
    url = reverse("admin:patients_patient_changelist")

    active = manager_client.get(url, {"q": "smi", "status": "active"})
    everyone = manager_client.get(url, {"q": "smi"})

    assert [p.first_name for p in active.context["cl"].result_list] == ["Ann", "Bea", "Cal"]
    assert not list(active.context["messages"])
    assert [str(m) for m in everyone.context["messages"]] == [
        "More than 3 patients match “smi”: the list shows 3 of them. Type more of the name, "
        "or add a date of birth."
    ]


def test_admin_patient_rows_carry_a_labelled_selection_box(manager_client, patient) -> None:
    page = manager_client.get(reverse("admin:patients_patient_changelist")).content.decode()

    assert (
        f'<input type="checkbox" name="_selected_action" value="{patient.pk}" '
        f'class="action-select" aria-label="Select this object for an action - {patient}">'
    ) in page
    assert 'id="action-toggle"' in page


def test_admin_patient_rows_are_written_as_django_writes_them(manager_client) -> None:
    PatientFactory(first_name="Ann", last_name="O'Brien <b>&", phone="")
    PatientFactory(first_name='Bea "B"', last_name="O'Brien", archived_at=timezone.now())
    PatientFactory(first_name="Cal", last_name="O'Brien", phone="+447911123456")
    url = reverse("admin:patients_patient_changelist")

    for query in [{"q": "o'brien"}, {"q": "o'brien", "status": "active", "o": "2.-3"}, {}]:
        response = manager_client.get(url, query)
        changelist = response.context["cl"]
        assert _row_writer(changelist) is not None  # written here, not Django's own
        ours = [[str(cell) for cell in row] for row in patient_result_list(changelist)["results"]]
        djangos = [[str(cell) for cell in row] for row in results(changelist)]
        assert ours == djangos and ours, query
        page = response.content.decode()
        assert all("".join(row) in page for row in ours)


def test_admin_patient_row_links_keep_the_search_and_filters(manager_client, patient) -> None:
    url = reverse("admin:patients_patient_changelist")
    page = manager_client.get(url, {"q": "wright", "status": "active"}).content.decode()

    change = reverse("admin:patients_patient_change", args=[patient.pk])
    assert f'<a href="{change}?_changelist_filters=q%3Dwright%26status%3Dactive">' in page


def test_admin_patient_list_in_a_popup_picks_the_patient_as_django_does(
    manager_client, patient
) -> None:
    url = reverse("admin:patients_patient_changelist")
    page = manager_client.get(url, {"_popup": "1", "_to_field": "id"}).content.decode()

    assert f'data-popup-opener="{patient.pk}"' in page


def test_admin_patient_search_pages_through_its_matches(manager_client) -> None:
    for n in range(30):
        PatientFactory(first_name=f"Ann{n:02d}", last_name="Smith")
    url = reverse("admin:patients_patient_changelist")

    second = manager_client.get(url, {"q": "smith", "p": "2"})

    assert second.context["cl"].result_count == 30
    assert [p.first_name for p in second.context["cl"].result_list] == [
        f"Ann{n:02d}" for n in range(25, 30)
    ]
    assert "Ann29" in second.content.decode()


def test_admin_index_lists_the_models_a_manager_maintains(manager_client) -> None:
    page = manager_client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:patients_patient_changelist") in page
    assert reverse("admin:appointments_practicesettings_changelist") in page
    assert manager_client.get(reverse("admin:app_list", args=["patients"])).status_code == 200
