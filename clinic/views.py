from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from appointments.models import Appointment, OutboxMessage
from patients.models import Patient
from treatments.selectors import episodes_needing_attention
from treatments.services import unsigned_notes_overdue

from .audit import Action, Outcome, log_access

#: URL namespaces whose pages show or change patient data; a refusal there is logged.
PATIENT_DATA_NAMESPACES = frozenset({"patients", "appointments", "treatments"})


def home(request: HttpRequest) -> HttpResponse:
    """What each role needs first; sections appear per role the user holds."""
    user = request.user
    context = {"roles": user.roles}
    if user.has_perm("patients.view_patient"):
        context["recent_patients"] = (
            Patient.objects.active()
            .order_by("-created_at")
            .only("first_name", "last_name", "preferred_name", "date_of_birth", "created_at")[:5]
        )
        context["patient_count"] = Patient.objects.active().count()
    if user.is_front_desk and user.has_perm("appointments.change_appointment"):
        context["today_appointments"] = Appointment.objects.today().exclude(status="cancelled")
        context["failed_messages"] = (
            OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED)
            .select_related("patient")
            .order_by("-created_at")[:10]
        )
    if user.is_physiotherapist:
        context["my_day"] = (
            Appointment.objects.today().filter(clinician=user).exclude(status="cancelled")
        )
    if user.has_perm("treatments.view_episode"):
        context["episodes_needing_attention"] = episodes_needing_attention(user)
        context["unsigned_notes"] = unsigned_notes_overdue(user)
    if len(context) > 1:  # some section lists patients, appointments or notes
        log_access(request, Action.LIST, object_type="home")
    return render(request, "clinic/home.html", context)


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 "ok" when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A friendly 403; a signed-in user refused a patient-data page is logged as denied."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    logged = bool(
        match
        and match.namespace in PATIENT_DATA_NAMESPACES
        and user is not None
        and user.is_authenticated
    )
    if logged:
        kwargs = match.kwargs
        patient_pk = kwargs.get("patient_pk")
        if patient_pk is None and match.namespace == "patients":
            patient_pk = kwargs.get("pk")
        log_access(
            request,
            Action.VIEW if request.method in ("GET", "HEAD") else Action.UPDATE,
            patient_id=patient_pk,
            object_type=match.view_name,
            object_id=kwargs.get("pk", ""),
            outcome=Outcome.DENIED,
        )
    body = loader.render_to_string("403.html", {"logged": logged}, request)
    return HttpResponseForbidden(body)
