"""Reads of the schedule that pages share."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from clinic.compiled_queries import ID_PLACEHOLDER, INSTANT_PLACEHOLDER, CompiledRead
from clinic.links import link_maker
from patients.models import Patient

from .models import Appointment, Status

PATIENT_PAGE_LIMIT = 20


def _patient_appointments(upcoming: bool) -> CompiledRead:
    """A patient's next (``upcoming``) or latest appointments from an instant, with what
    their lines show."""

    def build(patient_id: int, now: datetime.datetime):
        appointments = Appointment.objects.filter(patient_id=patient_id).select_related(
            "clinician__staff_profile", "location", "room", "appointment_type"
        )
        if upcoming:
            return appointments.filter(starts_at__gte=now).order_by("starts_at")
        return appointments.filter(starts_at__lt=now).order_by("-starts_at")

    return CompiledRead(
        lambda patient_id, now: build(patient_id, now)[:PATIENT_PAGE_LIMIT],
        ID_PLACEHOLDER,
        INSTANT_PLACEHOLDER,
    )


_upcoming = _patient_appointments(upcoming=True)
_past = _patient_appointments(upcoming=False)


def patient_appointment_summary(patient: Patient) -> dict:
    """Upcoming and past appointments for the patient page, with attendance counts."""
    now = timezone.now()
    counts = patient.appointments.aggregate(
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        late_cancellations=Count("pk", filter=Q(status=Status.CANCELLED, late_cancellation=True)),
        completed=Count("pk", filter=Q(status=Status.COMPLETED)),
    )
    upcoming = _upcoming.all(patient.pk, now)
    past = _past.all(patient.pk, now)
    for appointment in (*upcoming, *past):  # each knows its patient without reading it
        Appointment.patient.field.set_cached_value(appointment, patient)
    return {
        "upcoming_lines": appointment_lines(upcoming),
        "past_lines": appointment_lines(past),
        "attendance": counts,
    }


_LINE = (
    '<li><a href="{}">{}, {}</a> · {} with {} · '
    '<span class="badge status-badge status-{}">{}</span>{}</li>'
)
_LATE = mark_safe(' <span class="badge text-bg-warning">late</span>')


def appointment_lines(appointments: list[Appointment]) -> list[SafeString]:
    """The patient page's appointment list items, in the location's wall-clock time, written
    in one pass (escaped by ``format_html``) rather than a template and time zone per item."""
    detail = link_maker("appointments:detail")
    lines = []
    for a in appointments:
        local = a.local_start
        lines.append(
            format_html(
                _LINE,
                detail(a.pk),
                f"{local:%a} {local.day} {local:%b %Y}",
                f"{local:%H:%M}",
                a.appointment_type.name,
                a.clinician,
                a.status,
                a.get_status_display(),
                _LATE if a.late_cancellation else "",
            )
        )
    return lines
