"""Sessions: an idle timeout, an absolute limit, and deactivation ends every session."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinic.models import UserSession
from clinic.sessions import LAST_ACTIVITY, SIGNED_IN_AT
from tests.clinic.test_admin import form_data
from tests.conftest import PASSWORD

MINUTE = 60
HOUR = 60 * MINUTE


def _age(client: Client, *, idle: int = 0, signed_in: int = 0) -> None:
    """Pretend the last request was ``idle`` seconds ago and sign-in ``signed_in`` ago."""
    now = int(time.time())
    session = client.session
    session[LAST_ACTIVITY] = now - idle
    session[SIGNED_IN_AT] = now - max(idle, signed_in)
    session.save()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_fifteen_idle_minutes_sign_you_out(front_desk_client) -> None:
    _age(front_desk_client, idle=15 * MINUTE + 1)
    response = front_desk_client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('patients:list')}"
    assert SESSION_KEY not in front_desk_client.session

    page = front_desk_client.get(response["Location"])
    assert "You were signed out after 15 minutes without activity." in _messages(page)


def test_activity_within_fifteen_minutes_keeps_you_signed_in(front_desk_client) -> None:
    _age(front_desk_client, idle=14 * MINUTE)
    assert front_desk_client.get(reverse("patients:list")).status_code == 200
    assert front_desk_client.session[LAST_ACTIVITY] >= int(time.time()) - 5
    # The clock restarted, so another 14 minutes later the person is still signed in.
    _age(front_desk_client, idle=14 * MINUTE, signed_in=30 * MINUTE)
    assert front_desk_client.get(reverse("patients:list")).status_code == 200


def test_the_idle_timeout_comes_from_the_settings(front_desk_client, settings) -> None:
    settings.SESSION_IDLE_TIMEOUT = 5 * MINUTE
    _age(front_desk_client, idle=5 * MINUTE + 1)
    response = front_desk_client.get(reverse("home"), follow=True)
    assert "You were signed out after 5 minutes without activity." in _messages(response)


def test_twelve_hours_after_sign_in_you_are_signed_out_even_when_busy(front_desk_client) -> None:
    _age(front_desk_client, idle=10, signed_in=12 * HOUR + 1)
    response = front_desk_client.get(reverse("home"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "a sign-in lasts at most 12 hours" in " ".join(_messages(response))
    assert SESSION_KEY not in front_desk_client.session


def test_eleven_hours_after_sign_in_you_are_still_signed_in(front_desk_client) -> None:
    _age(front_desk_client, idle=10, signed_in=11 * HOUR)
    assert front_desk_client.get(reverse("home")).status_code == 200


def test_htmx_requests_are_sent_to_sign_in_as_a_whole_page(front_desk_client) -> None:
    _age(front_desk_client, idle=16 * MINUTE)
    response = front_desk_client.get(reverse("patients:list"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("login")
    assert SESSION_KEY not in front_desk_client.session


@pytest.mark.parametrize("url_name", ["healthz", "booking:start"])
def test_public_pages_are_not_affected_by_an_expired_session(
    front_desk_client, url_name: str
) -> None:
    _age(front_desk_client, idle=16 * MINUTE)
    assert front_desk_client.get(reverse(url_name)).status_code == 200


def test_signing_in_records_the_session_and_signing_out_forgets_it(client, front_desk) -> None:
    client.post(reverse("login"), {"username": "frontdesk", "password": PASSWORD})
    key = client.session.session_key
    assert UserSession.objects.filter(user=front_desk, session_key=key).exists()
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()


def _two_sessions(user) -> list[Client]:
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(user)
    return clients


def test_deactivating_a_user_ends_every_session_they_have(front_desk) -> None:
    clients = _two_sessions(front_desk)
    keys = [client.session.session_key for client in clients]

    front_desk.is_active = False
    front_desk.save()

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=front_desk).exists()
    for client in clients:
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_other_changes_to_a_user_leave_their_sessions_alone(front_desk_client, front_desk) -> None:
    front_desk.first_name = "Frances"
    front_desk.save()
    assert front_desk_client.get(reverse("home")).status_code == 200


def test_a_session_whose_key_changed_is_still_ended(front_desk_client, front_desk) -> None:
    new_password = "a brand new knee-friendly passphrase"
    front_desk_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    key = front_desk_client.session.session_key
    assert UserSession.objects.filter(user=front_desk, session_key=key).exists()

    front_desk.is_active = False
    front_desk.save(update_fields=["is_active"])

    assert not Session.objects.filter(session_key=key).exists()


def test_a_manager_deactivating_someone_in_the_admin_signs_them_out(
    manager_client, front_desk
) -> None:
    clients = _two_sessions(front_desk)
    url = reverse("admin:clinic_user_change", args=[front_desk.pk])
    data = form_data(manager_client.get(url))
    data.pop("is_active")

    response = manager_client.post(url, data)

    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert not front_desk.is_active
    assert not UserSession.objects.filter(user=front_desk).exists()
    for client in clients:
        assert client.get(reverse("home")).status_code == 302


def test_a_session_past_its_expiry_date_in_the_database_is_not_used(front_desk_client) -> None:
    import datetime

    from django.utils import timezone

    key = front_desk_client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = front_desk_client.get(reverse("patients:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_session_key_is_a_visitor_not_an_error(db) -> None:
    client = Client()
    client.cookies["sessionid"] = "compiled-read-placeholder"

    response = client.get(reverse("patients:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key="compiled-read-placeholder").exists()


def test_each_request_reads_its_session_in_one_query(
    front_desk_client, django_assert_num_queries
) -> None:
    front_desk_client.get(reverse("patients:list"))  # last activity written
    from clinic.sessions import SessionStore

    store = SessionStore(front_desk_client.cookies["sessionid"].value)
    with django_assert_num_queries(1):
        assert store[SESSION_KEY]
