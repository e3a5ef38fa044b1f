"""Download of a patient's whole record as a FHIR R4B Bundle.

Physiotherapists and practice managers only (front desk and anyone else get 403); every
download writes one access-log entry.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.audit import Action, log_access
from clinic.fhir import patient_bundle

from .access import get_patient

FHIR_JSON = "application/fhir+json"


def can_export_fhir(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_physiotherapist or user.is_practice_manager)
    )


def fhir_export_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_export_fhir(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@fhir_export_required
def fhir_export(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    bundle = patient_bundle(patient)
    log_access(request, Action.EXPORT, patient)
    response = HttpResponse(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    filename = f"patient-{patient.pk}-fhir-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("<int:pk>/fhir.json", fhir_export, name="fhir_export"),
]
