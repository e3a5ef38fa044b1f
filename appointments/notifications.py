"""Patient e-mails about appointments, through the outbox.

``queue`` renders the message (text, HTML and the .ics invitation) into an OutboxMessage
inside the caller's transaction and delivers it once that transaction commits — during a
web request, just after the response has gone to the browser (``DeliverAfterResponse``),
so a slow mail server never holds up the person booking; elsewhere at once.
``deliver_pending`` (the send_reminders command) retries failures, and sends whatever a
worker stopped before sending. Nothing is sent twice: every message has a unique
``dedupe_key`` and ``deliver`` sends under a row lock.
"""

import contextvars
import datetime
import logging
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from . import ics
from .models import (
    Appointment,
    AppointmentStatusChange,
    OutboxMessage,
    PracticeSettings,
    Status,
    WaitlistEntry,
)

logger = logging.getLogger(__name__)

Kind = OutboxMessage.Kind
State = OutboxMessage.State

#: Messages the patient needs in order to turn up (or not): sent to any e-mail address.
#: Reminders are a courtesy and need the patient's consent (``email_reminders``).
TRANSACTIONAL = frozenset({Kind.CONFIRMATION, Kind.CHANGE, Kind.CANCELLATION, Kind.WAITLIST_OFFER})

ATTACHMENT_NAME = "appointment.ics"
CURRENCY = "£"


def may_email(patient, kind: str) -> bool:
    if not patient.email:
        return False
    return kind in TRANSACTIONAL or patient.email_reminders


def format_when(moment: datetime.datetime, zone) -> str:
    """Like "Tuesday 3 March 2026, 18:30", in the location's time zone."""
    local = timezone.localtime(moment, zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _money(amount: Decimal) -> str:
    return f"{CURRENCY}{amount:,.2f}"


def reminder_key(appointment: Appointment) -> str:
    return f"reminder:{appointment.pk}:{appointment.starts_at.astimezone(datetime.UTC).isoformat()}"


def _with_sequences(appointments: Sequence[Appointment]) -> list[Appointment]:
    """The appointments afresh, with their related rows and ``sequence`` (changes so far)."""
    # A counting subquery rather than GROUP BY over six joined tables: the same number,
    # and far less for PostgreSQL to plan on every booking.
    changes = (
        AppointmentStatusChange.objects.filter(appointment=OuterRef("pk"))
        .order_by()
        .values("appointment")
        .annotate(count=Count("pk"))
        .values("count")
    )
    rows = (
        Appointment.objects.filter(pk__in=[a.pk for a in appointments])
        .with_related()
        .annotate(changes=Coalesce(Subquery(changes, output_field=IntegerField()), 0))
        .order_by("starts_at")
    )
    for row in rows:
        row.sequence = max(row.changes - 1, 0)
    return list(rows)


def _dedupe_key(kind: str, anchor: Appointment) -> str:
    if kind == Kind.REMINDER:
        return reminder_key(anchor)
    if kind == Kind.CHANGE:
        return f"change:{anchor.pk}:{anchor.sequence}"
    return f"{kind}:{anchor.pk}"


def _subject(kind: str, anchor: Appointment, count: int) -> str:
    when = format_when(anchor.starts_at, anchor.location.zone)
    subjects = {
        Kind.CONFIRMATION: (
            f"Your {count} appointments are booked, starting {when}"
            if count > 1
            else f"Your appointment on {when} is booked"
        ),
        Kind.CHANGE: f"Your appointment has moved to {when}",
        Kind.CANCELLATION: (
            f"Your {count} appointments from {when} are cancelled"
            if count > 1
            else f"Your appointment on {when} is cancelled"
        ),
        Kind.REMINDER: f"Reminder: your appointment on {when}",
    }
    return f"{subjects[kind]} · {settings.PRACTICE_NAME}"[:200]


def _appointment_context(
    kind: str,
    anchor: Appointment,
    occurrences: list[Appointment],
    practice: PracticeSettings | None = None,
) -> dict:
    location = anchor.location
    practice = practice or PracticeSettings.load()
    return {
        "practice_name": settings.PRACTICE_NAME,
        "patient_name": anchor.patient.full_name,
        "when": format_when(anchor.starts_at, location.zone),
        "dates": [format_when(item.starts_at, location.zone) for item in occurrences],
        "is_series": len(occurrences) > 1,
        "location_name": location.name,
        "location_address_lines": _lines(location.address),
        "location_phone": location.phone,
        "clinician": str(anchor.clinician),
        "appointment_type": anchor.appointment_type.name,
        "duration_minutes": int(anchor.duration.total_seconds() // 60),
        "price": _money(anchor.price),
        "discount_percent": anchor.discount_percent,
        "discount_amount": _money(anchor.price - anchor.price_due),
        "price_due": _money(anchor.price_due),
        "cancellation_policy": practice.cancellation_policy,
        "late_cancellation": kind == Kind.CANCELLATION and anchor.late_cancellation,
    }


def _render(template: str, context: dict) -> tuple[str, str]:
    text = render_to_string(f"appointments/email/{template}.txt", context)
    html = render_to_string(f"appointments/email/{template}.html", context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", html


def _enqueue(
    appointment: Appointment,
    kind: str,
    series: Sequence[Appointment] | None,
    just_booked: bool = False,
    practice: PracticeSettings | None = None,
) -> tuple[OutboxMessage | None, bool]:
    kind = Kind(kind)
    if kind == Kind.WAITLIST_OFFER:
        raise ValueError("Use queue_waitlist_offer for waitlist offers.")
    if just_booked and not series:
        # Created in this transaction with its related rows at hand: nothing has changed it.
        appointment.sequence = 0
        occurrences = [appointment]
    else:
        occurrences = _with_sequences(list(series) if series else [appointment])
    anchor = next((item for item in occurrences if item.pk == appointment.pk), occurrences[0])
    patient = anchor.patient
    if not may_email(patient, kind):
        return None, False
    key = _dedupe_key(kind, anchor)
    text, html = _render(kind, _appointment_context(kind, anchor, occurrences, practice))
    method = ics.Method.CANCEL if kind == Kind.CANCELLATION else ics.Method.REQUEST
    invitation = ics.invitation(
        occurrences,
        method=method,
        sequences={item.pk: item.sequence for item in occurrences},
        attendee_email=patient.email,
        attendee_name=patient.full_name,
    )
    return outbox_add(
        dedupe_key=key,
        kind=kind,
        appointment=anchor,
        patient=patient,
        to=patient.email,
        subject=_subject(kind, anchor, len(occurrences)),
        body_text=text,
        body_html=html,
        ics=invitation,
    )


def outbox_add(*, dedupe_key: str, **fields) -> tuple[OutboxMessage, bool]:
    """The message with this key, written now unless another request just wrote it.

    Goes straight to the insert: a new message is the usual case, so this costs one
    query fewer than ``get_or_create``; a key taken already gives back that message.
    """
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(dedupe_key=dedupe_key, **fields), True
    except IntegrityError:
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise
        return existing, False


#: Messages committed during the current web request, delivered after its response.
_after_response: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "outbox_after_response", default=None
)


def _deliver_soon(message_id: int) -> None:
    pending = _after_response.get()
    if pending is None:
        deliver(message_id)
    else:
        pending.append(message_id)


def _deliver_on_commit(message: OutboxMessage) -> None:
    transaction.on_commit(partial(_deliver_soon, message.pk), robust=True)


def _deliver_all(message_ids: list[int]) -> None:
    for message_id in message_ids:
        try:
            deliver(message_id)
        except Exception:  # the message stays in the outbox for send_reminders
            logger.exception("Outbox message %s could not be delivered", message_id)


class DeliverAfterResponse:
    """Sends the e-mails a request committed once its response has been sent: the server
    calls the response's ``close`` after the last byte, before the next request."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        pending: list[int] = []
        token = _after_response.set(pending)
        try:
            response = self.get_response(request)
        finally:
            _after_response.reset(token)
        if pending:
            response._resource_closers.append(partial(_deliver_all, pending))
        return response


def queue(
    appointment: Appointment,
    kind: str,
    *,
    series: Sequence[Appointment] | None = None,
    just_booked: bool = False,
    practice: PracticeSettings | None = None,
) -> OutboxMessage | None:
    """Write the e-mail about ``appointment`` (or the whole ``series``) to the outbox.

    Returns None when the patient may not be e-mailed: no address, or a reminder without
    consent. Calling it again for the same event returns the message already queued.
    ``just_booked`` says the appointment was created in the caller's transaction with its
    patient, clinician, location, room and type attached, so it is not read again;
    ``practice`` hands over the practice settings when the caller has read them already.
    """
    message, created = _enqueue(appointment, kind, series, just_booked, practice)
    if created:
        _deliver_on_commit(message)
    return message


def queue_waitlist_offer(*, entry: WaitlistEntry, appointment: Appointment) -> OutboxMessage:
    """Tell a waiting patient about a freed slot; nothing about who freed it."""
    patient = entry.patient
    if not patient.email:
        raise ValueError(f"{patient.full_name} has no e-mail address.")
    location = appointment.location
    when = format_when(appointment.starts_at, location.zone)
    context = {
        "practice_name": settings.PRACTICE_NAME,
        "patient_name": patient.full_name,
        "when": when,
        "location_name": location.name,
        "location_address_lines": _lines(location.address),
        "location_phone": location.phone,
        "clinician": str(appointment.clinician),
        "appointment_type": entry.appointment_type.name,
    }
    text, html = _render(Kind.WAITLIST_OFFER, context)
    message, created = outbox_add(
        dedupe_key=f"waitlist_offer:{entry.pk}:{appointment.pk}",
        kind=Kind.WAITLIST_OFFER,
        appointment=appointment,
        patient=patient,
        to=patient.email,
        subject=f"An earlier appointment is free: {when} · {settings.PRACTICE_NAME}"[:200],
        body_text=text,
        body_html=html,
    )
    if created:
        _deliver_on_commit(message)
    return message


def queue_due_reminders(now: datetime.datetime | None = None) -> int:
    """Queue a reminder for every booked appointment starting within the reminder window.

    Returns how many were queued; an appointment already reminded at its current start
    time is skipped, so running this every few minutes reminds each appointment once.
    """
    now = now or timezone.now()
    window = datetime.timedelta(hours=PracticeSettings.load().reminder_hours_before)
    due = (
        Appointment.objects.filter(
            status=Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + window,
            patient__email_reminders=True,
        )
        .exclude(patient__email="")
        .select_related("patient")
    )
    candidates = {reminder_key(appointment): appointment for appointment in due}
    already = set(
        OutboxMessage.objects.filter(dedupe_key__in=list(candidates)).values_list(
            "dedupe_key", flat=True
        )
    )
    queued = 0
    for key, appointment in candidates.items():
        if key in already:
            continue
        with transaction.atomic():
            _, created = _enqueue(appointment, Kind.REMINDER, None)
        queued += created
    return queued


def _not_to_send(message: OutboxMessage, now: datetime.datetime) -> str:
    """Why a queued message would now mislead the patient, or "" when it is still right."""
    if message.kind in (Kind.CANCELLATION, Kind.WAITLIST_OFFER) or message.appointment_id is None:
        return ""
    later = OutboxMessage.objects.filter(
        appointment_id=message.appointment_id,
        kind__in=(Kind.CHANGE, Kind.CANCELLATION),
        pk__gt=message.pk,
    )
    if later.exists():
        return "a later change or cancellation replaces it"
    if message.kind == Kind.REMINDER:
        appointment = message.appointment
        if appointment.status != Status.BOOKED:
            return f"the appointment is {appointment.get_status_display().lower()}"
        if appointment.starts_at <= now:
            return "the appointment has started"
        if message.dedupe_key != reminder_key(appointment):
            return "the appointment has moved"
        if not appointment.patient.email_reminders:
            return "the patient no longer wants reminders"
    return ""


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(message.subject, message.body_text, to=[message.to])
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.ics:
        method = "CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST"
        email.attach(ATTACHMENT_NAME, message.ics, f"text/calendar; method={method}")
    return email


def _send_locked(message: OutboxMessage, now: datetime.datetime) -> bool:
    """Send ``message`` (locked by the caller) and record the outcome on it."""
    message.attempts += 1
    reason = _not_to_send(message, now)
    try:
        if reason:
            raise RuntimeError(f"Not sent: {reason}.")
        _email(message).send()
    except Exception as error:
        message.state = State.FAILED
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        message.save(update_fields=["state", "attempts", "last_error"])
        if not reason:
            logger.warning("E-mail %s to %s failed: %s", message.pk, message.to, error)
        return False
    message.state = State.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["state", "attempts", "last_error", "sent_at"])
    return True


def deliver(message_id: int) -> bool:
    """Send one queued message; True when it is sent (now or before)."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return False
        if message.state == State.SENT:
            return True
        return _send_locked(message, timezone.now())


def _lock_kwargs() -> dict:
    if connection.features.has_select_for_update_skip_locked:
        return {"skip_locked": True}
    return {}


def deliver_pending(now: datetime.datetime | None = None) -> tuple[int, int]:
    """Send every pending message and retry failed ones below ``MAX_ATTEMPTS``.

    Rows another process is sending are skipped, so overlapping runs never send twice.
    Returns (sent, failed) for this run.
    """
    now = now or timezone.now()
    waiting = OutboxMessage.objects.filter(
        state__in=(State.PENDING, State.FAILED), attempts__lt=OutboxMessage.MAX_ATTEMPTS
    )
    sent = failed = 0
    for message_id in waiting.order_by("created_at", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(**_lock_kwargs())
                .filter(
                    pk=message_id,
                    state__in=(State.PENDING, State.FAILED),
                    attempts__lt=OutboxMessage.MAX_ATTEMPTS,
                )
                .first()
            )
            if message is None:
                continue
            if _send_locked(message, now):
                sent += 1
            else:
                failed += 1
    return sent, failed
