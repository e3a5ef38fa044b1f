"""A patient's complete record in one JSON-serialisable dict (subject access request).

Everything the practice holds about one patient: demographics, consents, alerts,
appointments with their status history, waitlist entries, e-mails sent, and the clinical
record — episodes, assessments with findings and outcome measures, plans with goals and
interventions, visit notes with addenda and signatures. The query count does not grow
with the size of the record: related rows are prefetched and staff names resolved at once.
"""

import datetime
import decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Prefetch
from django.utils import timezone

from .models import Patient

FORMAT = "clinic.patient-record"
VERSION = 1

#: Internal columns that say nothing about the patient.
_SKIPPED = {"search_name", "body_html", "ics", "dedupe_key", "intervention_ptr"}


class _People:
    """Staff referenced by the record: ``{"id", "name"}`` stubs, filled in one query."""

    def __init__(self) -> None:
        self.stubs: dict[int, list[dict]] = {}

    def ref(self, pk: int | None) -> dict | None:
        if pk is None:
            return None
        stub = {"id": pk, "name": ""}
        self.stubs.setdefault(pk, []).append(stub)
        return stub

    def resolve(self) -> None:
        users = get_user_model().objects.filter(pk__in=self.stubs).select_related("staff_profile")
        for user in users:
            for stub in self.stubs[user.pk]:
                stub["name"] = str(user)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _row(obj: models.Model, people: _People, fields=None) -> dict:
    """The object's own columns: plain values, choice labels, staff as id and name."""
    row: dict[str, Any] = {}
    user_model = get_user_model()
    for field in fields if fields is not None else obj._meta.concrete_fields:
        if field.name in _SKIPPED:
            continue
        if field.is_relation:
            pk = getattr(obj, field.attname)
            if field.related_model is user_model:
                row[field.name] = people.ref(pk)
            else:
                row[f"{field.name}_id"] = pk
            continue
        value = getattr(obj, field.attname)
        row[field.name] = _plain(value)
        if field.choices and value not in (None, ""):
            row[f"{field.name}_display"] = str(getattr(obj, f"get_{field.name}_display")())
    return row


def _detail_fields(detail: models.Model) -> list[models.Field]:
    """The kind's own columns (not the shared intervention columns)."""
    return [f for f in detail._meta.local_concrete_fields if not f.primary_key]


def _appointments(patient: Patient, people: _People) -> list[dict]:
    from appointments.models import AppointmentStatusChange

    appointments = patient.appointments.select_related(
        "appointment_type", "location", "room"
    ).prefetch_related(
        Prefetch("status_changes", AppointmentStatusChange.objects.order_by("changed_at", "pk"))
    )
    rows = []
    for appointment in appointments.order_by("starts_at", "pk"):
        row = _row(appointment, people)
        row["appointment_type"] = appointment.appointment_type.name
        row["location"] = appointment.location.name
        row["room"] = appointment.room.name if appointment.room else None
        row["status_history"] = [_row(c, people) for c in appointment.status_changes.all()]
        rows.append(row)
    return rows


def _waitlist(patient: Patient, people: _People) -> list[dict]:
    rows = []
    for entry in patient.waitlist_entries.select_related("appointment_type", "location"):
        row = _row(entry, people)
        row["appointment_type"] = entry.appointment_type.name
        row["location"] = entry.location.name
        rows.append(row)
    return rows


def _assessment(assessment, people: _People) -> dict:
    row = _row(assessment, people)
    row["findings"] = [_row(f, people) for f in assessment.findings.all()]
    row["outcome_measures"] = [_row(m, people) for m in assessment.measures.all()]
    return row


def _intervention(intervention, people: _People) -> dict:
    row = _row(intervention, people)
    detail = intervention.detail()
    row["details"] = _row(detail, people, _detail_fields(detail))
    exercise = getattr(detail, "exercise", None)
    if exercise is not None:
        row["details"]["exercise"] = exercise.name
        row["details"]["dose"] = detail.dose
    return row


def _plan(episode, people: _People) -> dict | None:
    plan = getattr(episode, "plan", None)
    if plan is None:
        return None
    row = _row(plan, people)
    row["goals"] = [_row(goal, people) for goal in plan.goals.all()]
    row["interventions"] = [_intervention(i, people) for i in plan.interventions.all()]
    return row


def _note(note, people: _People) -> dict:
    row = _row(note, people)
    row["appointment_starts_at"] = _plain(note.appointment.starts_at)
    row["delivered_intervention_ids"] = sorted(i.pk for i in note.delivered.all())
    row["addenda"] = [_row(addendum, people) for addendum in note.addenda.all()]
    return row


def _episodes(patient: Patient, people: _People) -> list[dict]:
    from treatments.models import (
        DETAIL_ACCESSORS,
        Addendum,
        Assessment,
        Goal,
        Intervention,
        ObjectiveFinding,
        OutcomeMeasure,
        VisitNote,
    )

    episodes = (
        patient.episodes.order_by("created_at", "pk")
        .select_related("plan")
        .prefetch_related(
            Prefetch(
                "assessments",
                Assessment.objects.order_by("assessed_on", "pk").prefetch_related(
                    Prefetch("findings", ObjectiveFinding.objects.order_by("pk")),
                    Prefetch("measures", OutcomeMeasure.objects.order_by("measure")),
                ),
            ),
            Prefetch("plan__goals", Goal.objects.order_by("target_date", "pk")),
            Prefetch(
                "plan__interventions",
                Intervention.objects.order_by("started_on", "pk").select_related(
                    *DETAIL_ACCESSORS.values(), "exerciseprescription__exercise"
                ),
            ),
            Prefetch(
                "notes",
                VisitNote.objects.order_by("appointment__starts_at", "pk")
                .select_related("appointment")
                .prefetch_related(
                    Prefetch("delivered", Intervention.objects.only("pk")),
                    Prefetch("addenda", Addendum.objects.order_by("signed_at", "pk")),
                ),
            ),
        )
    )
    rows = []
    for episode in episodes:
        row = _row(episode, people)
        row["assessments"] = [_assessment(a, people) for a in episode.assessments.all()]
        row["plan"] = _plan(episode, people)
        row["visit_notes"] = [_note(n, people) for n in episode.notes.all()]
        rows.append(row)
    return rows


def _consents(patient: Patient, people: _People) -> dict:
    return {
        "privacy_notice_accepted_on": _plain(patient.privacy_notice_accepted_on),
        "email_reminders": patient.email_reminders,
        "sms_reminders": patient.sms_reminders,
        "dry_needling": [
            _row(consent, people)
            for consent in patient.needling_consents.order_by("consented_on", "pk")
        ],
    }


def _messages(patient: Patient, people: _People) -> list[dict]:
    return [_row(m, people) for m in patient.messages.order_by("created_at", "pk")]


def patient_record(patient: Patient) -> dict:
    """Everything held about ``patient``, ready for ``json.dumps``."""
    people = _People()
    record = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": timezone.now().isoformat(),
        "patient": _row(patient, people),
        "alerts": patient.alerts,
        "consents": _consents(patient, people),
        "appointments": _appointments(patient, people),
        "waitlist_entries": _waitlist(patient, people),
        "episodes": _episodes(patient, people),
        "messages": _messages(patient, people),
    }
    people.resolve()
    return record
