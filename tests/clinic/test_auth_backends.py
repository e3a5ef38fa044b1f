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
