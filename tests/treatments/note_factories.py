"""Builders for visit-note tests: episodes, plans and notes made through the services."""

import datetime

from django.utils import timezone

from appointments.models import Appointment, Status
from clinic.models import User
from patients.models import Patient
from tests.appointments.factories import AppointmentFactory
from tests.treatments.plan_factories import episode_for  # noqa: F401 - re-exported for note tests
from treatments import services
from treatments.models import (
    Assessment,
    Episode,
    Exercise,
    ExerciseCategory,
    ExercisePrescription,
    Intervention,
    VisitNote,
)


def visit_for(
    patient: Patient,
    clinician: User,
    *,
    ago: datetime.timedelta = datetime.timedelta(hours=1),
    status: str = Status.ARRIVED,
) -> Appointment:
    """An appointment that started ``ago`` (negative for one in the future)."""
    return AppointmentFactory(
        patient=patient, clinician=clinician, starts_at=timezone.now() - ago, status=status
    )


def exercise_in_plan(episode: Episode, by: User, name: str = "Clam shells") -> Intervention:
    exercise, _ = Exercise.objects.get_or_create(
        name=name,
        defaults={
            "instructions": "Lie on your side.",
            "category": ExerciseCategory.HIP_STRENGTHENING,
        },
    )
    prescription = ExercisePrescription(exercise=exercise, sets=3, reps=12)
    return services.intervention_add(intervention=prescription, episode=episode, by=by)


def draft_note(
    appointment: Appointment, episode: Episode, author: User, **fields: object
) -> VisitNote:
    note = VisitNote(appointment=appointment, episode=episode, **fields)
    return services.note_save(note=note, by=author)


def assessment_with_red_flag(episode: Episode, by: User) -> Assessment:
    assessment = Assessment(episode=episode, red_flags=["knee_giving_way"])
    return services.assessment_record(assessment=assessment, by=by)
