"""The calendar grids: a day at a location (a column per clinician) and a clinician's week.

Rows are local wall-clock times in steps of ``ROW_MINUTES``; each column has its own date,
so the same builder serves both views. Every query is made once per page, whatever the
number of clinicians or appointments.
"""

import datetime
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper
from zoneinfo import ZoneInfo

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from clinic.compiled_queries import (
    ID_PLACEHOLDER,
    INSTANT_PLACEHOLDER,
    SECOND_INSTANT_PLACEHOLDER,
    THIRD_INSTANT_PLACEHOLDER,
    CompiledRead,
)
from clinic.links import link_maker
from clinic.models import Location, User

from .models import (
    LONGEST_APPOINTMENT,
    Appointment,
    Closure,
    Status,
    TimeOff,
    WorkingHours,
    local_day_bounds,
)

ROW_MINUTES = 15
DEFAULT_OPEN = datetime.time(8, 0)
DEFAULT_CLOSE = datetime.time(18, 0)

#: What the printed day list reads of an appointment. A patient row is wide and costs more
#: to load than a busy day costs to draw, and every further join makes PostgreSQL plan
#: longer than it reads: names come as plain values, clinicians and locations from the
#: working hours already loaded.
PRINTED_FIELDS = (
    "starts_at",
    "ends_at",
    "status",
    "source",
    "late_cancellation",
    "patient",
    "clinician",
    "location",
    "room",
    "appointment_type",
    "patient__first_name",
    "patient__last_name",
    "patient__date_of_birth",
    "patient__phone",
)


@dataclass(slots=True)
class ShownAppointment:
    """An appointment as the grids draw it, read as plain values: a busy day's hundred
    model instances, each with its related-object descriptors, cost more than the page."""

    pk: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    status: str
    source: str
    late_cancellation: bool
    clinician_id: int
    location_id: int
    appointment_type_id: int
    patient_name: str
    type_name: str
    clinician: User | None = None
    location: Location | None = None


#: The columns read into a ShownAppointment, names last; its clinician and location come
#: from objects the page has already loaded.
SHOWN_VALUES = (
    "pk",
    "starts_at",
    "ends_at",
    "status",
    "source",
    "late_cancellation",
    "clinician_id",
    "location_id",
    "appointment_type_id",
    "patient__first_name",
    "patient__last_name",
    "appointment_type__name",
)


def _printed(queryset) -> list[Appointment]:
    return list(
        queryset.select_related("patient")
        .only(*PRINTED_FIELDS)
        .annotate(type_name=F("appointment_type__name"), room_name=F("room__name"))
    )


def _shown_overlapping(owner: str) -> CompiledRead:
    """What a calendar shows of the appointments of one location or clinician (``owner``)
    overlapping an interval, compiled once: every day and week view reads them."""
    return CompiledRead(
        lambda owner_id, start, end, earliest: (
            Appointment.objects.filter(**{owner: owner_id})
            .overlapping(start, end, earliest)
            .values_list(*SHOWN_VALUES)
        ),
        ID_PLACEHOLDER,
        INSTANT_PLACEHOLDER,
        SECOND_INSTANT_PLACEHOLDER,
        THIRD_INSTANT_PLACEHOLDER,
    )


_at_location = _shown_overlapping("location")
_of_clinician = _shown_overlapping("clinician")


def _shown(
    read: CompiledRead, owner_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[ShownAppointment]:
    # Patient.full_name is put together here: a Concat costs more to compile than to join.
    return [
        ShownAppointment(*row, f"{first} {last}", type_name)
        for *row, first, last, type_name in read.all(
            owner_id, start, end, start - LONGEST_APPOINTMENT
        )
    ]


def _attach(
    appointments: list[Appointment | ShownAppointment], field: str, known: dict, model
) -> None:
    """Sets each appointment's clinician or location from ``known``, reading any missing
    ones in one query."""
    attname = f"{field}_id"
    missing = {getattr(a, attname) for a in appointments} - known.keys()
    if missing:
        queryset = model.objects.select_related("staff_profile") if model is User else model.objects
        known = {**known, **queryset.in_bulk(missing)}
    for a in appointments:
        setattr(a, field, known[getattr(a, attname)])


@dataclass(slots=True)
class Cell:
    kind: str  # "appointment", "free", "off" or "covered"
    starts_at: datetime.datetime
    appointments: list[Appointment | ShownAppointment] = field(default_factory=list)
    rowspan: int = 1


@dataclass
class Column:
    title: str
    day: datetime.date
    clinician: User
    location: Location
    cells: list[Cell] = field(default_factory=list)
    closed_reason: str = ""


@dataclass
class Grid:
    zone: ZoneInfo
    times: list[datetime.time]
    columns: list[Column]
    cancelled: list[Appointment | ShownAppointment]


def _applies(block: WorkingHours, day: datetime.date) -> bool:
    return (block.valid_from is None or block.valid_from <= day) and (
        block.valid_until is None or day <= block.valid_until
    )


def _row_times(opens: datetime.time, closes: datetime.time) -> list[datetime.time]:
    start = datetime.datetime.combine(datetime.date.min, opens.replace(minute=0))
    end = datetime.datetime.combine(datetime.date.min, closes)
    times = []
    while start < end:
        times.append(start.time())
        start += datetime.timedelta(minutes=ROW_MINUTES)
    return times


def _fill(
    column: Column, times: list[datetime.time], zone: ZoneInfo, blocks, appointments, off
) -> None:
    starts = [datetime.datetime.combine(column.day, t, tzinfo=zone) for t in times]
    step = datetime.timedelta(minutes=ROW_MINUTES)
    # Rows are consecutive wall-clock steps, so an appointment's row is arithmetic on its
    # local wall-clock start (aware datetimes in one zone compare by wall clock too).
    first_wall = starts[0].replace(tzinfo=None)
    cells: list[Cell | None] = [None] * len(times)
    for appointment in sorted(appointments, key=lambda a: a.starts_at):
        local = appointment.starts_at.astimezone(zone)
        index = max(0, (local.replace(tzinfo=None) - first_wall) // step)
        if index >= len(times):
            continue
        cell = cells[index]
        if cell is not None and cell.kind in ("appointment", "covered"):
            owner = cell if cell.kind == "appointment" else _owner(cells, index)
            owner.appointments.append(appointment)
            continue
        span = max(
            1, math.ceil((appointment.ends_at - max(appointment.starts_at, starts[index])) / step)
        )
        span = min(span, len(times) - index)
        cells[index] = Cell("appointment", starts[index], [appointment], span)
        for j in range(index + 1, index + span):
            if cells[j] is None:
                cells[j] = Cell("covered", starts[j])
    hours = [] if column.closed_reason else [(b.start_time, b.end_time) for b in blocks]
    for i, start in enumerate(starts):
        if cells[i] is not None:
            continue
        wall = times[i]
        working = any(opens <= wall < closes for opens, closes in hours)
        away = working and any(o.starts_at < start + step and o.ends_at > start for o in off)
        cells[i] = Cell("free" if working and not away else "off", start)
    column.cells = cells


def _owner(cells: list[Cell | None], index: int) -> Cell:
    while index > 0 and cells[index].kind == "covered":
        index -= 1
    return cells[index]


def _closure_reason(location: Location, day: datetime.date, closures) -> str:
    for closure in closures:
        if closure.starts_on <= day <= closure.ends_on and closure.location_id in (
            None,
            location.pk,
        ):
            return closure.reason
    return ""


def _bounds(blocks, appointments, zone) -> tuple[datetime.time, datetime.time]:
    opens = [b.start_time for b in blocks] + [
        a.starts_at.astimezone(zone).time() for a in appointments
    ]
    closes = [b.end_time for b in blocks] + [
        a.ends_at.astimezone(zone).time() for a in appointments
    ]
    return (min(opens, default=DEFAULT_OPEN), max(closes, default=DEFAULT_CLOSE))


def day_grid(location: Location, day: datetime.date, *, printed: bool = False) -> Grid:
    zone = location.zone
    blocks = [
        b
        # Unordered: the columns are sorted by name below, and a clinician's blocks in any order.
        for b in WorkingHours.objects.filter(location=location, weekday=day.weekday())
        .select_related("clinician__staff_profile")
        .order_by()
        if _applies(b, day)
    ]
    if printed:
        appointments = _printed(Appointment.objects.for_day(location, day))
    else:
        appointments = _shown(_at_location, location.pk, *local_day_bounds(location, day))
    _attach(appointments, "location", {location.pk: location}, Location)
    _attach(appointments, "clinician", {b.clinician_id: b.clinician for b in blocks}, User)
    shown = [a for a in appointments if a.status != Status.CANCELLED]
    clinicians = {b.clinician_id: b.clinician for b in blocks}
    for a in shown:
        clinicians.setdefault(a.clinician_id, a.clinician)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=1)
    off = defaultdict(list)
    for o in TimeOff.objects.filter(
        clinician_id__in=list(clinicians), starts_at__lt=end, ends_at__gt=start
    ).order_by():
        off[o.clinician_id].append(o)
    closures = list(
        Closure.objects.filter(
            Q(location=location) | Q(location__isnull=True), starts_on__lte=day, ends_on__gte=day
        )
    )
    opens, closes = _bounds(blocks, shown, zone)
    times = _row_times(opens, closes)
    by_clinician = defaultdict(list)
    for a in shown:
        by_clinician[a.clinician_id].append(a)
    columns = []
    for clinician in sorted(clinicians.values(), key=lambda u: (u.last_name, u.first_name, u.pk)):
        column = Column(
            str(clinician),
            day,
            clinician,
            location,
            closed_reason=_closure_reason(location, day, closures),
        )
        _fill(
            column,
            times,
            zone,
            [b for b in blocks if b.clinician_id == clinician.pk],
            by_clinician[clinician.pk],
            off[clinician.pk],
        )
        columns.append(column)
    cancelled = [a for a in appointments if a.status == Status.CANCELLED]
    return Grid(zone, times, columns, cancelled)


#: One clinician's working hours by day and time (no join to the clinician needed), with
#: their locations, compiled once: every week view reads them.
_weekly_hours = CompiledRead(
    lambda clinician_id: (
        WorkingHours.objects.filter(clinician=clinician_id)
        .select_related("location")
        .order_by("weekday", "start_time")
    ),
    ID_PLACEHOLDER,
)


def week_grid(clinician: User, location: Location, monday: datetime.date) -> Grid:
    """One clinician's week; times are shown in ``location``'s zone, appointments at any
    location included."""
    zone = location.zone
    days = [monday + datetime.timedelta(days=i) for i in range(7)]
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=7)
    blocks = _weekly_hours.all(clinician.pk)
    appointments = _shown(_of_clinician, clinician.pk, start, end)
    _attach(appointments, "clinician", {clinician.pk: clinician}, User)
    _attach(appointments, "location", {b.location_id: b.location for b in blocks}, Location)
    shown = [a for a in appointments if a.status != Status.CANCELLED]
    off = list(
        TimeOff.objects.filter(clinician=clinician, starts_at__lt=end, ends_at__gt=start).order_by()
    )
    closures = list(Closure.objects.filter(starts_on__lte=days[-1], ends_on__gte=days[0]))
    opens, closes = _bounds(blocks, shown, zone)
    times = _row_times(opens, closes)
    by_day = defaultdict(list)
    for a in shown:
        by_day[a.starts_at.astimezone(zone).date()].append(a)
    columns = []
    for day in days:
        day_blocks = [b for b in blocks if b.weekday == day.weekday() and _applies(b, day)]
        where = day_blocks[0].location if day_blocks else location
        column = Column(
            day.strftime("%a %d %b"),
            day,
            clinician,
            where,
            closed_reason=_closure_reason(where, day, closures),
        )
        _fill(
            column,
            times,
            zone,
            day_blocks,
            by_day[day],
            off,
        )
        columns.append(column)
    cancelled = [a for a in appointments if a.status == Status.CANCELLED]
    return Grid(zone, times, columns, cancelled)


def options_html(choices, selected_pk: int, label: Callable = str) -> SafeString:
    """A picker's options in one pass rather than a template loop; every label is escaped."""
    return mark_safe(
        "".join(
            f'<option value="{choice.pk}"{" selected" if choice.pk == selected_pk else ""}>'
            f"{escape(label(choice))}</option>"
            for choice in choices
        )
    )


def cancelled_list(grid: Grid) -> list[dict]:
    """The cancelled appointments under a day's grid, their words put together once."""
    detail = link_maker("appointments:detail")
    return [
        {
            "url": detail(a.pk),
            "time": f"{timezone.localtime(a.starts_at, grid.zone):%H:%M}",
            "patient_name": a.patient_name,
            "clinician": a.clinician,
            "late": a.late_cancellation,
        }
        for a in grid.cancelled
    ]


def grid_rows_html(grid: Grid, *, can_book: bool, week_view: bool = False) -> SafeString:
    """The grid's body rows, built in one pass rather than by a template tag per cell: a
    busy day has hundreds of cells. Every value that comes from the database is escaped."""
    zone = grid.zone
    book_url = escape(reverse("appointments:create"))
    detail = link_maker("appointments:detail")
    status_labels = dict(Status.choices)
    free_links = [
        (
            f"{book_url}?clinician={column.clinician.pk}&amp;location={column.location.pk}"
            f"&amp;date={column.day.isoformat()}&amp;time=",
            f" on {column.day:%a %d %b} with {escape(str(column.clinician))}",
        )
        for column in grid.columns
    ]
    rows = []
    for i, time in enumerate(grid.times):
        wall = f"{time:%H:%M}"
        html = [
            f'<tr><th scope="row" class="calendar-time">{wall if time.minute == 0 else ""}</th>'
        ]
        at = f"{wall[:2]}%3A{wall[3:]}"
        for column, (query, label_end) in zip(grid.columns, free_links, strict=True):
            cell = column.cells[i]
            kind = cell.kind
            if kind == "free":
                if can_book:
                    label = f"Book {wall}{label_end}"
                    html.append(
                        f'<td class="calendar-free"><a class="free-slot" href="{query}{at}" '
                        f'aria-label="{label}" title="{label}"><span aria-hidden="true">+</span>'
                        "</a></td>"
                    )
                else:
                    html.append('<td class="calendar-free"></td>')
            elif kind == "off":
                html.append('<td class="calendar-off"></td>')
            elif kind == "appointment":
                html.append(f'<td rowspan="{cell.rowspan}" class="calendar-appt">\n')
                for a in cell.appointments:
                    status = escape(a.status)
                    where = f" · {escape(str(a.location))}" if week_view else ""
                    online = (
                        ' <span class="badge text-bg-info">online</span>'
                        if a.source == "online"
                        else ""
                    )
                    html.append(
                        f'<a class="appt type-{a.appointment_type_id} status-{status}" '
                        f'href="{escape(detail(a.pk))}">\n'
                        f'<span class="appt-time">{a.starts_at.astimezone(zone):%H:%M}–'
                        f"{a.ends_at.astimezone(zone):%H:%M}</span>\n"
                        f'<span class="appt-patient">{escape(a.patient_name)}</span>\n'
                        f'<span class="appt-type">{escape(a.type_name)}{where}</span>\n'
                        f'<span class="badge status-badge status-{status}">'
                        f"{escape(str(status_labels.get(a.status, a.status)))}</span>{online}\n"
                        "</a>\n"
                    )
                html.append("</td>")
        html.append("</tr>\n")
        rows.append("".join(html))
    return mark_safe("".join(rows))
