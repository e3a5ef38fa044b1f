"""Two-factor sign-in: required for managers and superusers, optional for everyone else."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.two_factor import recovery_codes_generate
from tests.conftest import PASSWORD
from tests.factories import UserFactory

from .otp import sign_in_with_password_only, totp_code, totp_device_for


def _sign_in(client: Client, username: str) -> None:
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    assert SESSION_KEY in client.session


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def _set_up(client: Client, user) -> TOTPDevice:
    """Go through set-up with the code an authenticator app would show."""
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("two_factor_setup"), {"code": totp_code(device)})
    assert response.status_code == 302, response.content.decode()
    device.refresh_from_db()
    return device


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def manager_without_code(manager) -> Client:
    return sign_in_with_password_only(Client(), manager)


def test_a_manager_signing_in_for_the_first_time_is_sent_to_set_up(client, manager) -> None:
    _sign_in(client, "manager")
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('two_factor_setup')}?next=/"


@pytest.mark.parametrize("url_name", ["home", "patients:list", "admin:index", "password_change"])
def test_a_manager_without_the_second_factor_reaches_nothing(
    manager_without_code, url_name: str
) -> None:
    response = manager_without_code.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))


def test_the_admin_site_waits_for_the_code_once_set_up(manager_without_code, manager) -> None:
    totp_device_for(manager)
    response = manager_without_code.get(reverse("admin:clinic_user_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_a_superuser_must_use_it_too(superuser) -> None:
    client = sign_in_with_password_only(Client(), superuser)
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("two_factor_setup"))


def test_a_manager_can_still_sign_out_before_giving_the_code(manager_without_code) -> None:
    response = manager_without_code.post(reverse("logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in manager_without_code.session


def test_set_up_shows_a_qr_code_and_the_key_without_inline_script(manager_without_code) -> None:
    response = manager_without_code.get(reverse("two_factor_setup"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<img src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert re.search(r'<label\s+for="id_code"', page)
    assert "<script>" not in page
    assert 'style="' not in page
    # Reloading the page keeps the same key, so a half-finished scan still works.
    manager_without_code.get(reverse("two_factor_setup"))
    assert TOTPDevice.objects.get(confirmed=False) == device


def test_set_up_with_the_right_code_turns_it_on_and_shows_recovery_codes_once(
    manager_without_code, manager
) -> None:
    manager_without_code.get(reverse("two_factor_setup"), {"next": "/patients/"})
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    response = manager_without_code.post(
        reverse("two_factor_setup"), {"code": totp_code(device), "next": "/patients/"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_recovery_codes"))
    device.refresh_from_db()
    assert device.confirmed
    assert _verified(manager_without_code)

    codes_page = manager_without_code.get(response["Location"])
    page = codes_page.content.decode()
    codes = StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)
    assert len(codes) == 10
    assert all(code in page for code in codes)
    assert 'href="/patients/"' in page

    again = manager_without_code.get(reverse("two_factor_recovery_codes"))
    assert again.status_code == 302
    assert manager_without_code.get(reverse("admin:index")).status_code == 200


def test_set_up_refuses_a_wrong_code(manager_without_code, manager) -> None:
    manager_without_code.get(reverse("two_factor_setup"))
    response = manager_without_code.post(reverse("two_factor_setup"), {"code": "000000"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert not _verified(manager_without_code)


def test_set_up_cannot_replace_a_device_without_its_code(manager_without_code, manager) -> None:
    device = totp_device_for(manager)
    response = manager_without_code.get(reverse("two_factor_setup"))
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert list(TOTPDevice.objects.filter(user=manager)) == [device]


def test_the_code_from_the_app_opens_the_admin_site(manager_without_code, manager) -> None:
    device = totp_device_for(manager)
    key_before = manager_without_code.session.session_key
    response = manager_without_code.post(
        reverse("two_factor_verify"), {"code": totp_code(device), "next": reverse("admin:index")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert manager_without_code.session.session_key != key_before
    assert manager_without_code.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message(manager_without_code, manager) -> None:
    totp_device_for(manager)
    response = manager_without_code.post(reverse("two_factor_verify"), {"code": "123456"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not _verified(manager_without_code)
    assert manager_without_code.get(reverse("home")).status_code == 302


def test_wrong_codes_slow_down_further_tries(manager_without_code, manager) -> None:
    device = totp_device_for(manager)
    manager_without_code.post(reverse("two_factor_verify"), {"code": "123456"})
    response = manager_without_code.post(reverse("two_factor_verify"), {"code": totp_code(device)})
    assert response.status_code == 200
    assert "Too many wrong codes. Wait" in response.content.decode()
    assert not _verified(manager_without_code)


def test_a_recovery_code_works_once(manager) -> None:
    totp_device_for(manager)
    code = recovery_codes_generate(manager)[0]

    first = sign_in_with_password_only(Client(), manager)
    response = first.post(reverse("two_factor_verify"), {"code": code.upper()}, follow=True)
    assert response.status_code == 200
    assert _verified(first)
    assert "You used a recovery code; 9 left." in " ".join(_messages(response))
    assert StaticToken.objects.filter(device__user=manager).count() == 9

    second = sign_in_with_password_only(Client(), manager)
    again = second.post(reverse("two_factor_verify"), {"code": code})
    assert "That code is not right" in again.content.decode()
    assert not _verified(second)


def test_new_recovery_codes_replace_the_old_ones(manager_client, manager) -> None:
    old = set(recovery_codes_generate(manager))
    response = manager_client.post(reverse("two_factor_recovery_codes"), follow=True)
    page = response.content.decode()
    new = set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert len(new) == 10
    assert not old & new
    assert all(code in page for code in new)


def test_the_verify_step_never_sends_someone_to_another_site(manager_without_code, manager):
    device = totp_device_for(manager)
    response = manager_without_code.post(
        reverse("two_factor_verify"), {"code": totp_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_a_manager_cannot_turn_it_off(manager_client, manager) -> None:
    response = manager_client.post(reverse("two_factor_disable"), follow=True)
    assert "must keep two-factor sign-in" in " ".join(_messages(response))
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).exists()


def test_a_physiotherapist_signs_in_without_it_by_default(client, physio) -> None:
    _sign_in(client, "physio")
    assert client.get(reverse("home")).status_code == 200
    page = client.get(reverse("two_factor")).content.decode()
    assert "Turn on two-factor sign-in" in page


def test_a_physiotherapist_may_turn_it_on_and_is_then_asked_for_the_code(physio) -> None:
    client = Client()
    _sign_in(client, "physio")
    _set_up(client, physio)
    assert client.get(reverse("home")).status_code == 200

    later = Client()
    _sign_in(later, "physio")
    response = later.get(reverse("home"))
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_a_physiotherapist_may_turn_it_off_again(physio) -> None:
    client = Client()
    _sign_in(client, "physio")
    _set_up(client, physio)

    response = client.post(reverse("two_factor_disable"), follow=True)
    assert "Two-factor sign-in is off" in " ".join(_messages(response))
    assert not TOTPDevice.objects.filter(user=physio).exists()

    later = Client()
    _sign_in(later, "physio")
    assert later.get(reverse("home")).status_code == 200


def test_turning_it_off_needs_a_session_that_gave_the_code(physio) -> None:
    totp_device_for(physio)
    client = Client()
    _sign_in(client, "physio")
    response = client.post(reverse("two_factor_disable"))
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert TOTPDevice.objects.filter(user=physio).exists()


def test_the_user_menu_links_to_two_factor_sign_in(front_desk_client) -> None:
    page = front_desk_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("two_factor")}"' in page
