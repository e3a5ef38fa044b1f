"""Patient import from another system's CSV export.

``read_csv`` reads the file (UTF-8 only, within the size and row limits), a mapping ties
its columns to our fields (``guess_mapping`` proposes one from the headers),
``import_check`` validates every row with the registry's own form rules and finds
duplicates (the dry run), and ``patients_import`` creates all the new patients in one
transaction — or none when any row has an error.
"""

import codecs
import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django import forms
from django.db import transaction
from django.utils.text import capfirst
from simple_history.utils import bulk_create_with_history

from clinic.models import User

from .forms import PatientRulesMixin
from .models import ActivityLevel, Funding, Patient, Sex, fold

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
BATCH_SIZE = 1_000
PREVIEW_ROWS = 20
#: Errors kept in the report; the total is always counted.
MAX_REPORTED_ERRORS = 1_000

NOT_UTF8 = "The file is not UTF-8: save it as CSV UTF-8 and try again."
FORMULA_START = ("=", "+", "-", "@")
#: Fields where a leading formula character is refused rather than kept as text.
FORMULA_CHECKED = {
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "phone",
    "emergency_contact_name",
    "emergency_contact_phone",
}
PHONE_FIELDS = {"phone", "emergency_contact_phone"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"]

YES = {"yes", "y", "true", "t", "1", "x", "on", "✓", "✔"}
NO = {"no", "n", "false", "f", "0", "off", ""}


class ImportRefused(Exception):
    """The file as a whole cannot be imported; nothing was changed."""

    def __init__(self, message: str, report: "ImportReport | None" = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report


@dataclass(frozen=True)
class Column:
    field: str
    required: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return capfirst(str(Patient._meta.get_field(self.field).verbose_name))


#: Our fields a file may fill, in the order forms and reports show them. Aliases are
#: header names other systems use, compared without case, spaces or punctuation.
COLUMNS: tuple[Column, ...] = (
    Column("first_name", True, ("forename", "forenames", "givenname", "given", "first")),
    Column("last_name", True, ("surname", "familyname", "family", "last")),
    Column("date_of_birth", True, ("dob", "birthdate", "dateofbirth", "birthday", "born")),
    Column("preferred_name", aliases=("knownas", "nickname")),
    Column("sex", aliases=("sexatbirth", "birthsex")),
    Column("gender", aliases=("genderidentity",)),
    Column(
        "phone",
        aliases=(
            "mobile",
            "mobilephone",
            "mobilenumber",
            "telephone",
            "tel",
            "phonenumber",
            "cell",
            "contactnumber",
        ),
    ),
    Column("email", aliases=("emailaddress", "mail")),
    Column("address", aliases=("streetaddress", "address1", "addressline1", "homeaddress")),
    Column("postcode", aliases=("zip", "zipcode", "postalcode", "postal")),
    Column("emergency_contact_name", aliases=("emergencycontact", "nextofkin", "nok")),
    Column("emergency_contact_phone", aliases=("emergencyphone", "nextofkinphone", "nokphone")),
    Column("emergency_contact_relationship", aliases=("relationship", "nextofkinrelationship")),
    Column("referrer", aliases=("referredby", "referralsource", "referral", "source")),
    Column("gp_name", aliases=("gp", "doctor", "familydoctor", "generalpractitioner")),
    Column("gp_practice", aliases=("gpsurgery", "surgery", "gppracticename")),
    Column("funding", aliases=("fundingtype", "payment", "paymenttype", "payer")),
    Column("insurer", aliases=("insurance", "insurancecompany", "insuranceprovider")),
    Column("policy_number", aliases=("policy", "policyno", "membershipnumber")),
    Column("occupation", aliases=("job",)),
    Column("sports", aliases=("sport",)),
    Column("activity_level", aliases=("activity",)),
    Column(
        "privacy_notice_accepted_on",
        aliases=("privacynotice", "privacyaccepted", "privacyconsent", "gdprconsent"),
    ),
    Column("email_reminders", aliases=("emailconsent", "consentemail")),
    Column("sms_reminders", aliases=("smsconsent", "consentsms", "textreminders")),
    Column("allergy_tape_adhesive", aliases=("tapeallergy", "adhesiveallergy", "allergytape")),
    Column("allergy_latex", aliases=("latexallergy", "latex")),
    Column("allergy_metal", aliases=("metalallergy",)),
    Column(
        "anticoagulants_or_bleeding_disorder",
        aliases=("anticoagulants", "bleedingdisorder", "bloodthinners"),
    ),
    Column("pregnancy", aliases=("pregnant",)),
    Column("needle_phobia", aliases=("needlephobic",)),
    Column("other_alerts", aliases=("alerts", "medicalalerts", "allergies")),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
REQUIRED_FIELDS = tuple(column.field for column in COLUMNS if column.required)
BOOLEAN_FIELDS = {
    "email_reminders",
    "sms_reminders",
    *Patient.ALERT_FIELDS,
}


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


_GUESSES: dict[str, str] = {}
for _column in COLUMNS:
    for _key in (_column.field, _column.label, *_column.aliases):
        _GUESSES.setdefault(_header_key(_key), _column.field)


def _choice_lookup(choices: type, extra: dict[str, str]) -> dict[str, str]:
    lookup = {_header_key(value): value for value in choices.values}
    lookup.update({_header_key(label): value for value, label in choices.choices})
    lookup.update(extra)
    return lookup


_SEX = _choice_lookup(
    Sex, {"f": Sex.FEMALE, "m": Sex.MALE, "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN, "": ""}
)
_FUNDING = _choice_lookup(
    Funding,
    {
        "selfpay": Funding.SELF_PAY,
        "self": Funding.SELF_PAY,
        "private": Funding.SELF_PAY,
        "insurance": Funding.INSURER,
        "insured": Funding.INSURER,
    },
)
_ACTIVITY = _choice_lookup(ActivityLevel, {})


# Reading the file


@dataclass
class CsvFile:
    headers: list[str]
    #: (row number as a spreadsheet shows it, cells); blank rows are left out.
    rows: list[tuple[int, list[str]]]


def read_csv(source: BinaryIO, *, size: int | None = None) -> CsvFile:
    """Read a CSV file from a binary stream, refusing what cannot be imported.

    The stream is decoded as it is read, so a file with too many rows is refused as soon
    as the limit is passed, without holding the rest of it."""
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportRefused(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
    head = source.read(4096)
    if not head.strip():
        raise ImportRefused("The file is empty.")
    if (
        head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or head.count(b"\x00") > len(head) // 4
    ):
        raise ImportRefused(NOT_UTF8)
    text = io.TextIOWrapper(_Rewound(head, source), encoding="utf-8-sig", newline="")
    try:
        first_line = text.readline()
        reader = csv.reader(_chain(first_line, text), dialect=_dialect(first_line))
        return _read_rows(reader)
    except UnicodeDecodeError:
        raise ImportRefused(NOT_UTF8) from None


def _read_rows(reader: Iterator[list[str]]) -> CsvFile:
    number = 1
    try:
        headers = [header.strip() for header in next(reader)]
        if not any(headers):
            raise ImportRefused("The first row must name the columns.")
        rows: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportRefused(
                    f"The file has more than {MAX_ROWS:,} patients. Split it into files of "
                    f"at most {MAX_ROWS:,} rows and import them one after another."
                )
            rows.append((number, cells))
    except csv.Error as error:
        raise ImportRefused(f"Row {number + 1} cannot be read as CSV: {error}.") from None
    except StopIteration:
        raise ImportRefused("The file is empty.") from None
    if not rows:
        raise ImportRefused("The file has column names but no patients.")
    return CsvFile(headers=headers, rows=rows)


class _Rewound(io.RawIOBase):
    """The stream with its already-read first bytes put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            chunk, self._head = self._head[: len(buffer)], self._head[len(buffer) :]
        else:
            chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def _dialect(first_line: str) -> type[csv.Dialect]:
    """Comma-separated, or semicolons / tabs when the header row clearly uses those."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


# The mapping from their columns to our fields


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → our field, for every header whose name we recognise."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        field_name = _GUESSES.get(_header_key(header))
        if field_name and field_name not in mapping.values():
            mapping[index] = field_name
    return mapping


def field_for(name: str) -> str | None:
    """Our field for a name typed by a person ("date_of_birth", "Date of birth", "dob")."""
    return _GUESSES.get(_header_key(name))


def mapping_with(headers: list[str], overrides: dict[str, str]) -> dict[int, str]:
    """The guessed mapping, changed by ``their header → our field`` pairs ("" skips)."""
    mapping = guess_mapping(headers)
    keys = {_header_key(header): index for index, header in enumerate(headers)}
    for theirs, ours in overrides.items():
        index = keys.get(_header_key(theirs))
        if index is None:
            raise ImportRefused(f"The file has no column “{theirs}”.")
        if not ours or ours == "-":
            mapping.pop(index, None)
            continue
        field_name = ours if ours in COLUMN_BY_FIELD else field_for(ours)
        if field_name is None:
            raise ImportRefused(
                f"“{ours}” is not a patient field. Choose from: {', '.join(COLUMN_BY_FIELD)}."
            )
        mapping = {i: f for i, f in mapping.items() if f != field_name}
        mapping[index] = field_name
    return mapping


def check_mapping(headers: list[str], mapping: dict[int, str]) -> None:
    """Refuse a mapping that leaves a required field without a column or fills one twice."""
    mapped = set(mapping.values())
    missing = [COLUMN_BY_FIELD[f].label.lower() for f in REQUIRED_FIELDS if f not in mapped]
    if missing:
        raise ImportRefused(
            f"The file has no column for: {', '.join(missing)}. Add the column to the file "
            "or choose which of its columns holds it."
        )
    seen: dict[str, int] = {}
    for index, field_name in sorted(mapping.items()):
        if field_name not in COLUMN_BY_FIELD or not 0 <= index < len(headers):
            raise ImportRefused("The column mapping does not match the file.")
        if field_name in seen:
            raise ImportRefused(
                f"Two columns are mapped to {COLUMN_BY_FIELD[field_name].label.lower()}: "
                f"“{headers[seen[field_name]]}” and “{headers[index]}”. Choose one."
            )
        seen[field_name] = index


# Checking every row


class PatientImportFormBase(PatientRulesMixin, forms.Form):
    """One CSV row, validated with the registry's rules: the model's own form fields and
    ``PatientRulesMixin``. A plain form rather than a ModelForm, because the model
    validation a ModelForm adds repeats the required-name check with a query per row."""


#: Fields the registry's cross-field rules may name, so always in the form.
ALWAYS_IN_FORM = {"funding", "insurer"}


def import_form_class(mapping: dict[int, str]) -> type[forms.Form]:
    wanted = ALWAYS_IN_FORM | set(mapping.values())
    fields = forms.fields_for_model(Patient, fields=[c.field for c in COLUMNS if c.field in wanted])
    for name in ("date_of_birth", "privacy_notice_accepted_on"):
        if name in fields:
            fields[name].input_formats = DATE_FORMATS
    return type("PatientImportForm", (PatientImportFormBase,), fields)


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str


@dataclass(frozen=True)
class RowDuplicate:
    row: int
    name: str
    date_of_birth: datetime.date
    reason: str


@dataclass
class ImportReport:
    mapping: dict[int, str]
    rows: int = 0
    patients: list[tuple[int, Patient]] = field(default_factory=list)
    duplicates: list[RowDuplicate] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows_with_errors: int = 0
    created: int = 0

    @property
    def to_create(self) -> int:
        return len(self.patients)

    @property
    def fields(self) -> list[Column]:
        """The columns the file fills, in our order (for the preview table)."""
        return [c for c in COLUMNS if c.field in self.mapping.values()]

    def add_error(self, row: int, field_label: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, field_label, reason))

    def preview(self, count: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
        """The first patients as they would be stored, one display value per column."""
        columns = self.fields
        return [
            (row, [display_value(patient, c.field) for c in columns])
            for row, patient in self.patients[:count]
        ]


def display_value(patient: Patient, field_name: str) -> str:
    value = getattr(patient, field_name)
    if field_name in BOOLEAN_FIELDS:
        return "Yes" if value else "No"
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    display = getattr(patient, f"get_{field_name}_display", None)
    return str(display()) if display and value else str(value or "")


def import_check(csv_file: CsvFile, mapping: dict[int, str]) -> ImportReport:
    """The dry run: every row validated, duplicates found, nothing written."""
    report = _validate(csv_file, mapping)
    _split_duplicates(report)
    return report


def _validate(csv_file: CsvFile, mapping: dict[int, str]) -> ImportReport:
    check_mapping(csv_file.headers, mapping)
    form_class = import_form_class(mapping)
    width = len(csv_file.headers)
    report = ImportReport(mapping=dict(mapping))
    for number, cells in csv_file.rows:
        report.rows += 1
        errors_before = report.error_count
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            report.add_error(
                number,
                "",
                f"The row has {len(cells)} cells but the file names {width} columns; "
                "check for an unquoted comma.",
            )
        data, cell_errors = _form_data(cells, mapping)
        for field_name, reason in cell_errors:
            report.add_error(number, COLUMN_BY_FIELD[field_name].label, reason)
        form = form_class(data)
        if form.is_valid() and report.error_count == errors_before:
            report.patients.append((number, Patient(**form.cleaned_data)))
        for field_name, messages in form.errors.items():
            if field_name in dict(cell_errors):
                continue
            label = COLUMN_BY_FIELD[field_name].label if field_name in COLUMN_BY_FIELD else ""
            for message in messages:
                report.add_error(number, label, message)
        if report.error_count > errors_before:
            report.rows_with_errors += 1
    return report


def _form_data(cells: list[str], mapping: dict[int, str]) -> tuple[dict, list[tuple[str, str]]]:
    """The row as form data, and the cell problems the form itself would not name."""
    data: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for index, field_name in mapping.items():
        value = cells[index].strip() if index < len(cells) else ""
        if "\x00" in value:
            errors.append((field_name, "Null characters are not allowed."))
            value = ""
        elif field_name in FORMULA_CHECKED and _looks_like_formula(field_name, value):
            errors.append(
                (
                    field_name,
                    f"“{value[:20]}” starts with “{value[0]}” like a spreadsheet formula; "
                    "enter the value as plain text.",
                )
            )
            value = ""
        elif field_name in BOOLEAN_FIELDS:
            answer = value.casefold()
            if answer not in YES | NO:
                errors.append((field_name, "Enter yes or no (or y/n, true/false, 1/0)."))
            value = "on" if answer in YES else ""
        elif field_name == "sex":
            value = _SEX.get(_header_key(value), value) or Sex.UNKNOWN
        elif field_name == "funding":
            value = _FUNDING.get(_header_key(value), value)
        elif field_name == "activity_level":
            value = _ACTIVITY.get(_header_key(value), value)
        data[field_name] = value
    if not data.get("funding"):
        data["funding"] = Funding.INSURER if data.get("insurer") else Funding.SELF_PAY
    return data, errors


def _looks_like_formula(field_name: str, value: str) -> bool:
    if not value.startswith(FORMULA_START):
        return False
    # "+44 7911 123456" is how phone numbers are written; the phone rules judge it.
    return not (field_name in PHONE_FIELDS and value.startswith("+"))


def _identity(first_name: str, last_name: str, date_of_birth: datetime.date) -> tuple:
    return (first_name.strip().casefold(), last_name.strip().casefold(), date_of_birth)


def _split_duplicates(report: ImportReport) -> None:
    """Move patients already registered, or already earlier in the file, to duplicates."""
    births = sorted({patient.date_of_birth for _, patient in report.patients})
    existing: dict[tuple, int] = {}
    for start in range(0, len(births), 500):
        for pk, first, last, born in Patient.objects.filter(
            date_of_birth__in=births[start : start + 500]
        ).values_list("pk", "first_name", "last_name", "date_of_birth"):
            existing.setdefault(_identity(first, last, born), pk)
    seen_in_file: dict[tuple, int] = {}
    keep: list[tuple[int, Patient]] = []
    for row, patient in report.patients:
        key = _identity(patient.first_name, patient.last_name, patient.date_of_birth)
        if key in existing:
            reason = "Already registered: same name and date of birth."
        elif key in seen_in_file:
            reason = f"The same person as row {seen_in_file[key]}."
        else:
            seen_in_file[key] = row
            keep.append((row, patient))
            continue
        report.duplicates.append(
            RowDuplicate(row, patient.full_name, patient.date_of_birth, reason)
        )
    report.patients = keep


# Committing


def patients_import(*, csv_file: CsvFile, mapping: dict[int, str], by: User | None) -> ImportReport:
    """Create every new patient in the file, or none: one row with an error stops it all.

    Rows are validated before the transaction opens so the database is locked only for
    the duplicate check and the inserts."""
    report = _validate(csv_file, mapping)
    if report.error_count:
        raise ImportRefused(
            f"{report.rows_with_errors:,} row(s) have errors, so nothing was imported. "
            "Correct them in the file and import it again.",
            report,
        )
    with transaction.atomic():
        _split_duplicates(report)
        patients = [patient for _, patient in report.patients]
        for patient in patients:
            patient.created_by = by
            patient.set_search_name()
        bulk_create_with_history(
            patients,
            Patient,
            batch_size=BATCH_SIZE,
            default_user=by,
            default_change_reason="Imported from a CSV file",
        )
    report.created = len(patients)
    return report
