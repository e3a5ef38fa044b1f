"""Backups restore: a custom-format pg_dump of the database restores into a fresh one.

This is the drill docs/security.md asks for, run against the test database: dump with
``pg_dump -Fc``, ``createdb`` an empty database, ``pg_restore`` into it, and read the same
rows back with psycopg.
"""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from appointments.models import Appointment
from patients.models import Patient
from treatments.models import VisitNote

from ..appointments.factories import AppointmentFactory
from ..factories import PatientFactory
from ..treatments.note_factories import draft_note, episode_for, visit_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def _libpq(settings: dict) -> tuple[list[str], dict[str, str]]:
    """Connection options and environment for the client tools, from Django's settings."""
    options = []
    if settings.get("HOST"):
        options += ["--host", settings["HOST"]]
    if settings.get("PORT"):
        options += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        options += ["--username", settings["USER"]]
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return options, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def restored_database(tmp_path: Path):
    """A fresh database restored from a dump of the test database; dropped afterwards."""
    settings = connection.settings_dict
    options, env = _libpq(settings)
    pg_dump, createdb, pg_restore, dropdb = (
        _tool(name) for name in ("pg_dump", "createdb", "pg_restore", "dropdb")
    )
    dump = tmp_path / "clinic.dump"
    _run([pg_dump, *options, "--format=custom", f"--file={dump}", settings["NAME"]], env)
    name = f"clinic_restore_{uuid.uuid4().hex[:12]}"
    _run([createdb, *options, name], env)
    try:
        _run(
            [pg_restore, *options, "--no-owner", "--exit-on-error", f"--dbname={name}", str(dump)],
            env,
        )
        yield {**settings, "NAME": name}
    finally:
        _run([dropdb, *options, "--if-exists", name], env)


def _connect(settings: dict) -> psycopg.Connection:
    return psycopg.connect(
        dbname=settings["NAME"],
        host=settings.get("HOST") or None,
        port=settings.get("PORT") or None,
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
    )


@pytest.fixture
def practice(physio):
    patients = [PatientFactory(last_name=f"Restore{n}") for n in range(3)]
    episode = episode_for(patients[0], physio)
    note = draft_note(visit_for(patients[0], physio), episode, physio, subjective="Stairs easier")
    AppointmentFactory(patient=patients[1], clinician=physio)
    return {"patients": patients, "note": note}


def test_a_dump_restores_into_a_fresh_database_with_the_same_rows(practice, request) -> None:
    expected = {
        Patient._meta.db_table: Patient.objects.count(),
        Appointment._meta.db_table: Appointment.objects.count(),
        VisitNote._meta.db_table: VisitNote.objects.count(),
    }
    restored = request.getfixturevalue("restored_database")
    with _connect(restored) as conn, conn.cursor() as cursor:
        for table, count in expected.items():
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            assert cursor.fetchone()[0] == count, table
        cursor.execute(
            f'SELECT last_name FROM "{Patient._meta.db_table}" WHERE last_name LIKE %s '
            "ORDER BY last_name",
            ["Restore%"],
        )
        assert [row[0] for row in cursor.fetchall()] == ["Restore0", "Restore1", "Restore2"]
        cursor.execute(
            f'SELECT subjective, episode_id FROM "{VisitNote._meta.db_table}" WHERE id = %s',
            [practice["note"].pk],
        )
        assert cursor.fetchone() == ("Stairs easier", practice["note"].episode_id)
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 0
