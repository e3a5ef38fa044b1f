"""The cast every test can call on: one person per role, and one with no role."""

import pytest
from django.test import Client

from clinic.roles import Role

from .factories import PatientFactory, UserFactory
from .security.otp import session_verify

PASSWORD = "correct horse battery staple"


@pytest.fixture
def physio(db):
    return UserFactory(
        username="physio", first_name="Priya", last_name="Shah", roles=[Role.PHYSIOTHERAPIST]
    )


@pytest.fixture
def front_desk(db):
    return UserFactory(
        username="frontdesk", first_name="Fran", last_name="Miller", roles=[Role.FRONT_DESK]
    )


@pytest.fixture
def manager(db):
    return UserFactory(
        username="manager", first_name="Morgan", last_name="Reid", roles=[Role.PRACTICE_MANAGER]
    )


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role: must see nothing."""
    return UserFactory(username="outsider", first_name="Otto", last_name="Side")


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch) -> None:
    """``force_login`` stands for a complete sign-in: for practice managers and superusers
    that includes the authenticator code. ``tests.security.otp.sign_in_with_password_only``
    gives a session that has not given it yet."""
    password_only = Client.force_login

    def force_login(client: Client, user, backend=None) -> None:
        password_only(client, user, backend)
        if user.must_use_two_factor:
            session_verify(client, user)

    monkeypatch.setattr(Client, "force_login", force_login)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def physio_client(physio) -> Client:
    return _client_for(physio)


@pytest.fixture
def front_desk_client(front_desk) -> Client:
    return _client_for(front_desk)


@pytest.fixture
def manager_client(manager) -> Client:
    return _client_for(manager)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _client_for(outsider)


@pytest.fixture
def patient(db):
    return PatientFactory(
        first_name="Hannah",
        last_name="Wright",
        phone="+447911123456",
        email="hannah.wright@example.com",
    )


def pytest_collection_modifyitems(config, items) -> None:
    """PostgreSQL-only tests run whenever the suite runs on PostgreSQL, and skip otherwise."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    real_file = on_postgres or settings.SQLITE_FILE_DB
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL to run it")
    skip_race = pytest.mark.skip(
        reason="races need a database file: make test runs them with CLINIC_TEST_SQLITE_FILE=1"
    )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
        if "concurrency" in item.keywords and not real_file:
            item.add_marker(skip_race)
