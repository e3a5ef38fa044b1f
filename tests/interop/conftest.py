"""A fully populated patient record and a minimal one, built through the services."""

import datetime

import pytest
from django.utils import timezone

from appointments.models import Appointment, Status
from clinic.demo.clinical import kujala, tsk
from clinic.models import Location, Room, User
from clinic.roles import Role
from patients.models import Patient, Sex
from tests.appointments.factories import AppointmentFactory
from tests.factories import (
    LocationFactory,
    PatientFactory,
    RoomFactory,
    StaffProfileFactory,
    UserFactory,
)
from tests.treatments.plan_factories import certify_for_dry_needling, library_exercise
from treatments import reference, services
from treatments.models import (
    Assessment,
    Bracing,
    DryNeedling,
    DryNeedlingConsent,
    Education,
    Episode,
    ExercisePrescription,
    FootOrthoses,
    Goal,
    MovementRetraining,
    ObjectiveFinding,
    ObjectiveTest,
    SoftTissue,
    Taping,
    Unit,
    VisitNote,
)


def _at(location: Location, day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=location.zone)


def _visit(
    patient, clinician, location, room, day, status=Status.COMPLETED, hour: int = 10
) -> Appointment:
    return AppointmentFactory(
        patient=patient,
        clinician=clinician,
        location=location,
        room=room,
        starts_at=_at(location, day, hour),
        status=status,
    )


def record_episode(
    patient: Patient,
    physio: User,
    location: Location,
    room: Room | None,
    *,
    start: datetime.date,
    side: str = "right",
    discharge: bool = False,
    hour: int = 10,
) -> Episode:
    """An episode with two assessments (Kujala, TSK-11, NPRS, findings), a goal, every kind
    of intervention, and a signed note of a completed visit. Needs a dry-needling consent
    and certification in place on ``start``."""
    episode = services.episode_open(
        episode=Episode(
            patient=patient,
            title=f"{side.capitalize()} anterior knee pain",
            side=side,
            onset_date=start - datetime.timedelta(weeks=6),
            diagnosis="Patellofemoral pain syndrome",
            icd10_code=reference.ICD10_PFPS[side],
            clinician=physio,
        ),
        by=physio,
    )
    services.assessment_record(
        assessment=Assessment(
            episode=episode,
            kind=Assessment.Kind.INITIAL,
            assessed_on=start,
            nprs_worst=7,
            nprs_rest=2,
            nprs_activity=6,
        ),
        by=physio,
        findings=[
            ObjectiveFinding(
                test=ObjectiveTest.HIP_ABDUCTION_STRENGTH,
                unit=Unit.NEWTON,
                left_value=180,
                right_value=150.5,
            ),
            ObjectiveFinding(
                test=ObjectiveTest.STEP_DOWN,
                unit=Unit.QUALITY,
                left_text="Good",
                right_text="Knee valgus, pelvic drop",
            ),
        ],
        kujala_answers=kujala(30),
        tsk11_answers=tsk(25),
    )
    services.assessment_record(
        assessment=Assessment(
            episode=episode,
            kind=Assessment.Kind.REASSESSMENT,
            assessed_on=start + datetime.timedelta(days=14),
            nprs_worst=3,
        ),
        by=physio,
        kujala_answers=kujala(12),
    )
    Goal.objects.create(
        plan=episode.plan,
        description="Run 5 km without knee pain",
        target_date=start + datetime.timedelta(weeks=8),
    )
    details = [
        ExercisePrescription(exercise=library_exercise(), sets=3, reps=15, load="Red band"),
        Taping(
            tape_type=Taping.TapeType.KINESIOLOGY,
            technique="Medial glide",
            provocative_activity="Step-down",
            pain_before=6,
            pain_after=3,
        ),
        Bracing(brace_type=Bracing.BraceType.REALIGNMENT, wearing_schedule="During sport"),
        FootOrthoses(provocative_activity="Single-leg squat", pain_without=6, pain_with=3),
        DryNeedling(
            precautions={p.key: False for p in reference.DRY_NEEDLING_PRECAUTIONS},
            muscles="Vastus lateralis",
            needle_count=3,
            response="Local twitch response",
        ),
        MovementRetraining(method=MovementRetraining.Method.MIRROR, cues="Knees apart"),
        Education(topics=[Education.Topic.LOAD_MANAGEMENT]),
        SoftTissue(technique="Release", area="Lateral thigh"),
    ]
    interventions = []
    for detail in details:
        detail.started_on = start
        interventions.append(
            services.intervention_add(intervention=detail, episode=episode, by=physio)
        )
    services.intervention_stop(
        intervention=interventions[1], by=physio, on=start + datetime.timedelta(days=7)
    )
    visit = _visit(patient, physio, location, room, start + datetime.timedelta(days=7), hour=hour)
    note = services.note_save(
        note=VisitNote(appointment=visit, episode=episode, subjective="Stairs easier.", nprs=4),
        by=physio,
        delivered=interventions[:3],
    )
    services.note_sign(note=note, by=physio)
    if discharge:
        episode = services.episode_discharge(
            episode=episode,
            outcome=Episode.Outcome.IMPROVED,
            by=physio,
            on=start + datetime.timedelta(days=21),
        )
    return episode


def prepare_for_needling(patient: Patient, physio: User, since: datetime.date) -> None:
    certify_for_dry_needling(
        physio,
        certified_on=since - datetime.timedelta(days=365),
        expires_on=timezone.localdate() + datetime.timedelta(days=365),
    )
    services.consent_record(
        consent=DryNeedlingConsent(
            patient=patient,
            consented_on=since - datetime.timedelta(days=1),
            method=DryNeedlingConsent.Method.WRITTEN_PAPER,
        ),
        by=physio,
    )


def patient_with_episodes(physio: User, count: int, *, hour: int = 10) -> Patient:
    """A patient with ``count`` complete episodes, each starting a fortnight after the last,
    whose visits are at ``hour`` (so two such patients of one physiotherapist never clash)."""
    location = LocationFactory()
    room = RoomFactory(location=location)
    patient = PatientFactory()
    first = timezone.localdate() - datetime.timedelta(weeks=2 * count + 4)
    prepare_for_needling(patient, physio, first)
    for i in range(count):
        start = first + datetime.timedelta(weeks=2 * i)
        record_episode(
            patient, physio, location, room, start=start, discharge=i < count - 1, hour=hour
        )
    return patient


@pytest.fixture
def full_patient(physio) -> Patient:
    """Every part of the record: two episodes (one discharged), every intervention kind,
    consent, signed notes, and appointments in every status with two clinicians."""
    location = LocationFactory(name="Riverside Clinic", address="12 Riverside Walk\nLondon")
    room = RoomFactory(location=location, name="Treatment room 1")
    other_location = LocationFactory(name="Northgate")
    patient = PatientFactory(
        first_name="Hannah",
        last_name="Wright",
        preferred_name="Han",
        sex=Sex.FEMALE,
        date_of_birth=datetime.date(1990, 5, 17),
        phone="+447911123456",
        email="hannah.wright@example.com",
        address="3 Mill Lane\nLondon",
        postcode="E8 1JR",
        emergency_contact_name="Sam Wright",
        emergency_contact_phone="+447911000000",
        emergency_contact_relationship="Partner",
    )
    today = timezone.localdate()
    first = today - datetime.timedelta(weeks=10)
    prepare_for_needling(patient, physio, first)
    physio.staff_profile.locations.add(location, other_location)
    record_episode(patient, physio, location, room, start=first, side="left", discharge=True)
    record_episode(patient, physio, location, None, start=first + datetime.timedelta(weeks=4))
    colleague = UserFactory(first_name="Tom", last_name="Baker", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=colleague).locations.add(location)
    later = today + datetime.timedelta(days=7)
    _visit(patient, colleague, location, room, later, Status.BOOKED)
    _visit(patient, physio, location, room, later + datetime.timedelta(days=1), Status.CANCELLED)
    _visit(patient, physio, location, None, first - datetime.timedelta(days=3), Status.NO_SHOW)
    _visit(
        patient, physio, other_location, None, today - datetime.timedelta(days=1), Status.ARRIVED
    )
    Appointment.objects.filter(patient=patient, status=Status.CANCELLED).update(
        cancellation_reason="Unwell"
    )
    return patient


@pytest.fixture
def minimal_patient(db) -> Patient:
    return PatientFactory(first_name="Mo", last_name="Minimal", phone="", email="")
