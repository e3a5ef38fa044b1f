import itertools
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from appointments.models import LIVE_STATUSES, Appointment, Status
from patients.models import Patient
from treatments.models import Episode, OutcomeMeasure, VisitNote

pytestmark = pytest.mark.django_db

TINY = {"patients": 30, "appointments": 300, "clinicians": 3, "locations": 2}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_bench", **{**TINY, **options}, stdout=out)
    return out.getvalue()


def overlaps(rows) -> list[tuple]:
    rows = sorted(rows, key=lambda r: r[0])
    return [(a, b) for a, b in itertools.pairwise(rows) if b[0] < a[1]]


def test_it_creates_the_asked_counts_with_every_status() -> None:
    output = seed()

    assert Patient.objects.count() == 30
    assert Appointment.objects.count() == 300
    assert set(Appointment.objects.values_list("status", flat=True)) == set(Status.values)
    assert "appointments 300/300 (100%)" in output


def test_no_clinician_room_or_patient_holds_overlapping_live_appointments() -> None:
    seed()

    holders = defaultdict(list)
    for row in Appointment.objects.filter(status__in=LIVE_STATUSES).values():
        assert row["ends_at"] > row["starts_at"]
        span = (row["starts_at"], row["ends_at"])
        holders["clinician", row["clinician_id"]].append(span)
        holders["patient", row["patient_id"]].append(span)
        if row["room_id"]:
            holders["room", row["room_id"]].append(span)
    assert {key for key, spans in holders.items() if overlaps(spans)} == set()


def test_patients_are_searchable_and_episodes_carry_signed_notes() -> None:
    seed(patients=60, appointments=600, episodes_share=0.5)

    patient = Patient.objects.first()
    assert patient in Patient.objects.search(f"{patient.first_name} {patient.last_name}")
    assert Episode.objects.exists()
    assert OutcomeMeasure.objects.count() == 2 * Episode.objects.count()
    note = VisitNote.objects.select_related("appointment").first()
    assert note.is_signed
    assert note.appointment.status == Status.COMPLETED
    assert note.content_hash == note.compute_hash()


def test_it_refuses_under_production_settings(settings) -> None:
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="refuses to run here"):
        seed()
    assert not Patient.objects.exists()


def test_it_refuses_a_database_that_already_holds_patients(patient) -> None:
    with pytest.raises(CommandError, match="already holds patients"):
        seed()
    assert Appointment.objects.count() == 0


def test_force_adds_the_dataset_beside_existing_patients(patient) -> None:
    seed(force=True)

    assert Patient.objects.count() == 31
    assert Appointment.objects.count() == 300
