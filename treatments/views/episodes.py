"""Episodes of care and their assessments: open, review, reassess, discharge."""

from collections import defaultdict
from html import escape
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from clinic.audit import Action, access_logged, log_access
from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead, prefetched
from clinic.links import link_maker

from .. import charts, reference, services
from ..access import clinical_read, clinical_write, get_episode, get_patient
from ..forms.episodes import (
    AssessmentForm,
    EpisodeDischargeForm,
    EpisodeForm,
    KujalaForm,
    ReferralDecisionForm,
    Tsk11Form,
    findings_formset,
    icd10_suggestions,
)
from ..models import Assessment, Episode, Intervention, OutcomeMeasure, VisitNote
from ..progress import episode_progress


def _add_errors(form, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


@clinical_write
def episode_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient(request, patient_pk)
    if patient.is_archived:
        messages.error(request, "Restore the patient's record before opening an episode.")
        return redirect(patient)
    form = EpisodeForm(
        request.POST or None,
        initial={"clinician": request.user.pk if request.user.is_physiotherapist else None},
    )
    if request.method == "POST" and form.is_valid():
        episode = form.save(commit=False)
        episode.patient = patient
        try:
            services.episode_open(episode=episode, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            log_access(request, Action.CREATE, episode)
            messages.success(request, f"Episode “{episode.title}” is open.")
            return redirect(episode)
    log_access(request, Action.VIEW, patient)
    context = {"patient": patient, "form": form, "icd10_suggestions": icd10_suggestions()}
    return render(request, "treatments/episode_form.html", context)


@clinical_write
def episode_update(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, pk)
    log_access(request, Action.UPDATE if request.method == "POST" else Action.VIEW, episode)
    if not episode.is_open:
        messages.error(request, "A discharged episode cannot be edited.")
        return redirect(episode)
    form = EpisodeForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        try:
            services.episode_update(episode=form.instance, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Episode details saved.")
            return redirect(episode)
    context = {
        "patient": episode.patient,
        "episode": episode,
        "form": form,
        "icd10_suggestions": icd10_suggestions(),
    }
    return render(request, "treatments/episode_form.html", context)


# The episode page and its chart read these on every view: compiled once per worker.
_assessments = CompiledRead(
    lambda episode_pk: Assessment.objects.filter(episode=episode_pk).order_by("assessed_on", "pk"),
    ID_PLACEHOLDER,
)
_measures = CompiledRead(
    lambda episode_pk: OutcomeMeasure.objects.filter(assessment__episode=episode_pk).order_by(
        "measure"
    ),
    ID_PLACEHOLDER,
)
_interventions = CompiledRead(
    lambda plan_pk: Intervention.objects.filter(plan=plan_pk).order_by("started_on", "pk"),
    ID_PLACEHOLDER,
)
_note_values = CompiledRead(
    lambda episode_pk: VisitNote.objects.filter(episode=episode_pk).values_list(
        "pk", "signed_at", "appointment__starts_at", "appointment__location__time_zone"
    ),
    ID_PLACEHOLDER,
)


def _episode_assessments(episode: Episode) -> list[Assessment]:
    """The episode's assessments with their outcome measures (the page and chart show those,
    not the objective findings), as ``prefetch_related("measures")`` would give them."""
    assessments = _assessments.all(episode.pk)
    measures = defaultdict(list)
    for measure in _measures.all(episode.pk) if assessments else ():
        measures[measure.assessment_id].append(measure)
    for assessment in assessments:
        assessment.episode = episode
        prefetched(assessment, "measures", measures[assessment.pk])
    return assessments


def _interventions_of(episode: Episode) -> list[Intervention]:
    interventions = _interventions.all(episode.plan.pk)
    for intervention in interventions:
        intervention.plan = episode.plan
    return interventions


def _chart(episode: Episode, progress, interventions) -> str:
    return charts.progress_chart_svg(
        progress.points,
        charts.intervention_markers(interventions),
        title=f"Progress of {episode.title}",
    )


@clinical_read
def episode_detail(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, pk)
    with access_logged(request, Action.VIEW, episode):
        assessments = _episode_assessments(episode)
    progress = episode_progress(episode, assessments)
    interventions = _interventions_of(episode)
    context = {
        "patient": episode.patient,
        "episode": episode,
        "notes": _note_rows(episode),
        "assessments": assessments,
        "progress": progress,
        "undecided": [a for a in progress.red_flags if a.needs_referral_decision],
        "decided": [a for a in progress.red_flags if not a.needs_referral_decision],
        "other_alerts": progress.alerts[len(progress.red_flags) :],
        "interventions": interventions,
        "chart_svg": _chart(episode, progress, interventions),
        "has_initial": any(a.kind == Assessment.Kind.INITIAL for a in assessments),
        "assessment_rows": list(zip(assessments, progress.points, strict=True)),
        "change_rows": [
            (change, reference.CHANGE_RULES[reference.Measure(change.measure)].important_change)
            for change in progress.changes
        ],
        "kujala_mcid": reference.KUJALA_MCID,
        "nprs_mcid": reference.NPRS_IMPORTANT_CHANGE,
    }
    return render(request, "treatments/episode_detail.html", context)


SIGNED_BADGE = '<span class="badge text-bg-light border">signed</span>'
DRAFT_BADGE = '<span class="badge text-bg-warning">draft</span>'


def _note_rows(episode: Episode) -> list[SafeString]:
    """Each visit note's list item: its link, its visit's date and time ("j M Y, H:i" in the
    zone of the visit's location) and whether it is signed, read as plain values and written
    once rather than through a timezone block, a url tag and a date filter per note."""
    note = link_maker("treatments:note", episode.patient_id)
    values = _note_values.all(episode.pk)
    months = {}
    zones = {}
    rows = []
    for pk, signed_at, starts_at, zone in values:
        if zone not in zones:
            zones[zone] = ZoneInfo(zone)
        local = starts_at.astimezone(zones[zone])
        if local.month not in months:
            months[local.month] = escape(MONTHS_3[local.month].title())
        badge = SIGNED_BADGE if signed_at is not None else DRAFT_BADGE
        rows.append(
            mark_safe(
                f'<li><a href="{escape(note(pk))}">{local.day} {months[local.month]} {local.year}, '
                f"{local.hour:02}:{local.minute:02}</a>\n        {badge}</li>"
            )
        )
    return rows


@clinical_read
def episode_chart(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, pk)
    with access_logged(request, Action.VIEW, episode):
        assessments = _episode_assessments(episode)
    progress = episode_progress(episode, assessments)
    interventions = _interventions_of(episode)
    response = HttpResponse(
        _chart(episode, progress, interventions), content_type="image/svg+xml; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@clinical_write
def episode_discharge(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, pk)
    log_access(request, Action.UPDATE if request.method == "POST" else Action.VIEW, episode)
    if not episode.is_open:
        messages.info(request, "This episode is already discharged.")
        return redirect(episode)
    form = EpisodeDischargeForm(request.POST or None, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            services.episode_discharge(
                episode=episode,
                outcome=form.cleaned_data["outcome"],
                on=form.cleaned_data["discharged_on"],
                notes=form.cleaned_data["notes"],
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{episode.patient.full_name} is discharged.")
            return redirect(episode)
    context = {"patient": episode.patient, "episode": episode, "form": form}
    return render(request, "treatments/episode_discharge.html", context)


def _default_kind(request: HttpRequest, episode: Episode) -> str:
    kind = request.GET.get("kind", "")
    if kind in Assessment.Kind.values:
        return kind
    if episode.assessments.filter(kind=Assessment.Kind.INITIAL).exists():
        return Assessment.Kind.REASSESSMENT
    return Assessment.Kind.INITIAL


@clinical_write
def assessment_create(request: HttpRequest, patient_pk: int, episode_pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    if not episode.is_open:
        messages.error(request, "This episode is discharged; reopen care in a new episode.")
        return redirect(episode)
    data = request.POST if request.method == "POST" else None
    form = AssessmentForm(data, initial={"kind": _default_kind(request, episode)})
    findings = findings_formset(data)
    kujala = KujalaForm(data)
    tsk11 = Tsk11Form(data)
    forms_valid = all([form.is_valid(), findings.is_valid(), kujala.is_valid(), tsk11.is_valid()])
    if request.method == "POST" and forms_valid:
        assessment = form.save(commit=False)
        assessment.episode = episode
        rows = [f.save(commit=False) for f in findings.forms if f.has_changed()]
        try:
            services.assessment_record(
                assessment=assessment,
                by=request.user,
                findings=rows,
                kujala_answers=kujala.answers,
                tsk11_answers=tsk11.answers,
            )
        except ValidationError as error:
            assessment.pk = None
            _add_errors(form, error)
        else:
            log_access(request, Action.CREATE, assessment)
            messages.success(request, f"{assessment} recorded.")
            if assessment.needs_referral_decision:
                messages.warning(request, "A red flag is positive: record a referral decision now.")
            return redirect(episode)
    log_access(request, Action.VIEW, episode)
    context = {
        "patient": episode.patient,
        "episode": episode,
        "form": form,
        "findings": findings,
        "kujala": kujala,
        "tsk11": tsk11,
        "tsk11_answers": reference.TSK11_ANSWERS,
    }
    return render(request, "treatments/assessment_form.html", context)


def _assessment_context(episode: Episode, assessment: Assessment, referral_form) -> dict:
    measures = {m.measure: m for m in assessment.measures.all()}
    kujala = measures.get(OutcomeMeasure.Measure.KUJALA)
    tsk11 = measures.get(OutcomeMeasure.Measure.TSK11)
    kujala_rows = []
    if kujala:
        for item in reference.KUJALA_ITEMS:
            try:
                option = item.option(kujala.answers.get(item.key, ""))
            except KeyError:
                option = None
            kujala_rows.append((item, option))
    tsk11_rows = []
    if tsk11:
        answer_labels = dict(reference.TSK11_ANSWERS)
        for item in reference.TSK11_ITEMS:
            value = tsk11.answers.get(str(item.number))
            tsk11_rows.append((item, value, answer_labels.get(value, "—")))
    labels = dict(reference.AGGRAVATING_ACTIVITIES)
    symptoms = dict(reference.SYMPTOMS)
    factors = dict(reference.CONTRIBUTING_FACTORS)
    return {
        "patient": episode.patient,
        "episode": episode,
        "assessment": assessment,
        "findings": list(assessment.findings.all()),
        "kujala": kujala,
        "kujala_rows": kujala_rows,
        "tsk11": tsk11,
        "tsk11_rows": tsk11_rows,
        "aggravating": [labels.get(k, k) for k in assessment.aggravating_activities],
        "symptoms": [symptoms.get(k, k) for k in assessment.symptoms],
        "factors": [factors.get(k, k) for k in assessment.contributing_factors],
        "red_flags": [
            (label, key in reference.RED_FLAGS_CHILD_OR_ADOLESCENT)
            for key, label in zip(assessment.red_flags, assessment.red_flag_labels(), strict=True)
        ],
        "referral_form": referral_form,
    }


def _get_assessment(episode: Episode, pk: int) -> Assessment:
    return get_object_or_404(episode.assessments.select_related("clinician"), pk=pk)


@clinical_read
def assessment_detail(request: HttpRequest, patient_pk: int, episode_pk: int, pk: int):
    episode = get_episode(request, patient_pk, episode_pk)
    assessment = _get_assessment(episode, pk)
    log_access(request, Action.VIEW, assessment)
    initial = {"decision": assessment.referral_decision, "reason": assessment.referral_reason}
    context = _assessment_context(episode, assessment, ReferralDecisionForm(initial=initial))
    return render(request, "treatments/assessment_detail.html", context)


@clinical_write
@require_POST
def referral_decision(request: HttpRequest, patient_pk: int, episode_pk: int, pk: int):
    episode = get_episode(request, patient_pk, episode_pk)
    assessment = _get_assessment(episode, pk)
    log_access(request, Action.UPDATE, assessment)
    form = ReferralDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.referral_decision_record(
                assessment=assessment,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            decision = assessment.get_referral_decision_display()
            messages.success(request, f"Referral decision recorded: {decision}.")
            return redirect(episode)
    assessment.refresh_from_db()
    context = _assessment_context(episode, assessment, form)
    return render(request, "treatments/assessment_detail.html", context)


EPISODE = "patients/<int:patient_pk>/episodes/<int:pk>/"
ASSESSMENTS = "patients/<int:patient_pk>/episodes/<int:episode_pk>/assessments/"

urlpatterns = [
    path("patients/<int:patient_pk>/episodes/new/", episode_create, name="episode_create"),
    path(EPISODE, episode_detail, name="episode"),
    path(f"{EPISODE}edit/", episode_update, name="episode_update"),
    path(f"{EPISODE}discharge/", episode_discharge, name="episode_discharge"),
    path(f"{EPISODE}chart.svg", episode_chart, name="episode_chart"),
    path(f"{ASSESSMENTS}new/", assessment_create, name="assessment_create"),
    path(f"{ASSESSMENTS}<int:pk>/", assessment_detail, name="assessment"),
    path(f"{ASSESSMENTS}<int:pk>/referral/", referral_decision, name="referral_decision"),
]
