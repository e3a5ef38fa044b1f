"""Every write to the schedule: booking, moving, cancelling, statuses, series and waitlist.

No double booking: the checks here run inside one transaction (IMMEDIATE on SQLite, so
bookings queue one behind another); on PostgreSQL exclusion constraints (migration 0002)
are the last line of defence, and a refusal from them becomes the same clash message. The
database also refuses an appointment longer than ``LONGEST_APPOINTMENT``; that refusal
becomes its own message.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from clinic.models import Location, Room, User
from patients.models import Patient

from . import notifications
from .models import (
    APPOINTMENT_NOT_TOO_LONG,
    APPOINTMENT_TOO_LONG,
    TRANSITIONS,
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    AppointmentType,
    CancelledBy,
    Closure,
    PracticeSettings,
    Source,
    Status,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)

#: Arrival, completion and no-show can be recorded from this long before the start.
EARLIEST_CHECK_IN = datetime.timedelta(hours=12)

CLASH_TAKEN = "That time was just taken by another booking. Please choose another time."


class BookingError(ValidationError):
    """A booking was refused; the message says why in words the front desk can act on."""


def _refusal(error: IntegrityError) -> BookingError:
    """The message for a write the database refused; every database names the constraint."""
    if APPOINTMENT_NOT_TOO_LONG in str(error):
        return BookingError(APPOINTMENT_TOO_LONG)
    return BookingError(CLASH_TAKEN)


def _fmt(dt: datetime.datetime, location: Location) -> str:
    return timezone.localtime(dt, location.zone).strftime("%H:%M")


def _fmt_day(dt: datetime.datetime, location: Location) -> str:
    return timezone.localtime(dt, location.zone).strftime("%a %d %b %Y %H:%M")


def is_new_patient(patient: Patient, *, excluding: Appointment | None = None) -> bool:
    """A genuinely new patient has never had an appointment that was not cancelled."""
    previous = patient.appointments.exclude(status=Status.CANCELLED)
    if excluding is not None and excluding.pk:
        previous = previous.exclude(pk=excluding.pk)
    return not previous.exists()


def price_for(appointment_type: AppointmentType, patient: Patient | None) -> tuple:
    """(price, discount percent) a booking would carry for this patient."""
    percent = PracticeSettings.load().new_patient_discount_percent
    if patient is None or not patient.pk or is_new_patient(patient):
        return appointment_type.price, percent
    return appointment_type.price, 0


def clashes(
    *,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    clinician: User,
    patient: Patient,
    room: Room | None,
    exclude: Iterable[int] = (),
) -> list[str]:
    """Every clash with live appointments, each named so the user knows what to change."""
    involved = Q(clinician=clinician) | Q(patient=patient)
    if room is not None:
        involved |= Q(room=room)
    candidates = (
        Appointment.objects.live()
        .overlapping(starts_at, ends_at)
        .exclude(pk__in=list(exclude))
        .filter(involved)
    )
    # Nearly every booking clashes with nothing: a plain existence check spares it the
    # joined read that only naming a clash needs.
    if not candidates.exists():
        return []
    overlapping = list(
        candidates.select_related("patient", "clinician__staff_profile", "location", "room")
    )
    found = []
    for other in overlapping:
        if other.clinician_id == clinician.pk:
            found.append(
                f"{other.clinician} already has {other.patient.full_name} from "
                f"{_fmt(other.starts_at, other.location)} to {_fmt(other.ends_at, other.location)}."
            )
    if room is not None:
        for other in overlapping:
            if other.room_id == room.pk and other.clinician_id != clinician.pk:
                found.append(
                    f"{room.name} is taken by {other.clinician} from "
                    f"{_fmt(other.starts_at, other.location)} to "
                    f"{_fmt(other.ends_at, other.location)}."
                )
    for other in overlapping:
        if other.patient_id == patient.pk and other.clinician_id != clinician.pk:
            found.append(
                f"{patient.full_name} already has an appointment with {other.clinician} at "
                f"{other.location} from {_fmt(other.starts_at, other.location)} to "
                f"{_fmt(other.ends_at, other.location)}."
            )
    return found


def availability_problems(
    *,
    clinician: User,
    location: Location,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> list[str]:
    """Working hours, time off and closures that rule out this time."""
    problems = []
    zone = location.zone
    local_start = timezone.localtime(starts_at, zone)
    local_end = timezone.localtime(ends_at, zone)
    day = local_start.date()
    blocks = WorkingHours.objects.filter(
        clinician=clinician, location=location, weekday=day.weekday()
    )
    inside = any(
        (block.valid_from is None or block.valid_from <= day)
        and (block.valid_until is None or day <= block.valid_until)
        and block.start_time <= local_start.time()
        and local_end.date() == day
        and local_end.time() <= block.end_time
        for block in blocks
    )
    if not inside:
        problems.append(
            f"{clinician} does not work at {location} at {local_start:%H:%M} on {local_start:%A}."
        )
    for off in TimeOff.objects.filter(
        clinician=clinician, starts_at__lt=ends_at, ends_at__gt=starts_at
    ):
        problems.append(f"{clinician} is away then ({off.get_kind_display().lower()}).")
    closure = (
        Closure.objects.filter(starts_on__lte=day, ends_on__gte=day)
        .filter(Q(location=location) | Q(location__isnull=True))
        .first()
    )
    if closure is not None:
        problems.append(f"{location} is closed on {day:%d %b %Y} ({closure.reason}).")
    return problems


@dataclass
class BookingRequest:
    patient: Patient
    clinician: User
    location: Location
    appointment_type: AppointmentType
    starts_at: datetime.datetime
    room: Room | None = None
    notes: str = ""


def _validate_request(request: BookingRequest, *, exclude: Iterable[int] = ()) -> Room | None:
    """Raise BookingError for every rule the request breaks; return the room to use."""
    patient, clinician, location, kind = (
        request.patient,
        request.clinician,
        request.location,
        request.appointment_type,
    )
    starts_at = request.starts_at
    ends_at = starts_at + kind.duration
    errors: list[str] = []
    if patient.is_archived:
        errors.append(f"{patient.full_name} is archived; restore the record before booking.")
    if not kind.active:
        errors.append(f"{kind.name} is no longer offered.")
    if not clinician.is_active:
        errors.append(f"{clinician} no longer works here.")
    offering = kind.clinicians.aggregate(
        listed=Count("pk"), this_one=Count("pk", filter=Q(pk=clinician.pk))
    )
    if offering["listed"] and not offering["this_one"]:
        errors.append(f"{clinician} does not offer {kind.name}.")
    if kind.needs_dry_needling_certification:
        profile = getattr(clinician, "staff_profile", None)
        day = timezone.localtime(starts_at, location.zone).date()
        if profile is None or not profile.dry_needling_certified(on=day):
            errors.append(
                f"{kind.name} needs a clinician with a current dry-needling certification; "
                f"{clinician} has none on that day."
            )
    if kind.new_patients_only and not is_new_patient(patient, excluding=_first(exclude)):
        errors.append(
            f"{kind.name} is for new patients only; {patient.full_name} has been seen before."
        )
    room = request.room
    if room is not None and (room.location_id != location.pk or not room.active):
        errors.append(f"{room.name} is not an active room at {location}.")
    if kind.needs_room and room is None:
        room = _free_room(location, starts_at, ends_at, exclude=exclude)
        if room is None:
            errors.append(
                f"No room is free at {location} from {_fmt(starts_at, location)} "
                f"to {_fmt(ends_at, location)}."
            )
    errors += availability_problems(
        clinician=clinician, location=location, starts_at=starts_at, ends_at=ends_at
    )
    errors += clashes(
        starts_at=starts_at,
        ends_at=ends_at,
        clinician=clinician,
        patient=patient,
        room=room,
        exclude=exclude,
    )
    if errors:
        raise BookingError(errors)
    return room


def _first(ids: Iterable[int]) -> Appointment | None:
    ids = list(ids)
    return Appointment(pk=ids[0]) if ids else None


def _free_room(
    location: Location, starts_at, ends_at, *, exclude: Iterable[int] = ()
) -> Room | None:
    taken = (
        Appointment.objects.live()
        .overlapping(starts_at, ends_at)
        .exclude(pk__in=list(exclude))
        .filter(room__isnull=False)
        .values("room_id")
    )
    return location.rooms.filter(active=True).exclude(pk__in=taken).order_by("name").first()


def _lock_clinician(clinician: User) -> None:
    # On PostgreSQL this queues bookings for one clinician so the checks see every
    # committed booking; SQLite's IMMEDIATE transactions already queue all writers.
    User.objects.select_for_update().filter(pk=clinician.pk).first()


def _record_status(
    appointment: Appointment, from_status: str, by: User | None, note: str = ""
) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        changed_by=by,
        note=note,
    )


def appointment_book(
    *,
    patient: Patient,
    clinician: User,
    location: Location,
    appointment_type: AppointmentType,
    starts_at: datetime.datetime,
    by: User | None,
    room: Room | None = None,
    notes: str = "",
    source: str = Source.FRONT_DESK,
    series: AppointmentSeries | None = None,
    notify: bool = True,
) -> Appointment:
    request = BookingRequest(patient, clinician, location, appointment_type, starts_at, room, notes)
    try:
        with transaction.atomic():
            _lock_clinician(clinician)
            room = _validate_request(request)
            price, discount = price_for(appointment_type, patient)
            appointment = Appointment.objects.create(
                patient=patient,
                clinician=clinician,
                location=location,
                room=room,
                appointment_type=appointment_type,
                starts_at=starts_at,
                ends_at=starts_at + appointment_type.duration,
                price=price,
                discount_percent=discount,
                notes=notes,
                source=source,
                series=series,
                booked_by=by,
            )
            _record_status(appointment, "", by, note=f"Booked ({appointment.get_source_display()})")
            if notify:
                notifications.queue(appointment, notifications.Kind.CONFIRMATION, just_booked=True)
    except IntegrityError as error:
        raise _refusal(error) from error
    return appointment


def appointment_move(
    *,
    appointment: Appointment,
    starts_at: datetime.datetime,
    by: User | None,
    clinician: User | None = None,
    room: Room | None = None,
    notify: bool = True,
) -> Appointment:
    if appointment.status != Status.BOOKED:
        raise BookingError(
            f"Only a booked appointment can be moved; this one is "
            f"{appointment.get_status_display().lower()}."
        )
    clinician = clinician or appointment.clinician
    request = BookingRequest(
        appointment.patient,
        clinician,
        appointment.location,
        appointment.appointment_type,
        starts_at,
        room,
        appointment.notes,
    )
    try:
        with transaction.atomic():
            _lock_clinician(clinician)
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status != Status.BOOKED:
                raise BookingError("This appointment changed meanwhile; reload and try again.")
            chosen_room = _validate_request(request, exclude=[locked.pk])
            previous = _fmt_day(locked.starts_at, locked.location)
            locked.starts_at = starts_at
            locked.ends_at = starts_at + locked.appointment_type.duration
            locked.clinician = clinician
            locked.room = chosen_room
            locked.save()
            _record_status(locked, locked.status, by, note=f"Moved from {previous}")
            if notify:
                notifications.queue(locked, notifications.Kind.CHANGE)
    except IntegrityError as error:
        raise _refusal(error) from error
    return locked


def appointment_cancel(
    *,
    appointment: Appointment,
    cancelled_by: str,
    reason: str,
    by: User | None,
    now: datetime.datetime | None = None,
    notify: bool = True,
) -> Appointment:
    if cancelled_by not in CancelledBy.values:
        raise ValidationError("Say who cancelled: the patient or the clinic.")
    if not reason.strip():
        raise ValidationError("Give a reason for the cancellation.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update()
            .select_related("location")
            .get(pk=appointment.pk)
        )
        if Status.CANCELLED not in TRANSITIONS[locked.status]:
            raise ValidationError(
                f"A {locked.get_status_display().lower()} appointment cannot be cancelled."
            )
        from_status = locked.status
        notice = PracticeSettings.load().cancellation_notice
        locked.status = Status.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = cancelled_by
        locked.cancellation_reason = reason.strip()
        locked.late_cancellation = (
            cancelled_by == CancelledBy.PATIENT and locked.starts_at - now < notice
        )
        locked.save()
        _record_status(locked, from_status, by, note=reason.strip())
        if notify:
            notifications.queue(locked, notifications.Kind.CANCELLATION)
    return locked


def appointment_set_status(
    *, appointment: Appointment, to_status: str, by: User | None
) -> Appointment:
    """Arrived, completed, no-show and their undo; cancelling has its own service."""
    if to_status == Status.CANCELLED:
        raise ValidationError("Use cancel to cancel an appointment, with a reason.")
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if to_status not in TRANSITIONS[locked.status]:
            raise ValidationError(
                f"A {locked.get_status_display().lower()} appointment cannot become "
                f"{Status(to_status).label.lower()}."
            )
        if to_status in (Status.ARRIVED, Status.NO_SHOW, Status.COMPLETED) and (
            locked.starts_at - timezone.now() > EARLIEST_CHECK_IN
        ):
            raise ValidationError("That can only be recorded on the day of the appointment.")
        from_status = locked.status
        locked.status = to_status
        if from_status == Status.NO_SHOW and to_status == Status.BOOKED:
            # Undoing a no-show puts the appointment back on the calendar: clashes again.
            problems = clashes(
                starts_at=locked.starts_at,
                ends_at=locked.ends_at,
                clinician=locked.clinician,
                patient=locked.patient,
                room=locked.room,
                exclude=[locked.pk],
            )
            if problems:
                raise BookingError(problems)
        locked.save(update_fields=["status", "updated_at"])
        _record_status(locked, from_status, by)
    return locked


# --- Recurring series -------------------------------------------------------------------


@dataclass
class Occurrence:
    starts_at: datetime.datetime
    problems: list[str]

    @property
    def free(self) -> bool:
        return not self.problems


MAX_OCCURRENCES = 52


def series_dates(
    *,
    first: datetime.datetime,
    location: Location,
    every_weeks: int,
    count: int | None = None,
    until: datetime.date | None = None,
) -> list[datetime.datetime]:
    """Start times of the occurrences, keeping the same local wall-clock time across DST."""
    if (count is None) == (until is None):
        raise ValidationError("Give either a number of appointments or an end date.")
    if every_weeks < 1 or every_weeks > 12:
        raise ValidationError("Repeat every 1 to 12 weeks.")
    local = timezone.localtime(first, location.zone)
    starts = []
    for index in range(MAX_OCCURRENCES):
        day = local.date() + datetime.timedelta(weeks=every_weeks * index)
        if count is not None and index >= count:
            break
        if until is not None and day > until:
            break
        starts.append(datetime.datetime.combine(day, local.time(), tzinfo=location.zone))
    if count is not None and count > MAX_OCCURRENCES:
        raise ValidationError(f"A series can hold at most {MAX_OCCURRENCES} appointments.")
    return starts


def series_preview(*, request: BookingRequest, starts: list[datetime.datetime]) -> list[Occurrence]:
    occurrences = []
    for start in starts:
        single = BookingRequest(
            request.patient,
            request.clinician,
            request.location,
            request.appointment_type,
            start,
            request.room,
            request.notes,
        )
        try:
            _validate_request(single)
        except ValidationError as error:
            occurrences.append(Occurrence(start, error.messages))
        else:
            occurrences.append(Occurrence(start, []))
    return occurrences


def series_book(
    *,
    request: BookingRequest,
    starts: list[datetime.datetime],
    every_weeks: int,
    by: User | None,
    free_only: bool,
) -> tuple[AppointmentSeries, list[Appointment]]:
    """Book every occurrence (all or none), or with ``free_only`` the free ones only."""
    booked: list[Appointment] = []
    with transaction.atomic():
        series = AppointmentSeries.objects.create(every_weeks=every_weeks, created_by=by)
        for start in starts:
            try:
                with transaction.atomic():
                    booked.append(
                        appointment_book(
                            patient=request.patient,
                            clinician=request.clinician,
                            location=request.location,
                            appointment_type=request.appointment_type,
                            starts_at=start,
                            by=by,
                            room=request.room,
                            notes=request.notes,
                            series=series,
                            notify=False,
                        )
                    )
            except ValidationError:
                if not free_only:
                    raise
        if not booked:
            raise BookingError("None of the occurrences is free; nothing was booked.")
        notifications.queue(booked[0], notifications.Kind.CONFIRMATION, series=booked)
    return series, booked


def series_cancel_following(
    *,
    appointment: Appointment,
    cancelled_by: str,
    reason: str,
    by: User | None,
) -> list[Appointment]:
    """Cancel this appointment and every later booked one in its series."""
    if appointment.series_id is None:
        raise ValidationError("This appointment is not part of a series.")
    with transaction.atomic():
        following = list(
            appointment.series.appointments.filter(
                starts_at__gte=appointment.starts_at, status=Status.BOOKED
            ).order_by("starts_at")
        )
        cancelled = [
            appointment_cancel(
                appointment=item, cancelled_by=cancelled_by, reason=reason, by=by, notify=False
            )
            for item in following
        ]
        if cancelled:
            notifications.queue(cancelled[0], notifications.Kind.CANCELLATION, series=cancelled)
    return cancelled


# --- Waitlist ---------------------------------------------------------------------------


def waitlist_matches(appointment: Appointment) -> list[WaitlistEntry]:
    """Entries whose preferences fit the slot a cancelled ``appointment`` freed."""
    candidates = WaitlistEntry.objects.filter(
        state=WaitlistEntry.State.WAITING, location=appointment.location
    ).select_related("patient", "appointment_type", "clinician")
    return [entry for entry in candidates if entry.matches(appointment)]


def waitlist_offer(
    *, entry: WaitlistEntry, appointment: Appointment, by: User | None
) -> WaitlistEntry:
    if appointment.status != Status.CANCELLED:
        raise ValidationError("Only the slot of a cancelled appointment can be offered.")
    if not entry.patient.email:
        raise ValidationError(
            f"{entry.patient.full_name} has no e-mail address; phone them instead."
        )
    if entry.state != WaitlistEntry.State.WAITING:
        raise ValidationError("This waitlist entry is no longer waiting.")
    with transaction.atomic():
        entry.state = WaitlistEntry.State.OFFERED
        entry.offered_at = timezone.now()
        entry.save(update_fields=["state", "offered_at"])
        notifications.queue_waitlist_offer(entry=entry, appointment=appointment)
    return entry
