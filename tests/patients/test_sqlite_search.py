"""On SQLite the registry's search is served by a trigram full-text table (migration 0006)
that triggers keep in step with the patients, however they are written."""

import datetime
import functools
import random

import pytest
from django.db import DatabaseError, connection

from patients.models import Patient, _term_filter, fold
from tests.factories import PatientFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="about the SQLite search table"),
    pytest.mark.django_db,
]

FIRST = ["Olivia", "Zoë", "Noah", "Seán", "Aisha", "Oliver", "Maya", "Théo", "Ruby", "Kai"]
LAST = ["Smith", "Smithson", "Jones", "Nowak", "O'Brien", "Patel", "Nguyen", "Wright", "Hughes"]


def _table_matches_the_patients() -> bool:
    """FTS5's own check of the table against the patients' rows."""
    with connection.cursor() as cursor:
        try:
            cursor.execute(
                "INSERT INTO patient_search(patient_search, rank) VALUES ('integrity-check', 1)"
            )
        except DatabaseError:
            return False
    return True


def _found(query: str) -> set[str]:
    return {patient.last_name for patient in Patient.objects.search(query)}


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def test_the_search_table_and_its_triggers_exist() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE tbl_name IN "
            "('patient_search', 'patients_patient') AND type IN ('table', 'trigger')"
        )
        objects = set(cursor.fetchall())
    assert {
        ("table", "patient_search"),
        ("trigger", "patient_search_insert"),
        ("trigger", "patient_search_update"),
        ("trigger", "patient_search_delete"),
    } <= objects


def test_a_new_patient_is_found_by_name_phone_and_e_mail() -> None:
    PatientFactory(
        first_name="Zoë", last_name="Brontë", phone="+447911123456", email="zoe@example.org"
    )

    assert _table_matches_the_patients()
    assert _found("bront") == {"Brontë"}
    assert _found("ZOE BRONTË") == {"Brontë"}
    assert _found("07911 123456") == {"Brontë"}
    assert _found("zoe@EXAMPLE") == {"Brontë"}


def test_a_renamed_patient_is_found_by_the_new_name_only() -> None:
    patient = PatientFactory(first_name="Zoë", last_name="Smith")
    patient.last_name = "Novák"
    patient.save(update_fields=["last_name"])

    assert _table_matches_the_patients()
    assert _found("novak") == {"Novák"}
    assert _found("smith") == set()


def test_a_new_phone_number_written_without_the_model_is_found() -> None:
    patient = PatientFactory(last_name="Smith", phone="+447911123456")
    Patient.objects.filter(pk=patient.pk).update(phone="+447700900456")

    assert _table_matches_the_patients()
    assert _found("07700 900456") == {"Smith"}
    assert _found("07911 123456") == set()


def test_a_patient_restored_from_history_is_found_by_the_restored_name() -> None:
    patient = PatientFactory(first_name="Zoë", last_name="Smith")
    patient.last_name = "Novák"
    patient.save()
    patient.history.earliest().instance.save()

    assert _table_matches_the_patients()
    assert _found("smith") == {"Smith"}
    assert _found("novak") == set()


def test_a_deleted_patient_is_no_longer_in_the_table() -> None:
    kept, deleted = PatientFactory(last_name="Smith"), PatientFactory(last_name="Smithson")
    deleted.delete()

    assert _table_matches_the_patients()
    assert _found("smith") == {"Smith"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM patient_search WHERE patient_search MATCH 'smith'")
        assert cursor.fetchall() == [(kept.pk,)]


def test_patients_created_in_bulk_are_found() -> None:
    Patient.objects.bulk_create(
        Patient(
            first_name=first,
            last_name=last,
            search_name=fold(f"{first} {last}"),
            date_of_birth=datetime.date(1980, 1, 1),
            phone=f"+4479111234{n:02d}",
        )
        for n, (first, last) in enumerate([("Zoë", "Nowak"), ("Noah", "Patel")])
    )

    assert _table_matches_the_patients()
    assert _found("zoe now") == {"Nowak"}
    assert _found("07911 123401") == {"Patel"}


def test_a_name_with_quotes_and_wildcards_is_found_as_typed() -> None:
    PatientFactory(first_name="Ruby", last_name='Say "Hi" 100%_done')
    PatientFactory(first_name="Ruby", last_name="Says Hi 1000 done")

    assert _found('"hi"') == {'Say "Hi" 100%_done'}
    assert _found("100%_d") == {'Say "Hi" 100%_done'}
    assert _found('"') == {'Say "Hi" 100%_done'}


@pytest.mark.parametrize(
    "query", ["smi*", "^smi", "NEAR(smith)", "phone:smi", "{email}:smi", "smi\x00th", "smi-th"]
)
def test_full_text_query_syntax_is_searched_as_plain_text(query: str) -> None:
    PatientFactory(last_name="Smith", phone="+447911123456", email="smith@example.com")

    assert _found(query) == set()


@pytest.mark.parametrize(
    "query", ["smi", "olivia smith", "07911 123", "+44 7911 123456", "olivia.smith@", "@example"]
)
def test_the_search_reads_the_table_instead_of_every_patient(query: str) -> None:
    PatientFactory(first_name="Olivia", last_name="Smith", phone="+447911123456")
    found = Patient.objects.active().search(query)

    plan = _plan(found.order_by().values_list("pk", "last_name")[:501])

    assert "patient_search VIRTUAL TABLE" in plan, plan
    assert "SCAN patients_patient" not in plan, plan
    assert found.exists()


@pytest.mark.parametrize("query", ["zo", "14/02/1990"])
def test_short_words_and_birth_dates_are_searched_without_the_table(query: str) -> None:
    PatientFactory(first_name="Zoë", last_name="Smith", date_of_birth=datetime.date(1990, 2, 14))

    assert "patient_search" not in _plan(Patient.objects.search(query))
    assert _found(query) == {"Smith"}


@pytest.fixture
def registry() -> None:
    rng = random.Random(11)
    Patient.objects.bulk_create(
        Patient(
            first_name=(first := rng.choice(FIRST)),
            last_name=(last := rng.choice(LAST)),
            search_name=fold(f"{first} {last}"),
            date_of_birth=datetime.date(1950, 1, 1) + datetime.timedelta(days=n * 37),
            phone=f"+4479{rng.randint(10_000_000, 99_999_999)}",
            email=f"{fold(first)}.{fold(last)}{n}@Example.com",
            archived_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC) if n % 9 == 0 else None,
        )
        for n in range(300)
    )


@pytest.mark.parametrize(
    "query",
    [
        "smi",
        "SMITH",
        "zoe",
        "Zoë smi",
        "theo o'b",
        "sean nowak",
        "ohn",
        "o",
        "zo smi",
        "791",
        "07912",
        "+4479",
        "example.com",
        "@EXAMPLE",
        "kai.jones1@",
        "nobody",
    ],
)
@pytest.mark.parametrize("status", ["active", "archived", "all"])
def test_the_table_finds_the_same_patients_as_a_plain_scan(registry, query, status) -> None:
    patients = {
        "active": Patient.objects.active(),
        "archived": Patient.objects.archived(),
        "all": Patient.objects.all(),
    }[status]
    plain_scan = functools.reduce(
        lambda qs, term: qs.filter(_term_filter(term)), query.split(), patients
    )

    assert set(patients.search(query)) == set(plain_scan)


def test_an_sqlite_without_the_trigram_tokenizer_stops_the_migration_with_a_clear_message(
    monkeypatch,
) -> None:
    import importlib

    migration = importlib.import_module("patients.migrations.0006_sqlite_search_index")
    monkeypatch.setattr(migration.sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(migration.sqlite3, "sqlite_version", "3.31.1")
    editor = type("Editor", (), {"connection": connection, "execute": lambda self, sql: None})()

    with pytest.raises(RuntimeError, match=r"SQLite 3\.34 or newer .* SQLite 3\.31\.1"):
        migration._run_on_sqlite(migration.FORWARDS)(None, editor)
