from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from clinic.migration_ops import RunSQLOnPostgres


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        TrigramExtension(),
        RunSQLOnPostgres(
            "CREATE INDEX patient_search_name_trgm ON patients_patient "
            "USING gin (search_name gin_trgm_ops)",
            "DROP INDEX IF EXISTS patient_search_name_trgm",
        ),
        RunSQLOnPostgres(
            "CREATE INDEX patient_phone_trgm ON patients_patient USING gin (phone gin_trgm_ops)",
            "DROP INDEX IF EXISTS patient_phone_trgm",
        ),
        RunSQLOnPostgres(
            "CREATE INDEX patient_email_upper_trgm ON patients_patient "
            "USING gin ((UPPER(email::text)) gin_trgm_ops)",
            "DROP INDEX IF EXISTS patient_email_upper_trgm",
        ),
    ]
