"""One reverse() for a list of links gives each row the path reverse() would."""

from django.urls import reverse

from clinic.links import link_maker


def test_each_id_gets_the_path_reverse_gives_it() -> None:
    detail = link_maker("patients:detail")
    note = link_maker("treatments:note", 7)

    for pk in (1, 42, 987654321, 10**12):
        assert detail(pk) == reverse("patients:detail", args=[pk])
        assert note(pk) == reverse("treatments:note", args=[7, pk])


def test_the_links_follow_the_script_prefix_the_practice_is_served_under() -> None:
    from django.urls import set_script_prefix

    try:
        set_script_prefix("/clinic/")
        assert link_maker("patients:detail")(5) == "/clinic/patients/5/"
    finally:
        set_script_prefix("/")
    assert link_maker("patients:detail")(5) == "/patients/5/"


def test_a_cached_path_is_the_path_reverse_gives_under_each_prefix() -> None:
    from django.urls import set_script_prefix

    from clinic.links import cached_reverse

    assert cached_reverse("patients:list") == reverse("patients:list")
    try:
        set_script_prefix("/clinic/")
        assert cached_reverse("patients:list") == "/clinic/patients/"
    finally:
        set_script_prefix("/")
