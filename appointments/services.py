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
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Q, QuerySet
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
    live_overlapping_sql,
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


def price_for(
    appointment_type: AppointmentType, *, new_patient: bool, practice: PracticeSettings
) -> tuple:
    """(price, discount percent) a booking carries: the discount is for a new patient only."""
    if new_patient:
        return appointment_type.price, practice.new_patient_discount_percent
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


@dataclass
class BookingRequest:
    patient: Patient
    clinician: User
    location: Location
    appointment_type: AppointmentType
    starts_at: datetime.datetime
    room: Room | None = None
    notes: str = ""

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + self.appointment_type.duration


@dataclass
class Approval:
    """A request that breaks no rule: the room to book, and what its price depends on."""

    room: Room | None
    practice: PracticeSettings
    new_patient: bool


def _answers(request: BookingRequest, *, exclude: list[int]) -> PracticeSettings:
    """The practice's settings, read in one query with the database's answer to each rule
    of the request: ``offered_by_anyone``, ``offered_by_clinician``, ``seen_before``,
    ``works_then``, ``away``, ``closed``, ``clash``, and for a type that needs a room when
    none was given, the first free one (``free_room_id``, ``free_room_name``). Only a rule
    broken needs a query of its own, to name what breaks it.

    Written as SQL: built with the ORM, its nine subqueries cost several milliseconds of
    Python on every booking, many times what the database spends answering them.
    """
    patient, clinician, location, kind = (
        request.patient,
        request.clinician,
        request.location,
        request.appointment_type,
    )
    # The checks read the primary, inside the booking's lock, whatever reports read from.
    database = router.db_for_write(Appointment)
    ops = connections[database].ops
    starts_at, ends_at = request.starts_at, request.ends_at
    local_start = timezone.localtime(starts_at, location.zone)
    local_end = timezone.localtime(ends_at, location.zone)
    day = ops.adapt_datefield_value(local_start.date())
    start, end = ops.adapt_datetimefield_value(starts_at), ops.adapt_datetimefield_value(ends_at)
    not_these = " AND id <> %s" * len(exclude)
    live, live_params = live_overlapping_sql(starts_at, ends_at, connections[database])
    overlapping = f"FROM {Appointment._meta.db_table} WHERE {live}{not_these}"
    overlapping_params = [*live_params, *exclude]
    involved, involved_params = "clinician_id = %s OR patient_id = %s", [clinician.pk, patient.pk]
    if request.room is not None:
        involved += " OR room_id = %s"
        involved_params.append(request.room.pk)
    offering = AppointmentType.clinicians.through._meta.db_table
    answers = [
        (
            f"EXISTS (SELECT 1 FROM {offering} WHERE appointmenttype_id = %s)",
            "offered_by_anyone",
            [kind.pk],
        ),
        (
            f"EXISTS (SELECT 1 FROM {offering} WHERE appointmenttype_id = %s AND user_id = %s)",
            "offered_by_clinician",
            [kind.pk, clinician.pk],
        ),
        (
            f"EXISTS (SELECT 1 FROM {Appointment._meta.db_table} "
            f"WHERE patient_id = %s AND status <> %s{not_these})",
            "seen_before",
            [patient.pk, str(Status.CANCELLED), *exclude],
        ),
        (
            f"EXISTS (SELECT 1 FROM {WorkingHours._meta.db_table} "
            "WHERE clinician_id = %s AND location_id = %s AND weekday = %s "
            "AND start_time <= %s AND end_time >= %s "
            "AND (valid_from IS NULL OR valid_from <= %s) "
            "AND (valid_until IS NULL OR valid_until >= %s))",
            "works_then",
            [
                clinician.pk,
                location.pk,
                local_start.weekday(),
                ops.adapt_timefield_value(local_start.time()),
                ops.adapt_timefield_value(local_end.time()),
                day,
                day,
            ],
        ),
        (
            f"EXISTS (SELECT 1 FROM {TimeOff._meta.db_table} "
            "WHERE clinician_id = %s AND starts_at < %s AND ends_at > %s)",
            "away",
            [clinician.pk, end, start],
        ),
        (
            f"EXISTS (SELECT 1 FROM {Closure._meta.db_table} WHERE starts_on <= %s "
            "AND ends_on >= %s AND (location_id = %s OR location_id IS NULL))",
            "closed",
            [day, day, location.pk],
        ),
        (
            f"EXISTS (SELECT 1 {overlapping} AND ({involved}))",
            "clash",
            overlapping_params + involved_params,
        ),
    ]
    if kind.needs_room and request.room is None:
        # The first active room by name that no overlapping live appointment holds.
        free = (
            f"FROM {Room._meta.db_table} WHERE location_id = %s AND active = %s "
            f"AND id NOT IN (SELECT room_id {overlapping} AND room_id IS NOT NULL) "
            "ORDER BY name LIMIT 1"
        )
        free_params = [location.pk, True, *overlapping_params]
        answers += [
            (f"(SELECT id {free})", "free_room_id", free_params),
            (f"(SELECT name {free})", "free_room_name", free_params),
        ]
    columns = ", ".join(f"{sql} AS {name}" for sql, name, _ in answers)
    sql = f"SELECT *, {columns} FROM {PracticeSettings._meta.db_table} WHERE id = %s"
    params = [value for _, _, values in answers for value in values] + [1]
    settings = PracticeSettings.objects.db_manager(database)
    practice = next(iter(settings.raw(sql, params)), None)
    if practice is None:
        PracticeSettings.load()
        practice = next(iter(settings.raw(sql, params)))
    return practice


def _time_off(
    clinician: User, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(clinician=clinician, starts_at__lt=ends_at, ends_at__gt=starts_at)


def _closures(location: Location, day: datetime.date) -> QuerySet[Closure]:
    return Closure.objects.filter(starts_on__lte=day, ends_on__gte=day).filter(
        Q(location=location) | Q(location__isnull=True)
    )


def _free_room(answers: PracticeSettings, location: Location) -> Room | None:
    if answers.free_room_id is None:
        return None
    room = Room.from_db(
        answers._state.db,
        ["id", "location_id", "name", "active"],
        [answers.free_room_id, location.pk, answers.free_room_name, True],
    )
    room.location = location
    return room


def _validate_request(request: BookingRequest, *, exclude: Iterable[int] = ()) -> Approval:
    """Raise BookingError for every rule the request breaks; otherwise approve it."""
    exclude = list(exclude)
    patient, clinician, location, kind = (
        request.patient,
        request.clinician,
        request.location,
        request.appointment_type,
    )
    starts_at, ends_at = request.starts_at, request.ends_at
    answers = _answers(request, exclude=exclude)
    errors: list[str] = []
    if patient.is_archived:
        errors.append(f"{patient.full_name} is archived; restore the record before booking.")
    if not kind.active:
        errors.append(f"{kind.name} is no longer offered.")
    if not clinician.is_active:
        errors.append(f"{clinician} no longer works here.")
    if answers.offered_by_anyone and not answers.offered_by_clinician:
        errors.append(f"{clinician} does not offer {kind.name}.")
    if kind.needs_dry_needling_certification:
        profile = getattr(clinician, "staff_profile", None)
        day = timezone.localtime(starts_at, location.zone).date()
        if profile is None or not profile.dry_needling_certified(on=day):
            errors.append(
                f"{kind.name} needs a clinician with a current dry-needling certification; "
                f"{clinician} has none on that day."
            )
    if kind.new_patients_only and answers.seen_before:
        errors.append(
            f"{kind.name} is for new patients only; {patient.full_name} has been seen before."
        )
    room = request.room
    if room is not None and (room.location_id != location.pk or not room.active):
        errors.append(f"{room.name} is not an active room at {location}.")
    if kind.needs_room and room is None:
        room = _free_room(answers, location)
        if room is None:
            errors.append(
                f"No room is free at {location} from {_fmt(starts_at, location)} "
                f"to {_fmt(ends_at, location)}."
            )
    errors += _availability_problems(request, answers)
    if answers.clash:
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
    return Approval(room, answers, new_patient=not answers.seen_before)


def _availability_problems(request: BookingRequest, answers: PracticeSettings) -> list[str]:
    """Working hours, time off and closures that rule out this time."""
    clinician, location = request.clinician, request.location
    problems = []
    local_start = timezone.localtime(request.starts_at, location.zone)
    local_end = timezone.localtime(request.ends_at, location.zone)
    day = local_start.date()
    if not answers.works_then or local_end.date() != day:
        problems.append(
            f"{clinician} does not work at {location} at {local_start:%H:%M} on {local_start:%A}."
        )
    if answers.away:
        for off in _time_off(clinician, request.starts_at, request.ends_at):
            problems.append(f"{clinician} is away then ({off.get_kind_display().lower()}).")
    if answers.closed:
        closure = _closures(location, day).first()
        if closure is not None:
            problems.append(f"{location} is closed on {day:%d %b %Y} ({closure.reason}).")
    return problems


def _lock_clinician(clinician: User) -> None:
    # On PostgreSQL this queues bookings for one clinician so the checks see every
    # committed booking; SQLite's IMMEDIATE transactions already queue all writers.
    list(User.objects.select_for_update().filter(pk=clinician.pk).values_list("pk"))


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
            approval = _validate_request(request)
            price, discount = price_for(
                appointment_type, new_patient=approval.new_patient, practice=approval.practice
            )
            appointment = Appointment.objects.create(
                patient=patient,
                clinician=clinician,
                location=location,
                room=approval.room,
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
                notifications.queue(
                    appointment,
                    notifications.Kind.CONFIRMATION,
                    just_booked=True,
                    practice=approval.practice,
                )
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
            approval = _validate_request(request, exclude=[locked.pk])
            previous = _fmt_day(locked.starts_at, locked.location)
            locked.starts_at = starts_at
            locked.ends_at = starts_at + locked.appointment_type.duration
            locked.clinician = clinician
            locked.room = approval.room
            locked.save()
            _record_status(locked, locked.status, by, note=f"Moved from {previous}")
            if notify:
                notifications.queue(locked, notifications.Kind.CHANGE, practice=approval.practice)
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
