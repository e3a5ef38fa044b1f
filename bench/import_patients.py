"""Time a patient import of a realistic 10,000-row CSV file, dry run and commit.

Run from the project root:

    .venv/bin/python bench/import_patients.py                 # SQLite (a scratch file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic \\
        .venv/bin/python bench/import_patients.py             # PostgreSQL
    .venv/bin/python bench/import_patients.py --rows 50000 --existing 20000

The benchmark never touches your data: it creates a scratch database the way the test
runner does (``test_<name>`` on PostgreSQL, a temporary file for SQLite), migrates it,
registers ``--existing`` patients for the duplicate check to search, imports the file with
``patients_import`` — the same call the upload page and the command make — and drops the
scratch database. Record the figures in docs/performance.md under "Patient import".
"""

import argparse
import csv
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.local")

FIRST = "Ada Ben Chloé Dev Émile Fatima Grace Hamid Isla Jack Kai Léa Mohammed Niamh Olu Priya"
LAST = "Smith Jones Williams Brown Taylor Davies Evans Wilson Thomas Roberts Nowak O'Brien Müller"
STREETS = "High Street, Station Road, Church Lane, Park Avenue, Mill Road, Victoria Street"
HEADER = [
    "Forename",
    "Surname",
    "Known as",
    "DOB",
    "Sex",
    "Mobile",
    "Email Address",
    "Address",
    "Post code",
    "GP",
    "GP practice",
    "Referred by",
    "Funding",
    "Insurer",
    "Policy number",
    "Privacy notice accepted on",
    "SMS reminders",
    "Email reminders",
    "Latex allergy",
    "Anticoagulants",
    "Other alerts",
]


def patient_row(n: int, rng: random.Random) -> list[str]:
    from patients.models import fold

    first, last = rng.choice(FIRST.split()), rng.choice(LAST.split())
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 66))
    insured = rng.random() < 0.3
    return [
        first,
        last,
        rng.choice(["", "", first[:3]]),
        born.strftime("%d/%m/%Y"),
        rng.choice(["F", "M", "Female", "Male", ""]),
        f"07911 {n % 1000000:06d}",
        f"{fold(first)}.{fold(last)}{n}@example.com".replace("'", ""),
        f"{rng.randrange(1, 200)} {rng.choice(STREETS.split(', '))}, Bristol",
        f"BS{rng.randrange(1, 40)} {rng.randrange(1, 9)}{rng.choice('ABDEF')}{rng.choice('JLNP')}",
        f"Dr {rng.choice(LAST.split())}",
        rng.choice(["Clifton Surgery", "Redland Green Practice", ""]),
        rng.choice(["Self", "GP", "Coach", "Insurer", ""]),
        "Insurer" if insured else "Self-pay",
        rng.choice(["Bupa", "AXA Health", "Vitality"]) if insured else "",
        f"P{rng.randrange(10**7):07d}" if insured else "",
        "01/03/2024",
        rng.choice(["yes", "no"]),
        rng.choice(["yes", "no"]),
        rng.choice(["", "", "", "y"]),
        rng.choice(["", "", "", "", "yes"]),
        rng.choice(["", "", "", "Pacemaker", "Epilepsy"]),
    ]


def write_csv(path: Path, rows: int, existing: list[list[str]], rng: random.Random) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            # About 1% of the rows repeat a patient already registered.
            row = existing[n % len(existing)] if existing and n % 100 == 99 else patient_row(n, rng)
            writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=2_000, help="patients already registered")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # as in production: no query log kept in memory
    from django.db import connection

    from patients.importer import guess_mapping, import_check, patients_import, read_csv
    from patients.models import Patient

    scratch = Path(tempfile.mkdtemp(prefix="import-bench-"))
    # A name of its own, so a test run on the same server keeps its test database.
    scratch_name = (
        str(scratch / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"bench_import_{os.getpid()}"
    )
    connection.settings_dict["TEST"]["NAME"] = scratch_name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(7)
        existing_rows = [patient_row(10**6 + n, rng) for n in range(arguments.existing)]
        registered = [
            Patient(
                first_name=row[0],
                last_name=row[1],
                date_of_birth=datetime.datetime.strptime(row[3], "%d/%m/%Y").date(),
            )
            for row in existing_rows
        ]
        for patient in registered:
            patient.set_search_name()
        Patient.objects.bulk_create(registered, batch_size=1000)
        path = scratch / "patients.csv"
        write_csv(path, arguments.rows, existing_rows, rng)

        started = time.perf_counter()
        with path.open("rb") as source:
            csv_file = read_csv(source, size=path.stat().st_size)
        read_seconds = time.perf_counter() - started
        mapping = guess_mapping(csv_file.headers)

        started = time.perf_counter()
        dry_run = import_check(csv_file, mapping)
        dry_seconds = time.perf_counter() - started

        started = time.perf_counter()
        report = patients_import(csv_file=csv_file, mapping=mapping, by=None)
        commit_seconds = time.perf_counter() - started

        assert dry_run.error_count == 0, dry_run.errors[:5]
        assert report.created == Patient.objects.count() - arguments.existing
        print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']})")
        print(f"File: {arguments.rows:,} rows, {path.stat().st_size / 1024 / 1024:.1f} MB")
        print(f"Read and decode:        {read_seconds:6.2f} s")
        print(f"Dry run (preview):      {dry_seconds:6.2f} s")
        print(
            f"Commit (validate + insert {report.created:,}, skip "
            f"{len(report.duplicates):,} duplicates): {commit_seconds:6.2f} s"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
