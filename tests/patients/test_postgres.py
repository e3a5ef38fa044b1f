"""On PostgreSQL the registry's search is served by trigram indexes (migration 0002)."""

import datetime
import random

import pytest
from django.db import connection

from patients.models import Patient, fold

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TRIGRAM_INDEXES = {"patient_search_name_trgm", "patient_phone_trgm", "patient_email_upper_trgm"}
FIRST = ["Olivia", "Zoë", "Noah", "Seán", "Aisha", "Oliver", "Maya", "Theo", "Ruby", "Kai"]
LAST = ["Smith", "Jones", "Nowak", "O'Brien", "Patel", "Nguyen", "Wright", "Hughes", "Clarke"]


@pytest.fixture
def registry() -> int:
    """About two thousand patients, as a busy practice has after a few years."""
    rng = random.Random(7)
    patients = []
    for n in range(2000):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        patients.append(
            Patient(
                first_name=first,
                last_name=last,
                search_name=fold(f"{first}  {last}"),
                date_of_birth=datetime.date(1950, 1, 1) + datetime.timedelta(days=n * 9),
                phone=f"+4479{rng.randint(10_000_000, 99_999_999)}",
                email=f"{first}.{last}{n}@example.com".lower(),
            )
        )
    Patient.objects.bulk_create(patients)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")
    return len(patients)


def _plan(queryset) -> str:
    """The plan for ``queryset`` when a trigram index is the only way to avoid a full scan.

    On a table this small the planner rightly prefers walking the name index in list order;
    turning off sequential and plain index scans (for this test's transaction only) asks
    whether a trigram index can serve the search at all, as it will on a large registry.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    return queryset.explain()


def test_the_trigram_extension_and_indexes_exist() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'patients_patient'"
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) >= TRIGRAM_INDEXES
    for name in TRIGRAM_INDEXES:
        assert "USING gin" in indexes[name] and "gin_trgm_ops" in indexes[name], name


def test_name_search_can_use_the_name_trigram_index(registry) -> None:
    plan = _plan(Patient.objects.search("smi"))
    assert "patient_search_name_trgm" in plan, plan


def test_accented_name_search_can_use_the_name_trigram_index(registry) -> None:
    plan = _plan(Patient.objects.search("Zoë Smi"))
    assert "patient_search_name_trgm" in plan, plan


def test_phone_search_can_use_the_phone_trigram_index(registry) -> None:
    plan = _plan(Patient.objects.search("07911 123"))
    assert "patient_phone_trgm" in plan, plan


def test_e_mail_search_can_use_the_e_mail_trigram_index(registry) -> None:
    plan = _plan(Patient.objects.search("olivia.smith@"))
    assert "patient_email_upper_trgm" in plan, plan


def test_trigram_search_finds_the_same_people_as_a_plain_scan(registry) -> None:
    found = set(Patient.objects.search("zoe smi").values_list("pk", flat=True))
    expected = {
        pk
        for pk, first, last in Patient.objects.values_list("pk", "first_name", "last_name")
        if first == "Zoë" and last == "Smith"
    }
    assert found == expected
    assert len(found) > 0
