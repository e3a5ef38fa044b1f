"""Every write to the clinical record, with its safety rules.

Views call these; each raises ``ValidationError`` with a message a clinician can act on.
"""

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.models import User
from patients.models import Patient

from . import reference, scoring
from .models import (
    DETAIL_MODELS,
    Addendum,
    Assessment,
    ClinicalSettings,
    DryNeedling,
    DryNeedlingConsent,
    Episode,
    FootOrthoses,
    Goal,
    Intervention,
    ObjectiveFinding,
    OutcomeMeasure,
    Taping,
    TreatmentPlan,
    VisitNote,
)


def _require_physiotherapist(user: User) -> None:
    if not user.is_physiotherapist:
        raise ValidationError("Only a physiotherapist can change the clinical record.")


# --- Episodes -----------------------------------------------------------------------------


@transaction.atomic
def episode_open(*, episode: Episode, by: User) -> Episode:
    _require_physiotherapist(by)
    if episode.patient.is_archived:
        raise ValidationError("Restore the patient's record before opening an episode.")
    episode.created_by = by
    episode.status = Episode.Status.OPEN
    episode.full_clean()
    episode.save()
    TreatmentPlan.objects.create(episode=episode)
    return episode


@transaction.atomic
def episode_discharge(
    *, episode: Episode, outcome: str, by: User, on: datetime.date | None = None, notes: str = ""
) -> Episode:
    _require_physiotherapist(by)
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if not locked.is_open:
        raise ValidationError("This episode is already discharged.")
    if outcome not in Episode.Outcome.values:
        raise ValidationError("Choose a discharge outcome.")
    locked.status = Episode.Status.DISCHARGED
    locked.discharged_on = on or timezone.localdate()
    locked.discharge_outcome = outcome
    locked.discharge_notes = notes
    locked.full_clean()
    locked.save()
    for intervention in locked.plan.interventions.filter(stopped_on__isnull=True):
        _intervention_set_stopped(intervention, locked.discharged_on)
    return locked


@transaction.atomic
def episode_update(*, episode: Episode, by: User) -> Episode:
    _require_physiotherapist(by)
    stored = Episode.objects.select_for_update().get(pk=episode.pk)
    if not stored.is_open:
        raise ValidationError("A discharged episode cannot be edited.")
    episode.full_clean()
    episode.save()
    return episode


def _require_open_plan(episode: Episode) -> None:
    if not Episode.objects.filter(pk=episode.pk, status=Episode.Status.OPEN).exists():
        raise ValidationError("This episode is discharged; its plan can no longer change.")


@transaction.atomic
def plan_update(*, plan: TreatmentPlan, by: User) -> TreatmentPlan:
    _require_physiotherapist(by)
    _require_open_plan(plan.episode)
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def goal_add(*, goal: Goal, plan: TreatmentPlan, by: User) -> Goal:
    _require_physiotherapist(by)
    _require_open_plan(plan.episode)
    goal.plan = plan
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_achieve(*, goal: Goal, by: User, on: datetime.date | None = None) -> Goal:
    _require_physiotherapist(by)
    _require_open_plan(goal.plan.episode)
    if goal.achieved_on:
        raise ValidationError(f"Already achieved on {goal.achieved_on:%d %b %Y}.")
    goal.achieved_on = on or timezone.localdate()
    goal.save(update_fields=["achieved_on"])
    return goal


# --- Assessments --------------------------------------------------------------------------


def _clean_choices(values: Iterable[str], choices, what: str) -> list[str]:
    allowed = {key for key, _ in choices}
    values = list(dict.fromkeys(values))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError(f"Unknown {what}: {', '.join(unknown)}.")
    return values


@transaction.atomic
def assessment_record(
    *,
    assessment: Assessment,
    by: User,
    findings: Iterable[ObjectiveFinding] = (),
    kujala_answers: Mapping[str, str] | None = None,
    tsk11_answers: Mapping[int, int] | None = None,
) -> Assessment:
    """Save an assessment with its findings and scored questionnaires (all or nothing)."""
    _require_physiotherapist(by)
    episode = assessment.episode
    if not episode.is_open:
        raise ValidationError("This episode is discharged; reopen care in a new episode.")
    if (
        assessment.kind == Assessment.Kind.INITIAL
        and not assessment.pk
        and (episode.assessments.filter(kind=Assessment.Kind.INITIAL).exists())
    ):
        raise ValidationError(
            "This episode already has an initial assessment; record a reassessment."
        )
    assessment.aggravating_activities = _clean_choices(
        assessment.aggravating_activities, reference.AGGRAVATING_ACTIVITIES, "aggravating activity"
    )
    assessment.symptoms = _clean_choices(assessment.symptoms, reference.SYMPTOMS, "symptom")
    assessment.red_flags = _clean_choices(assessment.red_flags, reference.RED_FLAGS, "red flag")
    assessment.contributing_factors = _clean_choices(
        assessment.contributing_factors, reference.CONTRIBUTING_FACTORS, "contributing factor"
    )
    if assessment.referral_decision:
        try:
            scoring.referral_decision_validate(
                assessment.referral_decision, assessment.referral_reason
            )
        except ValueError as error:
            raise ValidationError(str(error)) from error
    assessment.clinician = by
    assessment.full_clean()
    assessment.save()
    for finding in findings:
        finding.assessment = assessment
        finding.full_clean()
        finding.save()
    try:
        if kujala_answers:
            _store_measure(
                assessment,
                OutcomeMeasure.Measure.KUJALA,
                dict(kujala_answers),
                scoring.kujala_score(kujala_answers),
            )
        if tsk11_answers:
            _store_measure(
                assessment,
                OutcomeMeasure.Measure.TSK11,
                {str(k): v for k, v in tsk11_answers.items()},
                scoring.tsk11_score(tsk11_answers),
            )
    except ValueError as error:
        raise ValidationError(str(error)) from error
    return assessment


def _store_measure(assessment: Assessment, measure: str, answers: dict, total: int) -> None:
    OutcomeMeasure.objects.update_or_create(
        assessment=assessment, measure=measure, defaults={"answers": answers, "total": total}
    )


@transaction.atomic
def referral_decision_record(
    *, assessment: Assessment, decision: str, reason: str, by: User
) -> Assessment:
    _require_physiotherapist(by)
    try:
        scoring.referral_decision_validate(decision, reason)
    except ValueError as error:
        raise ValidationError(str(error)) from error
    assessment.referral_decision = decision
    assessment.referral_reason = reason
    assessment.save(update_fields=["referral_decision", "referral_reason", "updated_at"])
    return assessment


# --- Treatment plans and interventions -----------------------------------------------------


def current_consent(patient: Patient, on: datetime.date) -> DryNeedlingConsent | None:
    return (
        patient.needling_consents.filter(consented_on__lte=on)
        .exclude(withdrawn_on__lte=on)
        .order_by("-consented_on")
        .first()
    )


@transaction.atomic
def consent_record(*, consent: DryNeedlingConsent, by: User) -> DryNeedlingConsent:
    _require_physiotherapist(by)
    if consent.consented_on > timezone.localdate():
        raise ValidationError("Consent cannot be dated in the future.")
    consent.recorded_by = by
    consent.full_clean()
    consent.save()
    return consent


def _check_taping(taping: Taping, patient: Patient) -> None:
    if patient.allergy_tape_adhesive:
        raise ValidationError(
            f"{patient.full_name} has a tape / adhesive allergy on record, so taping cannot be "
            "recorded. Consider a brace instead."
        )


def _check_dry_needling(needling: DryNeedling, patient: Patient, by: User) -> None:
    on = needling.started_on
    profile = getattr(by, "staff_profile", None)
    if profile is None or not profile.dry_needling_certified(on=on):
        raise ValidationError(
            "Only a clinician with a current dry-needling certification can record dry needling; "
            "yours is missing or has expired."
        )
    consent = current_consent(patient, on)
    if consent is None:
        raise ValidationError(
            f"Record {patient.full_name}'s written informed consent to dry needling first."
        )
    needling.consent = consent
    answers = needling.precautions if isinstance(needling.precautions, dict) else {}
    unanswered = [
        p.label
        for p in reference.DRY_NEEDLING_PRECAUTIONS
        if not isinstance(answers.get(p.key), bool)
    ]
    if unanswered:
        raise ValidationError(f"Answer every precaution in the screen: {', '.join(unanswered)}.")
    alerted = set(
        scoring.dry_needling_precautions_from_alerts(
            {field: getattr(patient, field) for field in Patient.ALERT_FIELDS}
        )
    )
    contradicted = [
        p.label
        for p in reference.DRY_NEEDLING_PRECAUTIONS
        if p.key in alerted and answers.get(p.key) is False
    ]
    if contradicted:
        raise ValidationError(
            "The patient's medical alerts record "
            + ", ".join(contradicted).lower()
            + ": the screen cannot say it is absent."
        )
    present = [p.label for p in reference.DRY_NEEDLING_PRECAUTIONS if answers.get(p.key)]
    if present and not needling.precautions_note.strip():
        raise ValidationError(
            f"Precautions present ({', '.join(present).lower()}): note how you managed them."
        )


def _check_orthoses(orthoses: FootOrthoses) -> None:
    threshold = ClinicalSettings.load().orthoses_pain_drop_threshold
    try:
        orthoses.recommendation = scoring.orthoses_recommendation(
            orthoses.pain_without, orthoses.pain_with, threshold
        )
    except ValueError as error:
        raise ValidationError(str(error)) from error


@transaction.atomic
def intervention_add(*, intervention: Intervention, episode: Episode, by: User) -> Intervention:
    """Add a typed intervention to the episode's plan after its safety checks."""
    _require_physiotherapist(by)
    if not episode.is_open:
        raise ValidationError("This episode is discharged; its plan can no longer change.")
    if type(intervention) not in DETAIL_MODELS.values():
        raise ValidationError("Choose a kind of intervention.")
    patient = episode.patient
    intervention.plan = episode.plan
    intervention.recorded_by = by
    if intervention.started_on and intervention.started_on > timezone.localdate():
        raise ValidationError("An intervention cannot start in the future.")
    if isinstance(intervention, Taping):
        _check_taping(intervention, patient)
    elif isinstance(intervention, DryNeedling):
        _check_dry_needling(intervention, patient, by)
    elif isinstance(intervention, FootOrthoses):
        _check_orthoses(intervention)
    intervention.full_clean()
    intervention.save()
    return intervention


@transaction.atomic
def intervention_stop(
    *, intervention: Intervention, by: User, on: datetime.date | None = None
) -> Intervention:
    _require_physiotherapist(by)
    on = on or timezone.localdate()
    if intervention.stopped_on is not None:
        raise ValidationError("This intervention has already stopped.")
    if on < intervention.started_on:
        raise ValidationError("It cannot stop before it started.")
    _intervention_set_stopped(intervention, on)
    return intervention


def _intervention_set_stopped(intervention: Intervention, on: datetime.date) -> None:
    # Saved through the kind's own row so its history holds every version in one series.
    detail = intervention.detail() if type(intervention) is Intervention else intervention
    detail.stopped_on = intervention.stopped_on = on
    detail.save(update_fields=["stopped_on"])


# --- Visit notes ---------------------------------------------------------------------------


@transaction.atomic
def note_save(
    *, note: VisitNote, by: User, delivered: Iterable[Intervention] | None = None
) -> VisitNote:
    """Create or update a draft; only its author may edit it, and never once signed."""
    _require_physiotherapist(by)
    if note.pk:
        stored = VisitNote.objects.select_for_update().get(pk=note.pk)
        if stored.is_signed:
            raise ValidationError("A signed note cannot be changed; add an addendum instead.")
        if stored.author_id != by.pk:
            raise ValidationError("Only the author can edit a draft note.")
    else:
        note.author = by
        if note.appointment.patient_id != note.episode.patient_id:
            raise ValidationError("The appointment and the episode belong to different patients.")
    note.full_clean()
    note.save()
    if delivered is not None:
        allowed = set(note.episode.plan.interventions.values_list("pk", flat=True))
        chosen = list(delivered)
        if any(item.pk not in allowed for item in chosen):
            raise ValidationError("Only interventions from this episode's plan can be delivered.")
        note.delivered.set(chosen)
    return note


def signing_problems(note: VisitNote) -> list[str]:
    problems = []
    for assessment in note.episode.assessments.all():
        if assessment.needs_referral_decision:
            problems.append(
                f"The {assessment.get_kind_display().lower()} of {assessment.assessed_on:%d %b %Y} "
                f"has a positive red flag ({', '.join(assessment.red_flag_labels()).lower()}): "
                "record a referral decision before signing."
            )
    return problems


@transaction.atomic
def note_sign(*, note: VisitNote, by: User) -> VisitNote:
    _require_physiotherapist(by)
    locked = VisitNote.objects.select_for_update().get(pk=note.pk)
    if locked.is_signed:
        raise ValidationError("This note is already signed.")
    if locked.author_id != by.pk:
        raise ValidationError("Only the author can sign a note.")
    problems = signing_problems(locked)
    if problems:
        raise ValidationError(problems)
    locked.content_hash = locked.compute_hash()
    locked.signed_at = timezone.now()
    locked.signed_by = by
    locked.save()
    return locked


@transaction.atomic
def addendum_add(*, note: VisitNote, text: str, by: User) -> Addendum:
    _require_physiotherapist(by)
    if not note.is_signed:
        raise ValidationError("Edit the draft instead: addenda are for signed notes.")
    if not text.strip():
        raise ValidationError("Write the addendum's text.")
    addendum = Addendum(note=note, author=by, text=text.strip())
    addendum.full_clean(exclude=["content_hash"])
    addendum.save()
    return addendum


def unsigned_notes_overdue(
    user: User, *, older_than: datetime.timedelta = datetime.timedelta(hours=24)
):
    """Drafts of ``user`` whose appointment ended more than a day ago."""
    return (
        VisitNote.objects.filter(
            author=user,
            signed_at__isnull=True,
            appointment__ends_at__lt=timezone.now() - older_than,
        )
        .select_related("appointment", "episode__patient")
        .order_by("appointment__starts_at")
    )
