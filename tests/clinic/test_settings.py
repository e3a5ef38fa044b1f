"""Each settings module is loaded in a fresh interpreter with only the environment given."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "clinic.example.com",
    "DATABASE_URL": "postgres://clinic@db.example.com:5432/clinic",
}
SETUP = "import django; django.setup(); print('started')"


def run_python(code: str, settings_module: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Every variable the settings read is present, empty unless given, so that neither the
    # caller's environment nor a developer's .env file can fill in a missing secret.
    clean = dict.fromkeys(
        ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REPORTS_DATABASE_URL", "DEBUG"], ""
    )
    clean |= {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": settings_module, **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_starts_with_every_secret_set() -> None:
    result = run_python(SETUP, "clinic.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_production_refuses_to_start_without(missing: str) -> None:
    env = {name: value for name, value in PRODUCTION.items() if name != missing}
    result = run_python(SETUP, "clinic.settings.production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set the {missing} environment variable" in result.stderr
    assert "started" not in result.stdout


def test_production_passes_the_deployment_checklist() -> None:
    code = (
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = run_python(code, "clinic.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_turns_debug_off_even_when_the_environment_asks_for_it() -> None:
    code = SETUP + "; from django.conf import settings; print(settings.DEBUG)"
    result = run_python(code, "clinic.settings.production", **PRODUCTION, DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["started", "False"]


PRINT_DATABASES = (
    SETUP + "; from django.conf import settings; d = settings.DATABASES;"
    " print(*sorted(d)); r = d.get('reports'); print(r and (r['HOST'], r['CONN_MAX_AGE']))"
)


def test_production_reads_reports_from_the_replica_in_reports_database_url() -> None:
    replica = "postgres://reports@replica.example.com:5432/clinic"
    result = run_python(
        PRINT_DATABASES, "clinic.settings.production", **PRODUCTION, REPORTS_DATABASE_URL=replica
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "started",
        "default reports",
        "('replica.example.com', 60)",
    ]


def test_without_reports_database_url_there_is_only_the_primary() -> None:
    result = run_python(PRINT_DATABASES, "clinic.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["started", "default", "None"]


def test_local_settings_run_sqlite_in_wal_mode_with_immediate_transactions(tmp_path) -> None:
    database = tmp_path / "local.sqlite3"
    code = f"""
import sqlite3
import django
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
with transaction.atomic():
    # IMMEDIATE: opening the transaction already holds the write lock, so a second
    # writer is refused straight away instead of failing later mid-transaction.
    other = sqlite3.connect({str(database)!r}, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        print("second writer got in")
    except sqlite3.OperationalError as error:
        print(error)
"""
    result = run_python(code, "clinic.settings.local", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["wal", "database is locked"]


def test_local_settings_default_to_the_sqlite_file_beside_manage_py() -> None:
    code = (
        SETUP + "; from django.conf import settings; d = settings.DATABASES['default'];"
        " print(d['ENGINE'], d['NAME'], d['OPTIONS']['transaction_mode'])"
    )
    result = run_python(code, "clinic.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "started",
        "django.db.backends.sqlite3",
        str(BASE_DIR / "db.sqlite3"),
        "IMMEDIATE",
    ]


def test_local_settings_keep_each_workers_sqlite_connection_open() -> None:
    code = (
        SETUP + "; from django.conf import settings; d = settings.DATABASES['default'];"
        " print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    assert run_python(code, "clinic.settings.local").stdout.split() == ["started", "60", "True"]
    assert run_python(code, "clinic.settings.local", CONN_MAX_AGE="0").stdout.split() == [
        "started",
        "0",
        "True",
    ]


def test_the_wsgi_application_leaves_what_it_loaded_out_of_garbage_collection() -> None:
    """A worker's full garbage-collection passes skip the modules and classes loaded at
    start (``gc.freeze()`` in ``clinic/wsgi.py``): they live as long as the worker."""
    code = "import gc; import clinic.wsgi; print(gc.get_freeze_count())"
    result = run_python(code, "clinic.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 10_000
