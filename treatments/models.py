"""The clinical record: episodes of care, assessments with outcome measures, treatment
plans with typed interventions, the exercise library, consents and signed visit notes.

Clinical facts (Kujala items, red flags, evidence verdicts…) live in ``reference.py``;
scoring lives in ``scoring.py``. Every write with a rule goes through ``services.py``.
"""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from appointments.models import Appointment
from clinic.models import SingletonModel
from patients.models import Patient

from . import reference

nprs_field_validators = [
    MinValueValidator(reference.NPRS_MIN),
    MaxValueValidator(reference.NPRS_MAX),
]
icd10_validator = RegexValidator(
    r"^[A-TV-Z][0-9][0-9AB](\.?[0-9A-TV-Z]{1,4})?$",
    "Enter an ICD-10 code such as M22.2X1.",
)


class ClinicalSettings(SingletonModel):
    """Practice-wide clinical thresholds that managers may tune (one row)."""

    review_after_weeks = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Flag an episode with no meaningful improvement after this many weeks.",
    )
    orthoses_pain_drop_threshold = models.PositiveSmallIntegerField(
        default=reference.NPRS_IMPORTANT_CHANGE,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Continue foot orthoses when pain drops by at least this much at once.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "clinical settings"

    def __str__(self) -> str:
        return "Clinical settings"


class BodyRegion(models.TextChoices):
    KNEE = "knee", "Knee"
    HIP = "hip", "Hip"
    ANKLE_FOOT = "ankle_foot", "Ankle and foot"
    LUMBAR = "lumbar", "Lower back"
    SHOULDER = "shoulder", "Shoulder"
    OTHER = "other", "Other"


class Side(models.TextChoices):
    RIGHT = "right", "Right"
    LEFT = "left", "Left"
    BOTH = "both", "Both"
    NOT_APPLICABLE = "na", "Not applicable"


class EpisodeQuerySet(models.QuerySet):
    def open(self) -> "EpisodeQuerySet":
        return self.filter(status=Episode.Status.OPEN)


class Episode(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISCHARGED = "discharged", "Discharged"

    class Outcome(models.TextChoices):
        GOALS_MET = "goals_met", "Goals met"
        IMPROVED = "improved", "Improved, self-managing"
        UNCHANGED = "unchanged", "No change"
        WORSE = "worse", "Worse"
        REFERRED = "referred", "Referred on"
        DID_NOT_RETURN = "did_not_return", "Did not return"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    title = models.CharField(
        max_length=120, help_text="The complaint, e.g. right anterior knee pain."
    )
    body_region = models.CharField(
        max_length=12, choices=BodyRegion.choices, default=BodyRegion.KNEE
    )
    side = models.CharField(max_length=5, choices=Side.choices, default=Side.RIGHT)
    onset_date = models.DateField(null=True, blank=True)
    diagnosis = models.CharField(max_length=200, blank=True)
    icd10_code = models.CharField(
        "ICD-10 code", max_length=10, blank=True, validators=[icd10_validator]
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="episodes",
        verbose_name="treating clinician",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_outcome = models.CharField(max_length=15, choices=Outcome.choices, blank=True)
    discharge_notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = EpisodeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "status"], name="episode_patient_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open")
                | (models.Q(discharged_on__isnull=False) & ~models.Q(discharge_outcome="")),
                name="episode_discharge_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.patient})"

    def get_absolute_url(self) -> str:
        return reverse("treatments:episode", args=[self.patient_id, self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Assessment(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial assessment"
        REASSESSMENT = "reassessment", "Reassessment"
        DISCHARGE = "discharge", "Discharge assessment"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INITIAL)
    assessed_on = models.DateField(default=timezone.localdate)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    onset_mechanism = models.TextField("onset and mechanism", max_length=2000, blank=True)
    duration_weeks = models.PositiveSmallIntegerField(
        "duration (weeks)", null=True, blank=True, validators=[MaxValueValidator(2600)]
    )
    aggravating_activities = models.JSONField(default=list, blank=True)
    easing_factors = models.TextField(max_length=1000, blank=True)
    symptoms = models.JSONField(default=list, blank=True)
    sport = models.CharField(max_length=120, blank=True)
    weekly_volume = models.CharField(max_length=120, blank=True, help_text="e.g. 25 km running")
    recent_load_change = models.CharField(max_length=200, blank=True)
    patient_goals = models.TextField("the patient's goals", max_length=1000, blank=True)

    nprs_worst = models.PositiveSmallIntegerField(
        "pain at worst (0–10)", null=True, blank=True, validators=nprs_field_validators
    )
    nprs_rest = models.PositiveSmallIntegerField(
        "pain at rest (0–10)", null=True, blank=True, validators=nprs_field_validators
    )
    nprs_activity = models.PositiveSmallIntegerField(
        "pain during the aggravating activity (0–10)",
        null=True,
        blank=True,
        validators=nprs_field_validators,
    )

    red_flags = models.JSONField(default=list, blank=True)
    referral_decision = models.CharField(
        max_length=25, choices=reference.REFERRAL_DECISIONS, blank=True
    )
    referral_reason = models.TextField(max_length=1000, blank=True)

    contributing_factors = models.JSONField(default=list, blank=True)
    clinical_impression = models.TextField(max_length=3000, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessed_on", "pk"]
        indexes = [
            models.Index(fields=["episode", "assessed_on"], name="assessment_episode_day_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.assessed_on:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse(
            "treatments:assessment", args=[self.episode.patient_id, self.episode_id, self.pk]
        )

    @property
    def has_red_flags(self) -> bool:
        return bool(self.red_flags)

    @property
    def needs_referral_decision(self) -> bool:
        return self.has_red_flags and not self.referral_decision

    def red_flag_labels(self) -> list[str]:
        labels = dict(reference.RED_FLAGS)
        return [labels.get(key, key) for key in self.red_flags]


class ObjectiveTest(models.TextChoices):
    HIP_ABDUCTION_STRENGTH = "hip_abduction_strength", "Hip abductor strength"
    HIP_EXTERNAL_ROTATION_STRENGTH = "hip_er_strength", "Hip external rotator strength"
    QUADRICEPS_STRENGTH = "quadriceps_strength", "Quadriceps strength"
    STEP_DOWN = "step_down", "Step-down quality"
    SINGLE_LEG_SQUAT = "single_leg_squat", "Single-leg squat quality"
    SQUAT_PAIN = "squat_pain", "Pain reproduced by squatting"
    RESISTED_QUADS = "resisted_quads", "Pain on resisted quadriceps contraction"
    PATELLAR_PALPATION = "patellar_palpation", "Patellar palpation tenderness"
    PATELLAR_TILT = "patellar_tilt", "Patellar tilt"
    PATELLAR_GLIDE = "patellar_glide", "Patellar glide"
    PATELLAR_APPREHENSION = "patellar_apprehension", "Patellar apprehension"
    J_SIGN = "j_sign", "J-sign"
    CLARKES = "clarkes", "Clarke's test (poor accuracy: never deciding)"
    THOMAS_TEST = "thomas_test", "Thomas test / rectus femoris length"
    HAMSTRING_LENGTH = "hamstring_length", "Hamstring length"
    KNEE_TO_WALL = "knee_to_wall", "Knee-to-wall dorsiflexion"
    FPI6 = "fpi6", "Foot Posture Index (FPI-6) total"


class Unit(models.TextChoices):
    NEWTON = "N", "N"
    KILOGRAM = "kg", "kg"
    CENTIMETRE = "cm", "cm"
    DEGREE = "deg", "degrees"
    SCORE = "score", "score"
    QUALITY = "quality", "quality (free text)"
    RESULT = "result", "positive / negative"


STRENGTH_TESTS = frozenset(
    {
        ObjectiveTest.HIP_ABDUCTION_STRENGTH,
        ObjectiveTest.HIP_EXTERNAL_ROTATION_STRENGTH,
        ObjectiveTest.QUADRICEPS_STRENGTH,
    }
)


class ObjectiveFinding(models.Model):
    """One objective test with left and right results; strength shows its asymmetry."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="findings")
    test = models.CharField(max_length=30, choices=ObjectiveTest.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.NEWTON)
    left_value = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    right_value = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    left_text = models.CharField(max_length=120, blank=True)
    right_text = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.get_test_display()

    def clean(self) -> None:
        for side in ("left_value", "right_value"):
            value = getattr(self, side)
            if value is None:
                continue
            if self.test == ObjectiveTest.FPI6 and not (
                reference.FPI6_TOTAL_MIN <= value <= reference.FPI6_TOTAL_MAX
            ):
                raise ValidationError({side: "An FPI-6 total lies between −12 and +12."})
            if self.test != ObjectiveTest.FPI6 and value < 0:
                raise ValidationError({side: "Enter a value of zero or more."})

    @property
    def asymmetry_percent(self) -> float | None:
        from .scoring import asymmetry_percent

        if self.test not in STRENGTH_TESTS or self.left_value is None or self.right_value is None:
            return None
        return asymmetry_percent(float(self.left_value), float(self.right_value))


class OutcomeMeasure(models.Model):
    class Measure(models.TextChoices):
        KUJALA = "kujala", "Kujala Anterior Knee Pain Scale"
        TSK11 = "tsk11", "Tampa Scale of Kinesiophobia (TSK-11)"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="measures")
    measure = models.CharField(max_length=10, choices=Measure.choices)
    answers = models.JSONField()
    total = models.SmallIntegerField()
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "measure"], name="one_measure_per_assessment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()}: {self.total}"


class ExerciseCategory(models.TextChoices):
    HIP_STRENGTHENING = "hip_strengthening", "Hip strengthening"
    KNEE_STRENGTHENING = "knee_strengthening", "Knee strengthening"
    STRETCHING = "stretching", "Stretching"
    STABILISATION = "stabilisation", "Stabilisation"
    MOVEMENT_RETRAINING = "movement_retraining", "Movement retraining"


class Exercise(models.Model):
    name = models.CharField(max_length=120, unique=True)
    instructions = models.TextField(max_length=3000)
    body_region = models.CharField(
        max_length=12, choices=BodyRegion.choices, default=BodyRegion.KNEE
    )
    category = models.CharField(max_length=20, choices=ExerciseCategory.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class TreatmentPlan(models.Model):
    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="plan")
    planned_frequency = models.CharField(max_length=60, blank=True, help_text="e.g. weekly")
    planned_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Plan for {self.episode}"


class Goal(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(max_length=300, help_text="Measurable, e.g. run 5 km pain-free")
    target_date = models.DateField(null=True, blank=True)
    achieved_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["target_date", "pk"]

    def __str__(self) -> str:
        return self.description


class InterventionKind(models.TextChoices):
    EXERCISE = "exercise", "Exercise"
    TAPING = "taping", "Taping"
    BRACING = "bracing", "Bracing"
    FOOT_ORTHOSES = "foot_orthoses", "Foot orthoses"
    DRY_NEEDLING = "dry_needling", "Dry needling"
    MOVEMENT_RETRAINING = "movement_retraining", "Movement / gait retraining"
    EDUCATION = "education", "Education and self-management"
    SOFT_TISSUE = "soft_tissue", "Soft-tissue / manual therapy"


class Intervention(models.Model):
    """A typed part of a treatment plan; the kind's details live in the child model."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=20, choices=InterventionKind.choices, editable=False)
    started_on = models.DateField(default=timezone.localdate)
    stopped_on = models.DateField(null=True, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(inherit=True)

    KIND: str = ""

    class Meta:
        ordering = ["started_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.started_on:%d %b %Y}"

    def save(self, *args, **kwargs) -> None:
        if self.KIND:
            self.kind = self.KIND
        super().save(*args, **kwargs)

    @property
    def evidence(self):
        return reference.EVIDENCE.get(self.kind)

    @property
    def is_active(self) -> bool:
        return self.stopped_on is None

    def detail(self) -> "Intervention":
        """The kind's own row (ExercisePrescription, Taping, …)."""
        return getattr(self, DETAIL_ACCESSORS[self.kind])


class ExercisePrescription(Intervention):
    KIND = InterventionKind.EXERCISE
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="prescriptions")
    sets = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    hold_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    load = models.CharField(max_length=60, blank=True, help_text="e.g. body weight, 5 kg, red band")
    times_per_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    days_per_week = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    progression = models.CharField("progression notes", max_length=300, blank=True)

    @property
    def dose(self) -> str:
        parts = [f"{self.sets} × {self.reps}" if self.reps else f"{self.sets} sets"]
        if self.hold_seconds:
            parts.append(f"hold {self.hold_seconds} s")
        if self.load:
            parts.append(self.load)
        parts.append(f"{self.times_per_day}× a day, {self.days_per_week} days a week")
        return ", ".join(parts)


class Taping(Intervention):
    KIND = InterventionKind.TAPING

    class TapeType(models.TextChoices):
        KINESIOLOGY = "kinesiology", "Kinesiology tape"
        RIGID = "rigid", "Rigid tape"

    tape_type = models.CharField(max_length=12, choices=TapeType.choices)
    technique = models.CharField(max_length=200)
    tailoring = models.CharField("individual tailoring", max_length=300, blank=True)
    skin_checked = models.BooleanField("skin checked", default=False)
    provocative_activity = models.CharField(max_length=120, blank=True)
    pain_before = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=nprs_field_validators
    )
    pain_after = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=nprs_field_validators
    )


class Bracing(Intervention):
    KIND = InterventionKind.BRACING

    class BraceType(models.TextChoices):
        REALIGNMENT = "realignment", "Realignment brace"
        PATELLAR_STABILISING = "patellar_stabilising", "Patellar stabilising brace"
        SLEEVE = "sleeve", "Sleeve"

    brace_type = models.CharField(max_length=25, choices=BraceType.choices)
    product = models.CharField(max_length=120, blank=True)
    fitting_notes = models.CharField(max_length=300, blank=True)
    wearing_schedule = models.CharField(max_length=200, blank=True)


class FootOrthoses(Intervention):
    KIND = InterventionKind.FOOT_ORTHOSES

    class Construction(models.TextChoices):
        PREFABRICATED = "prefabricated", "Prefabricated"
        CUSTOM = "custom", "Custom"

    construction = models.CharField(
        max_length=15, choices=Construction.choices, default=Construction.PREFABRICATED
    )
    product = models.CharField(max_length=120, blank=True)
    provocative_activity = models.CharField(max_length=120, help_text="e.g. single-leg squat")
    pain_without = models.PositiveSmallIntegerField(validators=nprs_field_validators)
    pain_with = models.PositiveSmallIntegerField(validators=nprs_field_validators)
    recommendation = models.CharField(max_length=10, editable=False)
    review_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "foot orthoses"


class DryNeedlingConsent(models.Model):
    class Method(models.TextChoices):
        WRITTEN_PAPER = "written_paper", "Signed paper form"
        WRITTEN_ELECTRONIC = "written_electronic", "Signed electronic form"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="needling_consents")
    consented_on = models.DateField()
    method = models.CharField("how obtained", max_length=20, choices=Method.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-consented_on"]

    def __str__(self) -> str:
        return f"Dry-needling consent of {self.consented_on:%d %b %Y}"


class DryNeedling(Intervention):
    KIND = InterventionKind.DRY_NEEDLING
    consent = models.ForeignKey(DryNeedlingConsent, on_delete=models.PROTECT, related_name="+")
    precautions = models.JSONField(
        help_text="Each precaution's answer: true (present) or false (screened, absent)."
    )
    precautions_note = models.CharField(max_length=300, blank=True)
    muscles = models.CharField("muscles needled", max_length=300)
    needle_count = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    response = models.CharField(max_length=300, blank=True)
    adverse_events = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "dry needling"


class MovementRetraining(Intervention):
    KIND = InterventionKind.MOVEMENT_RETRAINING

    class Method(models.TextChoices):
        MIRROR = "mirror", "Mirror"
        TREADMILL = "treadmill", "Treadmill"
        VIDEO = "video", "Video feedback"
        VERBAL = "verbal", "Verbal cues only"

    method = models.CharField(max_length=10, choices=Method.choices)
    cues = models.CharField(max_length=300, help_text="e.g. knees apart, kneecaps straight ahead")


class Education(Intervention):
    KIND = InterventionKind.EDUCATION

    class Topic(models.TextChoices):
        LOAD_MANAGEMENT = "load_management", "Load management and pacing"
        PEACE_AND_LOVE = "peace_and_love", "PEACE & LOVE"
        ICE_OR_HEAT = "ice_or_heat", "Ice or heat 10–20 minutes"
        MOVEMENT_BREAKS = "movement_breaks", "Movement breaks when sitting"
        PAIN_EXPLANATION = "pain_explanation", "Reassurance and explanation of pain"

    topics = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "education"


class SoftTissue(Intervention):
    KIND = InterventionKind.SOFT_TISSUE
    technique = models.CharField(max_length=200)
    area = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "soft-tissue therapy"


DETAIL_MODELS: dict[str, type[Intervention]] = {
    InterventionKind.EXERCISE: ExercisePrescription,
    InterventionKind.TAPING: Taping,
    InterventionKind.BRACING: Bracing,
    InterventionKind.FOOT_ORTHOSES: FootOrthoses,
    InterventionKind.DRY_NEEDLING: DryNeedling,
    InterventionKind.MOVEMENT_RETRAINING: MovementRetraining,
    InterventionKind.EDUCATION: Education,
    InterventionKind.SOFT_TISSUE: SoftTissue,
}
DETAIL_ACCESSORS = {kind: model._meta.model_name for kind, model in DETAIL_MODELS.items()}


class VisitNote(models.Model):
    """A SOAP note for one appointment. Signing locks it for everyone, for good."""

    class Adherence(models.TextChoices):
        NONE = "none", "None of the programme"
        SOME = "some", "Some of it"
        MOST = "most", "Most of it"
        ALL = "all", "All of it"
        NOT_ASKED = "not_asked", "Not asked"

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="visit_note"
    )
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subjective = models.TextField(max_length=5000, blank=True)
    objective = models.TextField(max_length=5000, blank=True)
    assessment = models.TextField(max_length=5000, blank=True)
    plan = models.TextField(max_length=5000, blank=True)
    nprs = models.PositiveSmallIntegerField(
        "pain today (0–10)", null=True, blank=True, validators=nprs_field_validators
    )
    delivered = models.ManyToManyField(
        Intervention, blank=True, related_name="deliveries", verbose_name="interventions delivered"
    )
    adherence = models.CharField(
        "exercise adherence", max_length=10, choices=Adherence.choices, default=Adherence.NOT_ASKED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_hash = models.CharField(max_length=64, blank=True)
    history = HistoricalRecords(m2m_fields=["delivered"])

    class Meta:
        ordering = ["-appointment__starts_at"]
        indexes = [models.Index(fields=["author", "signed_at"], name="note_author_signed_idx")]

    def __str__(self) -> str:
        return f"Visit note for {self.appointment}"

    def save(self, *args, **kwargs) -> None:
        if self.pk and VisitNote.objects.filter(pk=self.pk, signed_at__isnull=False).exists():
            raise ValidationError("A signed note cannot be changed; add an addendum instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("treatments:note", args=[self.episode.patient_id, self.pk])

    def delete(self, *args, **kwargs):
        raise ValidationError("Visit notes are never deleted.")

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def compute_hash(self) -> str:
        delivered = sorted(self.delivered.values_list("pk", flat=True)) if self.pk else []
        content = {
            "appointment": self.appointment_id,
            "episode": self.episode_id,
            "author": self.author_id,
            "subjective": self.subjective,
            "objective": self.objective,
            "assessment": self.assessment,
            "plan": self.plan,
            "nprs": self.nprs,
            "delivered": delivered,
            "adherence": self.adherence,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class Addendum(models.Model):
    """A dated, signed correction or addition to a signed note; itself immutable."""

    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    signed_at = models.DateTimeField(default=timezone.now)
    content_hash = models.CharField(max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum of {self.signed_at:%d %b %Y %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            raise ValidationError("A signed addendum cannot be changed.")
        self.content_hash = hashlib.sha256(
            json.dumps(
                [self.note_id, self.author_id, self.text, self.signed_at.isoformat()]
            ).encode()
        ).hexdigest()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Addenda are never deleted.")
