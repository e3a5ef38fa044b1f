"""The one way views reach a patient record: by id, 404 when there is none.

Every role that may read patients reads every patient (the practice is one team), so the
permission decorators on each view are the access decision; this keeps the fetch in one
place for when that changes (for example per-location access).
"""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from .models import Patient


def get_patient(request: HttpRequest, pk: int) -> Patient:
    return get_object_or_404(Patient, pk=pk)
