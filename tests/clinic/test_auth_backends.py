"""Permissions come from the role table, with no permission queries per request."""

import pytest
from django.contrib.auth import get_user
from django.contrib.auth.models import Permission

from clinic.roles import ROLE_PERMISSIONS, Role
from tests.factories import StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


def _request_with_session(client):
    """A bare request carrying ``client``'s session, for ``get_user``."""
    return type("Request", (), {"session": client.session})()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_its_row_of_the_table(role) -> None:
    user = _fresh(UserFactory(roles=[role]))

    assert user.get_all_permissions() == set(ROLE_PERMISSIONS[role])


def test_permissions_cost_one_query_for_the_role_names(django_assert_num_queries) -> None:
    user = _fresh(UserFactory(roles=[Role.FRONT_DESK]))

    with django_assert_num_queries(1):
        assert user.has_perm("patients.view_patient")
        assert not user.has_perm("treatments.view_episode")
        assert user.has_perm("appointments.add_appointment")


def test_several_roles_add_up() -> None:
    user = _fresh(UserFactory(roles=[Role.FRONT_DESK, Role.PHYSIOTHERAPIST]))

    assert user.has_perm("treatments.view_episode")
    assert user.has_perm("appointments.add_appointment")


def test_a_permission_given_to_the_person_directly_grants_nothing() -> None:
    user = UserFactory(roles=[Role.FRONT_DESK])
    user.user_permissions.add(Permission.objects.get(codename="view_episode"))

    assert not _fresh(user).has_perm("treatments.view_episode")


def test_an_inactive_person_holds_no_permission() -> None:
    user = UserFactory(roles=[Role.PRACTICE_MANAGER], is_active=False)

    assert _fresh(user).get_all_permissions() == set()


def test_a_superuser_holds_every_permission() -> None:
    user = _fresh(UserFactory(is_superuser=True))

    assert user.has_perm("treatments.view_episode")
    assert user.has_perm("patients.delete_patient")


def test_the_signed_in_person_comes_with_profile_and_roles_in_one_query(
    client, django_assert_num_queries
) -> None:
    user = UserFactory(roles=[Role.FRONT_DESK, Role.PHYSIOTHERAPIST])
    client.force_login(user)
    request = _request_with_session(client)
    assert request.session["_auth_user_id"]  # the session itself is read first

    with django_assert_num_queries(1):
        signed_in = get_user(request)
        assert signed_in.role_names == {Role.FRONT_DESK.value, Role.PHYSIOTHERAPIST.value}
        assert str(signed_in)
        assert signed_in.has_perm("treatments.view_episode")


def test_someone_with_no_role_is_signed_in_with_none(client) -> None:
    user = UserFactory(roles=[])
    client.force_login(user)
    request = _request_with_session(client)

    signed_in = get_user(request)
    assert signed_in.pk == user.pk
    assert signed_in.role_names == frozenset()
    assert signed_in.get_all_permissions() == set()


def _signed_in(client, user):
    client.force_login(user)
    return get_user(_request_with_session(client))


def test_the_signed_in_person_is_read_exactly_as_the_orm_reads_them(client) -> None:
    import datetime

    profile = StaffProfileFactory(
        user=UserFactory(roles=[Role.PHYSIOTHERAPIST]),
        display_name="Dr Ana Ruiz",
        dry_needling_certified_on=datetime.date(2026, 1, 5),
        dry_needling_expires_on=datetime.date(2028, 1, 4),
    )

    signed_in = _signed_in(client, profile.user)

    expected = type(profile.user).objects.get(pk=profile.user.pk)
    for field in expected._meta.concrete_fields:
        assert getattr(signed_in, field.attname) == getattr(expected, field.attname), field
    assert signed_in.last_login.tzinfo is not None
    assert signed_in.is_active is True
    assert signed_in.staff_profile.pk == profile.pk
    assert signed_in.staff_profile.dry_needling_expires_on == datetime.date(2028, 1, 4)
    assert str(signed_in) == "Dr Ana Ruiz"


def test_someone_without_a_staff_profile_costs_no_second_query(
    client, django_assert_num_queries
) -> None:
    user = UserFactory(roles=[Role.FRONT_DESK], first_name="Sam", last_name="Lee")

    signed_in = _signed_in(client, user)

    with django_assert_num_queries(0):
        assert getattr(signed_in, "staff_profile", None) is None
        assert str(signed_in) == "Sam Lee"


def test_each_person_is_read_as_themselves(client) -> None:
    first, second = UserFactory(roles=[Role.FRONT_DESK]), UserFactory(roles=[])

    assert _signed_in(client, first).pk == first.pk
    assert _signed_in(client, second).pk == second.pk
    assert _signed_in(client, second).role_names == frozenset()


def test_a_deactivated_or_removed_person_is_signed_out(client) -> None:
    from django.contrib.auth.models import AnonymousUser

    user = UserFactory(roles=[Role.FRONT_DESK])
    client.force_login(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    request = _request_with_session(client)

    assert isinstance(get_user(request), AnonymousUser)
    type(user).objects.filter(pk=user.pk).delete()
    assert isinstance(get_user(request), AnonymousUser)


@pytest.mark.django_db(transaction=True)
def test_the_signed_in_person_is_read_in_another_thread_too() -> None:
    import threading

    from django.db import connection

    from clinic.auth_backends import RoleBackend

    user = UserFactory(roles=[Role.FRONT_DESK])
    found = []

    def read() -> None:
        try:
            found.append(RoleBackend().get_user(user.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()

    assert found[0].pk == user.pk
    assert found[0].role_names == {Role.FRONT_DESK.value}
