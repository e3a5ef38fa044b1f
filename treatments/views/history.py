"""An episode's record history: every change to its clinical records, who and when.

The episode's treating physiotherapist sees each change with its old and new values.
Practice managers see who changed which fields of which kind of record and when — never a
value, since they see no clinical content. Anyone else gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from clinic.audit import Action, log_access
from clinic.history import HistoryEntry, history_entries, newest_first

from ..access import get_episode
from ..models import (
    DETAIL_MODELS,
    Addendum,
    Assessment,
    DryNeedlingConsent,
    Episode,
    Goal,
    Intervention,
    ObjectiveFinding,
    OutcomeMeasure,
    TreatmentPlan,
    VisitNote,
)

PAGE_SIZE = 50


def _may_see_values(user, episode: Episode) -> bool:
    return user.has_perm("treatments.view_episode") and episode.clinician_id == user.pk


def _may_see_change_log(user) -> bool:
    return user.has_perm("treatments.view_historicalepisode")


def _intervention_label(with_values: bool):
    def label(record) -> str:
        return f"Intervention: {record.get_kind_display()}" if with_values else "Intervention"

    return label


def _dated(name: str, attribute: str):
    def label(record) -> str:
        value = getattr(record, attribute, None)
        return f"{name} of {value:%d %b %Y}" if value else name

    return label


def episode_entries(episode: Episode, *, with_values: bool) -> list[HistoryEntry]:
    """Every change to the episode, its plan, assessments, notes and the patient's consents."""
    plan_ids = set(TreatmentPlan.history.filter(episode_id=episode.pk).values_list("id", flat=True))
    assessment_ids = set(
        Assessment.history.filter(episode_id=episode.pk).values_list("id", flat=True)
    )
    note_ids = set(VisitNote.history.filter(episode_id=episode.pk).values_list("id", flat=True))

    def entries(records, label, *context_fields):
        return history_entries(
            records, label=label, context_fields=context_fields, with_values=with_values
        )

    intervention_label = _intervention_label(with_values)
    groups = [
        entries(Episode.history.filter(id=episode.pk), lambda r: "Episode", "patient"),
        entries(
            TreatmentPlan.history.filter(id__in=plan_ids), lambda r: "Treatment plan", "episode"
        ),
        entries(Goal.history.filter(plan_id__in=plan_ids), lambda r: "Goal", "plan"),
        entries(
            Assessment.history.filter(id__in=assessment_ids),
            lambda r: r.get_kind_display() if with_values else "Assessment",
            "episode",
        ),
        entries(
            ObjectiveFinding.history.filter(assessment_id__in=assessment_ids),
            lambda r: "Objective finding",
            "assessment",
        ),
        entries(
            OutcomeMeasure.history.filter(assessment_id__in=assessment_ids),
            lambda r: "Outcome measure",
            "assessment",
        ),
        entries(
            Intervention.history.filter(plan_id__in=plan_ids), intervention_label, "plan", "kind"
        ),
        *(
            entries(model.history.filter(plan_id__in=plan_ids), intervention_label, "plan", "kind")
            for model in DETAIL_MODELS.values()
        ),
        entries(
            VisitNote.history.filter(id__in=note_ids),
            lambda r: "Visit note",
            "episode",
            "appointment",
        ),
        entries(
            Addendum.history.filter(note_id__in=note_ids), _dated("Addendum", "signed_at"), "note"
        ),
        entries(
            DryNeedlingConsent.history.filter(patient_id=episode.patient_id),
            _dated("Dry-needling consent", "consented_on"),
            "patient",
        ),
    ]
    return newest_first(*groups)


def episode_history(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    user = request.user
    if not (user.has_perm("treatments.view_episode") or _may_see_change_log(user)):
        raise PermissionDenied
    episode = get_episode(request, patient_pk, pk)
    patient = episode.patient
    with_values = _may_see_values(user, episode)
    if not with_values and not _may_see_change_log(user):
        raise PermissionDenied
    log_access(request, Action.VIEW, episode)
    entries = episode_entries(episode, with_values=with_values)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"patient": patient, "episode": episode, "page": page, "with_values": with_values}
    return render(request, "treatments/episode_history.html", context)


urlpatterns = [
    path(
        "patients/<int:patient_pk>/episodes/<int:pk>/history/",
        episode_history,
        name="episode_history",
    ),
]
