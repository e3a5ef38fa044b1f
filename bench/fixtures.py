"""What the page benchmark needs in the benchmark database, made once and found again on
every run: signed-in sessions, a physiotherapist's long episode, and the pages' targets.

Runs inside Django (``bench/pages.py`` calls :func:`plan_make` once Django is set up with
the benchmark settings), writing only rows of its own (usernames start with ``bench.``).
"""

import datetime
import random
from dataclasses import asdict, dataclass, field

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.availability import find_free_slots
from appointments.models import Appointment, AppointmentType, Status, WorkingHours
from bench.dataset import USERNAME_PREFIX, bench_staff
from clinic.demo.clinical import open_episode, record_assessment, signed_note
from clinic.models import Location
from clinic.roles import Role
from patients.models import Patient
from treatments import services
from treatments.models import Assessment, Episode, Taping, VisitNote

User = get_user_model()

LONG_EPISODE_VISITS = 50
LONG_EPISODE_PATIENT = ("Bench", "Longcourse")
DAY_VIEW_CLINICIANS = 10
SAMPLE_PATIENTS = 40


@dataclass
class Plan:
    """Everything the runner requests, by URL and session cookie."""

    sessions: dict[str, str]
    location_id: int
    location_name: str
    day: str
    day_clinicians: int
    week_clinician_id: int
    week_clinician_name: str
    week_day: str
    follow_up_type_id: int
    online_type_id: int
    patient_ids: list[int]
    fragments: list[str]
    full_names: list[str]
    birth_dates: list[str]
    phones: list[str]
    episode_url: str
    booking_slots: list[dict] = field(default_factory=list)
    booking_patient_ids: list[int] = field(default_factory=list)
    desk_sessions: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _user(name: str, role: Role) -> User:
    return bench_staff(name, role, first_name="Bench", last_name=name.capitalize())


BENCH_ROLES = {
    "front_desk": ("frontdesk", Role.FRONT_DESK),
    "physio": ("physio", Role.PHYSIOTHERAPIST),
    "manager": ("manager", Role.PRACTICE_MANAGER),
}


def bench_user(role: str) -> User:
    """The benchmark's user for ``role`` (one of ``BENCH_ROLES``)."""
    name, held = BENCH_ROLES[role]
    return _user(name, held)


def session_for(user: User, *, second_factor: bool = False) -> str:
    """A signed-in session key for ``user``, as if they had just signed in (and, for
    someone who must, given their second factor)."""
    client = Client()
    client.force_login(user)
    session = client.session
    if second_factor:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Bench authenticator", defaults={"confirmed": True}
        )
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return session.session_key


def _day_view_target() -> tuple[Location, int, int]:
    """The location and weekday whose clinician count is nearest ``DAY_VIEW_CLINICIANS``."""
    rows = (
        WorkingHours.objects.filter(clinician__username__startswith=USERNAME_PREFIX)
        .values("location", "weekday")
        .annotate(clinicians=Count("clinician", distinct=True))
    )
    best = min(
        rows,
        key=lambda r: (abs(r["clinicians"] - DAY_VIEW_CLINICIANS), -r["clinicians"]),
    )
    return Location.objects.get(pk=best["location"]), best["weekday"], best["clinicians"]


def _last(weekday: int, before: datetime.date) -> datetime.date:
    back = (before.weekday() - weekday) % 7 or 7
    return before - datetime.timedelta(days=back)


def _long_episode(physio: User, location: Location, kind: AppointmentType) -> Episode:
    """An open episode with ``LONG_EPISODE_VISITS`` weekly signed visit notes, an initial
    assessment and a reassessment every ten visits, so its chart has points to draw."""
    first, last = LONG_EPISODE_PATIENT
    existing = Episode.objects.filter(patient__first_name=first, patient__last_name=last).first()
    if existing is not None:
        return existing
    patient = Patient.objects.create(
        first_name=first,
        last_name=last,
        date_of_birth=datetime.date(1988, 4, 2),
        phone="+447700900999",
        email="longcourse@example.com",
    )
    today = timezone.localdate()
    start_day = today - datetime.timedelta(weeks=LONG_EPISODE_VISITS + 1)
    episode = open_episode(patient, physio, "right", start_day - datetime.timedelta(weeks=8))
    services.intervention_add(
        intervention=Taping(
            tape_type=Taping.TapeType.KINESIOLOGY,
            technique="Medial glide with unloading",
            skin_checked=True,
            provocative_activity="Step-down",
            pain_before=6,
            pain_after=3,
            started_on=start_day,
        ),
        episode=episode,
        by=physio,
    )
    zone = location.zone
    visits = []
    for week in range(LONG_EPISODE_VISITS):
        day = start_day + datetime.timedelta(weeks=week)
        starts_at = datetime.datetime.combine(day, datetime.time(7, 0), tzinfo=zone)
        visits.append(
            Appointment(
                patient=patient,
                clinician=physio,
                location=location,
                appointment_type=kind,
                starts_at=starts_at,
                ends_at=starts_at + kind.duration,
                status=Status.COMPLETED,
                price=kind.price,
                booked_by=physio,
            )
        )
    Appointment.objects.bulk_create(visits)
    for week in range(0, LONG_EPISODE_VISITS, 10):
        record_assessment(
            episode,
            physio,
            Assessment.Kind.INITIAL if week == 0 else Assessment.Kind.REASSESSMENT,
            start_day + datetime.timedelta(weeks=week),
            drop=max(5, 40 - week),
            nprs=max(1, 8 - week // 8),
            tsk_total=max(14, 32 - week // 3),
        )
    for number, visit in enumerate(visits, start=1):
        signed_note(episode, physio, visit, f"Visit {number}", max(0, 7 - number // 7))
    return episode


def _national(phone: str) -> str:
    number = phonenumbers.parse(phone, settings.PHONE_REGION)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _booking_slots(kind: AppointmentType, location: Location, wanted: int) -> list[dict]:
    """Free times two to eight weeks ahead, spread over clinicians and days, one booking
    each; never two for one clinician within an hour."""
    today = timezone.localdate()
    found = find_free_slots(
        appointment_type=kind,
        location=location,
        first_day=today + datetime.timedelta(weeks=2),
        last_day=today + datetime.timedelta(weeks=8),
    )
    random.Random(3).shuffle(found)
    chosen: list[dict] = []
    taken: dict[int, list[datetime.datetime]] = {}
    for slot in found:
        near = taken.setdefault(slot.clinician_id, [])
        if any(abs(slot.start - other) < datetime.timedelta(hours=1) for other in near):
            continue
        near.append(slot.start)
        local = slot.start.astimezone(location.zone)
        chosen.append(
            {
                "clinician": slot.clinician_id,
                "date": local.date().isoformat(),
                "time": local.strftime("%H:%M"),
            }
        )
        if len(chosen) == wanted:
            break
    return chosen


def plan_make(*, bookings: int, desk_users: int = 0) -> dict:
    """Find or make everything the runner needs; returns the plan as plain data."""
    front_desk, physio, manager = (bench_user(role) for role in BENCH_ROLES)
    location, weekday, day_clinicians = _day_view_target()
    today = timezone.localdate(timezone=location.zone)
    day = _last(weekday, today)
    follow_up = AppointmentType.objects.get(name="Follow-up")
    online = AppointmentType.objects.filter(online_bookable=True).order_by("pk").first()
    busiest = (
        Appointment.objects.filter(location=location, starts_at__date=day)
        .values("clinician")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    week_clinician = (
        User.objects.select_related("staff_profile").get(pk=busiest["clinician"])
        if busiest
        else physio
    )
    episode = _long_episode(physio, location, follow_up)
    rng = random.Random(11)
    ids = list(
        Patient.objects.active()
        .filter(created_by__username__startswith=USERNAME_PREFIX)
        .values_list("pk", flat=True)
    )
    sample = list(
        Patient.objects.filter(pk__in=rng.sample(ids, min(SAMPLE_PATIENTS, len(ids)))).order_by(
            "pk"
        )
    )
    booking_patients = list(
        Patient.objects.active()
        .filter(created_by__username__startswith=USERNAME_PREFIX)
        .exclude(appointments__starts_at__gte=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)[: bookings * 2]
    )
    plan = Plan(
        sessions={
            "front_desk": session_for(front_desk),
            "physio": session_for(physio),
            "manager": session_for(manager, second_factor=True),
        },
        location_id=location.pk,
        location_name=location.name,
        day=day.isoformat(),
        day_clinicians=day_clinicians,
        week_clinician_id=week_clinician.pk,
        week_clinician_name=str(week_clinician),
        week_day=today.isoformat(),
        follow_up_type_id=follow_up.pk,
        online_type_id=online.pk,
        patient_ids=[p.pk for p in sample],
        fragments=[p.last_name[:3].lower() for p in sample],
        full_names=[f"{p.first_name} {p.last_name}" for p in sample],
        birth_dates=[f"{p.date_of_birth:%d/%m/%Y}" for p in sample],
        phones=[_national(p.phone) for p in sample],
        episode_url=episode.get_absolute_url(),
        booking_slots=_booking_slots(follow_up, location, bookings),
        booking_patient_ids=booking_patients,
        desk_sessions=[
            session_for(_user(f"desk{n:02d}", Role.FRONT_DESK)) for n in range(desk_users)
        ],
        counts={
            "patients": Patient.objects.count(),
            "appointments": Appointment.objects.count(),
            "signed notes": VisitNote.objects.filter(signed_at__isnull=False).count(),
        },
    )
    return asdict(plan)


def bookings_remove(appointment_ids: list[int]) -> int:
    """Take the benchmark's own bookings out again (their status history and queued
    e-mails go with them), so every run sees the same data."""
    return (
        Appointment.objects.filter(pk__in=appointment_ids)
        .delete()[1]
        .get("appointments.Appointment", 0)
    )
