"""Practice managers: patients in from another system's CSV file, and out as CSV.

Import runs in three steps — upload, column mapping with a dry-run preview, commit. The
uploaded file waits in the default storage under a random name between the steps; pages
carry only a signed token for it, bound to the manager and valid for two hours. The file
is deleted when the import is committed, and files left behind are swept on later uploads.
"""

import datetime
import re
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.audit import Action, log_access
from clinic.csvsafe import csv_response
from clinic.decorators import practice_manager_required

from . import importer
from .forms import PatientSearchForm
from .importer import COLUMNS, CsvFile, ImportRefused
from .models import Funding, Patient, Sex

UPLOAD_DIR = "patient-imports"
UPLOAD_MAX_AGE = datetime.timedelta(hours=2)
_SALT = "patients.import"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
EXPIRED = "The uploaded file has expired or is not yours. Upload it again."


def _storage_name(upload_id: str) -> str:
    return f"{UPLOAD_DIR}/{upload_id}.csv"


def _sweep_stale_uploads() -> None:
    """Delete uploads older than a token lives (abandoned imports)."""
    try:
        _, names = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - UPLOAD_MAX_AGE
    for name in names:
        stored = f"{UPLOAD_DIR}/{name}"
        try:
            if default_storage.get_modified_time(stored) < cutoff:
                default_storage.delete(stored)
        except (FileNotFoundError, NotImplementedError):
            continue


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Saved as “CSV UTF-8”, at most {importer.MAX_FILE_BYTES // 1024 // 1024} MB and "
            f"{importer.MAX_ROWS:,} patients, with the column names in the first row."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.csv_file = importer.read_csv(upload, size=upload.size)
        except ImportRefused as refused:
            raise forms.ValidationError(refused.message) from None
        upload.seek(0)
        return upload


class MappingForm(forms.Form):
    """The upload token and one choice of our field per column of the file."""

    upload = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.csv_file: CsvFile | None = None
        self.upload_id = ""
        token = self.data.get("upload") or self.initial.get("upload") or ""
        self.csv_file, self.upload_id = _load_upload(token, user)
        if self.csv_file is None:
            return
        guessed = importer.guess_mapping(self.csv_file.headers)
        choices = [("", "— not imported —")] + [(c.field, c.label) for c in COLUMNS]
        for index, header in enumerate(self.csv_file.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=choices,
                required=False,
                initial=guessed.get(index, ""),
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.csv_file is None:
            raise forms.ValidationError(EXPIRED)
        try:
            importer.check_mapping(self.csv_file.headers, self.mapping)
        except ImportRefused as refused:
            raise forms.ValidationError(refused.message) from None
        return cleaned

    @property
    def mapping(self) -> dict[int, str]:
        source = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            index: source[f"column_{index}"]
            for index in range(len(self.csv_file.headers if self.csv_file else []))
            if source.get(f"column_{index}")
        }

    def columns(self) -> list[tuple[forms.BoundField, list[str]]]:
        """Each column's choice with the file's first values, to help choose."""
        samples = [cells for _, cells in self.csv_file.rows[:3]]
        return [
            (self[f"column_{index}"], [row[index] for row in samples if index < len(row)])
            for index in range(len(self.csv_file.headers))
        ]

    def query(self) -> str:
        return urlencode({name: value for name, value in self.data.items() if name in self.fields})


def _upload_token(upload_id: str, user) -> str:
    return signing.dumps({"f": upload_id, "u": user.pk}, salt=_SALT)


def _load_upload(token: str, user) -> tuple[CsvFile | None, str]:
    """The stored file behind a token this user was given, or ``(None, "")``."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.BadSignature:
        return None, ""
    upload_id = str(payload.get("f", ""))
    if payload.get("u") != user.pk or not _UPLOAD_ID.match(upload_id):
        return None, ""
    name = _storage_name(upload_id)
    try:
        with default_storage.open(name, "rb") as stored:
            return importer.read_csv(stored), upload_id
    except (FileNotFoundError, ImportRefused):
        return None, ""


@practice_manager_required
@require_http_methods(["GET", "POST"])
def patient_import(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and "upload" in request.GET:
        # Back from the preview the columns keep the choices made there.
        mapping_form = MappingForm(initial=request.GET.dict(), user=request.user)
        if mapping_form.csv_file is None:
            messages.error(request, EXPIRED)
            return redirect("patients:import")
        return render(request, "patients/import_mapping.html", {"form": mapping_form})
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _sweep_stale_uploads()
        upload_id = uuid.uuid4().hex
        default_storage.save(_storage_name(upload_id), form.cleaned_data["file"])
        token = _upload_token(upload_id, request.user)
        return redirect(f"{reverse('patients:import')}?{urlencode({'upload': token})}")
    return render(request, "patients/import_upload.html", {"form": form})


@practice_manager_required
@require_GET
def patient_import_preview(request: HttpRequest) -> HttpResponse:
    form = MappingForm(request.GET, user=request.user)
    if not form.is_valid():
        if form.csv_file is None:
            messages.error(request, EXPIRED)
            return redirect("patients:import")
        return render(request, "patients/import_mapping.html", {"form": form})
    report = importer.import_check(form.csv_file, form.mapping)
    return render(request, "patients/import_preview.html", {"form": form, "report": report})


@practice_manager_required
@require_POST
def patient_import_commit(request: HttpRequest) -> HttpResponse:
    form = MappingForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "Check the column mapping.")
        return redirect("patients:import")
    try:
        report = importer.patients_import(
            csv_file=form.csv_file, mapping=form.mapping, by=request.user
        )
    except ImportRefused as refused:
        messages.error(request, refused.message)
        return redirect(f"{reverse('patients:import_preview')}?{form.query()}")
    default_storage.delete(_storage_name(form.upload_id))
    log_access(request, Action.CREATE, object_type="patient_import", object_id=report.created)
    skipped = len(report.duplicates)
    messages.success(
        request,
        f"Imported {report.created:,} patient{pluralize(report.created)}."
        + (f" {skipped:,} duplicate{pluralize(skipped)} skipped." if skipped else ""),
    )
    return redirect("patients:list")


EXPORT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "gender",
    "phone",
    "email",
    "address",
    "postcode",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "referrer",
    "gp_name",
    "gp_practice",
    "funding",
    "insurer",
    "policy_number",
    "privacy_notice_accepted_on",
    "email_reminders",
    "sms_reminders",
    "registered_online",
    "created_at",
    "archived_at",
)
_CHOICE_LABELS = {"sex": dict(Sex.choices), "funding": dict(Funding.choices)}


def _export_value(name: str, value: object) -> object:
    if name in _CHOICE_LABELS:
        return _CHOICE_LABELS[name].get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@practice_manager_required
@require_GET
def patient_export_csv(request: HttpRequest) -> HttpResponse:
    """Every patient, or those the list's search and status select; no clinical content
    (medical alerts stay out)."""
    form = PatientSearchForm(request.GET)
    if not form.is_valid():
        messages.error(request, "That search cannot be exported; check it and try again.")
        return redirect("patients:list")
    status = form.cleaned_data["status"] or "active"
    patients = {
        "active": Patient.objects.active(),
        "archived": Patient.objects.archived(),
        "all": Patient.objects.all(),
    }[status]
    if form.cleaned_data["q"]:
        patients = patients.search(form.cleaned_data["q"])
    rows = (
        [_export_value(name, value) for name, value in zip(EXPORT_COLUMNS, values, strict=True)]
        for values in patients.values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)
    )
    header = [
        "ID" if name == "id" else capfirst(str(Patient._meta.get_field(name).verbose_name))
        for name in EXPORT_COLUMNS
    ]
    log_access(request, Action.EXPORT, object_type="patients_csv", object_id=status)
    return csv_response(f"patients-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


urlpatterns = [
    path("import/", patient_import, name="import"),
    path("import/preview/", patient_import_preview, name="import_preview"),
    path("import/commit/", patient_import_commit, name="import_commit"),
    path("export.csv", patient_export_csv, name="export_csv"),
]
