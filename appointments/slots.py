"""Free start times for an appointment: pure time arithmetic, no database.

Working hours are local wall-clock times in the location's zone; everything else is an
instant. Candidates step through real (UTC) time, so every slot lasts exactly its
duration, also across daylight-saving changes. Results are in UTC.

Inside, instants are whole microseconds since 1970 UTC: hundreds of candidate starts are
checked against every busy timeline, and integers compare and add far faster than aware
datetimes. Datetimes are built only for the slots returned.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "ClinicianCalendar",
    "Interval",
    "RoomCalendar",
    "Slot",
    "Timeline",
    "WorkingBlock",
    "find_slots",
    "merge_intervals",
    "next_available",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


def _microseconds(instant: datetime) -> int:
    return (instant - _EPOCH) // _ONE_MICROSECOND


def _instant(microseconds: int) -> datetime:
    return _EPOCH + timedelta(0, 0, microseconds)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got {value!r}.")


@dataclass(frozen=True)
class Interval:
    """Half-open [start, end) between two aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Interval.start")
        _require_aware(self.end, "Interval.end")
        if self.end < self.start:
            raise ValueError(f"Interval ends before it starts: {self.start} > {self.end}.")


@dataclass(frozen=True)
class WorkingBlock:
    """Local wall-clock hours on one weekday (0 = Monday), optionally limited to dates."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}.")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Working hours are local wall-clock times without a time zone.")
        if self.end <= self.start:
            raise ValueError(f"A working block must end after it starts: {self.start}-{self.end}.")

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class ClinicianCalendar:
    """Working hours, plus live appointments (each with its buffer) and time off."""

    clinician_id: int
    working_hours: Sequence[WorkingBlock]
    busy: Sequence[Interval] | Timeline


@dataclass(frozen=True)
class RoomCalendar:
    room_id: int
    busy: Sequence[Interval] | Timeline


@dataclass(frozen=True)
class Slot:
    """A bookable appointment [start, end) in UTC; room_id is None when no room is needed."""

    start: datetime
    end: datetime
    clinician_id: int
    room_id: int | None


def joined_bounds(spans: Iterable[tuple]) -> tuple[list, list]:
    """Starts and ends of the (start, end) spans, sorted and joined where they touch or
    overlap, empty ones left out. Any ordered values will do: datetimes or microseconds."""
    starts: list = []
    ends: list = []
    for start, end in sorted(spans):
        if start == end:
            continue
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _merged_bounds(intervals: Iterable[Interval]) -> tuple[list[datetime], list[datetime]]:
    """Starts and ends (UTC) of the sorted, joined, non-empty intervals."""
    return joined_bounds((i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in intervals)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping UTC intervals covering the same instants; empty ones dropped.

    Touching intervals are joined too: [9:00, 10:00) and [10:00, 11:00) cover [9:00, 11:00).
    """
    return [Interval(start, end) for start, end in zip(*_merged_bounds(intervals), strict=True)]


class Timeline:
    """Busy time as sorted, disjoint intervals, searchable with bisect; kept as
    microseconds since 1970 UTC.

    ``Timeline.of(intervals)`` merges any intervals; a caller that has already sorted and
    joined its busy time as microseconds (the database reader does, for thousands of
    appointments) passes the starts and ends directly and skips building an ``Interval``
    for each.
    """

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        if len(starts) != len(ends):
            raise ValueError("A timeline needs as many ends as starts.")
        self._starts, self._ends = starts, ends

    @classmethod
    def of(cls, intervals: Iterable[Interval] | Timeline) -> Timeline:
        if isinstance(intervals, Timeline):
            return intervals
        spans = ((_microseconds(i.start), _microseconds(i.end)) for i in intervals)
        return cls(*joined_bounds(spans))

    def clash_end(self, start: int, end: int) -> int | None:
        """End of the busy interval overlapping [start, end), or None when that is free
        (microseconds). Nothing starting before the returned instant can be free over the
        same length."""
        index = bisect_right(self._ends, start)
        if index < len(self._starts) and self._starts[index] < end:
            return self._ends[index]
        return None


@lru_cache(maxsize=4096)
def _local_to_utc(day: date, wall: time, zone: ZoneInfo) -> int:
    """The instant (in microseconds) the local clock shows `wall` on `day`; clinicians
    share their hours, and the answer depends on nothing else, so each is worked out once.

    An ambiguous time (clocks going back) takes its first occurrence (fold=0). A time
    that does not exist (clocks going forward) moves to the first instant after the gap.
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return _microseconds(utc)
    # In a gap: fold=0 and fold=1 land on either side of the transition; bisect for it.
    low, high = sorted((utc, local.replace(fold=1).astimezone(UTC)))
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return _microseconds(high)


def _working_windows(
    blocks: Sequence[WorkingBlock], day: date, zone: ZoneInfo
) -> list[tuple[int, int]]:
    """The clinician's working time on a local day as windows in microseconds; touching
    blocks join."""
    windows = sorted(
        (_local_to_utc(day, b.start, zone), _local_to_utc(day, b.end, zone))
        for b in blocks
        if b.applies_on(day)
    )
    merged: list[tuple[int, int]] = []
    for start, end in windows:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _steps_until(origin: int, instant: int, step: int) -> int:
    """The smallest k >= 0 with origin + k * step >= instant."""
    return max(0, -((origin - instant) // step))


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def find_slots(
    *,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    duration: timedelta,
    buffer_after: timedelta,
    clinicians: Sequence[ClinicianCalendar],
    closures: Sequence[Interval] = (),
    rooms: Sequence[RoomCalendar] | None = None,
    now: datetime,
    min_notice: timedelta = timedelta(0),
    horizon: timedelta | None = None,
    step: timedelta = timedelta(minutes=15),
    weekdays: Collection[int] | None = None,
    times_of_day: Sequence[tuple[time, time]] | None = None,
    limit: int | None = None,
    one_per_start: bool = False,
) -> list[Slot]:
    """Every bookable start on the local days first_day..last_day, earliest first.

    Within each working block, starts step by `step` of real time from the block start,
    and the appointment [start, start + duration) ends by the block end. The clinician
    must also be free during the buffer after it, [end, end + buffer_after): a buffer
    must not run into another appointment or time off, but it may run past the end of
    the working block or into a closure (clean-up after the last patient is fine).
    Closures block every clinician for the appointment itself. When `rooms` is given,
    the first room (in the given order) free over [start, end) is chosen, and a start
    with no free room is not offered. Busy intervals are half-open, so back-to-back
    appointments fit. `weekdays` (0 = Monday) and `times_of_day` ([a, b) pairs) filter
    on the local start. Touching or overlapping blocks of one clinician on one day are
    joined, so an appointment may span them. Slots are ordered by start, then by the
    order of `clinicians`. With `one_per_start` (any clinician will do), each start comes
    once, with the first clinician in that order who is free then: a start an earlier
    clinician already has is not checked again for the later ones.
    """
    _require_aware(now, "now")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive.")
    if step <= timedelta(0):
        raise ValueError("step must be positive.")
    if buffer_after < timedelta(0):
        raise ValueError("buffer_after must not be negative.")
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative.")
    for a, b in times_of_day or ():
        if not a < b:
            raise ValueError(f"A time-of-day range must end after it starts: {a}-{b}.")
    if (rooms is not None and not rooms) or limit == 0:
        return []

    earliest = now.astimezone(UTC) + min_notice
    latest = None if horizon is None else now.astimezone(UTC) + horizon
    first_day = max(first_day, earliest.astimezone(zone).date())
    if latest is not None:
        last_day = min(last_day, latest.astimezone(zone).date())
    earliest_us = _microseconds(earliest)
    latest_us = None if latest is None else _microseconds(latest)
    duration_us = duration // _ONE_MICROSECOND
    buffer_us = buffer_after // _ONE_MICROSECOND
    step_us = step // _ONE_MICROSECOND

    closed = Timeline.of(closures)
    calendars = [(c, Timeline.of(c.busy)) for c in clinicians]
    room_timelines = None if rooms is None else [(r.room_id, Timeline.of(r.busy)) for r in rooms]

    def free_room(start: int, end: int) -> tuple[int | None, int | None]:
        """The first free room, or None and the earliest instant a room could come free."""
        if room_timelines is None:
            return None, None
        retry_at = None
        for room_id, timeline in room_timelines:
            clash = timeline.clash_end(start, end)
            if clash is None:
                return room_id, None
            retry_at = clash if retry_at is None else min(retry_at, clash)
        return None, retry_at

    instants: dict[int, datetime] = {}

    def instant(microseconds: int) -> datetime:
        """Slots of different clinicians share starts and ends; each is built once."""
        at = instants.get(microseconds)
        if at is None:
            at = instants[microseconds] = _instant(microseconds)
        return at

    def wanted_time(start: datetime) -> bool:
        if times_of_day is None:
            return True
        wall = start.astimezone(zone).time()
        return any(a <= wall < b for a, b in times_of_day)

    def scan(
        calendar: ClinicianCalendar,
        busy: Timeline,
        opens: int,
        closes: int,
        taken: set[int] | None,
    ) -> Iterator[tuple[int, Slot]]:
        k = _steps_until(opens, earliest_us, step_us)
        while True:
            start = opens + k * step_us
            end = start + duration_us
            if end > closes or (latest_us is not None and start > latest_us):
                return
            if taken is not None and start in taken:
                k += 1
                continue
            clash = closed.clash_end(start, end)
            if clash is None:
                clash = busy.clash_end(start, end + buffer_us)
            if clash is not None:
                k = _steps_until(opens, clash, step_us)
                continue
            room_id, retry_at = free_room(start, end)
            if retry_at is not None:
                k = _steps_until(opens, retry_at, step_us)
                continue
            starts_at = instant(start)
            if wanted_time(starts_at):
                if taken is not None:
                    taken.add(start)
                yield start, Slot(starts_at, instant(end), calendar.clinician_id, room_id)
            k += 1

    slots: list[Slot] = []
    for day in _days(first_day, last_day):
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        found: list[tuple[int, int, Slot]] = []
        taken: set[int] | None = set() if one_per_start else None
        for order, (calendar, busy) in enumerate(calendars):
            for opens, closes in _working_windows(calendar.working_hours, day, zone):
                found.extend(
                    (start, order, slot)
                    for start, slot in scan(calendar, busy, opens, closes, taken)
                )
        found.sort(key=lambda item: item[:2])
        slots.extend(slot for _, _, slot in found)
        if limit is not None and len(slots) >= limit:
            return slots[:limit]
    return slots


def next_available(
    *,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    duration: timedelta,
    buffer_after: timedelta,
    clinicians: Sequence[ClinicianCalendar],
    closures: Sequence[Interval] = (),
    rooms: Sequence[RoomCalendar] | None = None,
    now: datetime,
    min_notice: timedelta = timedelta(0),
    horizon: timedelta | None = None,
    step: timedelta = timedelta(minutes=15),
    weekdays: Collection[int] | None = None,
    times_of_day: Sequence[tuple[time, time]] | None = None,
) -> Slot | None:
    """The earliest slot `find_slots` would offer, or None."""
    slots = find_slots(
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        duration=duration,
        buffer_after=buffer_after,
        clinicians=clinicians,
        closures=closures,
        rooms=rooms,
        now=now,
        min_notice=min_notice,
        horizon=horizon,
        step=step,
        weekdays=weekdays,
        times_of_day=times_of_day,
        limit=1,
    )
    return slots[0] if slots else None
