"""The reports: each one's title, how its figures are counted, its table and its chart.

The table is the chart's data: both are built from the same rows, and the CSV download is
the table.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from clinic.db_routers import reports_database
from clinic.models import Location
from treatments import reference

from . import charts, queries

Cell = str | int | float | datetime.date | None


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    footer: list[Cell] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    table: Table
    chart: str


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    method: str
    figures: Callable[[datetime.date, datetime.date, Location | None], Result]

    def build(
        self, date_from: datetime.date, date_to: datetime.date, location: Location | None
    ) -> Result:
        """The table and chart, read from the reports database (a read replica) if there is one."""
        with reports_database():
            return self.figures(date_from, date_to, location)


def mondays(date_from: datetime.date, date_to: datetime.date) -> list[datetime.date]:
    week = date_from - datetime.timedelta(days=date_from.weekday())
    weeks = []
    while week <= date_to:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    return weeks


def months(date_from: datetime.date, date_to: datetime.date) -> list[datetime.date]:
    month, found = date_from.replace(day=1), []
    while month <= date_to:
        found.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return found


def _week_label(week: datetime.date) -> str:
    return f"{week.day} {week:%b}"


def _hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def appointments_per_clinician(date_from, date_to, location) -> Result:
    rows = queries.appointments_per_clinician_week(date_from, date_to, location)
    weeks = mondays(date_from, date_to)
    clinicians = sorted({(row.clinician, row.clinician_id) for row in rows})
    counts = {(row.week, row.clinician_id): row.appointments for row in rows}
    table = Table(
        ["Week of", *[name for name, _ in clinicians], "Total"],
        [
            [
                week,
                *[counts.get((week, pk), 0) for _, pk in clinicians],
                sum(counts.get((week, pk), 0) for _, pk in clinicians),
            ]
            for week in weeks
        ],
    )
    table.footer.extend(
        ["All weeks", *[sum(r[i] for r in table.rows) for i in range(1, len(clinicians) + 2)]]
    )
    per_clinician = zip([name for name, _ in clinicians], table.footer[1:-1], strict=True)
    chart = charts.bar_chart(
        chart_id="chart-appointments",
        title="Appointments per clinician per week",
        description=(
            f"{table.footer[-1]} appointments over {len(weeks)} weeks, stacked by clinician: "
            + (", ".join(f"{name} {total}" for name, total in per_clinician) or "none")
            + ". The table with the chart gives every figure."
        ),
        categories=[_week_label(week) for week in weeks],
        series=[
            charts.Series(name, [counts.get((week, pk), 0) for week in weeks])
            for name, pk in clinicians
        ],
        unit="appointments",
        stacked=True,
    )
    return Result(table, chart)


def utilisation(date_from, date_to, location) -> Result:
    rows = queries.utilisation_per_clinician(date_from, date_to, location)
    available = sum(row.available_minutes for row in rows)
    booked = sum(row.booked_minutes for row in rows)
    table = Table(
        ["Clinician", "Available (hours)", "Booked (hours)", "Utilisation (%)"],
        [
            [row.clinician, _hours(row.available_minutes), _hours(row.booked_minutes), row.percent]
            for row in rows
        ],
        ["All clinicians", _hours(available), _hours(booked), queries.percent(booked, available)],
    )
    chart = charts.horizontal_bar_chart(
        chart_id="chart-utilisation",
        title="Utilisation per clinician",
        description=(
            f"Booked over available time: {charts.number(table.footer[3], '%')} across "
            f"{len(rows)} clinician(s). The table with the chart gives every figure."
        ),
        labels=[row.clinician for row in rows],
        values=[row.percent for row in rows],
        unit="%",
        scale_at_least=100,
        notes=[
            f"{_hours(row.booked_minutes):g} of {_hours(row.available_minutes):g} h" for row in rows
        ],
    )
    return Result(table, chart)


def cancellations(date_from, date_to, location) -> Result:
    rows = {row.week: row for row in queries.cancellations_per_week(date_from, date_to, location)}
    weeks = mondays(date_from, date_to)
    empty = {"total": 0, "cancelled": 0, "late": 0, "no_shows": 0}
    filled = [rows.get(week) or queries.cancellation_row(week, empty) for week in weeks]
    total = queries.cancellation_row(
        None,
        {
            "total": sum(r.appointments for r in filled),
            "cancelled": sum(r.cancelled for r in filled),
            "late": sum(r.late_cancelled for r in filled),
            "no_shows": sum(r.no_shows for r in filled),
        },
    )
    table = Table(
        [
            "Week of",
            "Appointments",
            "Cancelled",
            "Late cancellations",
            "No-shows",
            "Cancelled (%)",
            "Late cancellations (%)",
            "No-shows (%)",
        ],
        [list(row) for row in filled],
        ["All weeks", *list(total)[1:]],
    )
    chart = charts.line_chart(
        chart_id="chart-cancellations",
        title="Cancellation, late-cancellation and no-show rates per week",
        description=(
            f"Over {total.appointments} appointments: {charts.number(total.cancelled_percent, '%')}"
            f" cancelled, {charts.number(total.late_cancelled_percent, '%')} cancelled late, "
            f"{charts.number(total.no_show_percent, '%')} no-shows. The table with the chart "
            "gives every figure."
        ),
        categories=[_week_label(week) for week in weeks],
        series=[
            charts.Series("Cancelled", [r.cancelled_percent for r in filled]),
            charts.Series("Late cancellations", [r.late_cancelled_percent for r in filled]),
            charts.Series("No-shows", [r.no_show_percent for r in filled]),
        ],
        unit="%",
    )
    return Result(table, chart)


def new_patients(date_from, date_to, location) -> Result:
    rows = {row.month: row for row in queries.new_patients_per_month(date_from, date_to, location)}
    all_months = months(date_from, date_to)
    filled = [rows.get(m) or queries.NewPatientsMonth(m, 0, 0, 0) for m in all_months]
    table = Table(
        ["Month", "Front desk", "Online", "Total"],
        [[row.month.strftime("%B %Y"), row.front_desk, row.online, row.total] for row in filled],
        [
            "All months",
            sum(r.front_desk for r in filled),
            sum(r.online for r in filled),
            sum(r.total for r in filled),
        ],
    )
    chart = charts.bar_chart(
        chart_id="chart-new-patients",
        title="New patients per month by where they registered",
        description=(
            f"{table.footer[3]} new patients: {table.footer[1]} registered at the front desk, "
            f"{table.footer[2]} online. The table with the chart gives every figure."
        ),
        categories=[m.strftime("%b %Y") for m in all_months],
        series=[
            charts.Series("Front desk", [r.front_desk for r in filled]),
            charts.Series("Online", [r.online for r in filled]),
        ],
        unit="patients",
        stacked=True,
    )
    return Result(table, chart)


def outcomes(date_from, date_to, location) -> Result:
    summary = queries.outcome_summary(date_from, date_to, location)
    mcid = reference.KUJALA_MCID
    table = Table(
        ["Figure", "Value"],
        [
            ["Episodes discharged", summary.episodes],
            ["With a baseline and a final Kujala score", summary.with_kujala],
            [f"Improved by at least {mcid} Kujala points (the MCID)", summary.improved],
            ["Share improved beyond the Kujala MCID (%)", summary.improved_percent],
            ["No meaningful change in Kujala", summary.no_meaningful_change],
            [f"Worse by at least {mcid} Kujala points", summary.worse],
            ["With pain at worst (NPRS) at the start and at the end", summary.with_nprs],
            [
                "Mean change in pain at worst (NPRS points; below 0 is less pain)",
                summary.mean_nprs_change,
            ],
            ["Mean sessions per episode (visit notes)", summary.mean_sessions],
        ],
    )
    verdicts = (
        [
            ("Improved", summary.improved),
            ("No meaningful change", summary.no_meaningful_change),
            ("Worse", summary.worse),
        ]
        if summary.with_kujala
        else []
    )
    chart = charts.horizontal_bar_chart(
        chart_id="chart-outcomes",
        title="Kujala outcome of discharged episodes",
        description=(
            f"{summary.episodes} discharged episodes, {summary.with_kujala} with a baseline and "
            f"final Kujala score: {charts.number(summary.improved_percent, '%')} improved by at "
            f"least the MCID of {mcid} points. Mean change in pain at worst: "
            f"{charts.number(summary.mean_nprs_change, 'points')}. The table with the chart "
            "gives every figure."
        )
        if summary.with_kujala
        else "No discharged episode in this period has a baseline and a final Kujala score.",
        labels=[label for label, _ in verdicts],
        values=[count for _, count in verdicts],
        unit="episodes",
        notes=[
            charts.number(queries.percent(count, summary.with_kujala), "%") for _, count in verdicts
        ],
    )
    return Result(table, chart)


def interventions(date_from, date_to, location) -> Result:
    rows = queries.intervention_use(date_from, date_to, location)
    table = Table(
        ["Intervention", "Started", "Evidence (2018 consensus)"],
        [[row.label, row.started, row.verdict.capitalize()] for row in rows],
        ["All interventions", sum(row.started for row in rows), ""],
    )
    chart = charts.horizontal_bar_chart(
        chart_id="chart-interventions",
        title="Interventions started, by kind, with the evidence verdict",
        description=(
            f"{table.footer[1]} interventions started. Evidence verdicts from the 2018 "
            f"International Patellofemoral Pain consensus ({reference.EVIDENCE_CITATION}). "
            "The table with the chart gives every figure."
        ),
        labels=[row.label for row in rows],
        values=[row.started for row in rows],
        notes=[row.verdict for row in rows],
    )
    return Result(table, chart)


REPORTS: dict[str, Report] = {
    report.slug: report
    for report in (
        Report(
            "appointments-per-clinician",
            "Appointments per clinician per week",
            "Booked, arrived and completed appointments starting in each week (Monday to "
            "Sunday); cancelled appointments and no-shows are not counted.",
            appointments_per_clinician,
        ),
        Report(
            "utilisation",
            "Utilisation per clinician",
            "Booked minutes of booked, arrived and completed appointments over available "
            "minutes: working hours on each day of the period, in each location's time zone, "
            "less closures and the clinician's time off.",
            utilisation,
        ),
        Report(
            "cancellations",
            "Cancellations, late cancellations and no-shows",
            "Each as a share of all appointments starting in the week, whatever their status. "
            "Cancelled includes late cancellations (cancelled within the notice period).",
            cancellations,
        ),
        Report(
            "new-patients",
            "New patients per month",
            "Patient records created in each month. Online: the patient registered through "
            "online booking; front desk: registered by staff. An online registration merged "
            "into an existing record is not counted. With a location, patients count where "
            "their first appointment was.",
            new_patients,
        ),
        Report(
            "outcomes",
            "Outcomes of discharged episodes",
            f"Episodes discharged in the period. Kujala change from the initial assessment to "
            f"the last later assessment that scored it, classed against the MCID of "
            f"{reference.KUJALA_MCID} points; pain at worst (NPRS) likewise. Sessions are the "
            "episode's visit notes. With a location, episodes with a visit there.",
            outcomes,
        ),
        Report(
            "interventions",
            "Intervention use",
            "Interventions started in the period, by kind, beside the 2018 International "
            "Patellofemoral Pain consensus verdict. With a location, episodes with a visit "
            "there.",
            interventions,
        ),
    )
}
