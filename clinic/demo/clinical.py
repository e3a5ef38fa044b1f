"""Demo clinical records: complete episodes written through the real services.

Four patients of the demo physiotherapist: one improving over two reassessments with every
kind of intervention in the plan, one not improving after six weeks, one with a red flag
awaiting a referral decision, and one receiving dry needling with consent on file.
Idempotent: patients who already have an episode are left alone.
"""

import datetime

from django.utils import timezone

from appointments import services as scheduling
from appointments.availability import find_free_slots
from appointments.models import Appointment, AppointmentType, PracticeSettings, Status
from clinic.models import Location, User
from patients.models import Patient
from treatments import reference, services
from treatments.models import (
    Assessment,
    Bracing,
    DryNeedling,
    DryNeedlingConsent,
    Education,
    Episode,
    Exercise,
    ExerciseCategory,
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

BEST = {item.key: item.options[0].key for item in reference.KUJALA_ITEMS}


def kujala(total_drop: int) -> dict[str, str]:
    """Answers whose score is about 100 - ``total_drop``: worsen items from the end."""
    answers = dict(BEST)
    remaining = total_drop
    for item in reference.KUJALA_ITEMS:
        if remaining <= 0:
            break
        chosen = item.options[0]
        for option in item.options[1:]:
            drop = item.max_points - option.points
            if drop <= remaining:
                chosen = option
        answers[item.key] = chosen.key
        remaining -= item.max_points - chosen.points
    return answers


def tsk(total: int) -> dict[int, int]:
    base, extra = divmod(total, 11)
    return {i: min(4, base + (1 if i <= extra else 0)) for i in range(1, 12)}


def seed_clinical(locations: list[Location], staff: dict[str, User]) -> list[str]:
    physio = staff["physio"]
    if Episode.objects.exists():
        return [f"Episodes: {Episode.objects.count()} (already there)"]
    patients = list(
        Patient.objects.active()
        .filter(
            allergy_tape_adhesive=False,
            needle_phobia=False,
            anticoagulants_or_bleeding_disorder=False,
            pregnancy=False,
            allergy_metal=False,
        )
        .order_by("pk")[10:14]
    )
    location = locations[0]
    follow_up = AppointmentType.objects.get(name="Follow-up")
    today = timezone.localdate()
    start = today - datetime.timedelta(weeks=8)
    visits = _visits(physio, location, follow_up, patients, start)
    _improving(patients[0], physio, visits[patients[0].pk], start)
    _not_improving(patients[1], physio, visits[patients[1].pk], start)
    _red_flag(patients[2], physio, visits[patients[2].pk], today - datetime.timedelta(days=10))
    _dry_needling(patients[3], physio, visits[patients[3].pk], today - datetime.timedelta(weeks=3))
    return [
        f"Episodes: {Episode.objects.count()}; signed notes: "
        f"{VisitNote.objects.filter(signed_at__isnull=False).count()}"
    ]


def _visits(physio, location, kind, patients, start) -> dict[int, list[Appointment]]:
    """Completed fortnightly visits with the physiotherapist since ``start``."""
    practice = PracticeSettings.load()
    saved = (practice.min_booking_notice_minutes, practice.booking_horizon_days)
    practice.min_booking_notice_minutes, practice.booking_horizon_days = 0, 730
    practice.save()
    visits: dict[int, list[Appointment]] = {p.pk: [] for p in patients}
    try:
        for week in range(0, 9, 2):
            day = start + datetime.timedelta(weeks=week)
            if day >= timezone.localdate():
                break
            slots = find_free_slots(
                appointment_type=kind,
                location=location,
                clinician=physio,
                first_day=day,
                last_day=day + datetime.timedelta(days=6),
                now=datetime.datetime.combine(day, datetime.time.min, tzinfo=location.zone),
            )
            taken = 0
            for slot in slots:
                if taken == len(patients):
                    break
                patient = patients[taken]
                try:
                    appointment = scheduling.appointment_book(
                        patient=patient,
                        clinician=physio,
                        location=location,
                        appointment_type=kind,
                        starts_at=slot.start,
                        by=physio,
                        notify=False,
                    )
                except scheduling.BookingError:
                    continue
                Appointment.objects.filter(pk=appointment.pk).update(status=Status.COMPLETED)
                appointment.status = Status.COMPLETED
                visits[patient.pk].append(appointment)
                taken += 1
    finally:
        practice.min_booking_notice_minutes, practice.booking_horizon_days = saved
        practice.save()
    return visits


def open_episode(patient, physio, side: str, onset: datetime.date) -> Episode:
    return services.episode_open(
        episode=Episode(
            patient=patient,
            title=f"{side.capitalize()} anterior knee pain",
            side=side,
            onset_date=onset,
            diagnosis="Patellofemoral pain syndrome",
            icd10_code=reference.ICD10_PFPS[side],
            clinician=physio,
        ),
        by=physio,
    )


def record_assessment(
    episode,
    physio,
    kind,
    day,
    *,
    drop,
    nprs,
    tsk_total,
    flags=(),
    strength=(180, 150),
    impression="",
) -> Assessment:
    assessment = Assessment(
        episode=episode,
        kind=kind,
        assessed_on=day,
        onset_mechanism="Gradual onset after increasing running volume for a half marathon.",
        duration_weeks=10,
        aggravating_activities=["stairs_down", "squatting", "running"],
        symptoms=[
            "dull_ache_around_kneecap",
            "worse_downstairs_or_downhill",
            "pain_after_prolonged_sitting",
        ],
        sport="Running",
        weekly_volume="30 km",
        recent_load_change="Up from 15 km in a month",
        patient_goals="Run the half marathon pain-free",
        nprs_worst=nprs,
        nprs_rest=max(0, nprs - 4),
        nprs_activity=max(0, nprs - 1),
        red_flags=list(flags),
        contributing_factors=["muscle_weakness", "load_error", "overpronation"],
        clinical_impression=impression or "Presentation consistent with patellofemoral pain.",
    )
    findings = [
        ObjectiveFinding(
            test=ObjectiveTest.HIP_ABDUCTION_STRENGTH,
            unit=Unit.NEWTON,
            left_value=strength[0],
            right_value=strength[1],
        ),
        ObjectiveFinding(
            test=ObjectiveTest.STEP_DOWN,
            unit=Unit.QUALITY,
            left_text="Good",
            right_text="Knee valgus, pelvic drop",
        ),
        ObjectiveFinding(test=ObjectiveTest.FPI6, unit=Unit.SCORE, left_value=6, right_value=8),
    ]
    return services.assessment_record(
        assessment=assessment,
        by=physio,
        findings=findings,
        kujala_answers=kujala(drop),
        tsk11_answers=tsk(tsk_total),
    )


def _exercise(name: str, category: str) -> Exercise:
    return (
        Exercise.objects.filter(name__iexact=name).first()
        or Exercise.objects.filter(category=category, active=True).first()
        or Exercise.objects.create(
            name=name,
            category=category,
            instructions="Move slowly and stay within comfortable pain.",
        )
    )


def signed_note(
    episode, physio, appointment, day_text: str, nprs: int, *, sign: bool = True, delivered=()
) -> VisitNote:
    note = services.note_save(
        note=VisitNote(
            appointment=appointment,
            episode=episode,
            subjective=f"{day_text}. Stairs easier; still sore after long sitting.",
            objective="Step-down: less valgus. Single-leg squat 8/10 quality.",
            assessment="Responding to loading programme.",
            plan="Progress hip and knee strengthening; review in two weeks.",
            nprs=nprs,
            adherence=VisitNote.Adherence.MOST,
        ),
        by=physio,
        delivered=list(delivered),
    )
    return services.note_sign(note=note, by=physio) if sign else note


def _improving(patient, physio, visits, start) -> None:
    episode = open_episode(patient, physio, "right", start - datetime.timedelta(weeks=10))
    record_assessment(
        episode, physio, Assessment.Kind.INITIAL, start, drop=38, nprs=7, tsk_total=30
    )
    plan = episode.plan
    plan.planned_frequency, plan.planned_sessions = "Fortnightly", 6
    plan.save()
    Goal.objects.create(
        plan=plan,
        description="Run 10 km without knee pain",
        target_date=start + datetime.timedelta(weeks=10),
    )
    Goal.objects.create(
        plan=plan,
        description="Descend stairs pain-free",
        target_date=start + datetime.timedelta(weeks=6),
        achieved_on=start + datetime.timedelta(weeks=5),
    )
    added = [
        services.intervention_add(
            intervention=ExercisePrescription(
                exercise=_exercise(name, category),
                sets=3,
                reps=reps,
                load=load,
                days_per_week=days,
                started_on=start,
            ),
            episode=episode,
            by=physio,
        )
        for name, category, reps, load, days in [
            ("Clam shells", ExerciseCategory.HIP_STRENGTHENING, 15, "Red band", 5),
            ("Knee extension", ExerciseCategory.KNEE_STRENGTHENING, 12, "3 kg", 5),
            ("Sit to stand", ExerciseCategory.KNEE_STRENGTHENING, 10, "Body weight", 7),
            ("Standing calf stretch", ExerciseCategory.STRETCHING, 3, "", 7),
        ]
    ]
    added.append(
        services.intervention_add(
            intervention=Taping(
                tape_type=Taping.TapeType.KINESIOLOGY,
                technique="Medial glide with unloading",
                tailoring="Adjusted to reduce pain on step-down",
                skin_checked=True,
                provocative_activity="Step-down",
                pain_before=6,
                pain_after=3,
                started_on=start,
                stopped_on=None,
            ),
            episode=episode,
            by=physio,
        )
    )
    added.append(
        services.intervention_add(
            intervention=FootOrthoses(
                product="Prefabricated full-length orthoses",
                provocative_activity="Single-leg squat",
                pain_without=6,
                pain_with=3,
                review_on=start + datetime.timedelta(weeks=6),
                started_on=start,
            ),
            episode=episode,
            by=physio,
        )
    )
    added.append(
        services.intervention_add(
            intervention=Education(
                topics=[Education.Topic.LOAD_MANAGEMENT, Education.Topic.PAIN_EXPLANATION],
                started_on=start,
            ),
            episode=episode,
            by=physio,
        )
    )
    added.append(
        services.intervention_add(
            intervention=MovementRetraining(
                method=MovementRetraining.Method.MIRROR,
                cues="Knees apart, kneecaps straight ahead",
                started_on=start + datetime.timedelta(weeks=2),
            ),
            episode=episode,
            by=physio,
        )
    )
    services.intervention_stop(
        intervention=added[4], by=physio, on=start + datetime.timedelta(weeks=4)
    )
    record_assessment(
        episode,
        physio,
        Assessment.Kind.REASSESSMENT,
        start + datetime.timedelta(weeks=4),
        drop=26,
        nprs=4,
        tsk_total=24,
        strength=(185, 170),
    )
    record_assessment(
        episode,
        physio,
        Assessment.Kind.REASSESSMENT,
        start + datetime.timedelta(weeks=8),
        drop=12,
        nprs=2,
        tsk_total=19,
        strength=(190, 186),
    )
    notes = [
        signed_note(episode, physio, visit, f"Visit {i + 1}", max(1, 6 - i), delivered=added[:4])
        for i, visit in enumerate(visits)
    ]
    if notes:
        services.addendum_add(
            note=notes[0], by=physio, text="Correction: taping was applied to the right knee only."
        )


def _not_improving(patient, physio, visits, start) -> None:
    episode = open_episode(patient, physio, "left", start - datetime.timedelta(weeks=20))
    record_assessment(
        episode,
        physio,
        Assessment.Kind.INITIAL,
        start,
        drop=40,
        nprs=6,
        tsk_total=34,
        strength=(150, 140),
    )
    added = [
        services.intervention_add(
            intervention=ExercisePrescription(
                exercise=_exercise("Clam shells", ExerciseCategory.HIP_STRENGTHENING),
                sets=3,
                reps=12,
                started_on=start,
            ),
            episode=episode,
            by=physio,
        ),
        services.intervention_add(
            intervention=Bracing(
                brace_type=Bracing.BraceType.PATELLAR_STABILISING,
                product="Patellar stabilising brace",
                wearing_schedule="During sport",
                started_on=start,
            ),
            episode=episode,
            by=physio,
        ),
        services.intervention_add(
            intervention=SoftTissue(
                technique="Soft-tissue release", area="Lateral thigh", started_on=start
            ),
            episode=episode,
            by=physio,
        ),
    ]
    record_assessment(
        episode,
        physio,
        Assessment.Kind.REASSESSMENT,
        start + datetime.timedelta(weeks=4),
        drop=38,
        nprs=6,
        tsk_total=34,
    )
    record_assessment(
        episode,
        physio,
        Assessment.Kind.REASSESSMENT,
        start + datetime.timedelta(weeks=7),
        drop=39,
        nprs=6,
        tsk_total=35,
    )
    for i, visit in enumerate(visits):
        signed_note(episode, physio, visit, f"Visit {i + 1}", 6, delivered=added)


def _red_flag(patient, physio, visits, day) -> None:
    episode = open_episode(patient, physio, "right", day - datetime.timedelta(weeks=3))
    record_assessment(
        episode,
        physio,
        Assessment.Kind.INITIAL,
        day,
        drop=45,
        nprs=8,
        tsk_total=28,
        flags=["knee_giving_way", "significant_swelling"],
        impression="Giving way with swelling: structural injury to be excluded.",
    )
    if visits:
        signed_note(episode, physio, visits[-1], "Initial visit", 8, sign=False)


def _dry_needling(patient, physio, visits, day) -> None:
    episode = open_episode(patient, physio, "left", day - datetime.timedelta(weeks=6))
    record_assessment(episode, physio, Assessment.Kind.INITIAL, day, drop=30, nprs=6, tsk_total=25)
    services.consent_record(
        consent=DryNeedlingConsent(
            patient=patient, consented_on=day, method=DryNeedlingConsent.Method.WRITTEN_PAPER
        ),
        by=physio,
    )
    needling = services.intervention_add(
        intervention=DryNeedling(
            precautions={p.key: False for p in reference.DRY_NEEDLING_PRECAUTIONS},
            muscles="Vastus lateralis, gluteus medius",
            needle_count=4,
            response="Local twitch responses; pain eased after",
            started_on=day,
        ),
        episode=episode,
        by=physio,
    )
    for i, visit in enumerate(visits[-2:]):
        signed_note(episode, physio, visit, f"Visit {i + 1}", 5, delivered=[needling])
