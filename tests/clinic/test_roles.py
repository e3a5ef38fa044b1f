from django.contrib.auth.models import Group, Permission

from clinic.models import User
from clinic.roles import ROLE_PERMISSIONS, Role, sync_roles, user_set_roles
from tests.factories import UserFactory


def _fresh(user: User) -> User:
    """The same person as a new request would load them (permission caches empty)."""
    return User.objects.get(pk=user.pk)


def test_every_role_is_a_group_with_exactly_the_permissions_in_the_table(db) -> None:
    sync_roles()
    for role, wanted in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        granted = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert granted == wanted, role


def test_a_permission_added_to_a_role_group_by_hand_is_taken_away_again(db) -> None:
    sync_roles()
    group = Group.objects.get(name=Role.FRONT_DESK.value)
    group.permissions.add(Permission.objects.get(codename="delete_patient"))
    sync_roles()
    assert not group.permissions.filter(codename="delete_patient").exists()


def test_front_desk_may_register_and_archive_but_not_use_the_admin(front_desk) -> None:
    user = _fresh(front_desk)
    assert user.has_perm("patients.add_patient")
    assert user.has_perm("patients.archive_patient")
    assert not user.has_perm("clinic.add_user")
    assert not user.is_staff
    assert user.roles == [Role.FRONT_DESK]


def test_physio_may_read_and_edit_patients_but_not_archive_them(physio) -> None:
    user = _fresh(physio)
    assert user.has_perm("patients.view_patient")
    assert user.has_perm("patients.change_patient")
    assert not user.has_perm("patients.archive_patient")
    assert user.is_physiotherapist and not user.is_front_desk


def test_nobody_may_delete_a_patient_whatever_their_roles(db) -> None:
    user = UserFactory(roles=list(Role))
    assert not _fresh(user).has_perm("patients.delete_patient")


def test_a_person_without_a_role_may_do_nothing(outsider) -> None:
    user = _fresh(outsider)
    assert user.roles == []
    assert user.get_all_permissions() == set()
    assert not user.is_staff


def test_practice_manager_is_staff_so_can_sign_in_to_the_admin(manager) -> None:
    user = _fresh(manager)
    assert user.is_staff
    assert not user.is_superuser
    assert user.has_perm("clinic.change_location")
    assert not user.has_perm("clinic.delete_location")


def test_one_person_holding_two_roles_gets_both_sets_of_permissions(db) -> None:
    owner = _fresh(UserFactory(roles=[Role.PHYSIOTHERAPIST, Role.PRACTICE_MANAGER]))
    assert owner.roles == [Role.PHYSIOTHERAPIST, Role.PRACTICE_MANAGER]
    assert owner.has_perm("patients.change_patient")
    assert owner.has_perm("clinic.add_room")
    assert owner.is_staff


def test_setting_roles_replaces_the_old_ones_and_the_staff_flag_follows(manager) -> None:
    user_set_roles(manager, [Role.FRONT_DESK])
    user = _fresh(manager)
    assert user.roles == [Role.FRONT_DESK]
    assert not user.is_staff
    assert not user.has_perm("clinic.change_location")

    user_set_roles(user, [Role.PRACTICE_MANAGER])
    assert _fresh(user).is_staff


def test_taking_every_group_away_removes_the_staff_flag(manager) -> None:
    manager.groups.clear()
    assert not _fresh(manager).is_staff


def test_removing_a_user_from_the_manager_group_side_removes_the_staff_flag(manager) -> None:
    Group.objects.get(name=Role.PRACTICE_MANAGER.value).user_set.remove(manager)
    assert not _fresh(manager).is_staff


def test_a_superuser_without_roles_stays_staff(db) -> None:
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    user_set_roles(admin, [])
    assert _fresh(admin).is_staff
