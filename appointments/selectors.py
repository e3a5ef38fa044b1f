"""Reads of the schedule that pages share."""

from django.db.models import Count, Q
from django.utils import timezone

from patients.models import Patient

from .models import Status

PATIENT_PAGE_LIMIT = 20


def patient_appointment_summary(patient: Patient) -> dict:
    """Upcoming and past appointments for the patient page, with attendance counts."""
    now = timezone.now()
    # Read through the patient: each appointment knows its patient without joining it.
    appointments = patient.appointments.select_related(
        "clinician__staff_profile", "location", "room", "appointment_type"
    )
    counts = patient.appointments.aggregate(
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        late_cancellations=Count("pk", filter=Q(status=Status.CANCELLED, late_cancellation=True)),
        completed=Count("pk", filter=Q(status=Status.COMPLETED)),
    )
    return {
        "upcoming_appointments": list(
            appointments.filter(starts_at__gte=now).order_by("starts_at")[:PATIENT_PAGE_LIMIT]
        ),
        "past_appointments": list(
            appointments.filter(starts_at__lt=now).order_by("-starts_at")[:PATIENT_PAGE_LIMIT]
        ),
        "attendance": counts,
    }
