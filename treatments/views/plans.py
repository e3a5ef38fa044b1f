"""Treatment plans and goals, typed interventions, dry-needling consent and the
home-exercise programme (page, PDF and e-mail)."""

import smtplib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from clinic.audit import Action, log_access
from patients.models import Patient

from .. import reference, services
from ..access import clinical_read, clinical_write, get_episode, get_patient
from ..forms.plans import (
    INTERVENTION_FORMS,
    ConsentForm,
    GoalAchievedForm,
    GoalForm,
    PlanForm,
)
from ..handout import (
    SAFETY_ADVICE,
    Handout,
    handout_blocks,
    handout_build,
    handout_pdf,
    handout_text,
)
from ..models import (
    DETAIL_ACCESSORS,
    Education,
    Episode,
    ExerciseCategory,
    Intervention,
    InterventionKind,
)

WRITE = "treatments.change_episode"

VERDICT_BADGES = {
    reference.Verdict.RECOMMENDED: "text-bg-success",
    reference.Verdict.UNCERTAIN: "text-bg-warning",
    reference.Verdict.NOT_RECOMMENDED: "text-bg-danger",
    reference.Verdict.NOT_RATED: "text-bg-secondary",
}


def _evidence(kind: str) -> dict | None:
    entry = reference.EVIDENCE.get(kind)
    if entry is None:
        return None
    return {"entry": entry, "badge": VERDICT_BADGES[entry.verdict]}


def _plan_url(episode: Episode) -> str:
    return reverse("treatments:plan", args=[episode.patient_id, episode.pk])


def _show_errors(form: Form, error: ValidationError) -> None:
    """A service's refusal as form errors: on the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- The plan page -----------------------------------------------------------------------


def _intervention_rows(episode: Episode) -> tuple[list[dict], list[dict]]:
    """Active and stopped interventions with their kind's details, in one query."""
    interventions = episode.plan.interventions.select_related(
        *DETAIL_ACCESSORS.values(),
        "exerciseprescription__exercise",
        "dryneedling__consent",
        "recorded_by__staff_profile",
    )
    active, stopped = [], []
    for intervention in interventions:
        row = {
            "intervention": intervention,
            "detail": intervention.detail(),
            "evidence": _evidence(intervention.kind),
        }
        if intervention.kind == InterventionKind.EDUCATION:
            labels = dict(Education.Topic.choices)
            row["topics"] = [labels.get(topic, topic) for topic in row["detail"].topics]
        (active if intervention.is_active else stopped).append(row)
    return active, stopped


def _hip_and_knee_hint(active: list[dict]) -> dict | None:
    """The consensus prefers hip and knee exercise to knee exercise alone."""
    categories = {
        row["detail"].exercise.category
        for row in active
        if row["intervention"].kind == InterventionKind.EXERCISE
    }
    if (
        ExerciseCategory.KNEE_STRENGTHENING in categories
        and ExerciseCategory.HIP_STRENGTHENING not in categories
    ):
        return _evidence("hip_and_knee_exercise")
    return None


def _plan_post(request: HttpRequest, episode: Episode) -> tuple[PlanForm | None, GoalForm | None]:
    """Handle one of the plan page's forms; return bound forms to show again on error."""
    plan = episode.plan
    action = request.POST.get("action")
    if action == "plan":
        form = PlanForm(request.POST, instance=plan)
        if form.is_valid():
            try:
                services.plan_update(plan=form.instance, by=request.user)
            except ValidationError as error:
                _show_errors(form, error)
            else:
                messages.success(request, "Plan saved.")
                return None, None
        return form, None
    if action == "goal":
        form = GoalForm(request.POST)
        if form.is_valid():
            try:
                goal = services.goal_add(goal=form.instance, plan=plan, by=request.user)
            except ValidationError as error:
                _show_errors(form, error)
            else:
                messages.success(request, f"Goal added: {goal.description}")
                return None, None
        return None, form
    if action == "goal_achieved":
        form = GoalAchievedForm(request.POST)
        if not form.is_valid():
            raise Http404("No such goal.")
        goal = get_object_or_404(plan.goals, pk=form.cleaned_data["goal"])
        try:
            services.goal_achieve(goal=goal, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Goal achieved: {goal.description}")
        return None, None
    messages.error(request, "That change was not understood; nothing was saved.")
    return None, None


@clinical_read
def plan(request: HttpRequest, patient_pk: int, episode_pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    plan_form = goal_form = None
    if request.method == "POST":
        if not request.user.has_perm(WRITE):
            raise PermissionDenied
        log_access(request, Action.UPDATE, episode.plan, patient_id=episode.patient_id)
        plan_form, goal_form = _plan_post(request, episode)
        if plan_form is None and goal_form is None:
            return redirect(_plan_url(episode))
    else:
        log_access(request, Action.VIEW, episode.plan, patient_id=episode.patient_id)
    active, stopped = _intervention_rows(episode)
    context = {
        "episode": episode,
        "patient": episode.patient,
        "plan": episode.plan,
        "plan_form": plan_form or PlanForm(instance=episode.plan),
        "goal_form": goal_form or GoalForm(),
        "goals": episode.plan.goals.all(),
        "active": active,
        "stopped": stopped,
        "hip_and_knee_hint": _hip_and_knee_hint(active),
        "kinds": [(kind, label, _evidence(kind)) for kind, label in InterventionKind.choices],
        "evidence_citation": reference.EVIDENCE_CITATION,
        "can_change": request.user.has_perm(WRITE) and episode.is_open,
    }
    return render(request, "treatments/plan_detail.html", context)


# --- Interventions ------------------------------------------------------------------------


def _intervention_context(request: HttpRequest, episode: Episode, kind: str, form: Form) -> dict:
    patient = episode.patient
    profile = getattr(request.user, "staff_profile", None)
    context = {
        "episode": episode,
        "patient": patient,
        "form": form,
        "kind": kind,
        "kind_label": InterventionKind(kind).label,
        "evidence": _evidence(kind),
        "evidence_citation": reference.EVIDENCE_CITATION,
        "plan_url": _plan_url(episode),
    }
    if kind == InterventionKind.TAPING and patient.allergy_tape_adhesive:
        context["brace_url"] = reverse(
            "treatments:intervention_create",
            args=[patient.pk, episode.pk, InterventionKind.BRACING],
        )
    if kind == InterventionKind.DRY_NEEDLING:
        context["certified"] = profile is not None and profile.dry_needling_certified()
        context["consent"] = services.current_consent(patient, timezone.localdate())
        context["consent_url"] = (
            reverse("treatments:consent_create", args=[patient.pk])
            + "?"
            + urlencode({"next": request.path})
        )
    return context


@clinical_write
def intervention_create(
    request: HttpRequest, patient_pk: int, episode_pk: int, kind: str
) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    form_class = INTERVENTION_FORMS.get(kind)
    if form_class is None:
        raise Http404("No such kind of intervention.")
    form = form_class(request.POST or None, patient=episode.patient)
    if request.method == "POST" and form.is_valid():
        try:
            intervention = services.intervention_add(
                intervention=form.save(commit=False), episode=episode, by=request.user
            )
        except ValidationError as error:
            _show_errors(form, error)
        else:
            log_access(request, Action.CREATE, intervention, patient_id=episode.patient_id)
            messages.success(request, _added_message(intervention))
            return redirect(_plan_url(episode))
    log_access(request, Action.VIEW, episode.plan, patient_id=episode.patient_id)
    return render(
        request,
        "treatments/intervention_form.html",
        _intervention_context(request, episode, kind, form),
    )


def _added_message(intervention: Intervention) -> str:
    message = f"Added to the plan: {intervention.get_kind_display().lower()}."
    if intervention.kind == InterventionKind.FOOT_ORTHOSES:
        verdict = "continue" if intervention.recommendation == "continue" else "stop"
        message += f" Immediate-effect test: {verdict} the inserts."
    return message


@clinical_write
@require_POST
def intervention_stop(
    request: HttpRequest, patient_pk: int, episode_pk: int, pk: int
) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    intervention = get_object_or_404(episode.plan.interventions, pk=pk)
    log_access(request, Action.UPDATE, intervention, patient_id=episode.patient_id)
    try:
        services.intervention_stop(intervention=intervention, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Stopped: {intervention.get_kind_display().lower()}.")
    return redirect(_plan_url(episode))


# --- Dry-needling consent -----------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@clinical_write
def consent_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient(request, patient_pk)
    form = ConsentForm(request.POST or None)
    next_url = _safe_next(request)
    if request.method == "POST" and form.is_valid():
        consent = form.save(commit=False)
        consent.patient = patient
        try:
            services.consent_record(consent=consent, by=request.user)
        except ValidationError as error:
            _show_errors(form, error)
        else:
            log_access(request, Action.CREATE, consent)
            messages.success(
                request,
                f"Recorded {patient.full_name}'s written consent to dry needling "
                f"of {consent.consented_on:%d %b %Y}.",
            )
            return redirect(next_url or patient.get_absolute_url())
    log_access(request, Action.VIEW, patient)
    context = {
        "patient": patient,
        "form": form,
        "next_url": next_url,
        "consents": patient.needling_consents.select_related("recorded_by__staff_profile"),
    }
    return render(request, "treatments/consent_form.html", context)


# --- The home-exercise programme ----------------------------------------------------------


def _email_refusal(patient: Patient) -> str:
    """Why the programme cannot be e-mailed to this patient; empty when it can."""
    if not patient.email_reminders:
        return f"{patient.full_name} has not agreed to receive e-mails from the practice."
    if not patient.email:
        return f"{patient.full_name} has no e-mail address on record."
    return ""


@clinical_read
def handout(request: HttpRequest, patient_pk: int, episode_pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    programme = handout_build(episode)
    log_access(request, Action.PRINT, episode.plan, patient_id=episode.patient_id)
    context = {
        "episode": episode,
        "patient": episode.patient,
        "handout": programme,
        "plan_url": _plan_url(episode),
        "email_refusal": _email_refusal(episode.patient),
        "safety_advice": SAFETY_ADVICE,
    }
    return render(request, "treatments/handout.html", context)


@clinical_read
def handout_download(request: HttpRequest, patient_pk: int, episode_pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    programme = handout_build(episode)
    log_access(request, Action.EXPORT, episode.plan, patient_id=episode.patient_id)
    response = HttpResponse(handout_pdf(programme), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{programme.filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _handout_message(programme: Handout, patient: Patient) -> EmailMultiAlternatives:
    context = {
        "handout": programme,
        "blocks": handout_blocks(programme),
        "text": handout_text(programme),
        "first_name": patient.preferred_name or patient.first_name,
    }
    message = EmailMultiAlternatives(
        subject=f"Your home exercise programme · {programme.practice_name}",
        body=render_to_string("treatments/email/handout.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[patient.email],
    )
    message.attach_alternative(
        render_to_string("treatments/email/handout.html", context), "text/html"
    )
    message.attach(programme.filename, handout_pdf(programme), "application/pdf")
    return message


@clinical_write
@require_POST
def handout_email(request: HttpRequest, patient_pk: int, episode_pk: int) -> HttpResponse:
    episode = get_episode(request, patient_pk, episode_pk)
    patient = episode.patient
    log_access(request, Action.EXPORT, episode.plan, patient_id=patient.pk)
    handout_url = reverse("treatments:handout", args=[patient.pk, episode.pk])
    refusal = _email_refusal(patient)
    if refusal:
        messages.error(
            request, f"{refusal} The programme was not sent: print it or download the PDF instead."
        )
        return redirect(handout_url)
    programme = handout_build(episode)
    try:
        _handout_message(programme, patient).send()
    except (smtplib.SMTPException, OSError):
        messages.error(request, "The e-mail could not be sent just now; please try again.")
    else:
        messages.success(request, f"Sent the home exercise programme to {patient.email}.")
    return redirect(handout_url)


EPISODE = "patients/<int:patient_pk>/episodes/<int:episode_pk>/"

urlpatterns = [
    path(f"{EPISODE}plan/", plan, name="plan"),
    path(
        f"{EPISODE}plan/interventions/new/<str:kind>/",
        intervention_create,
        name="intervention_create",
    ),
    path(
        f"{EPISODE}plan/interventions/<int:pk>/stop/",
        intervention_stop,
        name="intervention_stop",
    ),
    path(
        "patients/<int:patient_pk>/consents/dry-needling/new/",
        consent_create,
        name="consent_create",
    ),
    path(f"{EPISODE}handout/", handout, name="handout"),
    path(f"{EPISODE}handout.pdf", handout_download, name="handout_pdf"),
    path(f"{EPISODE}handout/email/", handout_email, name="handout_email"),
]
