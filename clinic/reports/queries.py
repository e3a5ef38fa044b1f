"""The practice reports' figures: aggregate reads that return plain rows.

Every function takes ``(date_from, date_to, location)``; both dates are included and read
in the location's time zone (each location's own zone when ``location`` is None; weeks and
months are then counted in the practice's time zone). Each costs a fixed number of queries
whatever the amount of data.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from appointments.models import Appointment, Closure, Status, TimeOff, WorkingHours
from clinic.models import Location
from patients.models import Patient
from treatments import reference, scoring
from treatments.models import (
    Assessment,
    Episode,
    Intervention,
    InterventionKind,
    OutcomeMeasure,
    VisitNote,
)

UTC = datetime.UTC
CLINICIAN_FIELDS = (
    "clinician_id",
    "clinician__first_name",
    "clinician__last_name",
    "clinician__username",
    "clinician__staff_profile__display_name",
)


class ClinicianWeek(NamedTuple):
    week: datetime.date
    clinician_id: int
    clinician: str
    appointments: int


class Utilisation(NamedTuple):
    clinician_id: int
    clinician: str
    available_minutes: int
    booked_minutes: int
    percent: float | None


class CancellationWeek(NamedTuple):
    week: datetime.date
    appointments: int
    cancelled: int
    late_cancelled: int
    no_shows: int
    cancelled_percent: float | None
    late_cancelled_percent: float | None
    no_show_percent: float | None


class NewPatientsMonth(NamedTuple):
    month: datetime.date
    front_desk: int
    online: int
    total: int


class OutcomeSummary(NamedTuple):
    episodes: int
    with_kujala: int
    improved: int
    no_meaningful_change: int
    worse: int
    improved_percent: float | None
    with_nprs: int
    mean_nprs_change: float | None
    mean_sessions: float | None


class InterventionUse(NamedTuple):
    kind: str
    label: str
    started: int
    verdict: str


def percent(part: int | float, whole: int | float) -> float | None:
    return round(part / whole * 100, 1) if whole else None


def clinician_name(row: dict) -> str:
    """The name a clinician goes by, from a ``values()`` row of CLINICIAN_FIELDS."""
    full = f"{row['clinician__first_name']} {row['clinician__last_name']}".strip()
    return row["clinician__staff_profile__display_name"] or full or row["clinician__username"]


def report_zone(location: Location | None) -> ZoneInfo:
    return location.zone if location else timezone.get_current_timezone()


def _day_start(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)


def _in_range(
    field: str, date_from: datetime.date, date_to: datetime.date, zones: Iterable[ZoneInfo]
) -> Q:
    after = date_to + datetime.timedelta(days=1)
    condition = Q(pk__in=[])
    for zone in zones:
        condition |= Q(
            **{
                f"{field}__gte": _day_start(date_from, zone),
                f"{field}__lt": _day_start(after, zone),
            }
        )
    return condition


def _appointments(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> QuerySet:
    """Appointments starting in the range, in the time zone of the location they are at."""
    if location is not None:
        return Appointment.objects.filter(
            _in_range("starts_at", date_from, date_to, [location.zone]), location=location
        )
    by_zone: dict[str, list[int]] = defaultdict(list)
    for pk, zone in Location.objects.values_list("pk", "time_zone"):
        by_zone[zone].append(pk)
    condition = Q(pk__in=[])
    for zone, pks in by_zone.items():
        condition |= Q(location_id__in=pks) & _in_range(
            "starts_at", date_from, date_to, [ZoneInfo(zone)]
        )
    return Appointment.objects.filter(condition)


def appointments_per_clinician_week(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> list[ClinicianWeek]:
    """Live appointments (booked, arrived, completed) per clinician per week (Mondays)."""
    zone = report_zone(location)
    rows = (
        _appointments(date_from, date_to, location)
        .live()
        .annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week", *CLINICIAN_FIELDS)
        .annotate(count=Count("pk"))
        .order_by("week", "clinician_id")
    )
    return [
        ClinicianWeek(
            _as_date(row["week"], zone), row["clinician_id"], clinician_name(row), row["count"]
        )
        for row in rows
    ]


def _as_date(value: datetime.date | datetime.datetime, zone: ZoneInfo) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, zone).date() if timezone.is_aware(value) else value.date()
    return value


def utilisation_per_clinician(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> list[Utilisation]:
    """Booked minutes of live appointments over available minutes.

    Available: working-hours blocks on each day of the range, in the block's location's time
    zone, less closures of that location (or of the whole practice) and the clinician's time
    off.
    """
    blocks = WorkingHours.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=date_to),
        Q(valid_until__isnull=True) | Q(valid_until__gte=date_from),
    )
    closures = Closure.objects.filter(starts_on__lte=date_to, ends_on__gte=date_from)
    if location is not None:
        blocks = blocks.filter(location=location)
        closures = closures.filter(Q(location=location) | Q(location__isnull=True))
    block_rows = list(
        blocks.values(
            *CLINICIAN_FIELDS,
            "location_id",
            "location__time_zone",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
        )
    )
    margin = datetime.timedelta(days=2)
    time_off: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)
    for clinician_id, starts_at, ends_at in TimeOff.objects.filter(
        clinician_id__in=blocks.values("clinician_id"),
        starts_at__lt=_day_start(date_to, UTC) + margin,
        ends_at__gt=_day_start(date_from, UTC) - margin,
    ).values_list("clinician_id", "starts_at", "ends_at"):
        time_off[clinician_id].append((starts_at, ends_at))
    closed = list(closures.values_list("location_id", "starts_on", "ends_on"))

    names: dict[int, str] = {}
    available: dict[int, float] = defaultdict(float)
    for block in block_rows:
        names[block["clinician_id"]] = clinician_name(block)
        available[block["clinician_id"]] += _block_minutes(
            block, date_from, date_to, closed, time_off[block["clinician_id"]]
        )

    booked_rows = (
        _appointments(date_from, date_to, location)
        .live()
        .values(*CLINICIAN_FIELDS)
        .annotate(
            booked=Sum(
                ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
            )
        )
        .order_by()
    )
    booked: dict[int, float] = {}
    for row in booked_rows:
        names.setdefault(row["clinician_id"], clinician_name(row))
        booked[row["clinician_id"]] = _minutes(row["booked"])

    rows = []
    for clinician_id, name in sorted(names.items(), key=lambda item: (item[1], item[0])):
        minutes_available = round(available.get(clinician_id, 0))
        minutes_booked = round(booked.get(clinician_id, 0))
        rows.append(
            Utilisation(
                clinician_id,
                name,
                minutes_available,
                minutes_booked,
                percent(minutes_booked, minutes_available),
            )
        )
    return rows


def _minutes(value: datetime.timedelta | None) -> float:
    return value.total_seconds() / 60 if value is not None else 0


def _block_minutes(
    block: dict,
    date_from: datetime.date,
    date_to: datetime.date,
    closures: list[tuple[int | None, datetime.date, datetime.date]],
    time_off: list[tuple[datetime.datetime, datetime.datetime]],
) -> float:
    """Minutes one weekly block offers over the range, less closures and time off."""
    zone = ZoneInfo(block["location__time_zone"])
    first = max(date_from, block["valid_from"] or date_from)
    last = min(date_to, block["valid_until"] or date_to)
    if first > last:
        return 0
    day = first + datetime.timedelta(days=(block["weekday"] - first.weekday()) % 7)
    total = 0.0
    while day <= last:
        if not any(
            (where is None or where == block["location_id"]) and starts <= day <= ends
            for where, starts, ends in closures
        ):
            start = datetime.datetime.combine(day, block["start_time"], tzinfo=zone)
            end = datetime.datetime.combine(day, block["end_time"], tzinfo=zone)
            total += _minutes_free(start.astimezone(UTC), end.astimezone(UTC), time_off)
        day += datetime.timedelta(days=7)
    return total


def _minutes_free(
    start: datetime.datetime,
    end: datetime.datetime,
    busy: list[tuple[datetime.datetime, datetime.datetime]],
) -> float:
    """Minutes of [start, end) not covered by any busy interval (which may overlap)."""
    cursor, free = start, 0.0
    for busy_start, busy_end in sorted(busy):
        if busy_end <= cursor or busy_start >= end:
            continue
        if busy_start > cursor:
            free += (busy_start - cursor).total_seconds()
        cursor = max(cursor, busy_end)
        if cursor >= end:
            break
    if cursor < end:
        free += (end - cursor).total_seconds()
    return free / 60


def cancellations_per_week(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> list[CancellationWeek]:
    """Cancellations (late ones included), late cancellations and no-shows per week, each
    as a share of all appointments starting that week."""
    zone = report_zone(location)
    rows = (
        _appointments(date_from, date_to, location)
        .annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week")
        .annotate(
            total=Count("pk"),
            cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
            late=Count("pk", filter=Q(status=Status.CANCELLED, late_cancellation=True)),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
        .order_by("week")
    )
    return [cancellation_row(_as_date(row["week"], zone), row) for row in rows]


def cancellation_row(week: datetime.date | None, counts: dict) -> CancellationWeek:
    total = counts["total"]
    return CancellationWeek(
        week,
        total,
        counts["cancelled"],
        counts["late"],
        counts["no_shows"],
        percent(counts["cancelled"], total),
        percent(counts["late"], total),
        percent(counts["no_shows"], total),
    )


def new_patients_per_month(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> list[NewPatientsMonth]:
    """Patient records created per month: online self-registrations (``registered_online``)
    and those registered by staff at the front desk.

    An online registration merged into an existing record (archived, its appointments moved
    away) is the same person and is not counted. With a location, a patient counts where
    their first appointment was.
    """
    zone = report_zone(location)
    zones = [zone] if location else [timezone.get_current_timezone()]
    patients = Patient.objects.filter(_in_range("created_at", date_from, date_to, zones)).exclude(
        Q(registered_online=True, archived_at__isnull=False)
        & ~Exists(Appointment.objects.filter(patient=OuterRef("pk")))
    )
    if location is not None:
        first_location = (
            Appointment.objects.filter(patient=OuterRef("pk"))
            .order_by("starts_at", "pk")
            .values("location_id")[:1]
        )
        patients = patients.annotate(first_location=Subquery(first_location)).filter(
            first_location=location.pk
        )
    rows = (
        patients.annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(
            online=Count("pk", filter=Q(registered_online=True)),
            front_desk=Count("pk", filter=Q(registered_online=False)),
        )
        .order_by("month")
    )
    return [
        NewPatientsMonth(
            _as_date(row["month"], zone),
            row["front_desk"],
            row["online"],
            row["front_desk"] + row["online"],
        )
        for row in rows
    ]


def _episodes_at(location: Location | None) -> Q:
    """Episodes with at least one visit at the location (all episodes without one)."""
    if location is None:
        return Q()
    return Q(pk__in=_visited_episodes(location))


def _visited_episodes(location: Location) -> QuerySet:
    return VisitNote.objects.filter(appointment__location=location).values("episode_id")


def outcome_summary(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> OutcomeSummary:
    """Episodes discharged in the range: the share improved beyond the Kujala MCID, the mean
    change in pain at worst (NPRS) and the mean number of sessions.

    Baseline is the initial assessment; the final value is the last later assessment that
    recorded the measure. Sessions are the episode's visit notes (one per attended visit).
    """
    measures = OutcomeMeasure.objects.filter(
        assessment__episode=OuterRef("pk"), measure=OutcomeMeasure.Measure.KUJALA
    )
    baseline_kujala = measures.filter(assessment__kind=Assessment.Kind.INITIAL).order_by(
        "assessment__assessed_on", "assessment__pk"
    )
    final_kujala = measures.order_by("-assessment__assessed_on", "-assessment__pk")
    assessments = Assessment.objects.filter(episode=OuterRef("pk"))
    baseline_nprs = assessments.filter(
        kind=Assessment.Kind.INITIAL, nprs_worst__isnull=False
    ).order_by("assessed_on", "pk")
    final_nprs = assessments.filter(nprs_worst__isnull=False).order_by("-assessed_on", "-pk")
    sessions = (
        VisitNote.objects.filter(episode=OuterRef("pk"))
        .order_by()
        .values("episode")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Episode.objects.filter(
            _episodes_at(location),
            status=Episode.Status.DISCHARGED,
            discharged_on__gte=date_from,
            discharged_on__lte=date_to,
        )
        .annotate(
            kujala_from=Subquery(baseline_kujala.values("total")[:1]),
            kujala_from_at=Subquery(baseline_kujala.values("assessment_id")[:1]),
            kujala_to=Subquery(final_kujala.values("total")[:1]),
            kujala_to_at=Subquery(final_kujala.values("assessment_id")[:1]),
            nprs_from=Subquery(baseline_nprs.values("nprs_worst")[:1]),
            nprs_from_at=Subquery(baseline_nprs.values("pk")[:1]),
            nprs_to=Subquery(final_nprs.values("nprs_worst")[:1]),
            nprs_to_at=Subquery(final_nprs.values("pk")[:1]),
            sessions=Subquery(sessions[:1]),
        )
        .values(
            "kujala_from",
            "kujala_from_at",
            "kujala_to",
            "kujala_to_at",
            "nprs_from",
            "nprs_from_at",
            "nprs_to",
            "nprs_to_at",
            "sessions",
        )
        .order_by()
    )
    episodes = 0
    verdicts: dict[str, int] = defaultdict(int)
    nprs_changes: list[float] = []
    session_counts: list[int] = []
    for row in rows:
        episodes += 1
        session_counts.append(row["sessions"] or 0)
        if _paired(row, "kujala"):
            result = scoring.classify_change(
                reference.Measure.KUJALA, row["kujala_from"], row["kujala_to"]
            )
            verdicts[result.verdict] += 1
        if _paired(row, "nprs"):
            nprs_changes.append(row["nprs_to"] - row["nprs_from"])
    with_kujala = sum(verdicts.values())
    return OutcomeSummary(
        episodes=episodes,
        with_kujala=with_kujala,
        improved=verdicts[scoring.ChangeVerdict.IMPROVED],
        no_meaningful_change=verdicts[scoring.ChangeVerdict.NO_MEANINGFUL_CHANGE],
        worse=verdicts[scoring.ChangeVerdict.WORSE],
        improved_percent=percent(verdicts[scoring.ChangeVerdict.IMPROVED], with_kujala),
        with_nprs=len(nprs_changes),
        mean_nprs_change=_mean(nprs_changes),
        mean_sessions=_mean(session_counts),
    )


def _paired(row: dict, measure: str) -> bool:
    """A baseline and a final value taken at two different assessments."""
    return (
        row[f"{measure}_from"] is not None
        and row[f"{measure}_to"] is not None
        and row[f"{measure}_from_at"] != row[f"{measure}_to_at"]
    )


def _mean(values: list[int] | list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def intervention_use(
    date_from: datetime.date, date_to: datetime.date, location: Location | None
) -> list[InterventionUse]:
    """Interventions started in the range, by kind, with the 2018 consensus verdict."""
    started = Intervention.objects.filter(started_on__gte=date_from, started_on__lte=date_to)
    if location is not None:
        started = started.filter(plan__episode_id__in=_visited_episodes(location))
    counts = dict(
        started.values("kind").annotate(n=Count("pk")).order_by().values_list("kind", "n")
    )
    rows = []
    for kind in InterventionKind:
        evidence = reference.EVIDENCE.get(kind.value)
        verdict = str(evidence.verdict) if evidence else str(reference.Verdict.NOT_RATED)
        rows.append(InterventionUse(kind.value, kind.label, counts.get(kind.value, 0), verdict))
    return rows
