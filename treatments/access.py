"""The one way views reach clinical objects: through the patient, for a user who may.

Only physiotherapists hold the clinical permissions (``clinic/roles.py``); front desk and
managers get 403 everywhere clinical. Objects are always fetched through their parent, so
an id from another patient or episode is a 404.
"""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from patients import access as patients_access
from patients.models import Patient

from .models import Episode

clinical_read = permission_required("treatments.view_episode", raise_exception=True)
clinical_write = permission_required("treatments.change_episode", raise_exception=True)


def get_patient(request: HttpRequest, patient_pk: int) -> Patient:
    return patients_access.get_patient(request, patient_pk)


def get_episode(request: HttpRequest, patient_pk: int, episode_pk: int) -> Episode:
    patient = get_patient(request, patient_pk)
    # The related manager hands each episode this patient; joining it again costs planning.
    return get_object_or_404(
        patient.episodes.select_related("clinician__staff_profile", "plan"), pk=episode_pk
    )
