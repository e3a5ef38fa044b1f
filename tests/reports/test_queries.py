import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Status
from clinic.reports import queries
from clinic.reports.definitions import REPORTS
from patients.models import Patient
from tests.factories import PatientFactory
from tests.treatments.factories import EducationFactory, EpisodeFactory
from treatments.models import Bracing, Taping

from .conftest import MONDAY, SUNDAY, at, day, discharged, visit


def test_utilisation_is_booked_over_available_after_closures_and_time_off(utilisation_week):
    [row] = queries.utilisation_per_clinician(MONDAY, SUNDAY, None)
    assert row.clinician == "Amy Adams"
    assert row.available_minutes == 8 * 60
    assert row.booked_minutes == 6 * 60
    assert row.percent == 75.0


def test_a_practice_wide_closure_also_reduces_availability(utilisation_week, islington):
    from appointments.models import Closure

    Closure.objects.create(location=None, starts_on=day(3), ends_on=day(3))
    [row] = queries.utilisation_per_clinician(MONDAY, SUNDAY, islington)
    assert row.available_minutes == 6 * 60
    assert row.percent == 100.0


def test_utilisation_counts_working_hours_in_the_locations_time_zone(amy, sydney):
    from tests.appointments.factories import WorkingHoursFactory

    WorkingHoursFactory(
        clinician=amy,
        location=sydney,
        weekday=0,
        start_time=datetime.time(8),
        end_time=datetime.time(12),
    )
    visit(amy, sydney, at(MONDAY, 8, zone=sydney.zone))
    [row] = queries.utilisation_per_clinician(MONDAY, SUNDAY, sydney)
    assert (row.available_minutes, row.booked_minutes, row.percent) == (240, 45, 18.8)


def test_utilisation_of_another_location_leaves_this_clinician_out(utilisation_week, sydney):
    assert queries.utilisation_per_clinician(MONDAY, SUNDAY, sydney) == []


def test_the_no_show_rate_is_over_all_appointments_in_the_range(no_show_week):
    [week] = queries.cancellations_per_week(MONDAY, SUNDAY, None)
    assert week.week == MONDAY
    assert (week.appointments, week.no_shows, week.no_show_percent) == (8, 2, 25.0)
    assert (week.cancelled, week.cancelled_percent) == (2, 25.0)
    assert (week.late_cancelled, week.late_cancelled_percent) == (1, 12.5)


def test_appointments_per_clinician_per_week_count_live_appointments_only(two_weeks, islington):
    rows = queries.appointments_per_clinician_week(MONDAY, SUNDAY + datetime.timedelta(7), None)
    assert [(r.week, r.clinician, r.appointments) for r in rows] == [
        (MONDAY, "Amy Adams", 3),
        (day(7), "Amy Adams", 1),
        (day(7), "Ben Brown", 2),
    ]


def test_dates_limit_the_weeks_counted(two_weeks):
    rows = queries.appointments_per_clinician_week(day(7), day(7), None)
    assert [(r.clinician, r.appointments) for r in rows] == [("Ben Brown", 1)]


def test_a_location_filter_counts_only_that_locations_appointments(two_weeks, amy, sydney):
    visit(amy, sydney, at(day(7), 8, zone=sydney.zone))  # Sunday 21:00 in London
    rows = queries.appointments_per_clinician_week(MONDAY, day(13), sydney)
    assert [(r.week, r.clinician, r.appointments) for r in rows] == [(day(7), "Amy Adams", 1)]


def _created(when: datetime.datetime, **fields) -> Patient:
    patient = PatientFactory(**fields)
    Patient.objects.filter(pk=patient.pk).update(created_at=when)
    return patient


def test_new_patients_per_month_by_where_they_registered(db):
    january, february = datetime.date(2025, 1, 10), datetime.date(2025, 2, 20)
    _created(at(january, 10))
    _created(at(january, 11))
    _created(at(january, 12), registered_online=True)
    _created(at(february, 9), registered_online=True)
    _created(at(february, 9), registered_online=True, archived_at=at(february, 12))  # merged
    _created(at(datetime.date(2024, 12, 31), 23, 30))  # before the range
    _created(datetime.datetime(2025, 2, 28, 23, 30, tzinfo=datetime.UTC))  # 28 Feb, GMT
    rows = queries.new_patients_per_month(
        datetime.date(2025, 1, 1), datetime.date(2025, 2, 28), None
    )
    assert rows == [
        queries.NewPatientsMonth(datetime.date(2025, 1, 1), 2, 1, 3),
        queries.NewPatientsMonth(datetime.date(2025, 2, 1), 1, 1, 2),
    ]


def test_new_patients_at_a_location_are_those_first_seen_there(amy, islington, sydney):
    seen_here = _created(at(MONDAY, 8))
    seen_there = _created(at(MONDAY, 8), registered_online=True)
    visit(amy, islington, at(day(1), 9), patient=seen_here)
    visit(amy, sydney, at(day(1), 9, zone=sydney.zone), patient=seen_there)
    visit(amy, islington, at(day(3), 9), patient=seen_there)
    rows = queries.new_patients_per_month(MONDAY, SUNDAY, islington)
    assert rows == [queries.NewPatientsMonth(datetime.date(2025, 3, 1), 1, 0, 1)]


def test_outcome_summary_over_discharged_episodes(discharged_episodes):
    summary = queries.outcome_summary(MONDAY, SUNDAY, None)
    assert summary == queries.OutcomeSummary(
        episodes=3,
        with_kujala=3,
        improved=1,
        no_meaningful_change=1,
        worse=1,
        improved_percent=33.3,
        with_nprs=3,
        mean_nprs_change=-1.0,
        mean_sessions=2.0,
    )


def test_an_episode_with_only_a_baseline_kujala_is_not_classed(amy):
    episode = discharged(amy, (60, None), (7, None), 0)
    assert episode.assessments.count() == 2
    summary = queries.outcome_summary(MONDAY, SUNDAY, None)
    assert (summary.episodes, summary.with_kujala, summary.improved_percent) == (1, 0, None)
    assert (summary.with_nprs, summary.mean_nprs_change, summary.mean_sessions) == (0, None, 0.0)


def test_outcomes_at_a_location_are_episodes_with_a_visit_there(discharged_episodes, sydney):
    assert queries.outcome_summary(MONDAY, SUNDAY, sydney).episodes == 0


def test_intervention_use_counts_starts_in_the_range_by_kind_with_the_verdict(amy):
    plan = EpisodeFactory(clinician=amy).plan
    EducationFactory(plan=plan, started_on=day(0))
    EducationFactory(plan=plan, started_on=day(6))
    EducationFactory(plan=plan, started_on=day(7))  # after the range
    Taping.objects.create(
        plan=plan, recorded_by=amy, started_on=day(2), tape_type="rigid", technique="Medial glide"
    )
    Bracing.objects.create(plan=plan, recorded_by=amy, started_on=day(3), brace_type="sleeve")
    rows = {row.kind: row for row in queries.intervention_use(MONDAY, SUNDAY, None)}
    assert (rows["education"].started, rows["education"].verdict) == (2, "not rated")
    assert (rows["taping"].started, rows["taping"].verdict) == (1, "uncertain")
    assert (rows["bracing"].started, rows["bracing"].verdict) == (1, "uncertain")
    assert (rows["exercise"].started, rows["exercise"].verdict) == (0, "recommended")


def _queries_per_report(location) -> dict[str, int]:
    counts = {}
    for slug, report in REPORTS.items():
        with CaptureQueriesContext(connection) as captured:
            report.build(MONDAY, SUNDAY + datetime.timedelta(days=7), location)
        counts[slug] = len(captured)
    return counts


@pytest.mark.parametrize("filtered", [False, True])
def test_each_report_costs_the_same_queries_at_two_data_sizes(
    filtered, utilisation_week, discharged_episodes, amy, ben, islington
):
    location = islington if filtered else None
    small = _queries_per_report(location)
    for offset in range(7, 14):
        for hour in (9, 10, 11):
            visit(amy, islington, at(day(offset), hour))
            visit(ben, islington, at(day(offset), hour), Status.CANCELLED)
    for _ in range(3):
        discharged(ben, (50, 70), (6, 2), 2, on=day(5), location=islington)
    _created(at(day(8), 9), registered_online=True)
    assert _queries_per_report(location) == small
