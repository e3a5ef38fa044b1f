"""Finding free times from the schedule in the database."""

import datetime

import pytest

from appointments.availability import find_free_slots
from appointments.forms import clinician_choices
from appointments.models import PracticeSettings, Status, WaitlistEntry, Weekday
from clinic.roles import Role
from tests.factories import LocationFactory, RoomFactory, UserFactory

from .factories import AppointmentFactory, AppointmentTypeFactory, WorkingHoursFactory
from .scheduling import (
    LONDON,
    ClosureFactory,
    TimeOffFactory,
    at,
    certify_dry_needling,
    day_ahead,
)

pytestmark = pytest.mark.django_db

DAY = day_ahead(14, weekday=Weekday.TUESDAY)
NOW = at(DAY - datetime.timedelta(days=7), "09:00")
MORNING = (datetime.time(9, 0), datetime.time(12, 0))


@pytest.fixture
def mornings(physio, london):
    """Priya works 09:00–12:00 at Islington on Tuesdays."""
    return WorkingHoursFactory(
        clinician=physio,
        location=london,
        weekday=Weekday.TUESDAY,
        start_time=MORNING[0],
        end_time=MORNING[1],
    )


def _starts(found, clinician=None) -> list[str]:
    return [
        s.start.astimezone(LONDON).strftime("%H:%M")
        for s in found
        if clinician is None or s.clinician_id == clinician.pk
    ]


def _find(appointment_type, location, **kwargs):
    kwargs.setdefault("first_day", DAY)
    kwargs.setdefault("last_day", DAY)
    kwargs.setdefault("now", NOW)
    return find_free_slots(appointment_type=appointment_type, location=location, **kwargs)


ALL_MORNING = [
    "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15",
]  # fmt: skip


def test_free_times_step_through_the_working_hours(mornings, london, follow_up) -> None:
    assert _starts(_find(follow_up, london)) == ALL_MORNING


def test_nobody_working_means_no_free_times(london, follow_up) -> None:
    assert _find(follow_up, london) == []


def test_an_appointment_and_its_buffer_block_the_time(mornings, physio, london, follow_up) -> None:
    with_clean_up = AppointmentTypeFactory(name="Acupuncture", duration_minutes=45,
                                           buffer_after_minutes=15)  # fmt: skip
    AppointmentFactory(
        clinician=physio, location=london, appointment_type=with_clean_up,
        starts_at=at(DAY, "10:00"),
    )  # fmt: skip

    assert _starts(_find(follow_up, london)) == ["09:00", "09:15", "11:00", "11:15"]


def test_a_cancelled_appointment_frees_its_time(mornings, physio, london, follow_up) -> None:
    AppointmentFactory(
        clinician=physio, location=london, starts_at=at(DAY, "10:00"), status=Status.CANCELLED
    )

    assert _starts(_find(follow_up, london)) == ALL_MORNING


def test_time_off_blocks_the_time(mornings, physio, london, follow_up) -> None:
    TimeOffFactory(clinician=physio, starts_at=at(DAY, "09:00"), ends_at=at(DAY, "10:30"))

    assert _starts(_find(follow_up, london)) == ["10:30", "10:45", "11:00", "11:15"]


@pytest.mark.parametrize("practice_wide", [False, True], ids=["location", "practice-wide"])
def test_a_closure_leaves_no_free_time_that_day(practice_wide, mornings, london, follow_up) -> None:
    ClosureFactory(location=None if practice_wide else london, starts_on=DAY)

    assert _find(follow_up, london) == []


def test_a_closure_elsewhere_changes_nothing(mornings, london, follow_up) -> None:
    ClosureFactory(location=LocationFactory(name="Hackney"), starts_on=DAY)

    assert _starts(_find(follow_up, london)) == ALL_MORNING


def test_a_type_needing_a_room_is_offered_only_while_an_active_room_is_free(
    mornings, physio, london
) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", duration_minutes=45, needs_room=True)
    room = RoomFactory(location=london, name="Room A")
    RoomFactory(location=london, name="Room B", active=False)
    colleague = UserFactory(roles=[Role.PHYSIOTHERAPIST])
    AppointmentFactory(clinician=colleague, location=london, room=room, starts_at=at(DAY, "09:00"),
                       ends_at=at(DAY, "11:00"))  # fmt: skip

    found = _find(treatment, london)

    assert _starts(found) == ["11:00", "11:15"]
    assert {s.room_id for s in found} == {room.pk}


def test_no_active_room_means_no_free_time(mornings, london, django_assert_max_num_queries) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", needs_room=True)
    RoomFactory(location=london, name="Room B", active=False)

    assert _find(treatment, london) == []
    # Settings, clinicians, hours and one read of the schedule: no day can have a room.
    with django_assert_max_num_queries(4):
        assert _find(treatment, london, last_day=DAY + datetime.timedelta(weeks=8), limit=60) == []


def test_with_a_limit_rooms_and_closures_count_on_every_day_read(mornings, physio, london) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", duration_minutes=45, needs_room=True)
    room = RoomFactory(location=london, name="Room A")
    colleague = UserFactory(roles=[Role.PHYSIOTHERAPIST])
    week_later, fortnight_later = (DAY + datetime.timedelta(weeks=n) for n in (1, 2))
    AppointmentFactory(
        clinician=colleague,
        location=london,
        room=room,
        starts_at=at(week_later, "09:00"),
        ends_at=at(week_later, "11:00"),
    )
    ClosureFactory(location=london, starts_on=fortnight_later)

    found = _find(treatment, london, last_day=DAY + datetime.timedelta(weeks=3), limit=100)

    by_day = {
        day: _starts([s for s in found if s.start.astimezone(LONDON).date() == day])
        for day in (DAY, week_later, fortnight_later, DAY + datetime.timedelta(weeks=3))
    }
    assert by_day == {
        DAY: ALL_MORNING,
        week_later: ["11:00", "11:15"],
        fortnight_later: [],
        DAY + datetime.timedelta(weeks=3): ALL_MORNING,
    }
    assert {s.room_id for s in found} == {room.pk}


def test_dry_needling_is_offered_only_with_a_certified_clinician(mornings, physio, london) -> None:
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    certified = UserFactory(first_name="Cara", last_name="Cert", roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=certified, location=london, weekday=Weekday.TUESDAY,
                        start_time=MORNING[0], end_time=MORNING[1])  # fmt: skip
    certify_dry_needling(certified, on=DAY - datetime.timedelta(days=100))
    certify_dry_needling(
        physio, on=DAY - datetime.timedelta(days=800), expires=DAY - datetime.timedelta(days=1)
    )

    found = _find(needling, london)

    assert found
    assert {s.clinician_id for s in found} == {certified.pk}


@pytest.fixture
def lapsing_and_lasting(london):
    """Dry needling, and two clinicians working Tuesday mornings in London: the first in
    name order certified until ``DAY`` only, the second still certified."""
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    lapsing, lasting = (
        UserFactory(first_name="Ann", last_name=last, roles=[Role.PHYSIOTHERAPIST])
        for last in ("Aaronson", "Zuckerman")
    )
    for clinician in (lapsing, lasting):
        WorkingHoursFactory(clinician=clinician, location=london, weekday=Weekday.TUESDAY,
                            start_time=MORNING[0], end_time=MORNING[1])  # fmt: skip
    certify_dry_needling(lapsing, on=DAY - datetime.timedelta(days=100), expires=DAY)
    certify_dry_needling(lasting, on=DAY - datetime.timedelta(days=100))
    return needling, lapsing, lasting


def test_one_per_start_falls_back_to_a_colleague_when_a_certification_lapses(
    london, lapsing_and_lasting
) -> None:
    """Any certified clinician will do: when the first in order is certified only until
    the first Tuesday, the second Tuesday's times go to the one still certified."""
    needling, lapsing, lasting = lapsing_and_lasting
    next_week = DAY + datetime.timedelta(weeks=1)

    found = _find(needling, london, last_day=next_week, one_per_start=True)

    first, second = (
        [s for s in found if s.start.astimezone(LONDON).date() == day] for day in (DAY, next_week)
    )
    assert _starts(first) == _starts(second) == ALL_MORNING
    assert {s.clinician_id for s in second} == {lasting.pk}
    assert lapsing.pk in {s.clinician_id for s in first}


@pytest.mark.parametrize("given", [False, True], ids=["read", "every-physiotherapist-given"])
def test_only_clinicians_offering_the_type_are_searched(given, mornings, physio, london) -> None:
    other = UserFactory(roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=other, location=london, weekday=Weekday.TUESDAY,
                        start_time=MORNING[0], end_time=MORNING[1])  # fmt: skip
    pilates = AppointmentTypeFactory(name="Pilates")
    pilates.clinicians.set([other])
    extra = {"among": list(clinician_choices())} if given else {}

    assert {s.clinician_id for s in _find(pilates, london, **extra)} == {other.pk}
    assert _find(pilates, london, clinician=physio, **extra) == []


def test_given_physiotherapists_are_searched_only_where_they_work(
    mornings, physio, london, follow_up
) -> None:
    elsewhere = UserFactory(first_name="Ed", last_name="Away", roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=elsewhere, location=LocationFactory(name="Hackney"),
                        weekday=Weekday.TUESDAY, start_time=MORNING[0],
                        end_time=MORNING[1])  # fmt: skip
    everyone = list(clinician_choices())

    found = _find(follow_up, london, among=everyone)

    assert {s.clinician_id for s in found} == {physio.pk}
    assert _starts(found) == ALL_MORNING
    assert _find(follow_up, london, among=everyone, clinician=elsewhere) == []


def test_minimum_notice_comes_from_the_practice_settings(mornings, london, follow_up) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"min_booking_notice_minutes": 120})

    found = _find(follow_up, london, now=at(DAY, "08:15"))

    assert _starts(found) == ["10:15", "10:30", "10:45", "11:00", "11:15"]


def test_nothing_is_offered_beyond_the_booking_horizon(mornings, london, follow_up) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"booking_horizon_days": 7})

    assert _find(follow_up, london, now=at(DAY - datetime.timedelta(days=14), "09:00")) == []
    assert _find(follow_up, london, now=at(DAY - datetime.timedelta(days=6), "09:00"))


def test_weekday_and_time_of_day_filters(physio, london, follow_up) -> None:
    for weekday in Weekday:
        WorkingHoursFactory(clinician=physio, location=london, weekday=weekday,
                            start_time=datetime.time(8), end_time=datetime.time(20))  # fmt: skip
    evening = WaitlistEntry.TIME_OF_DAY_HOURS[WaitlistEntry.TimeOfDay.EVENING]

    found = _find(
        follow_up,
        london,
        last_day=DAY + datetime.timedelta(days=6),
        weekdays=[Weekday.TUESDAY, Weekday.SATURDAY],
        times_of_day=[evening],
    )

    local = [s.start.astimezone(LONDON) for s in found]
    assert {d.strftime("%A") for d in local} == {"Tuesday", "Saturday"}
    assert min(d.time() for d in local) == datetime.time(17, 0)
    assert max(d.time() for d in local) == datetime.time(19, 15)


def test_an_appointment_running_a_moment_over_still_blocks_the_next_start(
    mornings, physio, london, follow_up
) -> None:
    AppointmentFactory(clinician=physio, location=london, starts_at=at(DAY, "10:00"),
                       ends_at=at(DAY, "10:45") + datetime.timedelta(microseconds=500))  # fmt: skip

    assert _starts(_find(follow_up, london)) == ["09:00", "09:15", "11:00", "11:15"]


def test_a_buffer_from_the_evening_before_blocks_the_first_morning(physio, london) -> None:
    WorkingHoursFactory(clinician=physio, location=london, weekday=Weekday.TUESDAY,
                        start_time=datetime.time(0, 0), end_time=datetime.time(2, 0))  # fmt: skip
    overnight = AppointmentTypeFactory(name="Overnight study", duration_minutes=60,
                                       buffer_after_minutes=90)  # fmt: skip
    AppointmentFactory(clinician=physio, location=london, appointment_type=overnight,
                       starts_at=at(DAY - datetime.timedelta(days=1), "22:45"))  # fmt: skip
    short = AppointmentTypeFactory(name="Check", duration_minutes=30)

    assert _starts(_find(short, london)) == ["01:15", "01:30"]


@pytest.mark.parametrize("limit", [1, 5, 40, 200])
def test_a_limit_gives_the_earliest_of_all_the_free_times(limit, physio, london, follow_up) -> None:
    for weekday in (Weekday.MONDAY, Weekday.THURSDAY):
        WorkingHoursFactory(clinician=physio, location=london, weekday=weekday,
                            start_time=datetime.time(9), end_time=datetime.time(12))  # fmt: skip
    for week in range(3):
        monday = DAY - datetime.timedelta(days=1) + datetime.timedelta(weeks=week)
        AppointmentFactory(clinician=physio, location=london, starts_at=at(monday, "09:00"),
                           ends_at=at(monday, "11:00"))  # fmt: skip
    thursday_mid_mornings = [(Weekday.THURSDAY, datetime.time(10), datetime.time(11))]
    last_day = DAY + datetime.timedelta(weeks=5)

    for extra in ({}, {"windows": thursday_mid_mornings}):
        everything = _find(follow_up, london, last_day=last_day, **extra)
        limited = _find(follow_up, london, last_day=last_day, limit=limit, **extra)

        assert everything
        assert limited == everything[:limit]


def test_a_buffer_still_running_when_the_search_starts_blocks_the_time(
    mornings, physio, london
) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"min_booking_notice_minutes": 0})
    with_clean_up = AppointmentTypeFactory(name="Acupuncture", duration_minutes=45,
                                           buffer_after_minutes=30)  # fmt: skip
    AppointmentFactory(clinician=physio, location=london, appointment_type=with_clean_up,
                       starts_at=at(DAY, "08:30"))  # fmt: skip
    check = AppointmentTypeFactory(name="Check", duration_minutes=30)

    found = _find(check, london, now=at(DAY, "09:20"))

    assert _starts(found)[:2] == ["09:45", "10:00"]


def test_a_buffer_running_past_midnight_into_the_next_days_appointment_blocks_the_time(
    physio, london, follow_up
) -> None:
    WorkingHoursFactory(clinician=physio, location=london, weekday=Weekday.TUESDAY,
                        start_time=datetime.time(22), end_time=datetime.time(23, 59))  # fmt: skip
    late = AppointmentTypeFactory(name="Late check", duration_minutes=30, buffer_after_minutes=60)
    AppointmentFactory(clinician=physio, location=london, appointment_type=follow_up,
                       starts_at=at(DAY + datetime.timedelta(days=1), "00:15"))  # fmt: skip

    for limit in (None, 60):
        assert _starts(_find(late, london, limit=limit)) == ["22:00", "22:15", "22:30", "22:45"]


def test_a_clinician_certified_during_the_search_is_offered_from_that_day(london) -> None:
    """Certification is checked on each day searched, not only on the first."""
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    newly = UserFactory(first_name="Nia", last_name="New", roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=newly, location=london, weekday=Weekday.TUESDAY,
                        start_time=MORNING[0], end_time=MORNING[1])  # fmt: skip
    next_week = DAY + datetime.timedelta(weeks=1)
    certify_dry_needling(newly, on=DAY + datetime.timedelta(days=1))

    found = _find(needling, london, last_day=next_week)

    assert {s.start.astimezone(LONDON).date() for s in found} == {next_week}
    assert _starts(found) == ALL_MORNING


def test_a_limit_is_filled_with_the_times_of_whoever_is_still_certified(
    london, lapsing_and_lasting
) -> None:
    """A colleague whose certification lapses after the first Tuesday takes no later time,
    and none of the certified clinician's later times is skipped to make up for it."""
    needling, _, lasting = lapsing_and_lasting
    next_week = DAY + datetime.timedelta(weeks=1)

    found = _find(needling, london, last_day=DAY + datetime.timedelta(weeks=3), limit=25)

    assert len(found) == 25
    first = [s for s in found if s.start.astimezone(LONDON).date() == DAY]
    later = [s for s in found if s.start.astimezone(LONDON).date() == next_week]
    assert len(first) == 20  # both clinicians, the whole morning
    assert {s.clinician_id for s in later} == {lasting.pk}
    assert _starts(later) == ALL_MORNING[:5]


def test_who_offers_a_type_holds_inside_another_query(mornings, physio, london) -> None:
    from appointments.availability import clinicians_offering
    from appointments.models import WorkingHours

    other = UserFactory(roles=[Role.PHYSIOTHERAPIST])
    theirs = WorkingHoursFactory(clinician=other, location=london, weekday=Weekday.TUESDAY,
                                 start_time=MORNING[0], end_time=MORNING[1])  # fmt: skip
    pilates = AppointmentTypeFactory(name="Pilates")
    pilates.clinicians.set([other])
    anyone = AppointmentTypeFactory(name="Follow-up")

    def hours_of(kind) -> set[int]:
        offering = clinicians_offering(kind, london)  # its tables renamed inside this query
        hours = WorkingHours.objects.order_by().filter(clinician__in=offering)
        return set(hours.values_list("pk", flat=True))

    assert hours_of(pilates) == {theirs.pk}
    assert hours_of(anyone) == {theirs.pk, mornings.pk}
