"""How an episode is going: outcome measures over time against the baseline and the MCID,
and the alerts a clinician must not miss."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from . import reference, scoring
from .models import Assessment, ClinicalSettings, Episode, OutcomeMeasure


@dataclass
class Point:
    day: datetime.date
    label: str
    nprs_worst: int | None = None
    kujala: int | None = None
    tsk11: int | None = None


@dataclass
class Change:
    measure: str
    label: str
    baseline: float
    current: float
    change: float
    verdict: str


@dataclass
class Progress:
    points: list[Point]
    changes: list[Change]
    alerts: list[str] = field(default_factory=list)
    red_flags: list[Assessment] = field(default_factory=list)

    @property
    def latest_verdicts(self) -> set[str]:
        return {c.verdict for c in self.changes}


MEASURE_LABELS = {
    reference.Measure.KUJALA: "Kujala",
    reference.Measure.NPRS: "Pain at worst (NPRS)",
    reference.Measure.TSK11: "TSK-11",
}


def episode_progress(
    episode: Episode,
    assessments: list[Assessment] | None = None,
    *,
    review_after_weeks: int | None = None,
) -> Progress:
    """Built from already-fetched assessments (with ``measures`` prefetched) when given.

    Pass ``review_after_weeks`` when building many episodes' progress, so the practice's
    setting is read once rather than once per episode.
    """
    if assessments is None:
        assessments = list(
            episode.assessments.prefetch_related("measures").order_by("assessed_on", "pk")
        )
    points = []
    for assessment in assessments:
        totals = {m.measure: m.total for m in assessment.measures.all()}
        points.append(
            Point(
                day=assessment.assessed_on,
                label=assessment.get_kind_display(),
                nprs_worst=assessment.nprs_worst,
                kujala=totals.get(OutcomeMeasure.Measure.KUJALA),
                tsk11=totals.get(OutcomeMeasure.Measure.TSK11),
            )
        )
    changes = []
    for measure, attribute in (
        (reference.Measure.KUJALA, "kujala"),
        (reference.Measure.NPRS, "nprs_worst"),
        (reference.Measure.TSK11, "tsk11"),
    ):
        values = [
            (p.day, getattr(p, attribute)) for p in points if getattr(p, attribute) is not None
        ]
        if len(values) < 2:
            continue
        baseline, current = values[0][1], values[-1][1]
        result = scoring.classify_change(measure, baseline, current)
        changes.append(
            Change(
                measure,
                MEASURE_LABELS[measure],
                baseline,
                current,
                result.change,
                str(result.verdict),
            )
        )
    progress = Progress(points, changes)
    progress.red_flags = [a for a in assessments if a.has_red_flags]
    progress.alerts = _alerts(episode, points, changes, progress.red_flags, review_after_weeks)
    return progress


def _alerts(
    episode: Episode,
    points: list[Point],
    changes: list[Change],
    red_flagged,
    weeks: int | None = None,
) -> list[str]:
    alerts = []
    for assessment in red_flagged:
        decision = (
            assessment.get_referral_decision_display()
            if assessment.referral_decision
            else "no referral decision recorded yet"
        )
        alerts.append(
            f"Red flag on {assessment.assessed_on:%d %b %Y}: "
            f"{', '.join(assessment.red_flag_labels()).lower()} — {decision}."
        )
    if not episode.is_open or not points:
        return alerts
    worse = [c.label for c in changes if c.verdict == scoring.ChangeVerdict.WORSE]
    if worse:
        alerts.append(f"Worsening: {', '.join(worse)} worse than at the start.")
    weeks = weeks or ClinicalSettings.load().review_after_weeks
    started = points[0].day
    if timezone.localdate() - started >= datetime.timedelta(weeks=weeks):
        improved = [c for c in changes if c.verdict == scoring.ChangeVerdict.IMPROVED]
        if not improved:
            alerts.append(
                f"No meaningful improvement after {weeks} weeks of treatment: review the plan "
                "or consider referral."
            )
    return alerts
