"""The pickers that read their options with SQL compiled once per worker."""

import pytest
from django import forms

from appointments.forms import CalendarDayForm, FindSlotsForm, ListedChoiceField, MoveForm
from clinic.models import Location, User
from clinic.roles import Role
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_declared_options_are_read_afresh_for_each_form(django_assert_num_queries) -> None:
    LocationFactory(name="Riverside")
    assert [str(o) for o in CalendarDayForm().fields["location"].options()] == ["Riverside"]
    LocationFactory(name="Northgate")

    form = CalendarDayForm()
    with django_assert_num_queries(1):
        names = [str(o) for o in form.fields["location"].options()]
        assert form.fields["location"].options() is form.fields["location"].options()
    assert names == ["Northgate", "Riverside"]


def test_options_a_view_sets_replace_the_declared_ones() -> None:
    riverside = LocationFactory(name="Riverside")
    LocationFactory(name="Northgate")
    form = CalendarDayForm({"location": riverside.pk})
    form.fields["location"].queryset = Location.objects.filter(name="Northgate")

    assert [str(o) for o in form.fields["location"].options()] == ["Northgate"]
    assert not form.is_valid()
    assert "location" in form.errors
    # The form class's own field still offers every location.
    assert len(CalendarDayForm().fields["location"].options()) == 2


def test_a_choice_is_checked_against_the_options_read() -> None:
    riverside = LocationFactory(name="Riverside")
    form = FindSlotsForm({"location": riverside.pk})
    form.is_valid()
    assert "location" not in form.errors
    assert form.cleaned_data["location"] == riverside

    for bad in ("987654", str(2**63), "x", "1\x00"):
        form = FindSlotsForm({"location": bad})
        assert not form.is_valid()
        assert "location" in form.errors


def test_a_listed_choice_field_of_any_queryset_reads_it() -> None:
    LocationFactory(name="Riverside")

    class Picked(forms.Form):
        location = ListedChoiceField(queryset=Location.objects.filter(name__startswith="River"))

    assert [str(o) for o in Picked().fields["location"].options()] == ["Riverside"]


def test_a_submitted_choice_is_read_from_the_declared_options() -> None:
    physio = UserFactory(first_name="Alex", roles=[Role.PHYSIOTHERAPIST])
    front_desk = UserFactory(roles=[Role.FRONT_DESK])
    location = LocationFactory()

    def chosen(value):
        form = MoveForm({"clinician": value}, location=location)
        form.is_valid()
        return form.cleaned_data.get("clinician"), form.errors.get("clinician")

    assert chosen(str(physio.pk)) == (physio, None)
    for bad in (str(front_desk.pk), "987654", str(2**63), str(10**30), "-1", "x", "1\x00"):
        found, errors = chosen(bad)
        assert found is None and errors, bad
    physio.is_active = False
    physio.save()
    assert chosen(str(physio.pk))[0] is None  # read afresh: no longer active


def test_a_view_can_narrow_a_declared_choice() -> None:
    alex, bea = UserFactory.create_batch(2, roles=[Role.PHYSIOTHERAPIST])
    form = MoveForm({"clinician": str(alex.pk)}, location=LocationFactory())
    form.fields["clinician"].queryset = User.objects.filter(pk=bea.pk)

    assert not form.is_valid()
    assert "clinician" in form.errors
    other = MoveForm({"clinician": str(alex.pk)}, location=LocationFactory())
    other.is_valid()
    assert other.cleaned_data["clinician"] == alex
