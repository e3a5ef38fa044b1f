"""The calendar grids: a day at a location (a column per clinician) and a clinician's week.

Rows are local wall-clock times in steps of ``ROW_MINUTES``; each column has its own date,
so the same builder serves both views. Every query is made once per page, whatever the
number of clinicians or appointments.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Q

from clinic.models import Location, User
from clinic.roles import Role

from .models import Appointment, Closure, Status, TimeOff, WorkingHours

ROW_MINUTES = 15
DEFAULT_OPEN = datetime.time(8, 0)
DEFAULT_CLOSE = datetime.time(18, 0)


@dataclass
class Cell:
    kind: str  # "appointment", "free", "off" or "covered"
    starts_at: datetime.datetime
    appointments: list[Appointment] = field(default_factory=list)
    rowspan: int = 1
    book_query: str = ""
    label: str = ""


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
    cancelled: list[Appointment]

    @property
    def rows(self) -> list[tuple[datetime.time, list[Cell]]]:
        return [(t, [column.cells[i] for column in self.columns]) for i, t in enumerate(self.times)]


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
    cells: list[Cell | None] = [None] * len(times)
    for appointment in sorted(appointments, key=lambda a: a.starts_at):
        local = appointment.starts_at.astimezone(zone)
        index = next(
            (i for i, s in enumerate(starts) if s <= local < s + step),
            0 if local < starts[0] else None,
        )
        if index is None:
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
    for i, start in enumerate(starts):
        if cells[i] is not None:
            continue
        wall = times[i]
        working = not column.closed_reason and any(
            b.start_time <= wall < b.end_time for b in blocks
        )
        away = any(o.starts_at < start + step and o.ends_at > start for o in off)
        if working and not away:
            query = urlencode(
                {
                    "clinician": column.clinician.pk,
                    "location": column.location.pk,
                    "date": column.day.isoformat(),
                    "time": wall.strftime("%H:%M"),
                }
            )
            label = f"Book {wall:%H:%M} on {column.day:%a %d %b} with {column.clinician}"
            cells[i] = Cell("free", start, book_query=query, label=label)
        else:
            cells[i] = Cell("off", start)
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


def day_grid(location: Location, day: datetime.date) -> Grid:
    zone = location.zone
    blocks = [
        b
        for b in WorkingHours.objects.filter(
            location=location, weekday=day.weekday()
        ).select_related("clinician__staff_profile")
        if _applies(b, day)
    ]
    appointments = list(Appointment.objects.for_day(location, day))
    shown = [a for a in appointments if a.status != Status.CANCELLED]
    clinicians = {b.clinician_id: b.clinician for b in blocks}
    for a in shown:
        clinicians.setdefault(a.clinician_id, a.clinician)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=1)
    off = defaultdict(list)
    for o in TimeOff.objects.filter(
        clinician_id__in=list(clinicians), starts_at__lt=end, ends_at__gt=start
    ):
        off[o.clinician_id].append(o)
    closures = list(
        Closure.objects.filter(
            Q(location=location) | Q(location__isnull=True), starts_on__lte=day, ends_on__gte=day
        )
    )
    opens, closes = _bounds(blocks, shown, zone)
    times = _row_times(opens, closes)
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
            [a for a in shown if a.clinician_id == clinician.pk],
            off[clinician.pk],
        )
        columns.append(column)
    cancelled = [a for a in appointments if a.status == Status.CANCELLED]
    return Grid(zone, times, columns, cancelled)


def week_grid(clinician: User, location: Location, monday: datetime.date) -> Grid:
    """One clinician's week; times are shown in ``location``'s zone, appointments at any
    location included."""
    zone = location.zone
    days = [monday + datetime.timedelta(days=i) for i in range(7)]
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone)
    end = start + datetime.timedelta(days=7)
    blocks = [
        b for b in WorkingHours.objects.filter(clinician=clinician).select_related("location")
    ]
    appointments = list(
        Appointment.objects.filter(clinician=clinician).overlapping(start, end).with_related()
    )
    shown = [a for a in appointments if a.status != Status.CANCELLED]
    off = list(TimeOff.objects.filter(clinician=clinician, starts_at__lt=end, ends_at__gt=start))
    closures = list(Closure.objects.filter(starts_on__lte=days[-1], ends_on__gte=days[0]))
    opens, closes = _bounds(blocks, shown, zone)
    times = _row_times(opens, closes)
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
            [a for a in shown if a.starts_at.astimezone(zone).date() == day],
            off,
        )
        columns.append(column)
    cancelled = [a for a in appointments if a.status == Status.CANCELLED]
    return Grid(zone, times, columns, cancelled)


def physiotherapists():
    return (
        User.objects.filter(is_active=True, groups__name=Role.PHYSIOTHERAPIST)
        .select_related("staff_profile")
        .order_by("last_name", "first_name")
    )
