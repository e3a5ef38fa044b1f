"""Reads the schedule from the database and asks the pure slot finder for free times."""

import dataclasses
import datetime
from collections import defaultdict
from typing import NamedTuple

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Model, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from clinic.compiled_queries import ID_PLACEHOLDER, SECOND_ID_PLACEHOLDER, CompiledRead
from clinic.models import Location, Room, User
from clinic.roles import Role

from . import slots
from .models import (
    LONGEST_APPOINTMENT,
    Appointment,
    AppointmentType,
    Closure,
    PracticeSettings,
    TimeOff,
    WorkingHours,
    live_overlapping_sql,
)


def _offers(type_id: int, model: type[Model], column: str) -> Q:
    """The clinician in ``column`` of ``model`` offers the type (by id): every clinician
    does when the type lists none. The two subqueries are written out (the ORM's cost more
    to build than to run); the column is the ORM's, so the condition holds inside any
    query."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    listed = quote(AppointmentType.clinicians.through._meta.db_table)
    nobody_listed = RawSQL(
        f"NOT EXISTS (SELECT 1 FROM {listed} WHERE appointmenttype_id = %s)",
        (type_id,),
        output_field=BooleanField(),
    )
    offering = RawSQL(f"SELECT user_id FROM {listed} WHERE appointmenttype_id = %s", (type_id,))
    return Q(nobody_listed) | Q(**{f"{column}__in": offering})


def _clinicians_offering(type_id: int, location_id: int):
    return (
        User.objects.filter(
            _offers(type_id, User, "id"),
            pk__in=WorkingHours.objects.filter(location=location_id).values("clinician_id"),
            is_active=True,
            groups__name=Role.PHYSIOTHERAPIST,
        )
        .select_related("staff_profile")
        .order_by("last_name", "first_name")
    )


def clinicians_offering(appointment_type: AppointmentType, location: Location):
    """Active clinicians who offer the type and have working hours at the location."""
    return _clinicians_offering(appointment_type.pk, location.pk)


#: ``clinicians_offering`` who may also be chosen online, compiled once: every online
#: booking page reads them.
online_clinicians_read = CompiledRead(
    lambda type_id, location_id: _clinicians_offering(type_id, location_id).exclude(
        staff_profile__bookable_online=False
    ),
    ID_PLACEHOLDER,
    SECOND_ID_PLACEHOLDER,
)

#: The working hours at a location of those who offer a type, compiled once: every
#: search for free time reads them.
_working_hours = CompiledRead(
    lambda type_id, location_id: (
        WorkingHours.objects.filter(
            _offers(type_id, WorkingHours, "clinician_id"), location=location_id
        )
        .order_by()
        .values_list(
            "clinician_id", "weekday", "start_time", "end_time", "valid_from", "valid_until"
        )
    ),
    ID_PLACEHOLDER,
    SECOND_ID_PLACEHOLDER,
)


def _microseconds(column: str, vendor: str) -> str:
    """SQL for an instant as whole microseconds since 1970 UTC.

    The schedule of a few weeks is thousands of rows; the driver reads an integer many
    times faster than a timestamp, and microseconds keep every instant exact.
    """
    if vendor == "sqlite":
        # Stored as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]"; julianday() reads milliseconds
        # at best, so whole seconds come from it and the microseconds from the text.
        seconds = (
            f"CAST(ROUND((julianday(substr({column}, 1, 19)) - 2440587.5) * 86400) AS INTEGER)"
        )
        return f"({seconds} * 1000000 + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_DAY = _EPOCH.date()
_MINUTE_US = 60_000_000
#: With a limit, the schedule is read a few days at a time, each read twice as long; four
#: days hold sixty free times at a practice of ten clinicians, whatever the weekday.
_FIRST_READ_DAYS = 4


def _timeline(spans: list[tuple[int, int]]) -> slots.Timeline:
    """Busy spans in microseconds, joined where they touch or overlap, as a timeline."""
    return slots.Timeline(*slots.joined_bounds(spans))


def _local_midnight(day: datetime.date, zone) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def _days_since_1970(column: str, vendor: str) -> str:
    if vendor == "sqlite":
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
    return f"({column} - DATE '1970-01-01')"


#: What each row of the schedule read is: a busy span, a room, or a closure.
_BUSY, _ROOM, _CLOSURE = 0, 1, 2


def _schedule_query(
    connection: BaseDatabaseWrapper, in_window: str, clinicians: int, rooms: bool
) -> str:
    """The clinicians' live appointments with their types' buffers (from their own index
    alone) and their time off; with rooms, the location's active rooms ranked by name and
    the other clinicians' live appointments in them; and the closures. ``in_window`` is
    the appointments' condition (``live_overlapping_sql`` on the alias ``a``). Written out:
    building it with the ORM cost about as much as running it."""
    vendor = connection.vendor
    appointment, appointment_type, time_off, room, closure = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (Appointment, AppointmentType, TimeOff, Room, Closure)
    )
    by_clinician = ", ".join(["%s"] * clinicians)
    active_rooms = f"FROM {room} r WHERE r.location_id = %s AND r.active"
    sql = (
        f"SELECT {_BUSY}, a.clinician_id, a.room_id, {_microseconds('a.starts_at', vendor)}, "
        f"{_microseconds('a.ends_at', vendor)}, t.buffer_after_minutes "
        f"FROM {appointment} a "
        f"INNER JOIN {appointment_type} t ON a.appointment_type_id = t.id "
        f"WHERE {in_window} AND a.clinician_id IN ({by_clinician}) "
        f"UNION ALL "
        f"SELECT {_BUSY}, o.clinician_id, NULL, {_microseconds('o.starts_at', vendor)}, "
        f"{_microseconds('o.ends_at', vendor)}, 0 "
        f"FROM {time_off} o "
        f"WHERE o.clinician_id IN ({by_clinician}) AND o.starts_at < %s AND o.ends_at > %s "
        f"UNION ALL "
        f"SELECT {_CLOSURE}, NULL, NULL, {_days_since_1970('c.starts_on', vendor)}, "
        f"{_days_since_1970('c.ends_on', vendor)}, NULL "
        f"FROM {closure} c "
        f"WHERE (c.location_id = %s OR c.location_id IS NULL) "
        f"AND c.starts_on <= %s AND c.ends_on >= %s"
    )
    if rooms:
        sql += (
            f" UNION ALL "
            f"SELECT {_ROOM}, NULL, r.id, ROW_NUMBER() OVER (ORDER BY r.name), NULL, NULL "
            f"{active_rooms} "
            f"UNION ALL "
            f"SELECT {_BUSY}, a.clinician_id, a.room_id, {_microseconds('a.starts_at', vendor)}, "
            f"{_microseconds('a.ends_at', vendor)}, 0 "
            f"FROM {appointment} a "
            f"WHERE {in_window} AND a.room_id IN (SELECT r.id {active_rooms}) "
            f"AND NOT a.clinician_id IN ({by_clinician})"
        )
    return sql


class _Schedule(NamedTuple):
    busy: dict[int, slots.Timeline]
    room_busy: dict[int, slots.Timeline]
    #: The location's active rooms by name, or None when the type needs no room.
    room_ids: list[int] | None
    closures: list[slots.Interval]


def _schedule(
    ids: list[int],
    location: Location,
    rooms: bool,
    first_day: datetime.date,
    last_day: datetime.date,
    window_start: datetime.datetime,
    window_end: datetime.datetime,
) -> _Schedule:
    """Each clinician's live appointments (with their buffers) and time off, merged, over
    the window given; with ``rooms``, the location's active rooms and their live
    appointments; and the closures of the days given: everything that takes time away, in
    one read.

    Appointments ending up to eight hours before the window are read too, so the buffer
    after one still counts at its start; as ``overlapping()`` does, their start is bounded
    by the longest appointment too, which keeps the read on the index by start."""
    connection = connections[router.db_for_read(Appointment)]
    in_window, appointments = live_overlapping_sql(
        window_start - LONGEST_APPOINTMENT, window_end, connection, prefix="a."
    )
    sql = _schedule_query(connection, in_window, len(ids), rooms)
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        *appointments,
        *ids,
        *ids,
        adapt(window_end),
        adapt(window_start),
        location.pk,
        connection.ops.adapt_datefield_value(last_day),
        connection.ops.adapt_datefield_value(first_day),
    ]
    if rooms:
        values += [location.pk, *appointments, location.pk, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        fetched = cursor.fetchall()
    clinician_spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    room_spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    ranked_rooms: list[tuple[int, int]] = []
    closed_days: list[tuple[int, int]] = []
    candidates = set(ids)
    for kind, clinician_id, room_id, start, end, buffer_minutes in fetched:
        if kind == _BUSY:
            if clinician_id in candidates:
                clinician_spans[clinician_id].append((start, end + buffer_minutes * _MINUTE_US))
            if room_id is not None:
                room_spans[room_id].append((start, end))
        elif kind == _ROOM:
            ranked_rooms.append((start, room_id))
        else:
            closed_days.append((start, end))
    zone = location.zone
    return _Schedule(
        {pk: _timeline(spans) for pk, spans in clinician_spans.items()},
        {pk: _timeline(spans) for pk, spans in room_spans.items()},
        [pk for _, pk in sorted(ranked_rooms)] if rooms else None,
        [
            slots.Interval(
                _local_midnight(_EPOCH_DAY + datetime.timedelta(days=starts), zone),
                _local_midnight(_EPOCH_DAY + datetime.timedelta(days=ends + 1), zone),
            )
            for starts, ends in closed_days
        ],
    )


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
    among: list[User] | None = None,
    practice: PracticeSettings | None = None,
    one_per_start: bool = False,
) -> list[slots.Slot]:
    """Free start times for the type at the location, for one clinician or any.

    Minimum notice and the booking horizon come from the practice settings. A caller that
    already holds the clinicians to consider (with their staff profiles, in its order)
    passes them as ``among``, saving the query, as ``practice`` saves reading the settings
    again: those offering the type at the location are picked out as their working hours
    are read, in the same query.
    With a ``limit``, the schedule is read four days first (weekends included),
    then each read twice as long as the last, until enough times are found.
    ``one_per_start`` keeps one slot per start time, the first clinician's in order (any
    clinician will do, as in online booking).
    """
    now = now or timezone.now()
    practice = practice or PracticeSettings.load()
    if among is None:
        among = list(clinicians_offering(appointment_type, location))
    candidates = [c for c in among if clinician is None or c.pk == clinician.pk]
    zone = location.zone
    first_day = max(first_day, (now + practice.min_notice).astimezone(zone).date())
    last_day = min(last_day, (now + practice.horizon).astimezone(zone).date())
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative.")
    if not candidates or first_day > last_day or limit == 0:
        return []
    ids = [c.pk for c in candidates]

    hours = defaultdict(list)
    wanted = set(ids)
    for clinician_id, *block in _working_hours.all(appointment_type.pk, location.pk):
        if clinician_id in wanted:
            hours[clinician_id].append(slots.WorkingBlock(*block))
    if appointment_type.needs_dry_needling_certification:
        hours = _certified_hours(hours, candidates)
    candidates = [c for c in candidates if c.pk in hours]
    if not candidates:
        return []
    ids = [c.pk for c in candidates]

    earliest = now + practice.min_notice

    def search(first: datetime.date, last: datetime.date, wanted: int | None) -> list | None:
        """The free times of the days given; None when the type needs a room and the
        location has no active room, so that no day can have any."""
        # No slot starts before the earliest bookable instant, and none ends, with its own
        # buffer, after the buffer following the last day.
        schedule = _schedule(
            ids,
            location,
            appointment_type.needs_room,
            first,
            last,
            max(_local_midnight(first, zone), earliest),
            _local_midnight(last + datetime.timedelta(days=1), zone)
            + appointment_type.buffer_after,
        )
        if schedule.room_ids == []:
            return None
        found = slots.find_slots(
            zone=zone,
            first_day=first,
            last_day=last,
            duration=appointment_type.duration,
            buffer_after=appointment_type.buffer_after,
            clinicians=[
                slots.ClinicianCalendar(pk, hours[pk], schedule.busy.get(pk, ())) for pk in ids
            ],
            closures=schedule.closures,
            rooms=None
            if schedule.room_ids is None
            else [
                slots.RoomCalendar(pk, schedule.room_busy.get(pk, ())) for pk in schedule.room_ids
            ],
            now=now,
            min_notice=practice.min_notice,
            horizon=practice.horizon,
            weekdays=weekdays if windows is None else sorted({w[0] for w in windows}),
            times_of_day=times_of_day,
            limit=wanted if windows is None else None,
            one_per_start=one_per_start,
        )
        if windows is not None:
            # "Tuesday evening or Saturday": a slot suits when any (day, hours) window holds it.
            found = [s for s in found if _in_windows(s.start.astimezone(zone), windows)]
        return found

    if limit is None:
        return search(first_day, last_day, None) or []
    found: list[slots.Slot] = []
    first, days = first_day, _FIRST_READ_DAYS
    while first <= last_day and len(found) < limit:
        last = min(last_day, first + datetime.timedelta(days=days - 1))
        more = search(first, last, limit - len(found))
        if more is None:
            return []
        found += more
        first, days = last + datetime.timedelta(days=1), days * 2
    return found[:limit]


def _certified_hours(hours: dict, clinicians: list[User]) -> dict:
    """Each clinician's working hours cut to the days their dry-needling certification
    covers (from the day it was granted to the day it expires); none without one."""
    certified = defaultdict(list)
    for clinician in clinicians:
        profile = getattr(clinician, "staff_profile", None)
        if profile is None or profile.dry_needling_certified_on is None:
            continue
        since, until = profile.dry_needling_certified_on, profile.dry_needling_expires_on
        for block in hours.get(clinician.pk, ()):
            valid_from = max(filter(None, (block.valid_from, since)))
            valid_until = min(filter(None, (block.valid_until, until)), default=None)
            if valid_until is None or valid_from <= valid_until:
                certified[clinician.pk].append(
                    dataclasses.replace(block, valid_from=valid_from, valid_until=valid_until)
                )
    return certified


def _in_windows(local: datetime.datetime, windows) -> bool:
    return any(
        local.weekday() == day and start <= local.time() < end for day, start, end in windows
    )
