"""Patient e-mails about appointments, through the outbox.

``queue`` writes an OutboxMessage inside the caller's transaction and tries to deliver
it once the transaction commits; ``deliver_pending`` (the send_reminders command) retries
failures. Nothing is sent twice: each message has a unique ``dedupe_key``.
"""

from collections.abc import Sequence

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .models import Appointment, OutboxMessage, WaitlistEntry

Kind = OutboxMessage.Kind


def queue(
    appointment: Appointment, kind: str, *, series: Sequence[Appointment] | None = None
) -> OutboxMessage | None:
    patient = appointment.patient
    if not patient.email:
        return None
    key = f"{kind}:{appointment.pk}:{appointment.starts_at.isoformat()}:{appointment.status}"
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "kind": kind,
            "appointment": appointment,
            "patient": patient,
            "to": patient.email,
            "subject": f"{Kind(kind).label}: {appointment}",
            "body_text": str(appointment),
        },
    )
    if created:
        transaction.on_commit(lambda: deliver(message.pk))
    return message


def queue_waitlist_offer(*, entry: WaitlistEntry, appointment: Appointment) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        kind=Kind.WAITLIST_OFFER,
        appointment=appointment,
        patient=entry.patient,
        to=entry.patient.email,
        subject="An earlier appointment is free",
        body_text=str(appointment),
        dedupe_key=f"waitlist_offer:{entry.pk}:{appointment.pk}",
    )
    transaction.on_commit(lambda: deliver(message.pk))
    return message


def deliver(message_id: int) -> bool:
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.state == OutboxMessage.State.SENT:
            return True
        email = EmailMultiAlternatives(message.subject, message.body_text, to=[message.to])
        message.attempts += 1
        try:
            email.send()
        except Exception as error:
            message.state = OutboxMessage.State.FAILED
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            message.save(update_fields=["state", "attempts", "last_error"])
            return False
        message.state = OutboxMessage.State.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["state", "attempts", "last_error", "sent_at"])
        return True
