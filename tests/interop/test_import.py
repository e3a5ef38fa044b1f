import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic.audit import AccessEvent, Action
from patients import importer
from patients.importer import (
    NOT_UTF8,
    ImportRefused,
    RowError,
    guess_mapping,
    import_check,
    mapping_with,
    patients_import,
    read_csv,
)
from patients.models import Patient
from tests.factories import PatientFactory

from .helpers import HEADER, csv_bytes, csv_text, good_row

pytestmark = pytest.mark.django_db


def load(data: bytes) -> importer.CsvFile:
    return read_csv(io.BytesIO(data), size=len(data))


def check(rows: list[list[str]], header: list[str] | None = None) -> importer.ImportReport:
    csv_file = load(csv_bytes(rows, header))
    return import_check(csv_file, guess_mapping(csv_file.headers))


def commit(rows: list[list[str]], by=None, header=None) -> importer.ImportReport:
    csv_file = load(csv_bytes(rows, header))
    return patients_import(csv_file=csv_file, mapping=guess_mapping(csv_file.headers), by=by)


# Dry run and commit


def test_a_dry_run_reports_the_patients_it_would_create_and_saves_nothing():
    report = check([good_row(1), good_row(2)])

    assert (report.rows, report.to_create, report.error_count) == (2, 2, 0)
    assert report.preview()[0] == (
        2,
        ["Ada1", "Lovelace", "10/12/1985", "+447911123456", "ada1@example.com"],
    )
    assert not Patient.objects.exists()


def test_commit_creates_the_patients_as_the_registry_would_store_them(manager):
    header = [*HEADER, "Preferred name", "Sex", "Insurer", "SMS reminders", "Latex allergy"]
    row = ["Zoë", "Brontë", "1990-02-14", "07911 123456", "Zoe@Example.COM", "Zo", "F"]
    report = commit([[*row, "Bupa", "yes", "Y"]], by=manager, header=header)

    assert report.created == 1
    patient = Patient.objects.get()
    assert (patient.first_name, patient.date_of_birth) == ("Zoë", datetime.date(1990, 2, 14))
    assert (patient.phone, patient.email, patient.sex) == (
        "+447911123456",
        "zoe@example.com",
        "female",
    )
    assert (patient.funding, patient.insurer) == ("insurer", "Bupa")
    assert patient.sms_reminders and patient.allergy_latex and not patient.allergy_metal
    assert patient.created_by == manager and patient.created_at is not None
    assert list(Patient.objects.search("zoe bronte")) == [patient]
    assert patient.history.get().history_user == manager


def test_a_large_import_is_written_in_batches(monkeypatch):
    monkeypatch.setattr(importer, "BATCH_SIZE", 7)
    report = commit([good_row(n) for n in range(30)])

    assert report.created == Patient.objects.count() == 30


def test_a_file_with_a_byte_order_mark_or_semicolons_is_read():
    with_bom = load(csv_bytes([good_row()], bom=True))
    semicolons = load(csv_text([good_row()], delimiter=";").encode())

    assert with_bom.headers == semicolons.headers == HEADER
    assert semicolons.rows == [(2, good_row())]


def test_rows_are_numbered_as_the_spreadsheet_shows_them():
    rows = [good_row(1), ["", "", "", "", ""], ["Bad", "Date", "31/02/1990", "", ""]]
    report = check(rows)

    assert report.errors == [RowError(4, "Date of birth", "Enter a valid date.")]


# Every kind of row error, with the registry's own messages

TOO_OLD = f"01/01/{timezone.localdate().year - 122}"
TOMORROW = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")


@pytest.mark.parametrize(
    ("column", "value", "field", "reason"),
    [
        (2, "1990-13-45", "Date of birth", "Enter a valid date."),
        (2, TOMORROW, "Date of birth", "The date of birth cannot be in the future."),
        (2, TOO_OLD, "Date of birth", "The date of birth gives an age over 120."),
        (2, "", "Date of birth", "This field is required."),
        (3, "12345", "Phone", "Enter a valid phone number, e.g. 07911 123456."),
        (3, "+1+1", "Phone", "Enter a valid phone number, e.g. 07911 123456."),
        (4, "ada@", "E-mail", "Enter a valid email address."),
        (1, "", "Last name", "This field is required."),
        (1, "Love\x00lace", "Last name", "Null characters are not allowed."),
        (
            0,
            "A" * 101,
            "First name",
            "Ensure this value has at most 100 characters (it has 101).",
        ),
    ],
    ids=[
        "bad-date",
        "future-dob",
        "over-120",
        "missing-dob",
        "short-phone",
        "formula-phone",
        "bad-email",
        "missing-last-name",
        "nul-byte",
        "oversize",
    ],
)
def test_each_kind_of_bad_value_is_reported_with_row_field_and_reason(column, value, field, reason):
    row = good_row()
    row[column] = value
    report = check([good_row(1), row])

    assert report.errors == [RowError(3, field, reason)]
    assert (report.to_create, report.rows_with_errors) == (1, 1)


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"])
@pytest.mark.parametrize("column", [0, 1, 4])
def test_a_formula_in_a_name_or_email_is_refused(formula, column):
    row = good_row()
    row[column] = formula
    [error] = check([row]).errors

    assert error.row == 2
    assert error.field == ["First name", "Last name", "", "", "E-mail"][column]
    assert "like a spreadsheet formula" in error.reason


def test_a_formula_in_other_text_is_kept_as_text():
    header = [*HEADER, "Address", "GP"]
    commit([[*good_row(), "=1+1", "@Dr Who"]], header=header)

    assert Patient.objects.values_list("address", "gp_name").get() == ("=1+1", "@Dr Who")


def test_a_phone_number_in_international_form_is_not_taken_for_a_formula():
    row = good_row()
    row[3] = "+44 7911 123456"
    commit([row])

    assert Patient.objects.get().phone == "+447911123456"


def test_the_registrys_cross_field_rules_apply():
    header = [*HEADER, "Funding", "SMS reminders", "Sex", "Email reminders"]
    report = check(
        [
            ["A", "B", "01/01/1990", "", "", "insurer", "no", "female", "no"],
            ["C", "D", "01/01/1990", "", "", "self-pay", "yes", "m", "maybe"],
            ["E", "F", "01/01/1990", "", "", "", "", "other", ""],
        ],
        header=header,
    )

    assert report.errors == [
        RowError(2, "Insurer", "Name the insurer for an insured patient."),
        RowError(3, "E-mail reminders", "Enter yes or no (or y/n, true/false, 1/0)."),
        RowError(3, "SMS reminders", "SMS reminders need a phone number."),
        RowError(4, "Sex", "Select a valid choice. other is not one of the available choices."),
    ]


def test_a_row_with_more_cells_than_columns_is_an_error():
    report = check([[*good_row(), "Flat 2, 3 High St"]])

    assert report.errors[0].row == 2
    assert "6 cells but the file names 5 columns" in report.errors[0].reason


# Duplicates


def test_a_patient_already_registered_is_skipped_whatever_the_case_of_the_name():
    PatientFactory(
        first_name="Ada1", last_name="LOVELACE", date_of_birth=datetime.date(1985, 12, 10)
    )
    archived = PatientFactory(
        first_name="Ada2",
        last_name="Lovelace",
        date_of_birth=datetime.date(1985, 12, 10),
        archived_at=timezone.now(),
    )
    report = commit([good_row(1), good_row(2), good_row(3)])

    assert [(d.row, d.reason) for d in report.duplicates] == [
        (2, "Already registered: same name and date of birth."),
        (3, "Already registered: same name and date of birth."),
    ]
    assert report.created == 1
    assert Patient.objects.filter(first_name__startswith="Ada2").get() == archived


def test_the_same_person_twice_in_the_file_is_imported_once():
    twin = good_row(1)
    twin[0] = "ADA1"
    report = commit([good_row(1), good_row(2), twin])

    assert [(d.row, d.reason) for d in report.duplicates] == [(4, "The same person as row 2.")]
    assert report.created == Patient.objects.count() == 2


def test_same_name_with_another_date_of_birth_is_not_a_duplicate():
    PatientFactory(first_name="Ada1", last_name="Lovelace", date_of_birth=datetime.date(1985, 1, 1))

    assert check([good_row(1)]).to_create == 1


# All or nothing


def test_one_bad_row_means_nothing_is_created():
    bad = good_row(3)
    bad[2] = "yesterday"
    with pytest.raises(ImportRefused) as refused:
        commit([good_row(1), good_row(2), bad, good_row(4)])

    assert "1 row(s) have errors, so nothing was imported" in refused.value.message
    assert refused.value.report.errors == [RowError(4, "Date of birth", "Enter a valid date.")]
    assert not Patient.objects.exists()


def test_a_failure_while_writing_rolls_back_every_batch(monkeypatch):
    real = importer.bulk_create_with_history

    def fails_after_writing(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    monkeypatch.setattr(importer, "bulk_create_with_history", fails_after_writing)
    with pytest.raises(RuntimeError):
        commit([good_row(n) for n in range(5)])

    assert not Patient.objects.exists()


# Files that cannot be imported


@pytest.mark.parametrize(
    "data",
    [
        csv_text([good_row()]).encode("utf-16"),
        csv_text([good_row()]).encode("utf-16-le"),
        csv_text([["Zoë", "Brontë", "01/01/1990", "", ""]]).encode("latin-1"),
    ],
    ids=["utf-16", "utf-16-without-bom", "latin-1"],
)
def test_a_file_in_another_encoding_is_refused_clearly(data):
    with pytest.raises(ImportRefused) as refused:
        load(data)

    assert refused.value.message == NOT_UTF8


def test_latin_1_text_that_is_also_ascii_is_read():
    assert load(csv_text([good_row()]).encode("latin-1")).rows == [(2, good_row())]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["First name", "Surname", "Phone"], "date of birth"),
        (["Phone", "Email"], "first name, last name, date of birth"),
    ],
)
def test_missing_required_columns_are_named(header, missing):
    csv_file = load(csv_bytes([["x"] * len(header)], header))
    with pytest.raises(ImportRefused) as refused:
        import_check(csv_file, guess_mapping(csv_file.headers))

    assert refused.value.message.startswith(f"The file has no column for: {missing}.")


def test_a_file_with_too_many_rows_is_refused_fast_without_reading_it_all():
    data = b"First name,Last name,Date of birth\r\n" + b"Ada,Lovelace,10/12/1985\r\n" * 100_000
    stream = io.BytesIO(data)
    with pytest.raises(ImportRefused) as refused:
        read_csv(stream, size=len(data))

    assert "more than 50,000 patients" in refused.value.message
    assert stream.tell() < len(data)


def test_a_file_over_the_size_limit_is_refused_before_reading():
    stream = io.BytesIO(b"never read")
    with pytest.raises(ImportRefused) as refused:
        read_csv(stream, size=importer.MAX_FILE_BYTES + 1)

    assert "the limit is 20 MB" in refused.value.message
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (b",,\r\nAda,Lovelace,1985-12-10\r\n", "The first row must name the columns."),
        (b"First name,Last name,Date of birth\r\n", "The file has column names but no patients."),
    ],
)
def test_an_empty_file_is_refused(data, message):
    with pytest.raises(ImportRefused) as refused:
        load(data)

    assert refused.value.message == message


def test_an_unreadable_csv_row_is_refused_with_its_number(monkeypatch):
    monkeypatch.setattr("csv.field_size_limit", lambda *a: 131072)
    data = csv_bytes([good_row(), ["x" * 200_000, "B", "01/01/1990", "", ""]])
    with pytest.raises(ImportRefused) as refused:
        load(data)

    assert refused.value.message.startswith("Row 3 cannot be read as CSV")


# The mapping


def test_the_mapping_is_guessed_from_common_header_names():
    headers = ["Forename", "SURNAME", "D.O.B.", "Mobile No", "E-mail Address", "Post code", "Notes"]

    assert guess_mapping(headers) == {
        0: "first_name",
        1: "last_name",
        2: "date_of_birth",
        4: "email",
        5: "postcode",
    }


def test_the_mapping_can_be_changed_column_by_column():
    headers = ["Forename", "Surname", "Born on", "Mobile No", "Email"]
    mapping = mapping_with(headers, {"Born on": "date_of_birth", "Mobile No": "phone", "Email": ""})

    assert mapping == {0: "first_name", 1: "last_name", 2: "date_of_birth", 3: "phone"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Nope": "phone"}, "The file has no column “Nope”."),
        ({"Email": "shoe size"}, "“shoe size” is not a patient field."),
    ],
)
def test_a_mapping_to_something_that_does_not_exist_is_refused(overrides, message):
    with pytest.raises(ImportRefused) as refused:
        mapping_with(HEADER, overrides)

    assert refused.value.message.startswith(message)


def test_two_columns_for_one_field_are_refused():
    csv_file = load(csv_bytes([good_row()]))
    with pytest.raises(ImportRefused) as refused:
        import_check(csv_file, {**guess_mapping(HEADER), 4: "first_name"})

    assert refused.value.message == (
        "Two columns are mapped to first name: “First name” and “Email”. Choose one."
    )


# The management command


@pytest.fixture
def csv_path(tmp_path):
    def write(rows: list[list[str]], header: list[str] | None = None):
        path = tmp_path / "patients.csv"
        path.write_bytes(csv_bytes(rows, header))
        return path

    return write


def test_the_command_runs_dry_by_default(csv_path, capsys):
    bad = good_row(2)
    bad[4] = "nope"
    call_command("import_patients", str(csv_path([good_row(1), bad])))
    out = capsys.readouterr().out

    assert "Row 3, E-mail: Enter a valid email address." in out
    assert "Rows: 2; to create: 1; duplicates skipped: 0; rows with errors: 1." in out
    assert "Dry run: nothing was saved." in out
    assert not Patient.objects.exists()


def test_the_command_commits_with_a_mapping_and_logs_one_entry(csv_path, capsys, manager):
    header = ["Given", "Family", "Born on", "Tel", "Mail"]
    path = csv_path([good_row(1), good_row(2)], header)
    call_command(
        "import_patients",
        str(path),
        "--map",
        "Born on=date of birth",
        "--commit",
        "--by",
        "manager",
    )

    assert "Imported 2 patient(s)." in capsys.readouterr().out
    assert Patient.objects.filter(created_by=manager).count() == 2
    entry = AccessEvent.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.user) == (
        Action.CREATE,
        "patient_import",
        "2",
        manager,
    )


def test_the_command_commits_nothing_when_a_row_has_an_error(csv_path, capsys):
    bad = good_row(2)
    bad[2] = "31/31/1990"
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_patients", str(csv_path([good_row(1), bad])), "--commit")

    assert "Row 3, Date of birth: Enter a valid date." in capsys.readouterr().out
    assert not Patient.objects.exists()
    assert not AccessEvent.objects.exists()


def test_the_command_names_the_missing_columns(csv_path):
    with pytest.raises(CommandError, match="no column for: date of birth"):
        call_command("import_patients", str(csv_path([["A", "B"]], ["First name", "Last name"])))
