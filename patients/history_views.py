"""A patient's record history: every change to their details and appointments, who and when."""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format

from appointments.models import Appointment
from clinic.audit import Action, log_access
from clinic.history import history_entries, newest_first

from .access import get_patient
from .models import Patient

PAGE_SIZE = 50


def _appointment_label(record) -> str:
    return f"Appointment {date_format(timezone.localtime(record.starts_at), 'j M Y H:i')}"


def _episodes_with_history(request: HttpRequest, patient: Patient) -> list:
    """The episodes whose history this reader may open (treatments.views.history decides)."""
    user = request.user
    if user.has_perm("treatments.view_historicalepisode"):
        return list(patient.episodes.order_by("-created_at"))
    if user.has_perm("treatments.view_episode"):
        return list(patient.episodes.filter(clinician=user).order_by("-created_at"))
    return []


@permission_required("patients.view_historicalpatient", raise_exception=True)
def patient_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    log_access(request, Action.VIEW, patient)
    details = history_entries(Patient.history.filter(id=patient.pk), label=lambda r: "Details")
    appointments = []
    if request.user.has_perm("appointments.view_appointment"):
        appointments = history_entries(
            Appointment.history.filter(patient_id=patient.pk),
            label=_appointment_label,
            context_fields=["patient"],
        )
    page = Paginator(newest_first(details, appointments), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "patient": patient,
        "page": page,
        "episodes": _episodes_with_history(request, patient),
    }
    return render(request, "patients/patient_history.html", context)


urlpatterns = [path("<int:pk>/history/", patient_history, name="history")]
