"""Permissions come from the role table, with no permission queries per request."""

import pytest
from django.contrib.auth.models import Permission

from clinic.roles import ROLE_PERMISSIONS, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


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
    from django.contrib.auth import get_user

    user = UserFactory(roles=[Role.FRONT_DESK, Role.PHYSIOTHERAPIST])
    client.force_login(user)
    request = type("Request", (), {"session": client.session})()
    assert request.session["_auth_user_id"]  # the session itself is read first

    with django_assert_num_queries(1):
        signed_in = get_user(request)
        assert signed_in.role_names == {Role.FRONT_DESK.value, Role.PHYSIOTHERAPIST.value}
        assert str(signed_in)
        assert signed_in.has_perm("treatments.view_episode")


def test_someone_with_no_role_is_signed_in_with_none(client) -> None:
    from django.contrib.auth import get_user

    user = UserFactory(roles=[])
    client.force_login(user)
    request = type("Request", (), {"session": client.session})()

    signed_in = get_user(request)
    assert signed_in.pk == user.pk
    assert signed_in.role_names == frozenset()
    assert signed_in.get_all_permissions() == set()
