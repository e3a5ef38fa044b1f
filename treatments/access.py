"""The one way views reach clinical objects: through the patient, for a user who may.

Only physiotherapists hold the clinical permissions (``clinic/roles.py``); front desk and
managers get 403 everywhere clinical. Objects are always fetched through their parent, so
an id from another patient or episode is a 404.
"""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest

from clinic.compiled_queries import ID_PLACEHOLDER, SECOND_ID_PLACEHOLDER, CompiledRead
from patients import access as patients_access
from patients.models import Patient

from .models import Episode

clinical_read = permission_required("treatments.view_episode", raise_exception=True)
clinical_write = permission_required("treatments.change_episode", raise_exception=True)


def get_patient(request: HttpRequest, patient_pk: int) -> Patient:
    return patients_access.get_patient(request, patient_pk)


#: The patient's episode, compiled once per worker: every clinical page of an episode reads
#: it. The patient is not joined again (it is read already, and joining costs planning).
_episode = CompiledRead(
    lambda patient_pk, pk: Episode.objects.filter(patient=patient_pk, pk=pk).select_related(
        "clinician__staff_profile", "plan"
    ),
    ID_PLACEHOLDER,
    SECOND_ID_PLACEHOLDER,
)


def get_episode(request: HttpRequest, patient_pk: int, episode_pk: int) -> Episode:
    patient = get_patient(request, patient_pk)
    episode = _episode.get(patient.pk, episode_pk)
    if episode is None:
        raise Http404("No such episode of this patient.")
    episode.patient = patient
    return episode
