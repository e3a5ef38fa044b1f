import datetime

import pytest
from django.db import IntegrityError

from patients.models import Patient
from tests.factories import PatientFactory


@pytest.fixture
def registry(db) -> dict[str, Patient]:
    return {
        "zoe": PatientFactory(
            first_name="Zoë",
            last_name="Smith",
            date_of_birth=datetime.date(1990, 2, 14),
            phone="+447911123456",
            email="zoe.smith@example.com",
        ),
        "sean": PatientFactory(
            first_name="Seán",
            last_name="O'Brien",
            preferred_name="Shaun",
            date_of_birth=datetime.date(1985, 7, 3),
            phone="+447700900456",
            email="sean@example.org",
        ),
        "john": PatientFactory(
            first_name="John",
            last_name="Smithson",
            date_of_birth=datetime.date(2001, 12, 31),
            phone="+442079460000",
            email="john.smithson@example.net",
        ),
    }


def _found(query: str) -> set[str]:
    return {patient.first_name for patient in Patient.objects.search(query)}


@pytest.mark.parametrize("query", ["zoe", "ZOE", "Zoë", "zoë smith", "oe"])
def test_search_ignores_accents_and_case(registry, query: str) -> None:
    assert _found(query) == {"Zoë"}


def test_search_by_a_name_fragment_finds_every_match(registry) -> None:
    assert _found("smi") == {"Zoë", "John"}


def test_search_by_full_name_needs_every_word_to_match(registry) -> None:
    assert _found("john smithson") == {"John"}
    assert _found("smith john") == {"John"}
    assert _found("zoe smithson") == set()


def test_search_finds_a_preferred_name(registry) -> None:
    assert _found("shaun") == {"Seán"}
    assert _found("sean o'brien") == {"Seán"}


@pytest.mark.parametrize(
    "query", ["1990-02-14", "14/02/1990", "14.02.1990", "14-02-1990", "14/02/90"]
)
def test_search_by_date_of_birth_in_common_formats(registry, query: str) -> None:
    assert _found(query) == {"Zoë"}


def test_search_by_date_of_birth_and_name_together(registry) -> None:
    assert _found("smith 14/02/1990") == {"Zoë"}
    assert _found("smith 31/12/2001") == {"John"}
    assert _found("smith 03/07/1985") == set()


@pytest.mark.parametrize(
    "query",
    [
        "07911 123",
        "07911 123456",
        "07911123456",
        "07911-123-456",
        "(07911) 123456",
        "+447911123456",
        "+44 7911 123456",
        "0044 7911 123456",
        "123456",
    ],
)
def test_search_by_phone_typed_any_common_way(registry, query: str) -> None:
    assert _found(query) == {"Zoë"}


def test_search_by_landline_number(registry) -> None:
    assert _found("020 7946 0000") == {"John"}


@pytest.mark.parametrize("query", ["zoe.smith@example.com", "ZOE.SMITH@EXAMPLE.COM", "zoe.smith@"])
def test_search_by_e_mail(registry, query: str) -> None:
    assert _found(query) == {"Zoë"}


def test_search_by_e_mail_domain(registry) -> None:
    assert _found("@example.org") == {"Seán"}


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_search_returns_everyone(registry, query: str) -> None:
    assert _found(query) == {"Zoë", "Seán", "John"}


@pytest.mark.parametrize("query", ["%", "_", "\\", "smi%th", "'; DROP TABLE patients_patient; --"])
def test_search_treats_wildcards_and_quotes_as_plain_text(registry, query: str) -> None:
    assert _found(query) == set()
    assert Patient.objects.count() == 3


def test_search_matches_nobody_for_an_unknown_name(registry) -> None:
    assert _found("nguyen") == set()


def test_a_renamed_patient_is_found_by_the_new_name_only(registry) -> None:
    zoe = registry["zoe"]
    zoe.last_name = "Novák"
    zoe.save(update_fields=["last_name"])
    assert _found("novak") == {"Zoë"}
    assert _found("zoe smith") == set()


def test_active_and_archived_split_the_registry(registry) -> None:
    Patient.objects.filter(pk=registry["john"].pk).update(
        archived_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    )
    assert {p.first_name for p in Patient.objects.active()} == {"Zoë", "Seán"}
    assert {p.first_name for p in Patient.objects.archived()} == {"John"}
    assert {p.first_name for p in Patient.objects.archived().search("smi")} == {"John"}
    assert {p.first_name for p in Patient.objects.active().search("smi")} == {"Zoë"}


def test_a_patient_needs_both_names_in_the_database(db) -> None:
    with pytest.raises(IntegrityError):
        Patient.objects.create(first_name="", last_name="Nameless", date_of_birth="1990-01-01")


def test_names_shown_for_a_patient(db) -> None:
    patient = PatientFactory(first_name="Alexandra", last_name="Nowak", preferred_name="Sasha")
    assert str(patient) == "Alexandra Nowak"
    assert patient.display_name == "Alexandra (Sasha) Nowak"
    assert patient.initials == "AN"
    same = PatientFactory(first_name="Sam", last_name="Lee", preferred_name="Sam")
    assert same.display_name == "Sam Lee"


def test_age_counts_whole_years_up_to_the_birthday(db) -> None:
    patient = PatientFactory(date_of_birth=datetime.date(2000, 2, 29))
    assert patient.age(on=datetime.date(2026, 2, 28)) == 25
    assert patient.age(on=datetime.date(2026, 3, 1)) == 26


def test_alerts_list_what_is_set_and_the_free_text(db) -> None:
    patient = PatientFactory(
        allergy_latex=True, needle_phobia=True, other_alerts="Pacemaker fitted"
    )
    assert patient.alerts == ["Allergy: latex", "Needle phobia", "Pacemaker fitted"]
    assert PatientFactory().alerts == []


def test_a_date_is_recognised_in_every_form_strptime_accepts(monkeypatch) -> None:
    """The quick check before the five parses turns away only what none of them accepts."""
    import itertools
    import re

    from patients import models
    from patients.models import DATE_INPUT_FORMATS, parse_date_query

    days = [datetime.date(1999, 12, 31), datetime.date(2008, 2, 29), datetime.date(2026, 1, 5)]
    written = [day.strftime(fmt) for day in days for fmt in DATE_INPUT_FORMATS]
    written += ["5/1/2026", " 5/1/2026", "5/ 1/2026", "05-1-2026", "2026-1-5", "1.2.03"]
    written += ["٠٥/٠١/٢٠٢٦", "31/02/2026", "2026/01/05", "smith", "07911 123456", "+44", ""]
    written += ["".join(parts) for parts in itertools.product("0 1", "/.", "1 2", "-/", "26")]
    checked = {text: parse_date_query(text) for text in written}
    monkeypatch.setattr(models, "_DATE_LIKE", re.compile(r"(?s).*"))  # every text parsed

    assert checked == {text: parse_date_query(text) for text in written}
    assert checked["05/01/2026"] == datetime.date(2026, 1, 5)
    assert checked["smith"] is None
