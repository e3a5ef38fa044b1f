"""The slot finder: pure time arithmetic, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.slots import (
    ClinicianCalendar,
    Interval,
    RoomCalendar,
    Slot,
    Timeline,
    WorkingBlock,
    find_slots,
    merge_intervals,
    next_available,
)

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")

MONDAY = date(2026, 6, 1)
TUESDAY = MONDAY + timedelta(days=1)
SATURDAY = MONDAY + timedelta(days=5)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def hm(text: str) -> time:
    return time.fromisoformat(text)


def at(day: date, wall: str, zone: ZoneInfo = LONDON) -> datetime:
    """The UTC instant of a local wall-clock time (first occurrence when ambiguous)."""
    return datetime.combine(day, hm(wall), tzinfo=zone).astimezone(UTC)


def span(day: date, start: str, end: str, zone: ZoneInfo = LONDON) -> Interval:
    return Interval(at(day, start, zone), at(day, end, zone))


def block(weekday: int, start: str, end: str, **dates: date) -> WorkingBlock:
    return WorkingBlock(weekday=weekday, start=hm(start), end=hm(end), **dates)


def clinician(
    clinician_id: int = 1, *blocks: WorkingBlock, busy: tuple[Interval, ...] = ()
) -> ClinicianCalendar:
    return ClinicianCalendar(clinician_id=clinician_id, working_hours=blocks, busy=busy)


def find(**overrides) -> list[Slot]:
    kwargs = {
        "zone": LONDON,
        "first_day": MONDAY,
        "last_day": MONDAY,
        "duration": timedelta(minutes=45),
        "buffer_after": timedelta(0),
        "clinicians": [clinician(1, block(MON, "09:00", "12:00"))],
        "now": LONG_AGO,
    }
    kwargs.update(overrides)
    return find_slots(**kwargs)


def walls(slots: list[Slot], zone: ZoneInfo = LONDON) -> list[str]:
    return [s.start.astimezone(zone).strftime("%H:%M") for s in slots]


def days_and_walls(slots: list[Slot], zone: ZoneInfo = LONDON) -> list[str]:
    return [s.start.astimezone(zone).strftime("%a %H:%M") for s in slots]


# Working hours


def test_a_free_morning_offers_every_step_that_ends_by_the_end_of_the_block():
    slots = find()

    assert walls(slots) == [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15",
    ]  # fmt: skip
    assert all(s.end - s.start == timedelta(minutes=45) for s in slots)
    assert all(s.clinician_id == 1 and s.room_id is None for s in slots)


def test_slots_are_given_in_utc():
    slot = find()[0]

    assert slot.start == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert slot.start.tzinfo is UTC
    assert slot.end.tzinfo is UTC


def test_an_appointment_longer_than_the_block_gets_no_slot():
    assert find(duration=timedelta(hours=3, minutes=15)) == []


def test_an_appointment_exactly_as_long_as_the_block_fits_once():
    assert walls(find(duration=timedelta(hours=3))) == ["09:00"]


def test_the_step_sets_the_grid_of_start_times():
    slots = find(duration=timedelta(hours=1), step=timedelta(minutes=40))

    assert walls(slots) == ["09:00", "09:40", "10:20", "11:00"]


def test_several_blocks_a_day_keep_the_lunch_break_free():
    doc = clinician(1, block(MON, "09:00", "12:00"), block(MON, "13:00", "17:00"))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(minutes=30))

    assert walls(slots) == [
        "09:00", "09:30", "10:00", "10:30", "11:00",
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00",
    ]  # fmt: skip


def test_touching_blocks_join_so_an_appointment_may_span_them():
    doc = clinician(1, block(MON, "09:00", "10:00"), block(MON, "10:00", "11:00"))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(minutes=30))

    assert walls(slots) == ["09:00", "09:30", "10:00"]


def test_overlapping_blocks_give_no_duplicate_slots():
    doc = clinician(1, block(MON, "09:00", "11:00"), block(MON, "10:00", "12:00"))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(hours=1))

    assert walls(slots) == ["09:00", "10:00", "11:00"]


def test_evening_and_saturday_hours():
    doc = clinician(1, block(TUE, "17:00", "20:00"), block(SAT, "09:00", "12:00"))

    slots = find(
        clinicians=[doc],
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=6),
        duration=timedelta(hours=1),
        step=timedelta(hours=1),
    )

    assert days_and_walls(slots) == [
        "Tue 17:00", "Tue 18:00", "Tue 19:00", "Sat 09:00", "Sat 10:00", "Sat 11:00",
    ]  # fmt: skip


def test_a_day_without_working_hours_has_no_slots():
    assert find(first_day=TUESDAY, last_day=TUESDAY) == []


def test_a_clinician_without_working_hours_has_no_slots():
    assert find(clinicians=[clinician(1)]) == []


def test_a_first_day_after_the_last_day_gives_nothing():
    assert find(first_day=TUESDAY, last_day=MONDAY) == []


def test_hours_apply_from_valid_from_until_valid_until_inclusive():
    june = block(MON, "09:00", "10:00", valid_from=date(2026, 6, 8), valid_until=date(2026, 6, 15))

    slots = find(
        clinicians=[clinician(1, june)],
        first_day=date(2026, 6, 1),
        last_day=date(2026, 6, 30),
        duration=timedelta(hours=1),
    )

    assert [s.start.date() for s in slots] == [date(2026, 6, 8), date(2026, 6, 15)]


def test_new_hours_replace_old_ones_from_their_valid_from_date():
    old = block(MON, "09:00", "10:00", valid_until=date(2026, 6, 7))
    new = block(MON, "14:00", "15:00", valid_from=date(2026, 6, 8))

    slots = find(
        clinicians=[clinician(1, old, new)],
        first_day=date(2026, 6, 1),
        last_day=date(2026, 6, 8),
        duration=timedelta(hours=1),
    )

    assert [s.start.astimezone(LONDON).strftime("%d %H:%M") for s in slots] == [
        "01 09:00",
        "08 14:00",
    ]


# Appointments, buffers and time off


def test_the_buffer_after_a_new_appointment_must_not_run_into_the_next_one():
    booked = span(MONDAY, "10:00", "11:00")

    with_buffer = find(
        clinicians=[clinician(1, block(MON, "09:00", "12:00"), busy=(booked,))],
        buffer_after=timedelta(minutes=15),
    )
    without_buffer = find(clinicians=[clinician(1, block(MON, "09:00", "12:00"), busy=(booked,))])

    assert walls(with_buffer) == ["09:00", "11:00", "11:15"]
    assert walls(without_buffer) == ["09:00", "09:15", "11:00", "11:15"]


def test_an_existing_appointment_blocks_until_its_own_buffer_ends():
    # A 10:00-10:45 appointment with 15 minutes of clean-up arrives as 10:00-11:00.
    booked_with_buffer = span(MONDAY, "10:00", "11:00")
    doc = clinician(1, block(MON, "09:00", "12:00"), busy=(booked_with_buffer,))

    slots = find(clinicians=[doc])

    assert "10:45" not in walls(slots)
    assert walls(slots)[2:] == ["11:00", "11:15"]


def test_the_buffer_may_run_past_the_end_of_the_working_block():
    slots = find(buffer_after=timedelta(minutes=30))

    assert walls(slots)[-1] == "11:15"


def test_back_to_back_appointments_are_allowed():
    doc = clinician(1, block(MON, "09:00", "12:00"), busy=(span(MONDAY, "10:00", "11:00"),))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(hours=1))

    assert walls(slots) == ["09:00", "11:00"]


def test_busy_times_outside_working_hours_change_nothing():
    doc = clinician(1, block(MON, "09:00", "12:00"), busy=(span(MONDAY, "07:00", "09:00"),))

    assert find(clinicians=[doc]) == find()


def test_time_off_hides_those_hours():
    afternoon_off = span(MONDAY, "13:00", "18:00")
    doc = clinician(1, block(MON, "09:00", "17:00"), busy=(afternoon_off,))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(hours=1))

    assert walls(slots) == ["09:00", "10:00", "11:00", "12:00"]


def test_a_week_of_leave_hides_every_day_of_it():
    leave = Interval(at(MONDAY, "00:00"), at(MONDAY + timedelta(days=7), "00:00"))
    doc = clinician(1, *[block(day, "09:00", "17:00") for day in range(5)], busy=(leave,))

    slots = find(clinicians=[doc], first_day=MONDAY, last_day=MONDAY + timedelta(days=7))

    assert {s.start.astimezone(LONDON).date() for s in slots} == {MONDAY + timedelta(days=7)}


def test_busy_intervals_may_be_given_in_any_zone_and_any_order():
    tokyo = ZoneInfo("Asia/Tokyo")
    late = Interval(at(MONDAY, "11:00").astimezone(tokyo), at(MONDAY, "12:00").astimezone(tokyo))
    early = span(MONDAY, "09:00", "10:00")
    doc = clinician(1, block(MON, "09:00", "12:00"), busy=(late, early))

    slots = find(clinicians=[doc], duration=timedelta(hours=1), step=timedelta(hours=1))

    assert walls(slots) == ["10:00"]


# Closures


def test_a_public_holiday_closes_the_whole_day_for_every_clinician():
    holiday = Interval(at(MONDAY, "00:00"), at(TUESDAY, "00:00"))
    team = [clinician(1, block(MON, "09:00", "12:00")), clinician(2, block(MON, "08:00", "18:00"))]

    assert find(clinicians=team, closures=[holiday]) == []


def test_a_partial_closure_blocks_only_its_hours():
    staff_training = span(MONDAY, "09:00", "10:30")
    team = [clinician(1, block(MON, "09:00", "12:00")), clinician(2, block(MON, "09:00", "12:00"))]

    slots = find(
        clinicians=team,
        closures=[staff_training],
        duration=timedelta(hours=1),
        step=timedelta(minutes=30),
    )

    assert [(w, s.clinician_id) for w, s in zip(walls(slots), slots, strict=True)] == [
        ("10:30", 1), ("10:30", 2), ("11:00", 1), ("11:00", 2),
    ]  # fmt: skip


def test_the_buffer_may_run_into_a_closure():
    closing_early = span(MONDAY, "11:00", "12:00")

    slots = find(closures=[closing_early], buffer_after=timedelta(minutes=15))

    assert walls(slots)[-1] == "10:15"


# Rooms


def test_a_type_without_rooms_offers_slots_with_no_room():
    assert {s.room_id for s in find(rooms=None)} == {None}


def test_a_type_needing_a_room_picks_the_first_free_room_in_the_given_order():
    gym = RoomCalendar(room_id=7, busy=[span(MONDAY, "09:00", "10:00")])
    cubicle = RoomCalendar(room_id=3, busy=[])

    slots = find(rooms=[gym, cubicle], duration=timedelta(hours=1), step=timedelta(hours=1))

    assert [(w, s.room_id) for w, s in zip(walls(slots), slots, strict=True)] == [
        ("09:00", 3), ("10:00", 7), ("11:00", 7),
    ]  # fmt: skip


def test_no_slot_when_every_room_is_busy():
    rooms = [
        RoomCalendar(room_id=1, busy=[span(MONDAY, "09:00", "10:30")]),
        RoomCalendar(room_id=2, busy=[span(MONDAY, "08:00", "11:00")]),
    ]

    slots = find(rooms=rooms, duration=timedelta(hours=1), step=timedelta(minutes=30))

    assert [(w, s.room_id) for w, s in zip(walls(slots), slots, strict=True)] == [
        ("10:30", 1), ("11:00", 1),
    ]  # fmt: skip


def test_an_empty_room_list_means_no_slot_at_all():
    assert find(rooms=[]) == []


def test_a_room_is_needed_for_the_appointment_but_not_for_the_buffer():
    room = RoomCalendar(room_id=1, busy=[span(MONDAY, "10:00", "12:00")])

    slots = find(rooms=[room], duration=timedelta(hours=1), buffer_after=timedelta(minutes=30))

    assert walls(slots) == ["09:00"]


def test_two_clinicians_may_be_offered_the_same_free_room_at_the_same_time():
    team = [clinician(1, block(MON, "09:00", "10:00")), clinician(2, block(MON, "09:00", "10:00"))]
    room = RoomCalendar(room_id=5, busy=[])

    slots = find(clinicians=team, rooms=[room], duration=timedelta(hours=1))

    assert [(s.clinician_id, s.room_id) for s in slots] == [(1, 5), (2, 5)]


# Notice and horizon


def test_min_notice_hides_starts_that_are_too_soon():
    now = at(MONDAY, "08:50")

    slots = find(now=now, min_notice=timedelta(hours=2))

    assert walls(slots) == ["11:00", "11:15"]


def test_a_start_exactly_at_the_notice_limit_is_offered():
    slots = find(now=at(MONDAY, "09:00"), min_notice=timedelta(hours=2))

    assert walls(slots)[0] == "11:00"


def test_without_notice_nothing_in_the_past_is_offered():
    slots = find(now=at(MONDAY, "10:05"))

    assert walls(slots)[0] == "10:15"


def test_days_entirely_in_the_past_offer_nothing():
    assert find(now=at(TUESDAY, "00:00")) == []


def test_the_horizon_ends_the_offer_inclusively():
    doc = clinician(1, block(MON, "09:00", "12:00"), block(TUE, "09:00", "12:00"))

    slots = find(
        clinicians=[doc],
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=30),
        now=at(MONDAY, "10:00"),
        horizon=timedelta(days=1),
    )

    assert days_and_walls(slots) == [
        "Mon 10:00", "Mon 10:15", "Mon 10:30", "Mon 10:45", "Mon 11:00", "Mon 11:15",
        "Tue 09:00", "Tue 09:15", "Tue 09:30", "Tue 09:45", "Tue 10:00",
    ]  # fmt: skip


# Filters


def test_the_weekday_filter_keeps_only_the_chosen_days():
    doc = clinician(1, *[block(day, "09:00", "10:00") for day in range(7)])

    slots = find(
        clinicians=[doc],
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=6),
        duration=timedelta(hours=1),
        weekdays={TUE, SAT},
    )

    assert days_and_walls(slots) == ["Tue 09:00", "Sat 09:00"]


def test_the_time_of_day_filter_keeps_starts_from_a_up_to_but_not_including_b():
    doc = clinician(1, block(MON, "08:00", "20:00"))

    slots = find(
        clinicians=[doc],
        duration=timedelta(hours=1),
        step=timedelta(hours=1),
        times_of_day=[(hm("08:00"), hm("09:00")), (hm("17:00"), hm("19:00"))],
    )

    assert walls(slots) == ["08:00", "17:00", "18:00"]


def test_the_time_of_day_filter_uses_the_start_not_the_end():
    doc = clinician(1, block(MON, "16:00", "20:00"))

    slots = find(
        clinicians=[doc],
        duration=timedelta(hours=1),
        step=timedelta(minutes=30),
        times_of_day=[(hm("16:30"), hm("17:00"))],
    )

    assert walls(slots) == ["16:30"]


def test_tuesday_evening_or_saturday():
    weekday_hours = [block(day, "09:00", "20:00") for day in (MON, TUE, WED, THU, FRI)]
    doc = clinician(1, *weekday_hours, block(SAT, "09:00", "13:00"))
    common = {
        "clinicians": [doc],
        "first_day": MONDAY,
        "last_day": MONDAY + timedelta(days=6),
        "duration": timedelta(hours=1),
        "step": timedelta(hours=1),
    }

    tuesday_evening = find(weekdays={TUE}, times_of_day=[(hm("17:00"), hm("21:00"))], **common)
    saturday = find(weekdays={SAT}, **common)
    either = sorted(tuesday_evening + saturday, key=lambda s: s.start)

    assert days_and_walls(either) == [
        "Tue 17:00", "Tue 18:00", "Tue 19:00",
        "Sat 09:00", "Sat 10:00", "Sat 11:00", "Sat 12:00",
    ]  # fmt: skip


def test_filters_combine_weekdays_and_times_of_day():
    doc = clinician(1, block(TUE, "09:00", "20:00"), block(SAT, "09:00", "20:00"))

    slots = find(
        clinicians=[doc],
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=6),
        duration=timedelta(hours=1),
        step=timedelta(hours=1),
        weekdays={SAT},
        times_of_day=[(hm("17:00"), hm("21:00"))],
    )

    assert days_and_walls(slots) == ["Sat 17:00", "Sat 18:00", "Sat 19:00"]


# Several clinicians, limit, next available


def test_any_clinician_lists_everyone_by_start_then_in_the_given_order():
    alice = clinician(10, block(MON, "09:00", "11:00"), busy=(span(MONDAY, "09:00", "10:00"),))
    bob = clinician(20, block(MON, "09:00", "11:00"))
    carol = clinician(5, block(MON, "10:00", "12:00"))

    slots = find(clinicians=[alice, bob, carol], duration=timedelta(hours=1))

    assert [(w, s.clinician_id) for w, s in zip(walls(slots), slots, strict=True)] == [
        ("09:00", 20), ("09:15", 20), ("09:30", 20), ("09:45", 20),
        ("10:00", 10), ("10:00", 20), ("10:00", 5),
        ("10:15", 5), ("10:30", 5), ("10:45", 5), ("11:00", 5),
    ]  # fmt: skip


def test_one_clinicians_busy_time_does_not_block_another():
    busy_doc = clinician(1, block(MON, "09:00", "10:00"), busy=(span(MONDAY, "09:00", "10:00"),))
    free_doc = clinician(2, block(MON, "09:00", "10:00"))

    slots = find(clinicians=[busy_doc, free_doc], duration=timedelta(hours=1))

    assert [s.clinician_id for s in slots] == [2]


def test_no_clinicians_means_no_slots():
    assert find(clinicians=[]) == []


def test_the_limit_returns_the_earliest_slots():
    team = [clinician(1, block(MON, "09:00", "12:00")), clinician(2, block(TUE, "09:00", "12:00"))]
    everything = find(clinicians=team, first_day=MONDAY, last_day=TUESDAY)

    assert find(clinicians=team, first_day=MONDAY, last_day=TUESDAY, limit=3) == everything[:3]
    assert find(clinicians=team, first_day=MONDAY, last_day=TUESDAY, limit=12) == everything[:12]
    assert find(clinicians=team, first_day=MONDAY, last_day=TUESDAY, limit=100) == everything
    assert find(clinicians=team, first_day=MONDAY, last_day=TUESDAY, limit=0) == []


def test_a_small_limit_stops_early_over_a_long_range(monkeypatch):
    import appointments.slots as module

    team = [clinician(i, *[block(day, "08:00", "20:00") for day in range(7)]) for i in range(40)]
    days_opened = []
    real = module._working_windows

    def counting(hours, day, zone):
        days_opened.append(day)
        return real(hours, day, zone)

    monkeypatch.setattr(module, "_working_windows", counting)
    slots = find(clinicians=team, first_day=MONDAY, last_day=MONDAY + timedelta(days=3650), limit=5)

    assert len(slots) == 5
    # Only the first day is looked at, not ten years of them (speed itself: bench/).
    assert set(days_opened) == {MONDAY}


def test_next_available_is_the_first_slot():
    doc = clinician(1, block(TUE, "14:00", "15:00"))

    slot = next_available(
        zone=LONDON,
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=6),
        duration=timedelta(minutes=30),
        buffer_after=timedelta(0),
        clinicians=[doc],
        now=LONG_AGO,
    )

    assert slot == Slot(at(TUESDAY, "14:00"), at(TUESDAY, "14:30"), clinician_id=1, room_id=None)


def test_next_available_is_none_when_nothing_is_free():
    slot = next_available(
        zone=LONDON,
        first_day=MONDAY,
        last_day=MONDAY,
        duration=timedelta(minutes=30),
        buffer_after=timedelta(0),
        clinicians=[clinician(1, block(TUE, "14:00", "15:00"))],
        now=LONG_AGO,
    )

    assert slot is None


def test_eight_weeks_for_forty_busy_clinicians_finds_the_gaps():
    first, last = MONDAY, MONDAY + timedelta(weeks=8)
    hours = [block(day, "08:00", "19:00") for day in range(6)]
    team = []
    for i in range(40):
        busy = []
        day = first
        while day <= last:
            if day.weekday() < 6:
                for hour in range(8 + i % 2, 19, 2):
                    busy.append(span(day, f"{hour:02d}:00", f"{hour:02d}:45"))
            day += timedelta(days=1)
        team.append(clinician(i, *hours, busy=tuple(busy)))
    assert len(team[0].busy) > 200
    rooms = [RoomCalendar(room_id=r, busy=team[r].busy) for r in range(5)]

    slots = find(
        clinicians=team,
        rooms=rooms,
        first_day=first,
        last_day=last,
        duration=timedelta(minutes=30),
        buffer_after=timedelta(minutes=10),
    )

    assert len(slots) > 1000
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)


# Daylight saving time


def test_london_spring_forward_a_nine_oclock_start_is_eight_utc():
    spring = date(2026, 3, 29)
    doc = clinician(1, block(SUN, "09:00", "10:00"))

    slots = find(clinicians=[doc], first_day=spring, last_day=spring, duration=timedelta(hours=1))

    assert [s.start for s in slots] == [datetime(2026, 3, 29, 8, 0, tzinfo=UTC)]


def test_london_spring_forward_no_slot_starts_in_the_missing_hour():
    spring = date(2026, 3, 29)
    doc = clinician(1, block(SUN, "00:00", "04:00"))

    slots = find(clinicians=[doc], first_day=spring, last_day=spring, duration=timedelta(hours=1))

    # 00:00 GMT to 04:00 BST is three real hours: 00:00 to 03:00 UTC.
    assert walls(slots) == [
        "00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30", "02:45", "03:00",
    ]  # fmt: skip
    assert slots[0].start == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_london_spring_forward_a_block_starting_in_the_gap_opens_when_the_clocks_change():
    spring = date(2026, 3, 29)
    doc = clinician(1, block(SUN, "01:30", "03:00"))

    slots = find(
        clinicians=[doc], first_day=spring, last_day=spring, duration=timedelta(minutes=30)
    )

    assert walls(slots) == ["02:00", "02:15", "02:30"]
    assert slots[0].start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_london_spring_forward_a_block_ending_in_the_gap_ends_when_the_clocks_change():
    spring = date(2026, 3, 29)
    doc = clinician(1, block(SUN, "00:00", "01:30"))

    slots = find(clinicians=[doc], first_day=spring, last_day=spring, duration=timedelta(hours=1))

    assert [s.end for s in slots][-1] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert walls(slots) == ["00:00"]


def test_london_spring_forward_a_block_inside_the_gap_offers_nothing():
    spring = date(2026, 3, 29)
    doc = clinician(1, block(SUN, "01:00", "01:45"))

    assert find(clinicians=[doc], first_day=spring, last_day=spring) == []


def test_london_fall_back_a_nine_oclock_start_is_nine_utc():
    autumn = date(2026, 10, 25)
    doc = clinician(1, block(SUN, "09:00", "10:00"))

    slots = find(clinicians=[doc], first_day=autumn, last_day=autumn, duration=timedelta(hours=1))

    assert [s.start for s in slots] == [datetime(2026, 10, 25, 9, 0, tzinfo=UTC)]


def test_london_fall_back_the_repeated_hour_is_offered_twice_without_duplicates():
    autumn = date(2026, 10, 25)
    doc = clinician(1, block(SUN, "00:00", "04:00"))

    slots = find(
        clinicians=[doc],
        first_day=autumn,
        last_day=autumn,
        duration=timedelta(hours=1),
        step=timedelta(minutes=30),
    )

    # 00:00 BST to 04:00 GMT is five real hours: 23:00 UTC the day before to 04:00 UTC.
    assert walls(slots) == [
        "00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00", "02:30", "03:00",
    ]  # fmt: skip
    assert slots[0].start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)
    assert len({s.start for s in slots}) == len(slots)
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_london_fall_back_an_ambiguous_boundary_means_its_first_occurrence():
    autumn = date(2026, 10, 25)
    doc = clinician(1, block(SUN, "01:30", "02:00"))

    slots = find(clinicians=[doc], first_day=autumn, last_day=autumn, duration=timedelta(hours=1))

    # 01:30 BST (00:30 UTC) to 02:00 GMT (02:00 UTC) is ninety real minutes.
    assert [s.start for s in slots] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 45, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    ]


def test_london_fall_back_busy_time_in_the_repeated_hour_blocks_only_its_real_time():
    autumn = date(2026, 10, 25)
    doc = clinician(
        1,
        block(SUN, "00:00", "04:00"),
        busy=(
            Interval(
                datetime(2026, 10, 25, 1, 0, tzinfo=LONDON, fold=1),  # 01:00 GMT
                datetime(2026, 10, 25, 2, 0, tzinfo=LONDON),
            ),
        ),
    )

    slots = find(
        clinicians=[doc],
        first_day=autumn,
        last_day=autumn,
        duration=timedelta(hours=1),
        step=timedelta(hours=1),
    )

    assert [s.start.hour for s in slots] == [23, 0, 2, 3]  # UTC
    assert walls(slots) == ["00:00", "01:00", "02:00", "03:00"]


def test_weeks_across_both_london_changes_keep_nine_oclock_local():
    doc = clinician(1, *[block(day, "09:00", "09:30") for day in range(7)])

    spring = find(
        clinicians=[doc],
        first_day=date(2026, 3, 28),
        last_day=date(2026, 3, 30),
        duration=timedelta(minutes=30),
    )
    autumn = find(
        clinicians=[doc],
        first_day=date(2026, 10, 24),
        last_day=date(2026, 10, 26),
        duration=timedelta(minutes=30),
    )

    assert [s.start.hour for s in spring] == [9, 8, 8]
    assert [s.start.hour for s in autumn] == [8, 9, 9]
    assert walls(spring) == walls(autumn) == ["09:00"] * 3


def test_sydney_autumn_change_moves_nine_oclock_from_ten_to_eleven_pm_utc():
    doc = clinician(1, *[block(day, "09:00", "09:30") for day in range(7)])

    slots = find(
        zone=SYDNEY,
        clinicians=[doc],
        first_day=date(2026, 4, 4),
        last_day=date(2026, 4, 6),
        duration=timedelta(minutes=30),
    )

    assert [s.start for s in slots] == [
        datetime(2026, 4, 3, 22, 0, tzinfo=UTC),  # AEDT, UTC+11
        datetime(2026, 4, 4, 23, 0, tzinfo=UTC),  # AEST, UTC+10
        datetime(2026, 4, 5, 23, 0, tzinfo=UTC),
    ]
    assert walls(slots, SYDNEY) == ["09:00"] * 3


def test_sydney_spring_change_moves_nine_oclock_from_eleven_to_ten_pm_utc():
    doc = clinician(1, *[block(day, "09:00", "09:30") for day in range(7)])

    slots = find(
        zone=SYDNEY,
        clinicians=[doc],
        first_day=date(2026, 10, 3),
        last_day=date(2026, 10, 5),
        duration=timedelta(minutes=30),
    )

    assert [s.start for s in slots] == [
        datetime(2026, 10, 2, 23, 0, tzinfo=UTC),  # AEST, UTC+10
        datetime(2026, 10, 3, 22, 0, tzinfo=UTC),  # AEDT, UTC+11
        datetime(2026, 10, 4, 22, 0, tzinfo=UTC),
    ]


def test_sydney_spring_change_no_slot_starts_in_the_missing_hour():
    spring = date(2026, 10, 4)
    doc = clinician(1, block(SUN, "01:00", "04:00"))

    slots = find(
        zone=SYDNEY,
        clinicians=[doc],
        first_day=spring,
        last_day=spring,
        duration=timedelta(hours=1),
        step=timedelta(minutes=30),
    )

    assert walls(slots, SYDNEY) == ["01:00", "01:30", "03:00"]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_sydney_autumn_change_the_repeated_hour_is_offered_twice():
    autumn = date(2026, 4, 5)
    doc = clinician(1, block(SUN, "01:00", "04:00"))

    slots = find(
        zone=SYDNEY,
        clinicians=[doc],
        first_day=autumn,
        last_day=autumn,
        duration=timedelta(hours=1),
        step=timedelta(hours=1),
    )

    assert walls(slots, SYDNEY) == ["01:00", "02:00", "02:00", "03:00"]
    assert len({s.start for s in slots}) == 4


def test_the_time_of_day_filter_reads_the_local_clock_across_a_change():
    autumn = date(2026, 10, 25)
    doc = clinician(1, block(SUN, "00:00", "04:00"))

    slots = find(
        clinicians=[doc],
        first_day=autumn,
        last_day=autumn,
        duration=timedelta(minutes=30),
        step=timedelta(minutes=30),
        times_of_day=[(hm("01:00"), hm("02:00"))],
    )

    assert walls(slots) == ["01:00", "01:30", "01:00", "01:30"]


# Intervals


def test_merge_intervals_joins_overlapping_and_touching_ones_in_order():
    merged = merge_intervals(
        [
            span(MONDAY, "13:00", "14:00"),
            span(MONDAY, "09:00", "10:00"),
            span(MONDAY, "09:30", "10:30"),
            span(MONDAY, "10:30", "11:00"),
            span(MONDAY, "09:45", "09:50"),
            span(MONDAY, "12:00", "12:00"),
        ]
    )

    assert merged == [span(MONDAY, "09:00", "11:00"), span(MONDAY, "13:00", "14:00")]


def test_merge_intervals_gives_utc():
    merged = merge_intervals(
        [Interval(datetime(2026, 6, 1, 9, tzinfo=LONDON), at(MONDAY, "10:00"))]
    )

    assert merged[0].start.tzinfo is UTC
    assert merged[0].start == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_merge_intervals_of_nothing_is_nothing():
    assert merge_intervals([]) == []


# Bad input


@pytest.mark.parametrize(
    "make",
    [
        lambda: Interval(datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 10, tzinfo=UTC)),
        lambda: Interval(at(MONDAY, "10:00"), at(MONDAY, "09:00")),
        lambda: WorkingBlock(weekday=7, start=hm("09:00"), end=hm("10:00")),
        lambda: WorkingBlock(weekday=0, start=hm("10:00"), end=hm("10:00")),
        lambda: WorkingBlock(weekday=0, start=hm("09:00+01:00"), end=hm("10:00")),
    ],
    ids=["naive", "backwards", "weekday", "empty-block", "aware-block"],
)
def test_nonsense_calendars_are_refused(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "overrides",
    [
        {"now": datetime(2026, 6, 1, 9)},
        {"duration": timedelta(0)},
        {"step": timedelta(0)},
        {"buffer_after": timedelta(minutes=-5)},
        {"limit": -1},
        {"times_of_day": [(hm("18:00"), hm("17:00"))]},
    ],
    ids=["naive-now", "no-duration", "no-step", "negative-buffer", "negative-limit", "backwards"],
)
def test_nonsense_requests_are_refused(overrides):
    with pytest.raises(ValueError):
        find(**overrides)


# Properties

ZONES = [
    "Europe/London",
    "Australia/Sydney",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Asia/Kolkata",
    "UTC",
]
# Days just before the 2026 daylight-saving changes of the zones above.
START_DAYS = [
    date(2026, 3, 6),
    date(2026, 3, 27),
    date(2026, 4, 3),
    date(2026, 6, 1),
    date(2026, 10, 2),
    date(2026, 10, 23),
    date(2026, 10, 30),
]
DAYS = 4
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def minutes(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(low, high).map(lambda m: timedelta(minutes=m))


@st.composite
def wall_times(draw: st.DrawFn) -> time:
    return time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 10, 15, 30, 45])))


@st.composite
def working_blocks(draw: st.DrawFn, first_day: date) -> WorkingBlock:
    start, end = sorted([draw(wall_times()), draw(wall_times())])
    if start == end:
        end = time(23, 59)
    nearby = [first_day + timedelta(days=n) for n in range(-1, DAYS + 1)]
    bounds = st.sampled_from([None] * len(nearby) + nearby)
    return WorkingBlock(
        weekday=(first_day + timedelta(days=draw(st.integers(0, DAYS - 1)))).weekday(),
        start=start,
        end=end,
        valid_from=draw(bounds),
        valid_until=draw(bounds),
    )


@st.composite
def intervals_near(draw: st.DrawFn, anchor: datetime) -> Interval:
    start = anchor + draw(minutes(-24 * 60, (DAYS + 1) * 24 * 60))
    return Interval(start, start + draw(minutes(0, 8 * 60)))


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first_day = draw(st.sampled_from(START_DAYS))
    anchor = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC)
    near = intervals_near(anchor)
    clinicians = [
        ClinicianCalendar(
            clinician_id=i,
            working_hours=draw(st.lists(working_blocks(first_day), min_size=1, max_size=8)),
            busy=draw(st.lists(near, max_size=8)),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    rooms = draw(
        st.none()
        | st.lists(
            st.builds(RoomCalendar, room_id=st.integers(1, 50), busy=st.lists(near, max_size=5)),
            max_size=3,
            unique_by=lambda r: r.room_id,
        )
    )
    return {
        "zone": zone,
        "first_day": first_day,
        "last_day": first_day + timedelta(days=draw(st.integers(0, DAYS - 1))),
        "duration": draw(minutes(5, 120)),
        "buffer_after": draw(minutes(0, 30)),
        "clinicians": clinicians,
        "closures": draw(st.lists(near, max_size=3)),
        "rooms": rooms,
        "now": anchor + draw(minutes(-48 * 60, 12 * 60)),
        "min_notice": draw(minutes(0, 12 * 60)),
        "horizon": draw(st.none() | minutes(0, (DAYS + 2) * 24 * 60)),
        "step": draw(minutes(5, 60)),
        "weekdays": draw(st.none() | st.sets(st.integers(0, 6), min_size=2)),
        "times_of_day": draw(
            st.none()
            | st.lists(
                st.tuples(wall_times(), wall_times()).filter(lambda ab: ab[0] < ab[1]),
                max_size=2,
            )
        ),
    }


def first_instant_showing(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Reference: the first instant whose local clock reads `wall` or later on `day`."""
    target = datetime.combine(day, wall)
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = min(local.astimezone(UTC), local.replace(fold=1).astimezone(UTC))
    instant -= timedelta(minutes=1)
    while instant.astimezone(zone).replace(tzinfo=None) < target:
        instant += timedelta(minutes=1)
    return instant


def reference_windows(calendar: ClinicianCalendar, day: date, zone: ZoneInfo) -> list:
    windows = sorted(
        (first_instant_showing(day, b.start, zone), first_instant_showing(day, b.end, zone))
        for b in calendar.working_hours
        if b.weekday == day.weekday()
        and (b.valid_from is None or b.valid_from <= day)
        and (b.valid_until is None or day <= b.valid_until)
    )
    joined: list[list[datetime]] = []
    for start, end in windows:
        if start >= end:
            continue
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return joined


def overlaps(start: datetime, end: datetime, intervals) -> bool:
    return any(i.start < end and start < i.end and i.start < i.end for i in intervals)


def reference_slots(s: dict) -> list[Slot]:
    """Every grid start checked against every interval, the slow and obvious way."""
    zone = s["zone"]
    found = []
    day = s["first_day"]
    while day <= s["last_day"]:
        for order, calendar in enumerate(s["clinicians"]):
            for opens, closes in reference_windows(calendar, day, zone):
                start = opens
                while start + s["duration"] <= closes:
                    end = start + s["duration"]
                    local = start.astimezone(zone)
                    room_ids = [None]
                    if s["rooms"] is not None:
                        room_ids = [
                            r.room_id for r in s["rooms"] if not overlaps(start, end, r.busy)
                        ]
                    if (
                        room_ids
                        and start >= s["now"] + s["min_notice"]
                        and (s["horizon"] is None or start <= s["now"] + s["horizon"])
                        and (s["weekdays"] is None or local.weekday() in s["weekdays"])
                        and (
                            s["times_of_day"] is None
                            or any(a <= local.time() < b for a, b in s["times_of_day"])
                        )
                        and not overlaps(start, end, s["closures"])
                        and not overlaps(start, end + s["buffer_after"], calendar.busy)
                    ):
                        found.append(
                            (start, order, Slot(start, end, calendar.clinician_id, room_ids[0]))
                        )
                    start += s["step"]
        day += timedelta(days=1)
    return [slot for *_, slot in sorted(found, key=lambda f: f[:2])]


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_slot_is_a_real_free_bookable_time(s):
    slots = find_slots(**s)
    zone = s["zone"]
    calendars = {c.clinician_id: c for c in s["clinicians"]}
    order = {c.clinician_id: i for i, c in enumerate(s["clinicians"])}

    windows = {
        (c.clinician_id, day): reference_windows(c, day, zone)
        for c in s["clinicians"]
        for day in {slot.start.astimezone(zone).date() for slot in slots}
    }

    keys = [(slot.start, order[slot.clinician_id]) for slot in slots]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for slot in slots:
        calendar = calendars[slot.clinician_id]
        local = slot.start.astimezone(zone)
        day = local.date()
        assert slot.start.tzinfo is UTC and slot.end.tzinfo is UTC
        assert slot.end - slot.start == s["duration"]
        assert s["first_day"] <= day <= s["last_day"]
        assert any(
            opens <= slot.start and slot.end <= closes
            for opens, closes in windows[slot.clinician_id, day]
        )
        assert not overlaps(slot.start, slot.end + s["buffer_after"], calendar.busy)
        assert not overlaps(slot.start, slot.end, s["closures"])
        assert slot.start >= s["now"] + s["min_notice"]
        if s["horizon"] is not None:
            assert slot.start <= s["now"] + s["horizon"]
        if s["weekdays"] is not None:
            assert local.weekday() in s["weekdays"]
        if s["times_of_day"] is not None:
            assert any(a <= local.time() < b for a, b in s["times_of_day"])
        if s["rooms"] is None:
            assert slot.room_id is None
        else:
            room = next(r for r in s["rooms"] if r.room_id == slot.room_id)
            assert not overlaps(slot.start, slot.end, room.busy)


@PROPERTY_SETTINGS
@given(scenarios())
def test_no_free_grid_time_is_missed(s):
    assert find_slots(**s) == reference_slots(s)


@PROPERTY_SETTINGS
@given(scenarios(), st.integers(0, 20))
def test_a_limit_gives_the_first_slots_and_next_available_the_first(s, limit):
    everything = find_slots(**s)

    assert find_slots(**s, limit=limit) == everything[:limit]
    assert next_available(**s) == (everything[0] if everything else None)


@PROPERTY_SETTINGS
@given(scenarios(), st.none() | st.integers(0, 20))
def test_one_per_start_keeps_each_start_with_the_first_clinician_free_then(s, limit):
    """What online booking shows for "any physiotherapist": the full search, each start
    kept once, with the first clinician in order who has it."""
    firsts, seen = [], set()
    for slot in find_slots(**s):
        if slot.start not in seen:
            seen.add(slot.start)
            firsts.append(slot)

    assert find_slots(**s, limit=limit, one_per_start=True) == firsts[:limit]


def test_one_per_start_offers_a_later_clinician_where_the_first_is_busy():
    first = clinician(1, block(MON, "09:00", "11:00"), busy=(span(MONDAY, "09:00", "10:00"),))
    second = clinician(2, block(MON, "09:00", "11:00"))

    found = find(clinicians=[first, second], duration=timedelta(minutes=60), one_per_start=True)

    assert [(s.clinician_id, w) for s, w in zip(found, walls(found), strict=True)] == [
        (2, "09:00"), (2, "09:15"), (2, "09:30"), (2, "09:45"), (1, "10:00"),
    ]  # fmt: skip


def test_a_ready_made_timeline_finds_what_its_intervals_find():
    busy = (span(MONDAY, "10:30", "11:00"), span(MONDAY, "09:00", "09:30"),
            span(MONDAY, "09:15", "10:00"))  # fmt: skip
    ready = Timeline.of(busy)
    room = RoomCalendar(7, ready)

    with_intervals = find(clinicians=[clinician(1, block(MON, "09:00", "12:00"), busy=busy)])
    with_timeline = find(
        clinicians=[ClinicianCalendar(1, [block(MON, "09:00", "12:00")], ready)], rooms=[room]
    )

    assert walls(with_intervals) == ["11:00", "11:15"]
    assert walls(with_timeline) == walls(with_intervals)
    assert Timeline.of(ready) is ready


def test_a_timeline_needs_an_end_for_every_start():
    with pytest.raises(ValueError, match="as many ends as starts"):
        Timeline([0], [])


def test_a_timeline_from_microseconds_finds_what_its_intervals_find():
    busy = merge_intervals(
        [span(MONDAY, "09:00", "09:30"), span(MONDAY, "10:00", "10:45"),
         span(MONDAY, "11:30", "12:00")]
    )  # fmt: skip
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def microseconds(instant: datetime) -> int:
        return (instant - epoch) // timedelta(microseconds=1)

    from_intervals = Timeline.of(busy)
    from_integers = Timeline(
        [microseconds(i.start) for i in busy], [microseconds(i.end) for i in busy]
    )

    for start in range(8 * 60, 12 * 60 + 15, 5):
        begins = microseconds(at(MONDAY, f"{start // 60:02}:{start % 60:02}"))
        for length in (timedelta(minutes=5), timedelta(minutes=30), timedelta(minutes=90)):
            ends = begins + length // timedelta(microseconds=1)
            assert from_integers.clash_end(begins, ends) == from_intervals.clash_end(begins, ends)
    assert from_integers.clash_end(
        microseconds(at(MONDAY, "10:15")), microseconds(at(MONDAY, "10:20"))
    ) == microseconds(at(MONDAY, "10:45"))
    hours = [block(MON, "08:00", "13:00")]
    found = find(clinicians=[ClinicianCalendar(1, hours, from_integers)])
    assert walls(found) == ["08:00", "08:15", "10:45", "12:00", "12:15"]
    assert found == find(clinicians=[ClinicianCalendar(1, hours, from_intervals)])
