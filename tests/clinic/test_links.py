"""One reverse() for a list of links gives each row the path reverse() would."""

from django.urls import reverse

from clinic.links import link_maker


def test_each_id_gets_the_path_reverse_gives_it() -> None:
    detail = link_maker("patients:detail")
    note = link_maker("treatments:note", 7)

    for pk in (1, 42, 987654321, 10**12):
        assert detail(pk) == reverse("patients:detail", args=[pk])
        assert note(pk) == reverse("treatments:note", args=[7, pk])
