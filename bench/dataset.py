"""The benchmark dataset: a group practice with years of appointments, written in bulk.

Rows are written with ``bulk_create`` rather than through the services, so every invariant
the services keep is kept here by construction: each clinician's day is filled in order on
a half-hour grid inside their working hours, so no clinician or room ever holds two live
appointments at once (each clinician has their own room at a location on a given weekday),
and a patient is never booked twice at overlapping times on the same day. Cancelled and
no-show rows may share a slot with the appointment that replaced them, as in real life.
"""

import datetime
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentType,
    CancelledBy,
    Source,
    Status,
    WorkingHours,
)
from clinic.demo.clinical import kujala, tsk
from clinic.demo.seed import FIRST_NAMES, LAST_NAMES, OCCUPATIONS, REFERRERS, SPORTS
from clinic.models import Discipline, Location, Room, StaffProfile, User
from clinic.roles import Role, user_set_roles
from patients.models import Funding, Patient, Sex
from treatments import reference, scoring
from treatments.models import Assessment, BodyRegion, Episode, OutcomeMeasure, Side, VisitNote

BATCH = 5_000
SLOT = datetime.timedelta(minutes=30)
USERNAME_PREFIX = "bench."
YEARS = 3
FUTURE_WEEKS = 12
MAX_FILL = 0.9
NOTES_PER_EPISODE = 60

Progress = Callable[[str, int, int], None]

TOWNS = ["Central", "Riverside", "Northgate", "Eastfield", "Westbrook", "Southbank", "Hillside"]

# name, minutes, buffer, price, needs room, new patients only, online bookable, needling
TYPES = [
    ("Initial assessment", 60, 0, "75.00", True, True, True, False),
    ("Follow-up", 30, 0, "50.00", True, False, True, False),
    ("Video consultation", 30, 0, "45.00", False, False, True, False),
    ("Dry needling session", 25, 5, "55.00", True, False, False, True),
]

# Weekly shift patterns (weekday, start, end), local time: early, late and evening clinics.
SHIFTS = [
    [(d, "07:30", "16:00") for d in range(5)] + [(5, "08:30", "13:30")],
    [(d, "11:30", "20:30") for d in range(5)],
    [
        (0, "08:00", "20:00"),
        (1, "08:00", "17:00"),
        (2, "08:00", "20:00"),
        (3, "08:00", "17:00"),
        (4, "08:00", "17:00"),
        (5, "09:00", "14:00"),
    ],
]


@dataclass(frozen=True)
class Size:
    patients: int
    appointments: int
    clinicians: int
    locations: int
    episodes_share: float = 0.1


@dataclass
class _Block:
    clinician_id: int
    location_index: int
    room_id: int
    start: datetime.time
    units: int
    needling: bool


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def _silent(label: str, done: int, total: int) -> None:
    return None


@transaction.atomic
def dataset_build(
    size: Size, *, seed: int = 2026, today: datetime.date | None = None, progress=_silent
) -> dict[str, int]:
    """Write the dataset and return the number of rows of each kind."""
    rng = random.Random(seed)
    now = timezone.now()
    today = today or timezone.localdate()
    locations = _locations(size.locations)
    front_desk = _front_desk()
    clinicians, blocks = _clinicians(size.clinicians, locations)
    needlers = [c.pk for i, c in enumerate(clinicians) if i % 3 == 0]
    types = _types([c.pk for c in clinicians], needlers)
    patient_ids = _patients(size.patients, rng, today, front_desk, progress)
    kept = set(rng.sample(range(len(patient_ids)), int(len(patient_ids) * size.episodes_share)))
    visits, span_days = _appointments(
        size, rng, now, today, locations, blocks, types, patient_ids, kept, front_desk, progress
    )
    episodes, notes = _episodes(visits, rng, now, today, patient_ids, progress)
    return {
        "locations": len(locations),
        "rooms": Room.objects.filter(location__in=locations).count(),
        "clinicians": len(clinicians),
        "patients": len(patient_ids),
        "appointments": size.appointments,
        "episodes": episodes,
        "signed notes": notes,
        "days": span_days,
    }


def _locations(count: int) -> list[Location]:
    locations = []
    for i in range(count):
        town = TOWNS[i % len(TOWNS)] + ("" if i < len(TOWNS) else f" {i // len(TOWNS) + 1}")
        location, _ = Location.objects.get_or_create(
            name=f"{town} Physiotherapy",
            defaults={
                "address": f"{10 + i} High Street\n{town}",
                "phone": f"+44207946{i:04d}",
                "time_zone": "Europe/London",
            },
        )
        locations.append(location)
    return locations


def bench_staff(name: str, role: Role, **defaults) -> User:
    """The benchmark's staff member ``bench.<name>`` (made once, with no usable password:
    the benchmark signs its people in with sessions of its own)."""
    user, created = User.objects.get_or_create(
        username=f"{USERNAME_PREFIX}{name}", defaults=defaults
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user_set_roles(user, [role])
    return user


def _front_desk() -> User:
    return bench_staff(
        "frontdesk",
        Role.FRONT_DESK,
        first_name="Bench",
        last_name="Desk",
        email="frontdesk@example.com",
    )


def _clinicians(count: int, locations: list[Location]) -> tuple[list[User], dict]:
    """Clinicians spread unevenly (the first location is the flagship) with weekly hours;
    every fourth also runs a Wednesday clinic at the next location."""
    weights = [1 / (i + 1) ** 0.5 for i in range(len(locations))]
    homes = random.Random(1).choices(range(len(locations)), weights=weights, k=count)
    homes = sorted(homes)
    today = timezone.localdate()
    clinicians = []
    weekly: dict[int, list[tuple[int, int, str, str]]] = {}
    for i in range(count):
        first = FIRST_NAMES[(i * 7) % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 11) % len(LAST_NAMES)]
        user = bench_staff(
            f"clinician{i + 1:03d}",
            Role.PHYSIOTHERAPIST,
            first_name=first,
            last_name=last,
            email=f"c{i + 1}@example.com",
        )
        needling = i % 3 == 0
        profile, _ = StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "display_name": f"{first} {last}",
                "registration_number": f"PH{900000 + i}",
                "discipline": Discipline.PHYSIOTHERAPY,
                "dry_needling_certified_on": today - datetime.timedelta(days=4000)
                if needling
                else None,
                "dry_needling_expires_on": today + datetime.timedelta(days=1000)
                if needling
                else None,
            },
        )
        home = homes[i]
        away = (home + 1) % len(locations)
        shift = SHIFTS[i % len(SHIFTS)]
        weekly[user.pk] = [
            (away if (i % 4 == 3 and day == 2) else home, day, start, end)
            for day, start, end in shift
        ]
        profile.locations.set({locations[home], locations[away if i % 4 == 3 else home]})
        clinicians.append(user)
    WorkingHours.objects.filter(clinician__in=clinicians).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            clinician_id=pk,
            location=locations[loc],
            weekday=day,
            start_time=_time(start),
            end_time=_time(end),
        )
        for pk, rows in weekly.items()
        for loc, day, start, end in rows
    )
    # Each clinician working at a location on a weekday has a room of their own there.
    by_place_day: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pk, rows in weekly.items():
        for loc, day, _, _ in rows:
            by_place_day[(loc, day)].append(pk)
    rooms_needed = defaultdict(int)
    for (loc, _), pks in by_place_day.items():
        rooms_needed[loc] = max(rooms_needed[loc], len(pks))
    rooms = {}
    for loc, needed in rooms_needed.items():
        rooms[loc] = [
            Room.objects.get_or_create(location=locations[loc], name=f"Treatment room {n + 1}")[0]
            for n in range(needed)
        ]
    needling_ids = {c.pk for i, c in enumerate(clinicians) if i % 3 == 0}
    blocks: dict[int, list[_Block]] = defaultdict(list)
    for (loc, day), pks in by_place_day.items():
        for n, pk in enumerate(pks):
            for row_loc, row_day, start, end in weekly[pk]:
                if (row_loc, row_day) != (loc, day):
                    continue
                minutes = (
                    datetime.datetime.combine(today, _time(end))
                    - datetime.datetime.combine(today, _time(start))
                ) // SLOT
                blocks[day].append(
                    _Block(pk, loc, rooms[loc][n].pk, _time(start), minutes, pk in needling_ids)
                )
    for day_blocks in blocks.values():
        day_blocks.sort(key=lambda b: b.clinician_id)
    return clinicians, blocks


def _types(clinician_ids: list[int], needling_ids: list[int]) -> dict[str, AppointmentType]:
    types = {}
    for name, minutes, buffer, price, room, new_only, online, needling in TYPES:
        kind, _ = AppointmentType.objects.get_or_create(
            name=name,
            defaults={
                "duration_minutes": minutes,
                "buffer_after_minutes": buffer,
                "price": Decimal(price),
                "needs_room": room,
                "new_patients_only": new_only,
                "online_bookable": online,
                "needs_dry_needling_certification": needling,
            },
        )
        kind.clinicians.add(*(needling_ids if needling else clinician_ids))
        types[name] = kind
    return types


def _patients(count, rng, today, front_desk, progress) -> list[int]:
    ids: list[int] = []
    batch: list[Patient] = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        age = rng.choice([rng.randint(13, 19), rng.randint(20, 40), rng.randint(41, 85)])
        insured = rng.random() < 0.3
        sport = rng.choice(SPORTS)
        patient = Patient(
            first_name=first,
            last_name=last,
            preferred_name=first[:3] if len(first) > 4 and rng.random() < 0.1 else "",
            date_of_birth=today - datetime.timedelta(days=age * 365 + rng.randint(0, 364)),
            sex=Sex.FEMALE if first in FIRST_NAMES[:20] else Sex.MALE,
            phone=f"+447{rng.randint(100000000, 999999999)}",
            email=f"{first}.{last}.{i}@example.com".lower().replace("'", ""),
            postcode=f"SE{rng.randint(1, 28)} {rng.randint(1, 9)}AB",
            referrer=rng.choice(REFERRERS),
            funding=Funding.INSURER if insured else Funding.SELF_PAY,
            insurer="Bupa" if insured else "",
            occupation="Student" if age < 19 else rng.choice(OCCUPATIONS),
            sports=sport,
            privacy_notice_accepted_on=today - datetime.timedelta(days=rng.randint(1, 1200)),
            email_reminders=rng.random() < 0.8,
            sms_reminders=rng.random() < 0.5,
            allergy_latex=rng.random() < 0.02,
            needle_phobia=rng.random() < 0.05,
            registered_online=rng.random() < 0.15,
            created_by=front_desk,
        )
        patient.set_search_name()
        batch.append(patient)
        if len(batch) == BATCH or i == count - 1:
            ids.extend(p.pk for p in Patient.objects.bulk_create(batch))
            batch = []
            progress("patients", len(ids), count)
    return ids


def _span(size: Size, blocks, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Three years up to twelve weeks ahead, reaching further back when the clinicians
    could not have seen that many patients in three years."""
    units_per_week = sum(b.units for day in blocks.values() for b in day)
    last = today + datetime.timedelta(weeks=FUTURE_WEEKS)
    weeks = YEARS * 52
    while units_per_week * (weeks - FUTURE_WEEKS / 2) * MAX_FILL < size.appointments:
        weeks += 13
    return last - datetime.timedelta(weeks=weeks), last


def _appointments(
    size, rng, now, today, locations, blocks, types, patient_ids, kept, front_desk, progress
):
    first_day, last_day = _span(size, blocks, today)
    days = (last_day - first_day).days + 1
    zones = [location.zone for location in locations]
    initial, follow_up = types["Initial assessment"], types["Follow-up"]
    video, needling = types["Video consultation"], types["Dry needling session"]

    def weight(day: datetime.date) -> float:
        ahead = (day - today).days
        return 1.0 if ahead <= 0 else max(0.1, 1 - ahead / (FUTURE_WEEKS * 7))

    remaining_weight = sum(
        weight(first_day + datetime.timedelta(d))
        * sum(b.units for b in blocks.get((first_day + datetime.timedelta(d)).weekday(), []))
        for d in range(days)
    )
    remaining = size.appointments
    seen: set[int] = set()
    visits: dict[int, list[tuple]] = defaultdict(list)
    batch: list[Appointment] = []
    written = 0
    patients = len(patient_ids)

    def flush() -> None:
        nonlocal batch, written
        Appointment.objects.bulk_create(batch)
        for appt in batch:
            if appt.status == Status.COMPLETED and appt.patient_id in kept_ids:
                visits[appt.patient_id].append(
                    (appt.pk, appt.clinician_id, appt.starts_at, appt.ends_at)
                )
        written += len(batch)
        progress("appointments", written, size.appointments)
        batch = []

    kept_ids = {patient_ids[i] for i in kept}
    for offset in range(days):
        day = first_day + datetime.timedelta(offset)
        w = weight(day)
        booked_today: dict[int, list[tuple]] = defaultdict(list)
        for block in blocks.get(day.weekday(), []):
            zone = zones[block.location_index]
            cursor = datetime.datetime.combine(day, block.start, tzinfo=zone)
            unit = 0
            while unit < block.units:
                if remaining <= 0 or rng.random() >= remaining * w / max(remaining_weight, 1e-9):
                    unit += 1
                    remaining_weight -= w
                    cursor += SLOT
                    continue
                centre = offset / days
                index = int((centre + rng.gauss(0, 0.02)) * patients) % patients
                patient_id = patient_ids[index]
                new = patient_id not in seen
                if new and unit + 2 <= block.units:
                    kind, units = initial, 2
                else:
                    roll = rng.random()
                    kind = video if roll < 0.1 else follow_up
                    if block.needling and roll > 0.9:
                        kind = needling
                    units = 1
                start = cursor
                end = start + kind.duration
                if any(s < end and start < e for s, e in booked_today[patient_id]):
                    unit += 1
                    remaining_weight -= w
                    cursor += SLOT
                    continue
                status, cancelled_by = _status(rng, start, end, now)
                appt = Appointment(
                    patient_id=patient_id,
                    clinician_id=block.clinician_id,
                    location=locations[block.location_index],
                    room_id=block.room_id if kind.needs_room else None,
                    appointment_type=kind,
                    starts_at=start,
                    ends_at=end,
                    status=status,
                    source=Source.ONLINE if rng.random() < 0.2 else Source.FRONT_DESK,
                    price=kind.price,
                    booked_by=front_desk,
                )
                if status == Status.CANCELLED:
                    _cancel(appt, rng, now, cancelled_by)
                batch.append(appt)
                remaining -= 1
                live = status not in (Status.CANCELLED, Status.NO_SHOW)
                if live:
                    booked_today[patient_id].append((start, end))
                    seen.add(patient_id)
                if live or rng.random() < 0.5:
                    # A cancelled slot is often rebooked: then the cursor stays put.
                    unit += units
                    remaining_weight -= w * units
                    cursor += SLOT * units
                if len(batch) >= BATCH:
                    flush()
    leftovers = _leftovers(remaining, rng, now, batch)
    batch.extend(leftovers)
    if batch:
        flush()
    _every_status(now, kept_ids)
    return visits, days


def _status(rng, start, end, now) -> tuple[str, str]:
    roll = rng.random()
    if start > now:
        if roll < 0.08:
            return Status.CANCELLED, CancelledBy.PATIENT if roll < 0.06 else CancelledBy.CLINIC
        return Status.BOOKED, ""
    if end > now:
        return Status.ARRIVED, ""
    if roll < 0.07:
        return Status.CANCELLED, CancelledBy.PATIENT
    if roll < 0.1:
        return Status.CANCELLED, CancelledBy.CLINIC
    if roll < 0.14:
        return Status.NO_SHOW, ""
    return Status.COMPLETED, ""


def _cancel(appt: Appointment, rng, now, by: str) -> None:
    notice = datetime.timedelta(hours=rng.choice([2, 6, 20, 30, 48, 72, 120]))
    appt.cancelled_at = min(appt.starts_at - notice, now)
    appt.cancelled_by = by
    appt.cancellation_reason = rng.choice(
        ["Unwell", "Work commitment", "Childcare", "Feeling better", "Clinician unwell"]
    )
    appt.late_cancellation = appt.starts_at - appt.cancelled_at < datetime.timedelta(hours=24)


def _leftovers(remaining: int, rng, now, batch) -> list[Appointment]:
    """Rows the grid could not place become cancellations of appointments already made."""
    if remaining <= 0:
        return []
    pool = batch or list(Appointment.objects.order_by("-pk")[:BATCH])
    extra = []
    for _ in range(remaining):
        source = rng.choice(pool)
        appt = Appointment(
            patient_id=source.patient_id,
            clinician_id=source.clinician_id,
            location_id=source.location_id,
            room_id=source.room_id,
            appointment_type_id=source.appointment_type_id,
            starts_at=source.starts_at,
            ends_at=source.ends_at,
            status=Status.CANCELLED,
            price=source.price,
            booked_by_id=source.booked_by_id,
        )
        _cancel(appt, rng, now, CancelledBy.PATIENT)
        extra.append(appt)
    return extra


def _every_status(now, kept_ids: set[int]) -> None:
    """Even a small dataset shows every status: a past completed visit outside the kept
    episodes becomes each missing one (arrived stays live; the others free the slot)."""
    present = set(Appointment.objects.values_list("status", flat=True).distinct())
    for status in (Status.ARRIVED, Status.NO_SHOW, Status.CANCELLED):
        if status in present:
            continue
        appt = (
            Appointment.objects.filter(status=Status.COMPLETED, starts_at__lt=now)
            .exclude(patient_id__in=kept_ids)
            .order_by("-starts_at")
            .first()
        )
        if appt is None:
            return
        appt.status = status
        if status == Status.CANCELLED:
            _cancel(appt, random.Random(appt.pk), now, CancelledBy.CLINIC)
        appt.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancellation_reason",
                "late_cancellation",
            ]
        )


def _episodes(visits, rng, now, today, patient_ids, progress) -> tuple[int, int]:
    """An episode for each kept patient with a completed visit: the first visit is the
    initial assessment (Kujala and TSK-11), later ones carry signed notes."""
    kujala_forms = [(a, scoring.kujala_score(a)) for a in (kujala(d) for d in range(10, 60, 5))]
    tsk_forms = [
        ({str(k): v for k, v in tsk(t).items()}, scoring.tsk11_score(tsk(t)))
        for t in range(18, 40, 3)
    ]
    items = sorted(visits.items())
    episodes = notes = 0
    for start in range(0, len(items), 1000):
        chunk = items[start : start + 1000]
        new_episodes = []
        for patient_id, rows in chunk:
            rows.sort(key=lambda r: r[2])
            last_day = timezone.localdate(rows[-1][3])
            side = rng.choice([Side.RIGHT, Side.LEFT])
            discharged = last_day < today - datetime.timedelta(days=28)
            new_episodes.append(
                Episode(
                    patient_id=patient_id,
                    title=f"{side.label} anterior knee pain",
                    body_region=BodyRegion.KNEE,
                    side=side,
                    diagnosis="Patellofemoral pain",
                    icd10_code=reference.ICD10_PFPS[side],
                    clinician_id=rows[0][1],
                    status=Episode.Status.DISCHARGED if discharged else Episode.Status.OPEN,
                    discharged_on=last_day if discharged else None,
                    discharge_outcome=rng.choice(
                        [Episode.Outcome.GOALS_MET, Episode.Outcome.IMPROVED]
                    )
                    if discharged
                    else "",
                    created_by_id=rows[0][1],
                )
            )
        Episode.objects.bulk_create(new_episodes)
        assessments = [
            Assessment(
                episode=episode,
                kind=Assessment.Kind.INITIAL,
                assessed_on=timezone.localdate(rows[0][2]),
                clinician_id=rows[0][1],
                nprs_worst=rng.randint(4, 9),
                patient_goals="Back to running pain-free",
                clinical_impression="Presentation consistent with patellofemoral pain.",
            )
            for episode, (_, rows) in zip(new_episodes, chunk, strict=True)
        ]
        Assessment.objects.bulk_create(assessments)
        measures = []
        for assessment in assessments:
            answers, total = rng.choice(kujala_forms)
            measures.append(
                OutcomeMeasure(
                    assessment=assessment,
                    measure=OutcomeMeasure.Measure.KUJALA,
                    answers=answers,
                    total=total,
                )
            )
            answers, total = rng.choice(tsk_forms)
            measures.append(
                OutcomeMeasure(
                    assessment=assessment,
                    measure=OutcomeMeasure.Measure.TSK11,
                    answers=answers,
                    total=total,
                )
            )
        OutcomeMeasure.objects.bulk_create(measures)
        signed = []
        for episode, (_, rows) in zip(new_episodes, chunk, strict=True):
            for number, (appt_id, clinician_id, _, ends_at) in enumerate(
                rows[1 : NOTES_PER_EPISODE + 1], start=1
            ):
                note = VisitNote(
                    appointment_id=appt_id,
                    episode=episode,
                    author_id=clinician_id,
                    subjective=f"Visit {number + 1}. Stairs easier; sore after long sitting.",
                    objective="Step-down: less valgus. Single-leg squat 8/10 quality.",
                    assessment="Responding to the loading programme.",
                    plan="Progress hip and knee strengthening; review in two weeks.",
                    nprs=max(0, 7 - number),
                    adherence=rng.choice(list(VisitNote.Adherence.values)),
                    signed_at=min(ends_at + datetime.timedelta(minutes=rng.randint(5, 240)), now),
                    signed_by_id=clinician_id,
                )
                note.content_hash = note.compute_hash()
                signed.append(note)
        VisitNote.objects.bulk_create(signed, batch_size=BATCH)
        episodes += len(new_episodes)
        notes += len(signed)
        progress("episodes", start + len(chunk), len(items))
    return episodes, notes
