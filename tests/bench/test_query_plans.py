"""The hot queries use their indexes on a realistically sized PostgreSQL database."""

import datetime
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.availability import find_free_slots
from appointments.models import Appointment, AppointmentType, local_day_bounds
from bench.dataset import Size, dataset_build
from clinic.models import Location, User
from patients.models import Patient
from patients.search import Statement
from patients.views import _COLUMNS, _SEARCH, LIST_COUNT_CAP, SEARCH_COUNT_CAP, limited_sql

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

WATCHED = {"appointments_appointment", "patients_patient"}
PAGE = 25


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end;
    ANALYZE inside it sees the new rows, so the planner works from realistic statistics."""
    with django_db_blocker.unblock(), transaction.atomic():
        dataset_build(Size(patients=5_000, appointments=20_000, clinicians=12, locations=3))
        with connection.cursor() as cursor:
            # Bulk inserts wait in GIN pending lists until autovacuum merges them.
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "WHERE a.amname = 'gin'"
            )
            cursor.execute("ANALYZE")
        yield
        transaction.set_rollback(True)


def plan_of(sql: str, params=()) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    document = json.loads(raw) if isinstance(raw, str) else raw
    return document[0]["Plan"]


def seq_scans(node: dict) -> set[str]:
    found = set()
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in WATCHED:
        found.add(node["Relation Name"])
    for child in node.get("Plans", []):
        found |= seq_scans(child)
    return found


def scans_of(queryset) -> set[str]:
    sql, params = queryset.query.sql_with_params()
    return seq_scans(plan_of(sql, params))


@pytest.fixture
def flagship(dataset) -> Location:
    return Location.objects.order_by("pk").first()


@pytest.fixture
def clinician(dataset) -> User:
    return User.objects.filter(username__startswith="bench.clinician").order_by("pk").first()


def last_monday() -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday() + 7)


def test_the_day_view_reads_one_location_day_by_index(flagship) -> None:
    day = Appointment.objects.for_day(flagship, last_monday())

    assert day.exists()
    assert scans_of(day) == set()


def test_a_clinicians_week_is_read_by_index(clinician, flagship) -> None:
    start, _ = local_day_bounds(flagship, last_monday())
    week = (
        Appointment.objects.filter(clinician=clinician)
        .overlapping(start, start + datetime.timedelta(days=7))
        .with_related()
    )

    assert week.exists()
    assert scans_of(week) == set()


@pytest.mark.parametrize("kind", ["name fragment", "full name", "phone fragment", "birth date"])
def test_patient_search_uses_an_index(dataset, kind: str) -> None:
    someone = Patient.objects.order_by("pk")[1234]
    query = {
        "name fragment": "smi",
        "full name": f"{someone.first_name} {someone.last_name}",
        "phone fragment": someone.phone[-7:],
        "birth date": f"{someone.date_of_birth:%d/%m/%Y}",
    }[kind]
    found = Patient.objects.active().search(query)

    assert someone in found or kind == "name fragment"
    assert scans_of(found.all()[:PAGE]) == set()
    # What the patient list runs: the values of up to 101 matches, in no particular order.
    statement = _SEARCH.statement("active", query)
    sql = limited_sql(statement, SEARCH_COUNT_CAP, search=True)
    assert seq_scans(plan_of(sql, statement.params)) == set()


def test_the_patient_list_pages_in_name_order_by_index(dataset) -> None:
    statement = Statement.of(Patient.objects.active().values_list(*_COLUMNS))
    plan = plan_of(limited_sql(statement, LIST_COUNT_CAP, search=False))

    assert seq_scans(plan) == set()


def test_the_availability_query_reads_appointments_by_index(flagship) -> None:
    follow_up = AppointmentType.objects.get(name="Follow-up")
    first_day = timezone.localdate() + datetime.timedelta(days=1)
    with CaptureQueriesContext(connection) as captured:
        find_free_slots(
            appointment_type=follow_up,
            location=flagship,
            first_day=first_day,
            last_day=first_day + datetime.timedelta(weeks=8),
        )
    reads = [q["sql"] for q in captured if 'FROM "appointments_appointment"' in q["sql"]]

    assert reads
    assert [seq_scans(plan_of(sql)) for sql in reads] == [set()] * len(reads)


def indexes_used(node: dict) -> set[str]:
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", []):
        found |= indexes_used(child)
    return found


def test_the_slot_finder_reads_clinicians_appointments_from_their_live_index(flagship) -> None:
    follow_up = AppointmentType.objects.get(name="Follow-up")
    first_day = timezone.localdate() + datetime.timedelta(days=1)
    with CaptureQueriesContext(connection) as captured:
        find_free_slots(
            appointment_type=follow_up,
            location=flagship,
            first_day=first_day,
            last_day=first_day + datetime.timedelta(weeks=8),
            limit=60,
        )
    reads = [q["sql"] for q in captured if "EXTRACT(EPOCH" in q["sql"]]

    assert reads
    assert all("appt_live_clinician_start_idx" in indexes_used(plan_of(sql)) for sql in reads)
