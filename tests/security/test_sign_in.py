"""Sign-in: lockout after repeated failures, password hashing and rules, a fresh session."""

import datetime

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from clinic.settings import base
from tests.conftest import PASSWORD

WRONG = "not the password at all"


@pytest.fixture(autouse=True)
def _no_lockout_left_behind(db):
    """Lockouts are rows in the database; clear them even if a test leaves early."""
    yield
    axes_reset()


def _sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _fail(client: Client, username: str, times: int, ip: str = "203.0.113.7") -> None:
    for _ in range(times):
        _sign_in(client, username, WRONG, ip)


def test_four_wrong_passwords_still_let_the_right_one_in(client, front_desk) -> None:
    _fail(client, "frontdesk", 4)
    assert _sign_in(client, "frontdesk", PASSWORD).status_code == 302
    assert SESSION_KEY in client.session


def test_fifth_wrong_password_pauses_sign_in(client, front_desk) -> None:
    _fail(client, "frontdesk", 4)
    response = _sign_in(client, "frontdesk", WRONG)
    assert response.status_code == 429
    assert "Sign-in is paused" in response.content.decode()


def test_after_five_failures_even_the_right_password_is_refused(client, front_desk) -> None:
    _fail(client, "frontdesk", 5)
    response = _sign_in(client, "frontdesk", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in is paused" in page
    assert "Try again in 15 minutes" in page
    assert reverse("password_reset") in page
    assert SESSION_KEY not in client.session


def test_lockout_is_for_that_username_from_that_address_only(client, front_desk, physio) -> None:
    _fail(client, "frontdesk", 5, ip="203.0.113.7")
    assert _sign_in(Client(), "frontdesk", PASSWORD, ip="198.51.100.20").status_code == 302
    assert _sign_in(Client(), "physio", PASSWORD, ip="203.0.113.7").status_code == 302


def test_sign_in_works_again_after_the_cool_off(client, front_desk) -> None:
    _fail(client, "frontdesk", 5)
    sixteen_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    AccessAttempt.objects.update(attempt_time=sixteen_minutes_ago)
    assert _sign_in(client, "frontdesk", PASSWORD).status_code == 302
    assert SESSION_KEY in client.session


def test_still_paused_just_before_the_cool_off_ends(client, front_desk) -> None:
    _fail(client, "frontdesk", 5)
    fourteen_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=14)
    AccessAttempt.objects.update(attempt_time=fourteen_minutes_ago)
    assert _sign_in(client, "frontdesk", PASSWORD).status_code == 429


def test_clearing_a_lockout_lets_the_person_in_at_once(client, front_desk) -> None:
    _fail(client, "frontdesk", 5)
    assert axes_reset(username="frontdesk") == 1
    assert _sign_in(client, "frontdesk", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(front_desk) -> None:
    _fail(Client(), "frontdesk", 4)
    assert _sign_in(Client(), "frontdesk", PASSWORD).status_code == 302
    _fail(Client(), "frontdesk", 4)
    assert _sign_in(Client(), "frontdesk", PASSWORD).status_code == 302


def test_the_admin_sign_in_page_is_locked_out_too(client, manager) -> None:
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "manager", "password": WRONG}, REMOTE_ADDR="203.0.113.7")
    response = client.post(
        url, {"username": "manager", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_passwords_are_hashed_with_argon2() -> None:
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()
    hashed = hasher.encode(PASSWORD, hasher.salt())
    assert hashed.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, hashed)
    assert not hasher.verify(WRONG, hashed)


def test_lockout_is_configured_as_the_practice_needs() -> None:
    assert base.AXES_FAILURE_LIMIT == 5
    assert base.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert base.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert base.AUTHENTICATION_BACKENDS[0].startswith("axes.backends.")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kneecap1", "at least 12 characters"),
        ("password1234", "too common"),
        ("482915736204", "entirely numeric"),
        ("frontdesk-miller", "too similar"),
    ],
)
def test_weak_passwords_are_refused(front_desk, password: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(password, front_desk)
    assert reason in " ".join(refused.value.messages)


def test_signing_in_starts_a_fresh_session(client, front_desk) -> None:
    before = client.session
    before["visited"] = True
    before.save()
    old_key = before.session_key

    assert _sign_in(client, "frontdesk", PASSWORD).status_code == 302

    assert client.session.session_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.session[SESSION_KEY] == str(front_desk.pk)
