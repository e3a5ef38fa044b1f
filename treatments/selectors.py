"""Reads of the clinical record for pages that are not the episode's own."""

from dataclasses import dataclass

from django.db.models import Prefetch

from clinic.models import User
from patients.models import Patient

from .models import Assessment, ClinicalSettings, Episode, OutcomeMeasure
from .progress import episode_progress


def _assessments_with_measures() -> Prefetch:
    return Prefetch(
        "assessments",
        queryset=Assessment.objects.order_by("assessed_on", "pk").prefetch_related("measures"),
    )


@dataclass
class EpisodeSummary:
    episode: Episode
    has_red_flags: bool
    needs_referral_decision: bool
    latest_kujala: int | None
    latest_kujala_on: object
    latest_nprs: int | None
    latest_nprs_on: object


def _summarise(episode: Episode) -> EpisodeSummary:
    assessments = list(episode.assessments.all())
    kujala = kujala_on = nprs = nprs_on = None
    for assessment in assessments:
        for measure in assessment.measures.all():
            if measure.measure == OutcomeMeasure.Measure.KUJALA:
                kujala, kujala_on = measure.total, assessment.assessed_on
        if assessment.nprs_worst is not None:
            nprs, nprs_on = assessment.nprs_worst, assessment.assessed_on
    return EpisodeSummary(
        episode=episode,
        has_red_flags=any(a.has_red_flags for a in assessments),
        needs_referral_decision=any(a.needs_referral_decision for a in assessments),
        latest_kujala=kujala,
        latest_kujala_on=kujala_on,
        latest_nprs=nprs,
        latest_nprs_on=nprs_on,
    )


def patient_clinical_summary(patient: Patient) -> dict:
    """Context for ``treatments/_patient_clinical.html``: the patient's episodes at a glance."""
    episodes = (
        patient.episodes.select_related("clinician__staff_profile")
        .prefetch_related(_assessments_with_measures())
        .order_by("status", "-created_at")
    )
    summaries = [_summarise(episode) for episode in episodes]
    return {
        "clinical_episodes": summaries,
        "clinical_decision_needed": any(s.needs_referral_decision for s in summaries),
    }


def episodes_needing_attention(user: User) -> list[tuple[Episode, list[str]]]:
    """Open episodes of ``user`` with an undecided red flag, worsening, or no meaningful
    improvement after the practice's review interval; with the alerts to show."""
    weeks = ClinicalSettings.load().review_after_weeks
    episodes = (
        Episode.objects.open()
        .filter(clinician=user)
        .select_related("patient")
        .prefetch_related(_assessments_with_measures())
        .order_by("created_at", "pk")
    )
    result = []
    for episode in episodes:
        progress = episode_progress(
            episode, list(episode.assessments.all()), review_after_weeks=weeks
        )
        # The progress alerts open with one line per red-flagged assessment, in order;
        # a red flag whose referral decision is recorded no longer needs attention.
        flagged = len(progress.red_flags)
        alerts = [
            alert
            for assessment, alert in zip(progress.red_flags, progress.alerts[:flagged], strict=True)
            if assessment.needs_referral_decision
        ]
        alerts += progress.alerts[flagged:]
        if alerts:
            result.append((episode, alerts))
    return result
