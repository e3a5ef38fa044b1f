"""Hand-built practice data for the reports, with answers worked out by hand.

The week under test is Monday 3 to Sunday 9 March 2025 at Islington (London, on GMT).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Closure, Source, Status, TimeOff, Weekday
from clinic.roles import Role
from tests.appointments.factories import AppointmentFactory, WorkingHoursFactory
from tests.factories import LocationFactory, PatientFactory, StaffProfileFactory, UserFactory
from tests.treatments.factories import AssessmentFactory, EpisodeFactory
from treatments.models import Assessment, Episode, VisitNote

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime.date(2025, 3, 3)
SUNDAY = datetime.date(2025, 3, 9)


def at(day: datetime.date, hour: int, minute: int = 0, zone=LONDON) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def day(offset: int) -> datetime.date:
    return MONDAY + datetime.timedelta(days=offset)


@pytest.fixture
def islington(db):
    return LocationFactory(name="Islington", time_zone="Europe/London")


@pytest.fixture
def sydney(db):
    return LocationFactory(name="Bondi", time_zone="Australia/Sydney")


def clinician(username: str, first_name: str, last_name: str, display_name: str = ""):
    user = UserFactory(
        username=username, first_name=first_name, last_name=last_name, roles=[Role.PHYSIOTHERAPIST]
    )
    StaffProfileFactory(user=user, display_name=display_name or f"{first_name} {last_name}")
    return user


@pytest.fixture
def amy(db):
    return clinician("amy", "Amy", "Adams")


@pytest.fixture
def ben(db):
    return clinician("ben", "Ben", "Brown")


def visit(who, where, starts_at, status=Status.COMPLETED, **fields):
    return AppointmentFactory(
        clinician=who,
        location=where,
        starts_at=starts_at,
        status=status,
        patient=fields.pop("patient", None) or PatientFactory(),
        **fields,
    )


@pytest.fixture
def utilisation_week(amy, islington):
    """Amy's week: 14 h of working hours, less a closure (4 h) and time off (2 h) = 8 h;
    eight live 45-minute appointments = 6 h booked → 75.0 %. A cancellation and a no-show
    book nothing; a block that ended before the week offers nothing."""
    for weekday, start, end in (
        (Weekday.MONDAY, 9, 13),
        (Weekday.TUESDAY, 9, 13),
        (Weekday.WEDNESDAY, 9, 13),
        (Weekday.THURSDAY, 9, 11),
    ):
        WorkingHoursFactory(
            clinician=amy,
            location=islington,
            weekday=weekday,
            start_time=datetime.time(start),
            end_time=datetime.time(end),
        )
    WorkingHoursFactory(
        clinician=amy,
        location=islington,
        weekday=Weekday.FRIDAY,
        start_time=datetime.time(9),
        end_time=datetime.time(17),
        valid_until=MONDAY - datetime.timedelta(days=1),
    )
    Closure.objects.create(location=islington, starts_on=day(2), ends_on=day(2))
    TimeOff.objects.create(clinician=amy, starts_at=at(day(1), 11), ends_at=at(day(1), 13))
    for offset, hour in ((0, 9), (0, 10), (0, 11), (0, 12), (1, 9), (1, 10), (3, 9), (3, 10)):
        visit(amy, islington, at(day(offset), hour))
    visit(amy, islington, at(day(0), 9, 45), Status.CANCELLED, late_cancellation=True)
    visit(amy, islington, at(day(1), 11), Status.NO_SHOW)
    return amy


@pytest.fixture
def no_show_week(amy, islington):
    """Eight appointments: two no-shows (25.0 %), two cancellations of which one late
    (25.0 % and 12.5 %), three completed and one booked."""
    statuses = [
        (Status.NO_SHOW, {}),
        (Status.NO_SHOW, {}),
        (Status.CANCELLED, {"late_cancellation": True}),
        (Status.CANCELLED, {}),
        (Status.COMPLETED, {}),
        (Status.COMPLETED, {}),
        (Status.COMPLETED, {}),
        (Status.BOOKED, {}),
    ]
    for hour, (status, fields) in enumerate(statuses, start=8):
        visit(amy, islington, at(day(hour % 5), hour), status, **fields)
    return amy


@pytest.fixture
def two_weeks(amy, ben, islington):
    """Week of 3 Mar: Amy 3, Ben 0; week of 10 Mar: Amy 1, Ben 2. Cancelled and no-show
    appointments are not counted; one appointment falls outside the fortnight."""
    for offset, hour in ((0, 9), (1, 9), (4, 15)):
        visit(amy, islington, at(day(offset), hour))
    visit(amy, islington, at(day(8), 10), Status.BOOKED, source=Source.ONLINE)
    visit(ben, islington, at(day(7), 9), Status.ARRIVED)
    visit(ben, islington, at(day(13), 19))
    visit(ben, islington, at(day(2), 9), Status.CANCELLED)
    visit(amy, islington, at(day(2), 9), Status.NO_SHOW)
    visit(amy, islington, at(day(14), 9))


def discharged(amy, kujala, nprs, sessions, on=None, location=None):
    episode = EpisodeFactory(
        clinician=amy,
        status=Episode.Status.DISCHARGED,
        discharged_on=on or day(4),
        discharge_outcome=Episode.Outcome.IMPROVED,
    )
    AssessmentFactory(
        episode=episode,
        kind=Assessment.Kind.INITIAL,
        assessed_on=datetime.date(2025, 1, 6),
        kujala=kujala[0],
        nprs_worst=nprs[0],
    )
    AssessmentFactory(
        episode=episode,
        kind=Assessment.Kind.DISCHARGE,
        assessed_on=day(4),
        kujala=kujala[1],
        nprs_worst=nprs[1],
    )
    first_visit = datetime.date(2024, 1, 1) + datetime.timedelta(days=episode.pk)
    for number in range(sessions):
        appointment = visit(amy, location, at(first_visit, 9 + number), patient=episode.patient)
        VisitNote.objects.create(appointment=appointment, episode=episode, author=amy)
    return episode


@pytest.fixture
def discharged_episodes(amy, islington):
    """Kujala +15, +5 and −12: one of three improved beyond the MCID (33.3 %). Pain at worst
    −4, −2 and +3: a mean change of −1.0. Sessions 2, 1 and 3: a mean of 2.0."""
    discharged(amy, (60, 75), (7, 3), 2, location=islington)
    discharged(amy, (60, 65), (6, 4), 1, location=islington)
    discharged(amy, (70, 58), (5, 8), 3, location=islington)
    discharged(amy, (40, 90), (9, 0), 1, on=day(7), location=islington)  # after the range
    open_episode = EpisodeFactory(clinician=amy)
    AssessmentFactory(episode=open_episode, kujala=20, nprs_worst=9)
