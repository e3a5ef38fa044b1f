"""The one way views reach a patient record: by id, 404 when there is none.

Every role that may read patients reads every patient (the practice is one team), so the
permission decorators on each view are the access decision; this keeps the fetch in one
place for when that changes (for example per-location access).
"""

from django.http import Http404, HttpRequest

from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead

from .models import Patient

#: Every page of a patient's record reads the patient first: compiled once per worker.
_patient = CompiledRead(lambda pk: Patient.objects.filter(pk=pk), ID_PLACEHOLDER)


def get_patient(request: HttpRequest, pk: int) -> Patient:
    patient = _patient.get(pk)
    if patient is None:
        raise Http404("No such patient.")
    return patient
