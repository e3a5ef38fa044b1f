from pathlib import Path

from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpRequest

from clinic.audit import Action, log_access
from clinic.models import User
from patients.importer import (
    COLUMN_BY_FIELD,
    ImportRefused,
    ImportReport,
    import_check,
    mapping_with,
    patients_import,
    read_csv,
)


class Command(BaseCommand):
    help = (
        "Import patients from another system's CSV export (UTF-8). A dry run unless "
        "--commit is given: prints the column mapping, every row error (row number as a "
        "spreadsheet shows it, field, reason), the duplicates it would skip and a summary. "
        "With --commit all new patients are created in one transaction, or none if any row "
        "has an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="THEIRS=OURS",
            help="Map their column to our field, e.g. --map 'Birth date=date_of_birth'; "
            "'THEIRS=' ignores the column. Unmapped headers are guessed from their names.",
        )
        parser.add_argument("--commit", action="store_true", help="Create the patients.")
        parser.add_argument(
            "--by", metavar="USERNAME", help="The member of staff recorded as creating them."
        )

    def handle(self, *args, file: Path, map: list[str], commit: bool, by: str | None, **options):
        user = self._user(by)
        overrides = {}
        for pair in map:
            theirs, sep, ours = pair.partition("=")
            if not sep:
                raise CommandError(f"--map takes THEIRS=OURS, not “{pair}”.")
            overrides[theirs.strip()] = ours.strip()
        try:
            with file.open("rb") as source:
                csv_file = read_csv(source, size=file.stat().st_size)
            mapping = mapping_with(csv_file.headers, overrides)
            self._print_mapping(csv_file.headers, mapping)
            if commit:
                report = patients_import(csv_file=csv_file, mapping=mapping, by=user)
            else:
                report = import_check(csv_file, mapping)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except ImportRefused as refused:
            if refused.report is not None:
                self._print_report(refused.report)
            raise CommandError(refused.message) from None
        self._print_report(report)
        if commit:
            request = HttpRequest()
            request.user = user or AnonymousUser()
            request.path = "manage.py import_patients"
            log_access(
                request, Action.CREATE, object_type="patient_import", object_id=report.created
            )
            self.stdout.write(self.style.SUCCESS(f"Imported {report.created:,} patient(s)."))
        else:
            self.stdout.write("Dry run: nothing was saved. Add --commit to import.")

    def _user(self, username: str | None) -> User | None:
        if username is None:
            return None
        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user “{username}”.") from None

    def _print_mapping(self, headers: list[str], mapping: dict[int, str]) -> None:
        self.stdout.write("Columns:")
        for index, header in enumerate(headers):
            field = mapping.get(index)
            target = COLUMN_BY_FIELD[field].label if field else "(not imported)"
            self.stdout.write(f"  {header or '(no name)'} → {target}")

    def _print_report(self, report: ImportReport) -> None:
        for error in report.errors:
            where = f"Row {error.row}" + (f", {error.field}" if error.field else "")
            self.stdout.write(f"{where}: {error.reason}")
        if report.error_count > len(report.errors):
            self.stdout.write(f"… and {report.error_count - len(report.errors):,} more errors.")
        for duplicate in report.duplicates:
            self.stdout.write(
                f"Row {duplicate.row}, skipped: {duplicate.name}, "
                f"born {duplicate.date_of_birth:%d/%m/%Y}. {duplicate.reason}"
            )
        self.stdout.write(
            f"Rows: {report.rows:,}; to create: {report.to_create:,}; "
            f"duplicates skipped: {len(report.duplicates):,}; "
            f"rows with errors: {report.rows_with_errors:,}."
        )
