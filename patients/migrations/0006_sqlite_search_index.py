"""On SQLite, a trigram full-text table serves the registry's search, as the trigram indexes
of migration 0002 do on PostgreSQL; on PostgreSQL this migration does nothing.

The table indexes the patients' rows in place (external content) and triggers keep it in
step with every insert, update and delete, whoever writes. A later migration that makes
SQLite rebuild ``patients_patient`` drops these triggers and must create them again
(tests/patients/test_sqlite_search.py fails if they are missing).
"""

import sqlite3

from django.db import migrations

FORWARDS = [
    "CREATE VIRTUAL TABLE patient_search USING fts5("
    "search_name, phone, email, "
    "content='patients_patient', content_rowid='id', tokenize='trigram')",
    "INSERT INTO patient_search(patient_search) VALUES ('rebuild')",
    "CREATE TRIGGER patient_search_insert AFTER INSERT ON patients_patient BEGIN "
    "INSERT INTO patient_search(rowid, search_name, phone, email) "
    "VALUES (new.id, new.search_name, new.phone, new.email); "
    "END",
    "CREATE TRIGGER patient_search_delete AFTER DELETE ON patients_patient BEGIN "
    "INSERT INTO patient_search(patient_search, rowid, search_name, phone, email) "
    "VALUES ('delete', old.id, old.search_name, old.phone, old.email); "
    "END",
    "CREATE TRIGGER patient_search_update "
    "AFTER UPDATE OF id, search_name, phone, email ON patients_patient BEGIN "
    "INSERT INTO patient_search(patient_search, rowid, search_name, phone, email) "
    "VALUES ('delete', old.id, old.search_name, old.phone, old.email); "
    "INSERT INTO patient_search(rowid, search_name, phone, email) "
    "VALUES (new.id, new.search_name, new.phone, new.email); "
    "END",
]

BACKWARDS = [
    "DROP TRIGGER IF EXISTS patient_search_update",
    "DROP TRIGGER IF EXISTS patient_search_delete",
    "DROP TRIGGER IF EXISTS patient_search_insert",
    "DROP TABLE IF EXISTS patient_search",
]


#: FTS5's trigram tokenizer came with SQLite 3.34.
TRIGRAM_TOKENIZER = (3, 34)


def _run_on_sqlite(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "sqlite":
            if sqlite3.sqlite_version_info < TRIGRAM_TOKENIZER:
                raise RuntimeError(
                    f"The patient search needs SQLite 3.34 or newer (FTS5 with the trigram "
                    f"tokenizer); this Python has SQLite {sqlite3.sqlite_version}. Use a newer "
                    f"Python build, or PostgreSQL (DATABASE_URL)."
                )
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_patient_history")]

    operations = [migrations.RunPython(_run_on_sqlite(FORWARDS), _run_on_sqlite(BACKWARDS))]
