import datetime

import pytest
from django.utils import timezone

from patients.forms import PatientForm, PatientSearchForm
from tests.factories import PatientFactory

INVALID_PHONE = "Enter a valid phone number, e.g. 07911 123456."
NUL_MESSAGE = "Null characters are not allowed."


def valid_data(**changes) -> dict:
    return {
        "first_name": "Imogen",
        "last_name": "Castellano",
        "date_of_birth": "1994-05-17",
        "sex": "female",
        "funding": "self_pay",
        **changes,
    }


def _years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - datetime.timedelta(days=days)


def test_a_minimal_registration_is_valid(db) -> None:
    form = PatientForm(valid_data())
    assert form.is_valid(), form.errors


def test_first_and_last_name_and_date_of_birth_are_required(db) -> None:
    form = PatientForm(valid_data(first_name="", last_name="  ", date_of_birth=""))
    assert not form.is_valid()
    for field in ("first_name", "last_name", "date_of_birth"):
        assert form.errors[field] == ["This field is required."]


def test_date_of_birth_in_the_future_is_rejected(db) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = PatientForm(valid_data(date_of_birth=tomorrow.isoformat()))
    assert form.errors["date_of_birth"] == ["The date of birth cannot be in the future."]


def test_a_baby_born_today_can_be_registered(db) -> None:
    form = PatientForm(valid_data(date_of_birth=timezone.localdate().isoformat()))
    assert form.is_valid(), form.errors


def test_an_age_over_120_is_rejected(db) -> None:
    form = PatientForm(valid_data(date_of_birth=_years_ago(121).isoformat()))
    assert form.errors["date_of_birth"] == ["The date of birth gives an age over 120."]


def test_an_age_of_exactly_120_is_accepted(db) -> None:
    form = PatientForm(valid_data(date_of_birth=_years_ago(120).isoformat()))
    assert form.is_valid(), form.errors


def test_the_day_before_the_121st_birthday_is_still_120(db) -> None:
    almost = _years_ago(121) + datetime.timedelta(days=1)
    assert PatientForm(valid_data(date_of_birth=almost.isoformat())).is_valid()


@pytest.mark.parametrize("typed", ["1994-05-17", "17/05/1994"])
def test_date_of_birth_typed_as_iso_or_day_month_year(db, typed: str) -> None:
    form = PatientForm(valid_data(date_of_birth=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date_of_birth"] == datetime.date(1994, 5, 17)


@pytest.mark.parametrize("typed", ["31/02/1994", "05/17/1994", "yesterday", "1994-13-01"])
def test_a_date_that_does_not_exist_is_rejected(db, typed: str) -> None:
    form = PatientForm(valid_data(date_of_birth=typed))
    assert form.errors["date_of_birth"] == ["Enter a valid date."]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07911 123456", "+447911123456"),
        ("07911123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("(020) 7946 0000", "+442079460000"),
        ("+33 1 42 68 53 00", "+33142685300"),
    ],
)
def test_phone_numbers_are_stored_in_e164_form(db, typed: str, stored: str) -> None:
    form = PatientForm(valid_data(phone=typed, emergency_contact_phone=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == stored
    assert form.cleaned_data["emergency_contact_phone"] == stored


@pytest.mark.parametrize("typed", ["12345", "not a number", "07911 12345678901", "+999 123"])
def test_an_invalid_phone_number_gets_a_clear_message(db, typed: str) -> None:
    form = PatientForm(valid_data(phone=typed, emergency_contact_phone=typed))
    assert form.errors["phone"] == [INVALID_PHONE]
    assert form.errors["emergency_contact_phone"] == [INVALID_PHONE]


@pytest.mark.parametrize("typed", ["hannah@", "hannah.example.com", "hannah@@example.com"])
def test_an_invalid_e_mail_is_rejected(db, typed: str) -> None:
    form = PatientForm(valid_data(email=typed))
    assert form.errors["email"] == ["Enter a valid email address."]


def test_e_mail_is_stored_in_lower_case(db) -> None:
    form = PatientForm(valid_data(email="  Imogen.C@Example.COM "))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "imogen.c@example.com"


@pytest.mark.parametrize("field", ["first_name", "address", "other_alerts", "phone", "gender"])
def test_nul_characters_are_rejected_with_a_message(db, field: str) -> None:
    value = "07911\x00123456" if field == "phone" else "Imo\x00gen"
    form = PatientForm(valid_data(**{field: value}))
    assert form.errors[field] == [NUL_MESSAGE]


def test_a_nul_character_in_a_date_is_an_invalid_date(db) -> None:
    form = PatientForm(valid_data(date_of_birth="1994-05-17\x00"))
    assert form.errors["date_of_birth"] == ["Enter a valid date."]


@pytest.mark.parametrize(
    ("field", "limit"),
    [("first_name", 100), ("last_name", 100), ("address", 500), ("other_alerts", 1000)],
)
def test_oversize_input_is_rejected(db, field: str, limit: int) -> None:
    assert PatientForm(valid_data(**{field: "a" * limit})).is_valid()
    form = PatientForm(valid_data(**{field: "a" * (limit + 1)}))
    assert form.errors[field] == [
        f"Ensure this value has at most {limit} characters (it has {limit + 1})."
    ]


def test_a_megabyte_of_text_is_rejected_not_stored(db) -> None:
    form = PatientForm(valid_data(first_name="x" * 1_000_000, phone="7" * 100_000))
    assert not form.is_valid()
    assert "first_name" in form.errors
    assert form.errors["phone"]


def test_an_unknown_choice_is_rejected(db) -> None:
    form = PatientForm(valid_data(sex="robot", funding="crypto"))
    assert "Select a valid choice." in form.errors["sex"][0]
    assert "Select a valid choice." in form.errors["funding"][0]


def test_an_insured_patient_needs_the_insurer_named(db) -> None:
    form = PatientForm(valid_data(funding="insurer"))
    assert form.errors["insurer"] == ["Name the insurer for an insured patient."]
    assert PatientForm(valid_data(funding="insurer", insurer="Bupa")).is_valid()


def test_reminders_need_somewhere_to_send_them(db) -> None:
    form = PatientForm(valid_data(sms_reminders="on", email_reminders="on"))
    assert form.errors["sms_reminders"] == ["SMS reminders need a phone number."]
    assert form.errors["email_reminders"] == ["E-mail reminders need an e-mail address."]


def test_privacy_notice_cannot_be_accepted_in_the_future(db) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    form = PatientForm(valid_data(privacy_notice_accepted_on=tomorrow.isoformat()))
    assert form.errors["privacy_notice_accepted_on"] == [
        "The privacy notice cannot be accepted in the future."
    ]


@pytest.fixture
def existing(db):
    return PatientFactory(
        first_name="Imogen", last_name="Castellano", date_of_birth=datetime.date(1994, 5, 17)
    )


def test_a_possible_duplicate_blocks_registration_and_names_the_match(existing) -> None:
    form = PatientForm(valid_data(first_name="IMOGEN", last_name="castellano"))
    assert not form.is_valid()
    assert "already registered" in form.non_field_errors()[0]
    assert form.duplicates == [existing]


def test_ticking_different_person_allows_the_registration(existing) -> None:
    form = PatientForm(valid_data(confirm_not_duplicate="on"))
    assert form.is_valid(), form.errors


def test_same_name_with_another_date_of_birth_is_not_a_duplicate(existing) -> None:
    form = PatientForm(valid_data(date_of_birth="1994-05-18"))
    assert form.is_valid(), form.errors
    assert form.duplicates == []


def test_editing_a_patient_does_not_warn_about_themselves(existing) -> None:
    form = PatientForm(valid_data(), instance=existing)
    assert "confirm_not_duplicate" not in form.fields
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"q": "smith", "status": "archived", "page": "2"}, True),
        ({}, True),
        ({"status": "deleted"}, False),
        ({"page": "0"}, False),
        ({"page": "abc"}, False),
        ({"q": "x" * 101}, False),
        ({"q": "smi\x00th"}, False),
    ],
)
def test_search_form_accepts_only_sensible_input(data: dict, valid: bool) -> None:
    assert PatientSearchForm(data).is_valid() is valid
