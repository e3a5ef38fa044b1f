"""Builders for plan, intervention and handout tests, made through the services."""

import datetime

from django.utils import timezone

from clinic.models import StaffProfile, User
from patients.models import Patient
from treatments import services
from treatments.models import (
    DryNeedlingConsent,
    Episode,
    Exercise,
    ExerciseCategory,
    ExercisePrescription,
)


def episode_for(patient: Patient, clinician: User, title: str = "Right anterior knee pain"):
    return services.episode_open(
        episode=Episode(patient=patient, clinician=clinician, title=title), by=clinician
    )


def certify_for_dry_needling(
    user: User,
    *,
    certified_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
) -> StaffProfile:
    today = timezone.localdate()
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    profile.dry_needling_certified_on = certified_on or today - datetime.timedelta(days=365)
    profile.dry_needling_expires_on = (
        expires_on if expires_on is not None else today + datetime.timedelta(days=365)
    )
    profile.save()
    user.refresh_from_db()
    return profile


def consent_for(patient: Patient, by: User, days_ago: int = 1) -> DryNeedlingConsent:
    return services.consent_record(
        consent=DryNeedlingConsent(
            patient=patient,
            consented_on=timezone.localdate() - datetime.timedelta(days=days_ago),
            method=DryNeedlingConsent.Method.WRITTEN_PAPER,
        ),
        by=by,
    )


def library_exercise(
    name: str = "Clam shells", category: str = ExerciseCategory.HIP_STRENGTHENING
) -> Exercise:
    exercise, _ = Exercise.objects.get_or_create(
        name=name, defaults={"instructions": f"How to do {name}.", "category": category}
    )
    return exercise


def prescribe(
    episode: Episode, by: User, name: str = "Clam shells", **dose: object
) -> ExercisePrescription:
    dose = {"sets": 3, "reps": 12, **dose}
    return services.intervention_add(
        intervention=ExercisePrescription(exercise=library_exercise(name), **dose),
        episode=episode,
        by=by,
    )
