"""Demo scheduling: types, working hours (evenings and Saturdays), a few weeks of
appointments in every status, a recurring series and a waitlist entry. Idempotent."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from appointments import services
from appointments.models import (
    Appointment,
    AppointmentType,
    CancelledBy,
    PracticeSettings,
    Status,
    WaitlistEntry,
    WorkingHours,
)
from clinic.models import Location, User
from patients.models import Patient

TYPES = [
    # name, minutes, buffer, price, colour, new only, online, dry needling
    ("Initial assessment", 60, 0, "75.00", "#2a9d8f", True, True, False),
    ("Follow-up", 30, 0, "50.00", "#457b9d", False, True, False),
    ("Dry needling session", 30, 5, "55.00", "#e76f51", False, False, True),
]

# username → [(location index, weekday, start, end)]: evenings and Saturdays included.
HOURS = {
    "physio": [(0, d, "08:00", "13:00") for d in range(5)]
    + [(0, d, "14:00", "20:00") for d in (0, 2)]
    + [(1, d, "14:00", "18:00") for d in (1, 3)]
    + [(0, 5, "09:00", "13:00")],
    "tom.baker": [(0, d, "09:00", "17:30") for d in range(5)] + [(0, 1, "17:30", "21:00")],
    "ana.costa": [(1, d, "10:00", "19:00") for d in (0, 1, 2, 3)] + [(1, 5, "08:30", "12:30")],
    "sam.okafor": [(0, d, "12:00", "20:00") for d in (3, 4)],
}


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def seed_schedule(locations: list[Location], staff: dict[str, User]) -> list[str]:
    practice = PracticeSettings.load()
    if practice.new_patient_discount_percent == 0:
        practice.new_patient_discount_percent = 33
        practice.save()
    physios = [staff[name] for name in HOURS]
    types = {}
    for name, minutes, buffer, price, colour, new_only, online, needling in TYPES:
        kind, _ = AppointmentType.objects.get_or_create(
            name=name,
            defaults={
                "duration_minutes": minutes,
                "buffer_after_minutes": buffer,
                "price": Decimal(price),
                "colour": colour,
                "new_patients_only": new_only,
                "online_bookable": online,
                "needs_dry_needling_certification": needling,
            },
        )
        kind.clinicians.set([staff["physio"]] if needling else physios)
        types[name] = kind
    for username, blocks in HOURS.items():
        for location_index, weekday, start, end in blocks:
            WorkingHours.objects.get_or_create(
                clinician=staff[username],
                location=locations[location_index],
                weekday=weekday,
                start_time=_time(start),
                defaults={"end_time": _time(end)},
            )
    created = 0
    if not Appointment.objects.exists():
        created = _seed_appointments(locations, staff, types)
    _seed_waitlist(locations, types, staff)
    return [
        f"Appointment types: {AppointmentType.objects.count()}; working-hour blocks: "
        f"{WorkingHours.objects.count()}",
        f"Appointments: {Appointment.objects.count()} ({created} new)",
    ]


def _seed_appointments(locations, staff, types) -> int:
    """About three weeks back and three ahead, booked through the real booking service."""
    from appointments.availability import find_free_slots

    rng = random.Random(7)
    front_desk = staff["frontdesk"]
    patients = list(Patient.objects.active().order_by("pk")[:120])
    today = timezone.localdate()
    past_start = today - datetime.timedelta(days=21)
    follow_up, initial = types["Follow-up"], types["Initial assessment"]
    created = 0
    seen: set[int] = set()
    for location in locations:
        free = _slots_from(
            find_free_slots, follow_up, location, past_start, today + datetime.timedelta(days=21)
        )
        rng.shuffle(free)
        for slot in free[:140]:
            patient = rng.choice(patients)
            kind = follow_up if patient.pk in seen else initial
            try:
                appointment = services.appointment_book(
                    patient=patient,
                    clinician=User.objects.get(pk=slot.clinician_id),
                    location=location,
                    appointment_type=kind,
                    starts_at=slot.start,
                    by=front_desk,
                    notify=False,
                )
            except services.BookingError:
                continue
            seen.add(patient.pk)
            created += 1
            _age(appointment, rng, front_desk)
    # Someone is always in the waiting room, whatever the hour the demo was loaded.
    if not Appointment.objects.filter(status=Status.ARRIVED).exists():
        first_today = Appointment.objects.today().filter(status=Status.BOOKED).first()
        if first_today is not None:
            Appointment.objects.filter(pk=first_today.pk).update(status=Status.ARRIVED)
    return created


def _slots_from(find, kind, location, first_day, last_day):
    # Demo history is written as if booked in the past: no notice or horizon limits.
    practice = PracticeSettings.load()
    saved = (practice.min_booking_notice_minutes, practice.booking_horizon_days)
    practice.min_booking_notice_minutes, practice.booking_horizon_days = 0, 730
    practice.save()
    try:
        return find(
            appointment_type=kind,
            location=location,
            first_day=first_day,
            last_day=last_day,
            now=datetime.datetime.combine(first_day, datetime.time.min, tzinfo=location.zone),
        )
    finally:
        practice.min_booking_notice_minutes, practice.booking_horizon_days = saved
        practice.save()


def _age(appointment: Appointment, rng: random.Random, by: User) -> None:
    """Give past appointments realistic outcomes and cancel a few future ones."""
    now = timezone.now()
    roll = rng.random()
    if appointment.ends_at < now:
        if roll < 0.08:
            Appointment.objects.filter(pk=appointment.pk).update(status=Status.NO_SHOW)
        elif roll < 0.15:
            services.appointment_cancel(
                appointment=appointment,
                cancelled_by=CancelledBy.PATIENT,
                reason=rng.choice(["Unwell", "Work commitment", "Childcare"]),
                by=by,
                now=appointment.starts_at - datetime.timedelta(hours=rng.choice([3, 48])),
                notify=False,
            )
        else:
            Appointment.objects.filter(pk=appointment.pk).update(status=Status.COMPLETED)
    elif appointment.starts_at < now:
        Appointment.objects.filter(pk=appointment.pk).update(status=Status.ARRIVED)
    elif roll < 0.06:
        services.appointment_cancel(
            appointment=appointment,
            cancelled_by=CancelledBy.CLINIC,
            reason="Clinician unwell",
            by=by,
            notify=False,
        )


def _seed_waitlist(locations, types, staff) -> None:
    if WaitlistEntry.objects.exists():
        return
    patient = Patient.objects.active().order_by("pk").last()
    WaitlistEntry.objects.create(
        patient=patient,
        appointment_type=types["Follow-up"],
        location=locations[0],
        weekdays=[1, 5],
        times_of_day=[WaitlistEntry.TimeOfDay.EVENING, WaitlistEntry.TimeOfDay.MORNING],
        notes="Would like an earlier follow-up; Tuesday evenings or Saturday mornings.",
        created_by=staff["frontdesk"],
    )
