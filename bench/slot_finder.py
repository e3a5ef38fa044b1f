"""Time the pure slot finder on a busy group practice.

    .venv/bin/python bench/slot_finder.py

Forty clinicians, six days a week 08:00–19:00, each with a 45-minute appointment every
other hour for eight weeks, five rooms, 30-minute slots with a 10-minute buffer. Prints
the median and worst of several runs; speed is measured here, never asserted in tests.
"""

import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appointments.slots import (
    ClinicianCalendar,
    Interval,
    RoomCalendar,
    WorkingBlock,
    find_slots,
)

ZONE = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 23)
RUNS = 7


def busy_team(weeks: int = 8, size: int = 40) -> list[ClinicianCalendar]:
    hours = [
        WorkingBlock(day, datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=19))
        for day in range(6)
    ]
    team = []
    for i in range(size):
        busy = []
        for offset in range(weeks * 7 + 1):
            day = MONDAY + timedelta(days=offset)
            if day.weekday() == 6:
                continue
            for hour in range(8 + i % 2, 19, 2):
                start = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
                busy.append(Interval(start, start + timedelta(minutes=45)))
        team.append(ClinicianCalendar(i, hours, busy))
    return team


def main() -> None:
    team = busy_team()
    rooms = [RoomCalendar(r, team[r].busy) for r in range(5)]
    timings, found = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        found = len(
            find_slots(
                zone=ZONE,
                first_day=MONDAY,
                last_day=MONDAY + timedelta(weeks=8),
                duration=timedelta(minutes=30),
                buffer_after=timedelta(minutes=10),
                clinicians=team,
                rooms=rooms,
                now=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        timings.append(time.perf_counter() - started)
    print(
        f"slot finder, 40 clinicians × 8 weeks: {found} slots; "
        f"median {statistics.median(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
