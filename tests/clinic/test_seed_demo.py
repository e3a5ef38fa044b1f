from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from clinic.models import Location, Room, StaffProfile, User
from clinic.roles import Role
from patients.models import Patient

DEMO_SIGN_INS = ["physio", "frontdesk", "manager", "admin"]


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "locations": Location.objects.count(),
        "rooms": Room.objects.count(),
        "users": User.objects.count(),
        "profiles": StaffProfile.objects.count(),
        "patients": Patient.objects.count(),
    }


@pytest.fixture
def seeded(db) -> str:
    return _seed()


def test_seed_demo_builds_a_practice_and_says_how_to_sign_in(seeded) -> None:
    assert "Demo data ready" in seeded
    assert "password 'demo'" in seeded
    counts = _counts()
    assert counts["locations"] == 2
    assert counts["rooms"] == 5
    assert counts["profiles"] == 6
    assert 150 <= counts["patients"] <= 200


def test_running_seed_demo_again_changes_nothing(seeded) -> None:
    before = _counts()
    names_before = set(Patient.objects.values_list("first_name", "last_name", "date_of_birth"))
    _seed()
    assert _counts() == before
    assert set(Patient.objects.values_list("first_name", "last_name", "date_of_birth")) == (
        names_before
    )


@pytest.mark.parametrize("username", DEMO_SIGN_INS)
def test_demo_staff_can_sign_in_with_the_demo_password(seeded, username: str) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": "demo"})
    assert response.status_code == 302
    assert SESSION_KEY in client.session
    home = client.get(reverse("home"))
    if username in {"manager", "admin"}:
        # Managers and superusers set up two-factor sign-in before anything opens.
        assert home["Location"].startswith(reverse("two_factor_setup"))
    else:
        assert home.status_code == 200


def test_seed_demo_does_not_reset_a_changed_password(seeded) -> None:
    physio = User.objects.get(username="physio")
    physio.set_password("a password the physio chose")
    physio.save()
    _seed()
    physio.refresh_from_db()
    assert physio.check_password("a password the physio chose")


def test_demo_roles_are_as_described(seeded) -> None:
    assert User.objects.get(username="frontdesk").roles == [Role.FRONT_DESK]
    assert User.objects.get(username="manager").is_staff
    owner = User.objects.get(username="sam.okafor")
    assert owner.roles == [Role.PHYSIOTHERAPIST, Role.PRACTICE_MANAGER]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_demo_physio_holds_a_current_dry_needling_certification(seeded) -> None:
    profile = StaffProfile.objects.get(user__username="physio")
    assert profile.dry_needling_certified()
    assert not StaffProfile.objects.get(user__username="tom.baker").dry_needling_certified()


def test_demo_patients_can_be_found_by_the_front_desk(seeded) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "frontdesk", "password": "demo"})
    response = client.get(reverse("patients:list"), {"q": "zoe"})
    assert response.status_code == 200
    assert "Zoë" in response.content.decode()


def test_seed_demo_refuses_where_demo_data_is_not_allowed(db, settings) -> None:
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="refuses to run here"):
        _seed()
    assert _counts() == {"locations": 0, "rooms": 0, "users": 0, "profiles": 0, "patients": 0}
