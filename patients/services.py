"""Every write to the patient registry."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.models import User

from .models import Patient


@transaction.atomic
def patient_register(*, patient: Patient, by: User | None) -> Patient:
    patient.created_by = by
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient: Patient) -> Patient:
    if patient.is_archived:
        raise ValidationError("An archived patient cannot be edited; restore the record first.")
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def patient_archive(*, patient: Patient, by: User) -> Patient:
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if locked.is_archived:
        raise ValidationError("This patient is already archived.")
    locked.archived_at = timezone.now()
    locked.archived_by = by
    locked.save(update_fields=["archived_at", "archived_by", "updated_at"])
    return locked


@transaction.atomic
def patient_restore(*, patient: Patient) -> Patient:
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if not locked.is_archived:
        raise ValidationError("This patient is not archived.")
    locked.archived_at = None
    locked.archived_by = None
    locked.save(update_fields=["archived_at", "archived_by", "updated_at"])
    return locked
