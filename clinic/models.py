import datetime
import zoneinfo
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .compiled_queries import ID_PLACEHOLDER, CompiledRead
from .roles import Role

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour such as #1f77b4.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone such as Europe/London.")


class SingletonModel(models.Model):
    """A table of exactly one row (practice-wide settings edited in the admin site)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The one row, made with its defaults the first time; read from the primary (as
        ``get_or_create`` reads) with SQL compiled once, as pages read their settings on
        every request."""
        read = _SINGLETON_READS.get(cls)
        if read is None:
            read = _SINGLETON_READS.setdefault(
                cls,
                CompiledRead(lambda pk: cls.objects.filter(pk=pk), ID_PLACEHOLDER, for_write=True),
            )
        return read.get(1) or cls.objects.get_or_create(pk=1)[0]


_SINGLETON_READS: dict[type[SingletonModel], CompiledRead] = {}


class User(AbstractUser):
    """A member of staff who signs in. Roles are Django groups named in ``clinic.roles``."""

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        profile = getattr(self, "staff_profile", None)
        if profile and profile.display_name:
            return profile.display_name
        return self.get_full_name() or self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if role.value in self.role_names]

    @property
    def is_physiotherapist(self) -> bool:
        return self.has_role(Role.PHYSIOTHERAPIST)

    @property
    def is_front_desk(self) -> bool:
        return self.has_role(Role.FRONT_DESK)

    @property
    def is_practice_manager(self) -> bool:
        return self.has_role(Role.PRACTICE_MANAGER)

    @property
    def must_use_two_factor(self) -> bool:
        """Everyone who can maintain the practice signs in with a second factor."""
        return self.is_superuser or self.is_staff or self.is_practice_manager


class UserSession(models.Model):
    """A session someone signed in with, so that deactivating them can end every one."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} · {self.created:%Y-%m-%d %H:%M}"


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="IANA time zone, e.g. Europe/London or Australia/Sydney.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_unique_name_per_location"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} · {self.name}"


class Discipline(models.TextChoices):
    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    SPORTS_THERAPY = "sports_therapy", "Sports therapy"
    OSTEOPATHY = "osteopathy", "Osteopathy"
    PODIATRY = "podiatry", "Podiatry"
    ADMINISTRATION = "administration", "Administration"


class StaffProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(max_length=120, blank=True)
    registration_number = models.CharField(
        "professional registration number", max_length=40, blank=True
    )
    discipline = models.CharField(
        max_length=30, choices=Discipline.choices, default=Discipline.PHYSIOTHERAPY
    )
    calendar_colour = models.CharField(max_length=7, default="#0d6efd", validators=[hex_colour])
    locations = models.ManyToManyField(Location, blank=True, related_name="staff")
    bookable_online = models.BooleanField(
        default=True, help_text="Patients may choose this clinician when booking online."
    )
    dry_needling_certified_on = models.DateField(null=True, blank=True)
    dry_needling_expires_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dry_needling_expires_on__isnull=True)
                | models.Q(dry_needling_certified_on__isnull=False),
                name="staffprofile_dn_expiry_needs_certification",
            ),
            models.CheckConstraint(
                condition=models.Q(dry_needling_expires_on__isnull=True)
                | models.Q(dry_needling_expires_on__gt=models.F("dry_needling_certified_on")),
                name="staffprofile_dn_expiry_after_certification",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or str(self.user)

    def get_absolute_url(self) -> str:
        return reverse("admin:clinic_staffprofile_change", args=[self.pk])

    def clean(self) -> None:
        if self.dry_needling_expires_on and not self.dry_needling_certified_on:
            raise ValidationError(
                {"dry_needling_certified_on": "Enter the certification date as well as the expiry."}
            )
        if (
            self.dry_needling_expires_on
            and self.dry_needling_certified_on
            and self.dry_needling_expires_on <= self.dry_needling_certified_on
        ):
            raise ValidationError(
                {"dry_needling_expires_on": "The expiry date must be after the certification date."}
            )

    def dry_needling_certified(self, on: datetime.date | None = None) -> bool:
        """True when a dry-needling certification is held and not expired on ``on``."""
        on = on or timezone.localdate()
        if not self.dry_needling_certified_on or self.dry_needling_certified_on > on:
            return False
        return self.dry_needling_expires_on is None or self.dry_needling_expires_on >= on


# The access log of patient data; clinic/audit.py writes it.

MAX_USER_AGENT = 300


class Action(models.TextChoices):
    VIEW = "view", "View"
    SEARCH = "search", "Search"
    LIST = "list", "List"
    EXPORT = "export", "Export"
    PRINT = "print", "Print"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    ARCHIVE = "archive", "Archive"
    RESTORE = "restore", "Restore"
    SIGN = "sign", "Sign"
    MERGE = "merge", "Merge"


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"


class AccessEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Every page of patient data writes one entry: only the indexes the log is read by (a
    # person's or a patient's entries over time, everyone's by time) are kept up to date.
    user = models.ForeignKey(
        "clinic.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    username = models.CharField(max_length=150, blank=True)
    roles = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=MAX_USER_AGENT, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient_id", "at"], name="access_patient_at_idx"),
            models.Index(fields=["user", "at"], name="access_user_at_idx"),
        ]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or 'anonymous'} {self.action}"
