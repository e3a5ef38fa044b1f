"""A patient's complete record for a subject access request: JSON to download, HTML to print.

Only holders of ``patients.export_patient`` (practice managers) may export; every export
writes one access-log entry.
"""

import json

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from clinic.audit import Action, log_access

from .access import get_patient
from .export import patient_record
from .models import Patient

PERMISSION = "patients.export_patient"


def _export(request: HttpRequest, pk: int) -> tuple[Patient, dict]:
    patient = get_patient(request, pk)
    log_access(request, Action.EXPORT, patient)
    return patient, patient_record(patient)


@permission_required(PERMISSION, raise_exception=True)
def export_json(request: HttpRequest, pk: int) -> HttpResponse:
    patient, record = _export(request, pk)
    response = HttpResponse(
        json.dumps(record, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    filename = f"patient-{patient.pk}-record-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _label(key: str) -> str:
    return key.removesuffix("_id").replace("_", " ").capitalize()


def _text(value: object) -> str:
    if _is_person(value):
        return value["name"] or f"#{value['id']}"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items()) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    if value in (None, ""):
        return "—"
    return str(value)


def _is_person(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"id", "name"}


def _readable(node: object) -> object:
    """A copy of the record where every row also lists its plain fields as (label, text)."""
    if isinstance(node, list):
        return [_readable(item) for item in node]
    if not isinstance(node, dict) or _is_person(node):
        return node
    copy = {key: _readable(value) for key, value in node.items()}
    copy["readable"] = [
        (_label(key), _text(node.get(f"{key}_display", value)))
        for key, value in node.items()
        if not key.endswith("_display")
        and (not isinstance(value, dict | list) or _is_person(value) or _is_flat(value))
    ]
    return copy


def _is_flat(value: object) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(item, dict | list) for item in items)


@permission_required(PERMISSION, raise_exception=True)
def export_html(request: HttpRequest, pk: int) -> HttpResponse:
    patient, record = _export(request, pk)
    response = render(
        request, "patients/patient_export.html", {"patient": patient, "record": _readable(record)}
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("<int:pk>/export.json", export_json, name="export_json"),
    path("<int:pk>/export/", export_html, name="export_html"),
]
