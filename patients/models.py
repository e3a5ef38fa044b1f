import datetime
import re
import unicodedata

from django.conf import settings
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


def fold(text: str) -> str:
    """Lower-case and strip accents so "Zoë" is found by "zoe"."""
    text = text or ""
    if text.isascii():  # most names: nothing to decompose (lists sort hundreds of them)
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


DATE_INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y")
#: All that those formats accept (a day may be written " 5"): digits, separators, spaces.
_DATE_LIKE = re.compile(r"[\d ]{1,4}[-/.][\d ]{1,2}[-/.][\d ]{1,4}")


def parse_date_query(text: str) -> datetime.date | None:
    if not _DATE_LIKE.fullmatch(text):  # a name or a phone number: not worth five parses
        return None
    for fmt in DATE_INPUT_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


_PHONE_WITH_SPACES = re.compile(r"\+?[\d().-]+(\s+[\d().-]+)+")


class PatientQuerySet(models.QuerySet):
    def active(self) -> "PatientQuerySet":
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "PatientQuerySet":
        return self.filter(archived_at__isnull=False)

    def search(self, query: str) -> "PatientQuerySet":
        """Patients matching every word of ``query``: a name part, a date of birth, a phone
        number or an e-mail address. Trigram indexes serve the name, phone and e-mail parts:
        GIN indexes on PostgreSQL (migration 0002), a full-text table on SQLite (0006)."""
        words = search_words(query)
        qs = self
        for word in words:
            qs = qs.filter(_term_filter(word))
        phrases = sqlite_phrases(words)
        if phrases and connections[self.db].vendor == "sqlite":
            # The table finds rows holding every word's trigrams; the filters above decide.
            qs = qs.filter(pk__in=RawSQL(SQLITE_SEARCH, [phrases]))
        return qs


SQLITE_SEARCH = "SELECT rowid FROM patient_search WHERE patient_search MATCH %s"


def search_words(query: str) -> list[str]:
    """The words of a search, each matched on its own (at most six)."""
    query = (query or "").strip()
    if parse_date_query(query) is None and _PHONE_WITH_SPACES.fullmatch(query):
        # "+44 7911 123456" is one phone number, not three words to match one by one.
        return ["".join(query.split())]
    return query.split()[:6]


def term_lookup(term: str) -> tuple[str, datetime.date | str]:
    """The lookup a word of a search is matched with, and the value it looks for."""
    date = parse_date_query(term)
    if date is not None:
        return "date_of_birth", date
    column, text = _term_text(term)
    return f"{column}__{'icontains' if column == 'email' else 'contains'}", text


def _term_filter(term: str) -> models.Q:
    return models.Q(term_lookup(term))


def _term_text(term: str) -> tuple[str, str]:
    """The column a word that is not a date is looked for in, and the text looked for."""
    if "@" in term:
        return "email", term
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 3 and re.fullmatch(r"\+?[\d().-]+", term):
        # "07700…" typed nationally still finds "+447700…" stored in E.164 form.
        return "phone", digits.lstrip("0") or digits
    return "search_name", fold(term)


def sqlite_phrases(words: list[str]) -> str:
    """The full-text query on SQLite for the words it can serve ("" for none)."""
    return " AND ".join(phrase for phrase in map(_sqlite_phrase, words) if phrase)


def _sqlite_phrase(term: str) -> str | None:
    """The full-text query for a word on SQLite, or None when a trigram table cannot serve
    it: a date, fewer than three characters, or a NUL (which ends the text SQLite reads)."""
    if parse_date_query(term) is not None:
        return None
    column, text = _term_text(term)
    if len(text) < 3 or "\x00" in text:
        return None
    quoted = text.replace('"', '""')
    return f'{column} : "{quoted}"'


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Not recorded"


class Funding(models.TextChoices):
    SELF_PAY = "self_pay", "Self-pay"
    INSURER = "insurer", "Insurer"


class ActivityLevel(models.TextChoices):
    SEDENTARY = "sedentary", "Sedentary"
    RECREATIONAL = "recreational", "Recreationally active"
    COMPETITIVE = "competitive", "Competitive sport"
    ELITE = "elite", "Elite / professional"


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(db_index=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField(max_length=60, blank=True, help_text="As the patient describes it.")

    phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164 form.")
    email = models.EmailField("e-mail", max_length=254, blank=True)
    address = models.TextField(max_length=500, blank=True)
    postcode = models.CharField(max_length=12, blank=True)

    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)

    referrer = models.CharField(
        max_length=120, blank=True, help_text="Who referred the patient (self, GP, coach…)."
    )
    gp_name = models.CharField("GP", max_length=120, blank=True)
    gp_practice = models.CharField("GP practice", max_length=200, blank=True)

    funding = models.CharField(max_length=10, choices=Funding.choices, default=Funding.SELF_PAY)
    insurer = models.CharField(max_length=120, blank=True)
    policy_number = models.CharField(max_length=60, blank=True)

    occupation = models.CharField(max_length=120, blank=True)
    sports = models.CharField(max_length=200, blank=True)
    activity_level = models.CharField(max_length=15, choices=ActivityLevel.choices, blank=True)

    privacy_notice_accepted_on = models.DateField(null=True, blank=True)
    email_reminders = models.BooleanField("e-mail reminders", default=False)
    sms_reminders = models.BooleanField("SMS reminders", default=False)

    allergy_tape_adhesive = models.BooleanField("allergy: tape / adhesive", default=False)
    allergy_latex = models.BooleanField("allergy: latex", default=False)
    allergy_metal = models.BooleanField("allergy: metal", default=False)
    anticoagulants_or_bleeding_disorder = models.BooleanField(
        "anticoagulants or bleeding disorder", default=False
    )
    pregnancy = models.BooleanField(default=False)
    needle_phobia = models.BooleanField(default=False)
    other_alerts = models.TextField("other medical alerts", max_length=1000, blank=True)

    registered_online = models.BooleanField(default=False, editable=False)
    needs_review = models.BooleanField(
        "to review",
        default=False,
        help_text="Registered online: check for a duplicate record and merge if needed.",
    )

    search_name = models.TextField(editable=False, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PatientQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["search_name"])

    ALERT_FIELDS = (
        "allergy_tape_adhesive",
        "allergy_latex",
        "allergy_metal",
        "anticoagulants_or_bleeding_disorder",
        "pregnancy",
        "needle_phobia",
    )

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        permissions = [
            ("archive_patient", "Can archive and restore patients"),
            ("export_patient", "Can export a patient's complete record"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="patient_name_idx"),
            models.Index(fields=["archived_at"], name="patient_archived_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_name="") & ~models.Q(last_name=""),
                name="patient_names_required",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.set_search_name()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name", "preferred_name"} & set(
            update_fields
        ):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("patients:detail", args=[self.pk])

    def set_search_name(self) -> None:
        """What search matches names against (also set by imports, which skip ``save``)."""
        self.search_name = fold(" ".join([self.first_name, self.preferred_name, self.last_name]))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self) -> str:
        if self.preferred_name and self.preferred_name != self.first_name:
            return f"{self.first_name} ({self.preferred_name}) {self.last_name}"
        return self.full_name

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def age(self, on: datetime.date | None = None) -> int:
        on = on or timezone.localdate()
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))

    @property
    def alerts(self) -> list[str]:
        """Labels of the medical alerts that are set, for badges and safety checks."""
        labels = [
            str(self._meta.get_field(name).verbose_name).capitalize()
            for name in self.ALERT_FIELDS
            if getattr(self, name)
        ]
        if self.other_alerts:
            labels.append(self.other_alerts)
        return labels
