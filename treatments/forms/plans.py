"""Forms for treatment plans, goals, the eight kinds of intervention and needling consent.

Forms validate input only; the safety rules (tape allergy, dry-needling certification,
consent and precautions, the orthoses recommendation) live in ``services.intervention_add``.
"""

from django import forms
from django.utils import timezone

from patients.models import Patient

from .. import reference, scoring
from ..models import (
    Bracing,
    DryNeedling,
    DryNeedlingConsent,
    Education,
    Exercise,
    ExerciseCategory,
    ExercisePrescription,
    FootOrthoses,
    Goal,
    InterventionKind,
    MovementRetraining,
    SoftTissue,
    Taping,
    TreatmentPlan,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COMMON_FIELDS = ["started_on", "notes"]
COMMON_WIDGETS = {
    "started_on": DATE_WIDGET,
    "notes": forms.Textarea(attrs={"rows": 2}),
}


class PlanForm(forms.ModelForm):
    class Meta:
        model = TreatmentPlan
        fields = ["planned_frequency", "planned_sessions"]
        labels = {"planned_sessions": "Planned number of sessions"}


class GoalForm(forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["description", "target_date"]
        labels = {"description": "Goal"}
        widgets = {"target_date": DATE_WIDGET}

    def clean_target_date(self):
        target = self.cleaned_data["target_date"]
        if target and target < timezone.localdate():
            raise forms.ValidationError("A goal's target date cannot be in the past.")
        return target


class GoalAchievedForm(forms.Form):
    goal = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class InterventionForm(forms.ModelForm):
    """Common to every kind: when it started and free notes."""

    def __init__(self, *args, patient: Patient, **kwargs) -> None:
        self.patient = patient
        super().__init__(*args, **kwargs)

    def clean_started_on(self):
        started = self.cleaned_data["started_on"]
        if started and started > timezone.localdate():
            raise forms.ValidationError("An intervention cannot start in the future.")
        return started


def _grouped_exercises(queryset) -> list:
    labels = dict(ExerciseCategory.choices)
    groups: dict[str, list] = {}
    for exercise in queryset:
        groups.setdefault(labels.get(exercise.category, exercise.category), []).append(
            (exercise.pk, exercise.name)
        )
    return [("", "Choose an exercise"), *groups.items()]


class ExercisePrescriptionForm(InterventionForm):
    class Meta:
        model = ExercisePrescription
        fields = [
            "exercise",
            "sets",
            "reps",
            "hold_seconds",
            "load",
            "times_per_day",
            "days_per_week",
            "progression",
            *COMMON_FIELDS,
        ]
        labels = {"hold_seconds": "Hold (seconds)", "times_per_day": "Times a day"}
        widgets = COMMON_WIDGETS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["exercise"]
        field.queryset = Exercise.objects.filter(active=True).order_by("category", "name")
        field.choices = _grouped_exercises(field.queryset)
        field.help_text = "Only exercises that are active in the library are offered."

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("reps") and not cleaned.get("hold_seconds"):
            self.add_error("reps", "Give the repetitions, a hold time, or both.")
        return cleaned


class TapingForm(InterventionForm):
    class Meta:
        model = Taping
        fields = [
            "tape_type",
            "technique",
            "tailoring",
            "skin_checked",
            "provocative_activity",
            "pain_before",
            "pain_after",
            *COMMON_FIELDS,
        ]
        labels = {
            "skin_checked": "Skin checked before taping",
            "pain_before": "Pain before taping (0–10)",
            "pain_after": "Pain after taping (0–10)",
        }
        help_texts = {
            "technique": "e.g. medial glide, unloading",
            "provocative_activity": "The painful activity repeated to test the tape",
        }
        widgets = COMMON_WIDGETS

    def clean(self):
        cleaned = super().clean()
        before, after = cleaned.get("pain_before"), cleaned.get("pain_after")
        if (before is None) != (after is None):
            self.add_error("pain_after", "Record pain both before and after taping, or neither.")
        if before is not None and not cleaned.get("provocative_activity"):
            self.add_error("provocative_activity", "Say which activity the pain was tested on.")
        return cleaned


class BracingForm(InterventionForm):
    class Meta:
        model = Bracing
        fields = ["brace_type", "product", "fitting_notes", "wearing_schedule", *COMMON_FIELDS]
        help_texts = {"wearing_schedule": "e.g. during sport and long walks"}
        widgets = COMMON_WIDGETS


class FootOrthosesForm(InterventionForm):
    class Meta:
        model = FootOrthoses
        fields = [
            "construction",
            "product",
            "provocative_activity",
            "pain_without",
            "pain_with",
            "review_on",
            *COMMON_FIELDS,
        ]
        labels = {
            "construction": "Prefabricated or custom",
            "pain_without": "Pain without the inserts (0–10)",
            "pain_with": "Pain with the inserts (0–10)",
            "review_on": "Review on",
        }
        help_texts = {
            "provocative_activity": "Repeat this painful activity without, then with, the inserts"
        }
        widgets = {**COMMON_WIDGETS, "review_on": DATE_WIDGET}

    def clean(self):
        cleaned = super().clean()
        review, started = cleaned.get("review_on"), cleaned.get("started_on")
        if review and started and review < started:
            self.add_error("review_on", "The review cannot come before the start.")
        return cleaned


YES_NO = [("yes", "Yes"), ("no", "No")]
PRECAUTION_PREFIX = "precaution_"


class DryNeedlingForm(InterventionForm):
    """The precaution screen asks every question; alerts on the record pre-answer "yes"."""

    class Meta:
        model = DryNeedling
        fields = [
            "precautions_note",
            "muscles",
            "needle_count",
            "response",
            "adverse_events",
            *COMMON_FIELDS,
        ]
        labels = {"precautions_note": "How the precautions present were managed"}
        widgets = COMMON_WIDGETS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        alerted = set(
            scoring.dry_needling_precautions_from_alerts(
                {field: getattr(self.patient, field) for field in Patient.ALERT_FIELDS}
            )
        )
        screen = {}
        for precaution in reference.DRY_NEEDLING_PRECAUTIONS:
            screen[PRECAUTION_PREFIX + precaution.key] = forms.ChoiceField(
                label=precaution.label,
                choices=YES_NO,
                widget=forms.RadioSelect,
                initial="yes" if precaution.key in alerted else None,
                help_text=(
                    "Recorded in the patient's medical alerts." if precaution.key in alerted else ""
                ),
                error_messages={"required": f"Answer yes or no: {precaution.label.lower()}."},
            )
        self.fields = {**screen, **self.fields}

    def precaution_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(PRECAUTION_PREFIX)]

    def other_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith(PRECAUTION_PREFIX)]

    def save(self, commit: bool = True) -> DryNeedling:
        needling = super().save(commit=False)
        needling.precautions = {
            p.key: self.cleaned_data[PRECAUTION_PREFIX + p.key] == "yes"
            for p in reference.DRY_NEEDLING_PRECAUTIONS
        }
        if commit:
            needling.save()
        return needling


class MovementRetrainingForm(InterventionForm):
    class Meta:
        model = MovementRetraining
        fields = ["method", "cues", *COMMON_FIELDS]
        widgets = COMMON_WIDGETS


class EducationForm(InterventionForm):
    topics = forms.MultipleChoiceField(
        choices=Education.Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one topic you covered."},
    )

    class Meta:
        model = Education
        fields = ["topics", *COMMON_FIELDS]
        widgets = COMMON_WIDGETS


class SoftTissueForm(InterventionForm):
    class Meta:
        model = SoftTissue
        fields = ["technique", "area", *COMMON_FIELDS]
        help_texts = {"area": "e.g. right lateral quadriceps, iliotibial band"}
        widgets = COMMON_WIDGETS


INTERVENTION_FORMS: dict[str, type[InterventionForm]] = {
    InterventionKind.EXERCISE: ExercisePrescriptionForm,
    InterventionKind.TAPING: TapingForm,
    InterventionKind.BRACING: BracingForm,
    InterventionKind.FOOT_ORTHOSES: FootOrthosesForm,
    InterventionKind.DRY_NEEDLING: DryNeedlingForm,
    InterventionKind.MOVEMENT_RETRAINING: MovementRetrainingForm,
    InterventionKind.EDUCATION: EducationForm,
    InterventionKind.SOFT_TISSUE: SoftTissueForm,
}


class ConsentForm(forms.ModelForm):
    class Meta:
        model = DryNeedlingConsent
        fields = ["consented_on", "method"]
        labels = {"consented_on": "Date the patient signed"}
        widgets = {"consented_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consented_on"].initial = timezone.localdate

    def clean_consented_on(self):
        consented = self.cleaned_data["consented_on"]
        if consented and consented > timezone.localdate():
            raise forms.ValidationError("Consent cannot be dated in the future.")
        return consented
