"""Reads the schedule from the database and asks the pure slot finder for free times."""

import datetime
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from clinic.models import Location, User
from clinic.roles import Role

from . import slots
from .models import Appointment, AppointmentType, Closure, PracticeSettings, TimeOff, WorkingHours


def clinicians_offering(appointment_type: AppointmentType, location: Location):
    """Active clinicians who offer the type and have working hours at the location."""
    qs = User.objects.filter(
        is_active=True, groups__name=Role.PHYSIOTHERAPIST, working_hours__location=location
    )
    if appointment_type.clinicians.exists():
        qs = qs.filter(pk__in=appointment_type.clinicians.values("pk"))
    return qs.distinct().select_related("staff_profile").order_by("last_name", "first_name")


def _interval(start: datetime.datetime, end: datetime.datetime) -> slots.Interval:
    return slots.Interval(start, end)


def find_free_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    first_day: datetime.date,
    last_day: datetime.date,
    clinician: User | None = None,
    now: datetime.datetime | None = None,
    weekdays: list[int] | None = None,
    times_of_day: list[tuple[datetime.time, datetime.time]] | None = None,
    windows: list[tuple[int, datetime.time, datetime.time]] | None = None,
    limit: int | None = None,
) -> list[slots.Slot]:
    """Free start times for the type at the location, for one clinician or any.

    Minimum notice and the booking horizon come from the practice settings.
    """
    now = now or timezone.now()
    practice = PracticeSettings.load()
    candidates = list(clinicians_offering(appointment_type, location))
    if clinician is not None:
        candidates = [c for c in candidates if c.pk == clinician.pk]
    if appointment_type.needs_dry_needling_certification:
        candidates = [
            c
            for c in candidates
            if getattr(c, "staff_profile", None)
            and c.staff_profile.dry_needling_certified(on=first_day)
        ]
    if not candidates:
        return []
    zone = location.zone
    window_start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=zone)
    window_end = datetime.datetime.combine(
        last_day + datetime.timedelta(days=2), datetime.time.min, tzinfo=zone
    )
    ids = [c.pk for c in candidates]

    hours = defaultdict(list)
    for block in WorkingHours.objects.filter(clinician_id__in=ids, location=location):
        hours[block.clinician_id].append(
            slots.WorkingBlock(
                block.weekday, block.start_time, block.end_time, block.valid_from, block.valid_until
            )
        )
    busy = defaultdict(list)
    room_busy = defaultdict(list)
    live = (
        Appointment.objects.live()
        .overlapping(window_start - datetime.timedelta(hours=8), window_end)
        .filter(Q(clinician_id__in=ids) | Q(location=location, room__isnull=False))
        .values_list(
            "clinician_id",
            "room_id",
            "starts_at",
            "ends_at",
            "appointment_type__buffer_after_minutes",
        )
    )
    for clinician_id, room_id, start, end, buffer_minutes in live:
        if clinician_id in ids:
            busy[clinician_id].append(
                _interval(start, end + datetime.timedelta(minutes=buffer_minutes))
            )
        if room_id is not None:
            room_busy[room_id].append(_interval(start, end))
    for off in TimeOff.objects.filter(
        clinician_id__in=ids, starts_at__lt=window_end, ends_at__gt=window_start
    ):
        busy[off.clinician_id].append(_interval(off.starts_at, off.ends_at))

    closures = [
        _interval(
            datetime.datetime.combine(c.starts_on, datetime.time.min, tzinfo=zone),
            datetime.datetime.combine(
                c.ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
            ),
        )
        for c in Closure.objects.filter(
            Q(location=location) | Q(location__isnull=True),
            starts_on__lte=last_day,
            ends_on__gte=first_day,
        )
    ]
    rooms = None
    if appointment_type.needs_room:
        rooms = [
            slots.RoomCalendar(room.pk, room_busy[room.pk])
            for room in location.rooms.filter(active=True).order_by("name")
        ]
    found = slots.find_slots(
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        duration=appointment_type.duration,
        buffer_after=appointment_type.buffer_after,
        clinicians=[slots.ClinicianCalendar(c.pk, hours[c.pk], busy[c.pk]) for c in candidates],
        closures=closures,
        rooms=rooms,
        now=now,
        min_notice=practice.min_notice,
        horizon=practice.horizon,
        weekdays=weekdays if windows is None else sorted({w[0] for w in windows}),
        times_of_day=times_of_day,
        limit=limit if windows is None else None,
    )
    if windows is not None:
        # "Tuesday evening or Saturday": a slot suits when any (day, hours) window holds it.
        found = [s for s in found if _in_windows(s.start.astimezone(zone), windows)][:limit]
    if appointment_type.needs_dry_needling_certification:
        profiles = {c.pk: c.staff_profile for c in candidates}
        found = [
            s
            for s in found
            if profiles[s.clinician_id].dry_needling_certified(on=s.start.astimezone(zone).date())
        ]
    return found


def _in_windows(local: datetime.datetime, windows) -> bool:
    return any(
        local.weekday() == day and start <= local.time() < end for day, start, end in windows
    )
