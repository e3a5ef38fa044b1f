"""The search as you type writes its SQL once per shape (``patients/search.py``): for every
kind of search it must give the SQL and values the ORM gives, and find the same patients."""

import datetime

import pytest
from django.db import connection

from patients.models import Patient
from patients.search import CompiledSearch
from patients.views import _COLUMNS, _SEARCH
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

QUERIES = [
    "smi",
    "Mia Scott",
    "  mia   SCOTT  ",
    "Zoë",
    "zoe",
    "o'brien",
    "50%",
    "a_b",
    "back\\slash",
    'say "hi"',
    "jo",
    "02/03/1985",
    "1985-03-02",
    "mia 1985-03-02",
    "+44 7911 123456",
    "07911",
    "MIA@Example.COM",
    "mia@example.com scott",
    "one two three four five six seven",
    "31/02/1985",
]


def _orm(status: str, query: str):
    return getattr(Patient.objects, status)().search(query).order_by().values_list(*_COLUMNS)


@pytest.mark.parametrize("status", ["active", "archived", "all"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_sql_and_values_are_the_orms(status: str, query: str) -> None:
    statement = _SEARCH.statement(status, query)
    again = _SEARCH.statement(status, query)  # from the shape already written

    sql, params = _orm(status, query).query.sql_with_params()
    assert (statement.sql, statement.params) == (sql, list(params))
    assert (again.sql, again.params) == (sql, list(params))


def test_it_finds_the_patients_the_orm_finds() -> None:
    born = datetime.date(1985, 3, 2)
    PatientFactory(first_name="Mia", last_name="Scott", date_of_birth=born, phone="+447911123456")
    PatientFactory(first_name="Zoë", last_name="O'Brien", email="Mia@Example.com")
    PatientFactory(first_name="Ann", last_name="50%_off\\")
    PatientFactory(
        first_name="Mia", last_name="Smith", archived_at=datetime.datetime.now(datetime.UTC)
    )
    for status in ["active", "archived", "all"]:
        for query in [*QUERIES, "50%_off\\", "scott 1985-03-02", "zoe o'b"]:
            statement = _SEARCH.statement(status, query)
            with connection.cursor() as cursor:
                cursor.execute(statement.sql, statement.params)
                found = sorted(row[0] for row in cursor.fetchall())
            assert found == sorted(pk for pk, *_ in _orm(status, query)), (status, query)
    assert [row[0] for row in _orm("all", "50%_off\\")]  # the metacharacters were found


def test_a_shape_is_written_once_per_connection(monkeypatch) -> None:
    search = CompiledSearch(lambda status: getattr(Patient.objects, status)(), _COLUMNS)
    written = []
    write = search._write
    monkeypatch.setattr(search, "_write", lambda *args: written.append(args[1:]) or write(*args))

    search.statement("active", "smi")
    search.statement("active", "jon")  # the same shape: a name part among active patients
    search.statement("all", "jon")
    search.statement("active", "jon 1985-03-02")

    assert [(which, names) for which, names, _ in written] == [
        ("active", ["search_name__contains"]),
        ("all", ["search_name__contains"]),
        ("active", ["search_name__contains", "date_of_birth"]),
    ]
