"""Sessions: an idle timeout, an absolute limit, and deactivation ends every session."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinic.models import UserSession
from clinic.roles import Role
from clinic.sessions import LAST_ACTIVITY, SIGNED_IN_AT
from tests.clinic.test_admin import form_data
from tests.conftest import PASSWORD
from tests.factories import StaffProfileFactory, UserFactory
from tests.queries import TOGETHER, statements

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


def _signed_in_request(client):
    """A request carrying ``client``'s session, through the authentication middleware."""
    from django.test import RequestFactory

    from clinic.sessions import AuthenticationMiddleware, SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore(client.cookies["sessionid"].value)
    AuthenticationMiddleware(lambda request: None).process_request(request)
    return request


def test_the_person_comes_with_the_session_where_the_database_takes_both_at_once(
    db, client, django_assert_num_queries
) -> None:
    profile = StaffProfileFactory(
        user=UserFactory(roles=[Role.FRONT_DESK, Role.PHYSIOTHERAPIST]),
        display_name="Dr Ana Ruiz",
    )
    client.force_login(profile.user)
    request = _signed_in_request(client)

    with django_assert_num_queries(statements(2, riding=1)):
        user = request.user
        assert user.pk == profile.user.pk
        assert user.role_names == {Role.FRONT_DESK.value, Role.PHYSIOTHERAPIST.value}
        assert str(user) == "Dr Ana Ruiz"  # the staff profile came too
        assert user.has_perm("treatments.view_episode")

    expected = type(profile.user).objects.get(pk=profile.user.pk)
    for field in expected._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(expected, field.attname), field.name
    assert (request.session.signed_in is not None) is TOGETHER


def test_a_session_is_signed_in_as_the_person_it_names_whatever_its_record_says(
    db, client, django_assert_num_queries
) -> None:
    named, other = UserFactory(roles=[Role.FRONT_DESK]), UserFactory(roles=[Role.PRACTICE_MANAGER])
    client.force_login(named)
    UserSession.objects.filter(session_key=client.cookies["sessionid"].value).update(user=other)
    request = _signed_in_request(client)

    with django_assert_num_queries(2):  # the record's person is not taken: read by id
        assert request.user.pk == named.pk
    assert request.user.role_names == {Role.FRONT_DESK.value}
    if TOGETHER:
        assert request.session.signed_in.pk == other.pk


def test_a_session_without_its_record_still_signs_its_person_in(db, client) -> None:
    user = UserFactory(roles=[Role.FRONT_DESK])
    client.force_login(user)
    UserSession.objects.filter(user=user).delete()

    assert _signed_in_request(client).user.pk == user.pk
    assert client.get(reverse("patients:list")).status_code == 200


def test_a_changed_password_still_signs_out_a_session_read_with_its_person(db, client) -> None:
    user = UserFactory(roles=[Role.FRONT_DESK])
    client.force_login(user)
    user.set_password("a-completely-new-passphrase")
    user.save()

    assert not _signed_in_request(client).user.is_authenticated
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_one_persons_session_never_lends_them_to_the_next_request(db) -> None:
    first, second = UserFactory(roles=[Role.FRONT_DESK]), UserFactory(roles=[Role.PRACTICE_MANAGER])
    first_client, second_client, visitor = Client(), Client(), Client()
    first_client.force_login(first)
    second_client.force_login(second)

    for client, expected in [(first_client, first), (second_client, second), (visitor, None)]:
        if expected:
            assert _signed_in_request(client).user.pk == expected.pk
        response = client.get(reverse("home"))
        assert response.wsgi_request.user.pk == (expected.pk if expected else None)
