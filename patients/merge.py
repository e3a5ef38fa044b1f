"""Merging an online registration into the existing record of the same person."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.models import User

from .models import Patient

#: Contact details copied to the kept record only where it has none.
FILLED_IF_EMPTY = ("email", "phone")


def merge_candidates(duplicate: Patient) -> list[Patient]:
    """Active records that may be the same person: same birth date, name, e-mail or phone."""
    same = Q(date_of_birth=duplicate.date_of_birth) | Q(
        first_name__iexact=duplicate.first_name, last_name__iexact=duplicate.last_name
    )
    if duplicate.email:
        same |= Q(email__iexact=duplicate.email)
    if duplicate.phone:
        same |= Q(phone=duplicate.phone)
    return list(Patient.objects.active().filter(same).exclude(pk=duplicate.pk)[:20])


def _note(patient: Patient, by: User, message: str) -> None:
    LogEntry.objects.create(
        user=by,
        content_type=ContentType.objects.get_for_model(Patient),
        object_id=str(patient.pk),
        object_repr=str(patient)[:200],
        action_flag=CHANGE,
        change_message=message,
    )


def _overlaps(duplicate: Patient, into: Patient) -> list[str]:
    from appointments.models import Appointment

    kept = Appointment.objects.live().filter(patient=into)
    found = []
    for appointment in Appointment.objects.live().filter(patient=duplicate):
        if kept.overlapping(appointment.starts_at, appointment.ends_at).exists():
            found.append(f"{appointment.local_start:%a %d %b %Y %H:%M}")
    return found


def _drop_repeat_discounts(into: Patient, moved_ids: list[int]) -> int:
    """The new-patient discount is for a first appointment only: not for a second record's."""
    from appointments.models import Appointment, Status

    dropped = 0
    for appointment in Appointment.objects.filter(
        pk__in=moved_ids, status=Status.BOOKED, discount_percent__gt=0
    ):
        earlier = into.appointments.exclude(status=Status.CANCELLED).filter(
            starts_at__lt=appointment.starts_at
        )
        if earlier.exists():
            appointment.discount_percent = 0
            appointment.save(update_fields=["discount_percent", "updated_at"])
            dropped += 1
    return dropped


@transaction.atomic
def patient_merge(*, duplicate: Patient, into: Patient, by: User) -> dict[str, int]:
    """Move everything from the online registration ``duplicate`` to ``into``; archive it.

    Appointments, waitlist entries, e-mails, episodes and consents — every row that points
    at the duplicate — move in one transaction. Returns how many rows of each kind moved.
    """
    if duplicate.pk == into.pk:
        raise ValidationError("Choose a different patient to merge into.")
    locked = {
        p.pk: p
        for p in Patient.objects.select_for_update()
        .filter(pk__in=[duplicate.pk, into.pk])
        .order_by("pk")
    }
    duplicate, into = locked[duplicate.pk], locked[into.pk]
    if not duplicate.registered_online:
        raise ValidationError("Only a registration made online can be merged away.")
    if duplicate.is_archived:
        raise ValidationError(f"{duplicate.full_name}'s online registration is already archived.")
    if into.is_archived:
        raise ValidationError(f"{into.full_name} is archived; restore the record before merging.")
    clashes = _overlaps(duplicate, into)
    if clashes:
        raise ValidationError(
            f"Both records have an appointment at the same time ({', '.join(clashes)}). "
            "Cancel one of them first."
        )
    moved: dict[str, int] = {}
    moved_appointments = list(duplicate.appointments.values_list("pk", flat=True))
    for relation in Patient._meta.related_objects:
        if not relation.one_to_many:
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: duplicate})
        count = rows.update(**{relation.field.name: into})
        if count:
            moved[str(relation.related_model._meta.verbose_name_plural)] = count
    dropped = _drop_repeat_discounts(into, moved_appointments)
    filled = [
        name for name in FILLED_IF_EMPTY if not getattr(into, name) and getattr(duplicate, name)
    ]
    for name in filled:
        setattr(into, name, getattr(duplicate, name))
    if filled:
        into.save(update_fields=[*filled, "updated_at"])
    duplicate.needs_review = False
    duplicate.archived_at = timezone.now()
    duplicate.archived_by = by
    duplicate.save(update_fields=["needs_review", "archived_at", "archived_by", "updated_at"])
    summary = ", ".join(f"{count} {name}" for name, count in moved.items()) or "nothing"
    extra = f"; new-patient discount removed from {dropped} appointment(s)" if dropped else ""
    _note(
        duplicate,
        by,
        f"Online registration merged into patient #{into.pk} ({into.full_name}) and archived; "
        f"moved {summary}{extra}.",
    )
    _note(into, by, f"Online registration #{duplicate.pk} merged in; moved {summary}{extra}.")
    return moved


@transaction.atomic
def patient_mark_reviewed(*, patient: Patient, by: User) -> Patient:
    """An online registration that is a new person: keep it and take it off the list."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if not locked.needs_review:
        raise ValidationError("This registration has already been reviewed.")
    locked.needs_review = False
    locked.save(update_fields=["needs_review", "updated_at"])
    _note(locked, by, "Online registration reviewed: a new patient, not a duplicate.")
    return locked
