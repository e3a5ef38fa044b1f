"""Visit notes: write a draft for an appointment, sign it, then only add addenda."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from appointments.models import Appointment, Status
from clinic.audit import Action, log_access
from clinic.models import User
from patients.models import Patient

from .. import services
from ..access import clinical_read, clinical_write, get_patient
from ..forms.notes import (
    AddendumForm,
    NoteForm,
    NoteStartForm,
    intervention_label,
    interventions_with_details,
)
from ..models import VisitNote

WRITE = "treatments.change_episode"
NOTE_STATUSES = (Status.BOOKED, Status.ARRIVED, Status.COMPLETED)


def _get_note(request: HttpRequest, patient: Patient, pk: int) -> VisitNote:
    notes = VisitNote.objects.filter(episode__patient=patient).select_related(
        "episode__patient",
        "episode__plan",
        "appointment__location",
        "appointment__appointment_type",
        "appointment__clinician__staff_profile",
        "author__staff_profile",
        "signed_by__staff_profile",
    )
    return get_object_or_404(notes, pk=pk)


def _note_too_early(appointment: Appointment) -> str:
    """Why no note can be written for ``appointment`` yet, or "" when one can."""
    if appointment.status not in NOTE_STATUSES:
        return (
            f"This appointment is {appointment.get_status_display().lower()}: "
            "there is no visit to write a note for."
        )
    today = timezone.localdate(timezone=appointment.location.zone)
    if appointment.status == Status.BOOKED and appointment.local_start.date() > today:
        return (
            f"This appointment is on {appointment.local_start:%a %d %b %Y}: "
            "write its note on the day of the visit."
        )
    return ""


def _edit_block(note: VisitNote, user: User) -> str:
    """Why ``user`` may not edit ``note``, or "" when they may (the service checks again)."""
    if note.is_signed:
        return "A signed note cannot be changed; add an addendum instead."
    if note.author_id != user.pk:
        return "Only the author can edit a draft note."
    return ""


@clinical_write
def note_for_appointment(request: HttpRequest, appointment_pk: int) -> HttpResponse:
    appointment = get_object_or_404(
        Appointment.objects.with_related().select_related("visit_note__episode"),
        pk=appointment_pk,
    )
    existing = getattr(appointment, "visit_note", None)
    if existing is not None:
        return redirect(existing)
    problem = _note_too_early(appointment)
    if problem:
        messages.error(request, problem)
        return redirect(appointment)
    patient = appointment.patient
    episodes = patient.episodes.open().order_by("-created_at")
    if not episodes.exists():
        log_access(request, Action.VIEW, appointment)
        return render(
            request,
            "treatments/note_form.html",
            {"appointment": appointment, "patient": patient, "form": None},
        )
    note = VisitNote(appointment=appointment)
    form = NoteStartForm(request.POST or None, instance=note, episodes=episodes)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.note_save(
                note=form.instance, by=request.user, delivered=form.cleaned_data["delivered"]
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            log_access(request, Action.CREATE, note)
            messages.success(request, "The draft note is saved. Sign it when it is complete.")
            return redirect(note)
    log_access(request, Action.VIEW, appointment)
    return render(
        request,
        "treatments/note_form.html",
        {"appointment": appointment, "patient": patient, "form": form},
    )


@clinical_read
def note_detail(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    patient = get_patient(request, patient_pk)
    note = _get_note(request, patient, pk)
    blocked = _edit_block(note, request.user)
    form = None
    if request.method == "POST":
        if not request.user.has_perm(WRITE):
            raise PermissionDenied
        log_access(request, Action.UPDATE, note)
        if blocked:
            messages.error(request, blocked)
            return redirect(note)
        form = NoteForm(request.POST, instance=note, episode=note.episode)
        if form.is_valid():
            try:
                services.note_save(
                    note=form.instance, by=request.user, delivered=form.cleaned_data["delivered"]
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, "The draft note is saved.")
                return redirect(note)
    else:
        log_access(request, Action.VIEW, note)
        if not blocked:
            form = NoteForm(instance=note, episode=note.episode)
    delivered = [intervention_label(i) for i in interventions_with_details(note.delivered.all())]
    context = {
        "patient": patient,
        "note": note,
        "form": form,
        "delivered": delivered,
        "addenda": note.addenda.select_related("author__staff_profile"),
        "addendum_form": AddendumForm() if note.is_signed else None,
        "pending_referrals": (
            []
            if note.is_signed
            else [a for a in note.episode.assessments.all() if a.needs_referral_decision]
        ),
        "can_sign": not note.is_signed and note.author_id == request.user.pk,
    }
    return render(request, "treatments/note_detail.html", context)


@require_POST
@clinical_write
def note_sign(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    patient = get_patient(request, patient_pk)
    note = _get_note(request, patient, pk)
    log_access(request, Action.SIGN, note)
    try:
        signed = services.note_sign(note=note, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"The note is not signed. {message}")
    else:
        signed_at = timezone.localtime(signed.signed_at)
        messages.success(request, f"Signed by {signed.signed_by} at {signed_at:%H:%M}.")
    return redirect(note)


@require_POST
@clinical_write
def addendum_create(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    patient = get_patient(request, patient_pk)
    note = _get_note(request, patient, pk)
    log_access(request, Action.UPDATE, note)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the addendum's text (at most 5,000 characters).")
        return redirect(note)
    try:
        services.addendum_add(note=note, text=form.cleaned_data["text"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The addendum is added and signed.")
    return redirect(note)


@clinical_read
def notes_unsigned(request: HttpRequest) -> HttpResponse:
    log_access(request, Action.LIST, object_type="treatments.visitnote")
    return render(
        request,
        "treatments/note_unsigned_list.html",
        {"unsigned_notes": services.unsigned_notes_overdue(request.user)},
    )


urlpatterns = [
    path(
        "appointments/<int:appointment_pk>/note/",
        note_for_appointment,
        name="note_for_appointment",
    ),
    path("patients/<int:patient_pk>/notes/<int:pk>/", note_detail, name="note"),
    path("patients/<int:patient_pk>/notes/<int:pk>/sign/", note_sign, name="note_sign"),
    path(
        "patients/<int:patient_pk>/notes/<int:pk>/addenda/",
        addendum_create,
        name="addendum_create",
    ),
    path("notes/unsigned/", notes_unsigned, name="notes_unsigned"),
]
