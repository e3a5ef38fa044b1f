import datetime
import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clinic.models import Location, Room, SingletonModel, hex_colour
from patients.models import Patient

from .expressions import EndsWithin

#: The longest an appointment (and so an appointment type) may last. The database refuses
#: anything longer, so range reads can bound ``starts_at`` from below with it and stay on
#: the (…, starts_at) indexes.
LONGEST_APPOINTMENT = datetime.timedelta(minutes=480)
LONGEST_APPOINTMENT_MINUTES = LONGEST_APPOINTMENT // datetime.timedelta(minutes=1)
_LONGEST_HOURS = f"{LONGEST_APPOINTMENT / datetime.timedelta(hours=1):g} hours"
APPOINTMENT_TOO_LONG = f"An appointment cannot last longer than {_LONGEST_HOURS}."
APPOINTMENT_TYPE_TOO_LONG = (
    f"An appointment type cannot last longer than {_LONGEST_HOURS} "
    f"({LONGEST_APPOINTMENT_MINUTES} minutes)."
)
#: The database constraint behind ``APPOINTMENT_TOO_LONG``, named so a refusal is told apart.
APPOINTMENT_NOT_TOO_LONG = "appointment_not_too_long"


class PracticeSettings(SingletonModel):
    """The practice-wide scheduling rules: one row, edited in the admin site."""

    new_patient_discount_percent = models.PositiveSmallIntegerField(
        "new-patient discount (%)",
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="Off a new patient's first appointment; 0 turns the discount off.",
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Cancelling later than this before the start is a late cancellation."
    )
    reminder_hours_before = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
    )
    min_booking_notice_minutes = models.PositiveIntegerField(
        default=60, help_text="The earliest a slot can be offered, counted from now."
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    online_booking_enabled = models.BooleanField(
        default=True, help_text="Patients may book online at /book/."
    )
    online_max_future_bookings = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="The most upcoming appointments one patient may hold from online booking.",
    )
    cancellation_policy = models.TextField(
        default=(
            "Please give us at least 24 hours' notice if you need to cancel or move your "
            "appointment. Late cancellations and missed appointments may be charged."
        )
    )

    class Meta:
        verbose_name = "practice settings"
        verbose_name_plural = "practice settings"

    def __str__(self) -> str:
        return "Practice settings"

    @property
    def cancellation_notice(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.cancellation_notice_hours)

    @property
    def min_notice(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.min_booking_notice_minutes)

    @property
    def horizon(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.booking_horizon_days)


class AppointmentTypeQuerySet(models.QuerySet):
    def active(self) -> "AppointmentTypeQuerySet":
        return self.filter(active=True)


class AppointmentType(models.Model):
    name = models.CharField(max_length=100, unique=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(5),
            MaxValueValidator(LONGEST_APPOINTMENT_MINUTES, message=APPOINTMENT_TYPE_TOO_LONG),
        ]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(120)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    colour = models.CharField(max_length=7, default="#0d6efd", validators=[hex_colour])
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="appointment_types",
        help_text="Who offers this type.",
    )
    needs_room = models.BooleanField(default=True)
    new_patients_only = models.BooleanField(
        default=False, help_text="For example an initial assessment."
    )
    online_bookable = models.BooleanField(default=False)
    needs_dry_needling_certification = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    objects = AppointmentTypeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5),
                name="appointmenttype_duration_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__lte=LONGEST_APPOINTMENT_MINUTES),
                name="appointmenttype_duration_at_most_longest",
                violation_error_message=APPOINTMENT_TYPE_TOO_LONG,
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="appointmenttype_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"

    @property
    def duration(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.duration_minutes)

    @property
    def buffer_after(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.buffer_after_minutes)


def discounted(price: Decimal, percent: int) -> Decimal:
    return (price * (100 - percent) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """A weekly block of working time, in the location's time zone."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["clinician", "weekday", "start_time"]
        indexes = [models.Index(fields=["location", "weekday"], name="workinghours_loc_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="workinghours_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.clinician} · {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M} at {self.location}"
        )

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The block must end after it starts."})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": "Must be on or after “valid from”."})
        if self.clinician_id and self.weekday is not None and self.start_time and self.end_time:
            overlapping = WorkingHours.objects.filter(
                clinician_id=self.clinician_id,
                weekday=self.weekday,
                start_time__lt=self.end_time,
                end_time__gt=self.start_time,
            ).exclude(pk=self.pk)
            for other in overlapping:
                if _date_ranges_overlap(
                    self.valid_from, self.valid_until, other.valid_from, other.valid_until
                ):
                    raise ValidationError(f"This overlaps another block: {other}.")


def _date_ranges_overlap(a_from, a_until, b_from, b_until) -> bool:
    lo, hi = datetime.date.min, datetime.date.max
    return (a_from or lo) <= (b_until or hi) and (b_from or lo) <= (a_until or hi)


class TimeOff(models.Model):
    class Kind(models.TextChoices):
        LEAVE = "leave", "Leave"
        TRAINING = "training", "Training"
        SICKNESS = "sickness", "Sickness"
        OTHER = "other", "Other"

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LEAVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "time off"
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["clinician", "starts_at"], name="timeoff_clin_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="timeoff_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clinician}: {self.get_kind_display()} from {self.starts_at:%d %b %Y}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "Time off must end after it starts."})


class Closure(models.Model):
    """Days a location (or, with no location, the whole practice) is closed."""

    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        help_text="Leave empty for a practice-wide closure such as a public holiday.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=120, default="Public holiday")

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="closure_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        where = self.location or "All locations"
        return f"{where}: {self.reason} {self.starts_on:%d %b %Y}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The closure cannot end before it starts."})


class Status(models.TextChoices):
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


#: The one table of allowed status changes.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.BOOKED: frozenset({Status.ARRIVED, Status.CANCELLED, Status.NO_SHOW}),
    Status.ARRIVED: frozenset({Status.COMPLETED, Status.BOOKED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset({Status.BOOKED}),
}

#: Statuses that hold the clinician, the room and the patient (used by the clash rules).
LIVE_STATUSES = (Status.BOOKED, Status.ARRIVED, Status.COMPLETED)


class Source(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    ONLINE = "online", "Online"


class CancelledBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINIC = "clinic", "Clinic"


class AppointmentSeries(models.Model):
    every_weeks = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "appointment series"

    def __str__(self) -> str:
        return f"Series {self.pk} (every {self.every_weeks} week(s))"


class AppointmentQuerySet(models.QuerySet):
    def live(self) -> "AppointmentQuerySet":
        return self.filter(status__in=LIVE_STATUSES)

    def overlapping(
        self,
        start: datetime.datetime,
        end: datetime.datetime,
        earliest: datetime.datetime | None = None,
    ) -> "AppointmentQuerySet":
        """Appointments overlapping ``start``–``end``; they start after ``earliest``
        (``start - LONGEST_APPOINTMENT``, which the start index serves), given apart for a
        query compiled once (``CompiledRead``), whose values are all given."""
        if earliest is None:
            earliest = start - LONGEST_APPOINTMENT
        return self.filter(starts_at__lt=end, starts_at__gt=earliest, ends_at__gt=start)

    def with_related(self) -> "AppointmentQuerySet":
        return self.select_related(
            "patient", "clinician__staff_profile", "location", "room", "appointment_type"
        )

    def today(self) -> "AppointmentQuerySet":
        """Today in the practice's time zone (locations of one practice share a day)."""
        day = timezone.localdate()
        start = datetime.datetime.combine(
            day, datetime.time.min, tzinfo=timezone.get_current_timezone()
        )
        return self.overlapping(start, start + datetime.timedelta(days=1)).with_related()

    def for_day(self, location: Location, day: datetime.date) -> "AppointmentQuerySet":
        start, end = local_day_bounds(location, day)
        return self.filter(location=location).overlapping(start, end)


def live_overlapping_sql(
    start: datetime.datetime, end: datetime.datetime, connection, prefix: str = ""
) -> tuple[str, list]:
    """``Appointment.objects.live().overlapping(start, end)`` as a SQL condition and its
    values, for the schedule reads written as SQL (``prefix``: the table's alias and a dot)."""
    adapt = connection.ops.adapt_datetimefield_value
    live = ", ".join(["%s"] * len(LIVE_STATUSES))
    return (
        f"{prefix}status IN ({live}) AND {prefix}starts_at < %s "
        f"AND {prefix}starts_at > %s AND {prefix}ends_at > %s",
        [*map(str, LIVE_STATUSES), adapt(end), adapt(start - LONGEST_APPOINTMENT), adapt(start)],
    )


def local_day_bounds(
    location: Location, day: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    zone = location.zone
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


class Appointment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.FRONT_DESK)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    discount_percent = models.PositiveSmallIntegerField(default=0)
    notes = models.CharField(max_length=500, blank=True)
    series = models.ForeignKey(
        AppointmentSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )

    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    late_cancellation = models.BooleanField(default=False)

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["location", "starts_at"], name="appt_location_start_idx"),
            models.Index(fields=["clinician", "starts_at"], name="appt_clinician_start_idx"),
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start_idx"),
            models.Index(fields=["room", "starts_at"], name="appt_room_start_idx"),
            models.Index(fields=["status", "starts_at"], name="appt_status_start_idx"),
            # The slot finder reads each clinician's live appointments from this alone.
            models.Index(
                fields=["clinician", "starts_at"],
                include=["ends_at", "appointment_type", "room"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="appt_live_clinician_start_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="appointment_end_after_start",
            ),
            models.CheckConstraint(
                condition=EndsWithin("starts_at", "ends_at", limit=LONGEST_APPOINTMENT),
                name=APPOINTMENT_NOT_TOO_LONG,
                violation_error_message=APPOINTMENT_TOO_LONG,
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__lte=100), name="appointment_discount_range"
            ),
        ]
        # The no-double-booking exclusion constraints are PostgreSQL-only and live in
        # migration 0002 (btree_gist); the booking service gives SQLite the same guarantee.

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at, self.location.zone)
        return f"{self.patient} with {self.clinician} on {local:%a %d %b %Y %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("appointments:detail", args=[self.pk])

    @property
    def local_start(self) -> datetime.datetime:
        return timezone.localtime(self.starts_at, self.location.zone)

    @property
    def local_end(self) -> datetime.datetime:
        return timezone.localtime(self.ends_at, self.location.zone)

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at

    @property
    def price_due(self) -> Decimal:
        return discounted(self.price, self.discount_percent)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def allowed_transitions(self) -> frozenset[str]:
        return TRANSITIONS[self.status]


class AppointmentStatusChange(models.Model):
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"


class WaitlistEntry(models.Model):
    class TimeOfDay(models.TextChoices):
        MORNING = "morning", "Morning (before 12:00)"
        AFTERNOON = "afternoon", "Afternoon (12:00–17:00)"
        EVENING = "evening", "Evening (from 17:00)"

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        BOOKED = "booked", "Booked"
        WITHDRAWN = "withdrawn", "Withdrawn"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist_entries")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT)
    location = models.ForeignKey(Location, on_delete=models.PROTECT)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for any clinician.",
    )
    weekdays = models.JSONField(default=list, blank=True, help_text="Empty for any day.")
    times_of_day = models.JSONField(default=list, blank=True, help_text="Empty for any time.")
    earliest_date = models.DateField(null=True, blank=True)
    latest_date = models.DateField(null=True, blank=True)
    notes = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)

    TIME_OF_DAY_HOURS = {
        TimeOfDay.MORNING: (datetime.time(0, 0), datetime.time(12, 0)),
        TimeOfDay.AFTERNOON: (datetime.time(12, 0), datetime.time(17, 0)),
        TimeOfDay.EVENING: (datetime.time(17, 0), datetime.time(23, 59, 59)),
    }

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["state", "location"], name="waitlist_state_loc_idx")]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.appointment_type.name}"

    @property
    def preference_summary(self) -> str:
        days = ", ".join(Weekday(d).label for d in sorted(self.weekdays)) or "any day"
        times = ", ".join(self.TimeOfDay(t).label.split(" (")[0].lower() for t in self.times_of_day)
        parts = [days, times or "any time"]
        if self.earliest_date:
            parts.append(f"from {self.earliest_date:%d %b}")
        if self.latest_date:
            parts.append(f"until {self.latest_date:%d %b}")
        return "; ".join(parts)

    def matches(self, appointment: Appointment) -> bool:
        """Whether a freed ``appointment`` slot suits this entry's preferences."""
        if self.state != self.State.WAITING:
            return False
        if self.location_id != appointment.location_id:
            return False
        if self.appointment_type.duration_minutes > appointment.duration.total_seconds() // 60:
            return False
        if self.clinician_id and self.clinician_id != appointment.clinician_id:
            return False
        local = appointment.local_start
        if self.earliest_date and local.date() < self.earliest_date:
            return False
        if self.latest_date and local.date() > self.latest_date:
            return False
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        if self.times_of_day:
            windows = [self.TIME_OF_DAY_HOURS[self.TimeOfDay(t)] for t in self.times_of_day]
            if not any(a <= local.time() < b for a, b in windows):
                return False
        return True


class CalendarFeed(models.Model):
    """A clinician's private iCalendar feed; the token is the only credential."""

    clinician = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    show_full_names = models.BooleanField(
        default=False, help_text="Off: the feed shows patient initials and the type only."
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Calendar feed for {self.clinician}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


class OutboxMessage(models.Model):
    """Every e-mail the product sends, so a failure is visible and retried."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        CHANGE = "change", "Change of appointment"
        CANCELLATION = "cancellation", "Cancellation"
        REMINDER = "reminder", "Reminder"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="messages")
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    ics = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    MAX_ATTEMPTS = 5

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="outbox_state_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to} ({self.state})"
