"""The access log is append-only: PostgreSQL itself refuses UPDATE and DELETE on it.

(TRUNCATE stays possible for the database owner, which test isolation and a deliberate,
documented purge need; the application never issues it.) On SQLite nothing is created;
the application only ever inserts, and the admin site shows the log read-only.
"""

from django.db import migrations

from clinic.migration_ops import RunSQLOnPostgres


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_access_log")]

    operations = [
        RunSQLOnPostgres(
            """
            CREATE OR REPLACE FUNCTION clinic_access_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'The access log is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER clinic_accessevent_append_only
                BEFORE UPDATE OR DELETE ON clinic_accessevent
                FOR EACH ROW EXECUTE FUNCTION clinic_access_log_append_only();
            """,
            """
            DROP TRIGGER IF EXISTS clinic_accessevent_append_only ON clinic_accessevent;
            DROP FUNCTION IF EXISTS clinic_access_log_append_only();
            """,
        ),
    ]
