"""Forms for episodes of care and assessments: input checks and messages a clinician can act on."""

import datetime

from django import forms
from django.forms import modelformset_factory
from django.utils import timezone

from clinic.models import User
from clinic.roles import Role

from .. import reference, scoring
from ..models import (
    STRENGTH_TESTS,
    Assessment,
    Episode,
    ObjectiveFinding,
    ObjectiveTest,
    Unit,
)

EARLIEST_DATE = datetime.date(1900, 1, 1)
ICD10_DATALIST_ID = "icd10-pfps"
CHILD_FLAGS = reference.RED_FLAGS_CHILD_OR_ADOLESCENT


def _not_in_future(value: datetime.date | None, what: str) -> None:
    if value is None:
        return
    if value < EARLIEST_DATE:
        raise forms.ValidationError(f"The {what} cannot be before {EARLIEST_DATE.year}.")
    if value > timezone.localdate():
        raise forms.ValidationError(f"The {what} cannot be in the future.")


def physiotherapists():
    return (
        User.objects.filter(is_active=True, groups__name=Role.PHYSIOTHERAPIST)
        .select_related("staff_profile")
        .order_by("last_name", "first_name")
    )


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


def icd10_suggestions() -> list[tuple[str, str, str]]:
    """(side, code, display) for the patellofemoral pain codes the form offers."""
    return [
        (side, code, reference.ICD10_PFPS_DISPLAY[code])
        for side, code in reference.ICD10_PFPS.items()
    ]


class EpisodeForm(forms.ModelForm):
    clinician = ClinicianChoiceField(queryset=physiotherapists(), label="Treating clinician")

    class Meta:
        model = Episode
        fields = [
            "title",
            "body_region",
            "side",
            "onset_date",
            "diagnosis",
            "icd10_code",
            "clinician",
        ]
        widgets = {"onset_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "icd10_code": "Patellofemoral pain: M22.2X1 right knee, M22.2X2 left knee, "
            "M22.2X9 unspecified.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = physiotherapists()
        self.fields["icd10_code"].widget.attrs.update(
            {"list": ICD10_DATALIST_ID, "autocomplete": "off", "data-icd10-code": ""}
        )
        self.fields["side"].widget.attrs["data-icd10-side"] = ""

    def clean_onset_date(self) -> datetime.date | None:
        value = self.cleaned_data.get("onset_date")
        _not_in_future(value, "onset date")
        return value

    def clean_icd10_code(self) -> str:
        return self.cleaned_data.get("icd10_code", "").strip().upper()

    def clean_title(self) -> str:
        title = self.cleaned_data.get("title", "").strip()
        if not title:
            raise forms.ValidationError("Name the complaint, e.g. right anterior knee pain.")
        return title


class EpisodeDischargeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Choose an outcome"), *Episode.Outcome.choices],
        label="Outcome",
    )
    discharged_on = forms.DateField(
        label="Discharged on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for today.",
    )
    notes = forms.CharField(
        label="Discharge notes",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, episode: Episode, **kwargs) -> None:
        self.episode = episode
        super().__init__(*args, **kwargs)

    def clean_discharged_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("discharged_on")
        _not_in_future(value, "discharge date")
        started = timezone.localdate(self.episode.created_at) if self.episode.created_at else None
        if value and started and value < started:
            raise forms.ValidationError(
                f"The episode started on {started:%d %b %Y}; discharge cannot be earlier."
            )
        return value


def _red_flag_choices() -> list[tuple[str, str]]:
    return [
        (key, f"{label} [child / adolescent]" if key in CHILD_FLAGS else label)
        for key, label in reference.RED_FLAGS
    ]


def _checkboxes(choices, label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, required=False, label=label, widget=forms.CheckboxSelectMultiple
    )


def _nprs_widget() -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": reference.NPRS_MIN, "max": reference.NPRS_MAX})


class AssessmentForm(forms.ModelForm):
    aggravating_activities = _checkboxes(reference.AGGRAVATING_ACTIVITIES, "Aggravating activities")
    symptoms = _checkboxes(reference.SYMPTOMS, "Symptoms")
    red_flags = _checkboxes(_red_flag_choices(), "Red flags present")
    contributing_factors = _checkboxes(reference.CONTRIBUTING_FACTORS, "Tick those that apply")
    referral_decision = forms.ChoiceField(
        choices=[("", "Not decided yet"), *reference.REFERRAL_DECISIONS],
        required=False,
        label="Referral decision",
    )

    class Meta:
        model = Assessment
        fields = [
            "kind",
            "assessed_on",
            "onset_mechanism",
            "duration_weeks",
            "aggravating_activities",
            "easing_factors",
            "symptoms",
            "sport",
            "weekly_volume",
            "recent_load_change",
            "patient_goals",
            "nprs_worst",
            "nprs_rest",
            "nprs_activity",
            "red_flags",
            "referral_decision",
            "referral_reason",
            "contributing_factors",
            "clinical_impression",
        ]
        widgets = {
            "assessed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "onset_mechanism": forms.Textarea(attrs={"rows": 3}),
            "easing_factors": forms.Textarea(attrs={"rows": 2}),
            "patient_goals": forms.Textarea(attrs={"rows": 2}),
            "referral_reason": forms.Textarea(attrs={"rows": 2}),
            "clinical_impression": forms.Textarea(attrs={"rows": 4}),
            "nprs_worst": _nprs_widget(),
            "nprs_rest": _nprs_widget(),
            "nprs_activity": _nprs_widget(),
        }

    def clean_assessed_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("assessed_on")
        _not_in_future(value, "assessment date")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        decision = cleaned.get("referral_decision") or ""
        if decision:
            try:
                scoring.referral_decision_validate(decision, cleaned.get("referral_reason") or "")
            except ValueError as error:
                self.add_error("referral_reason", str(error))
        return cleaned


class KujalaForm(forms.Form):
    """The 13 Kujala items: answer all of them or none."""

    prefix = "kujala"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in reference.KUJALA_ITEMS:
            self.fields[item.key] = forms.ChoiceField(
                label=f"{item.number}. {item.label}",
                choices=[
                    (option.key, f"{option.label} ({option.points})") for option in item.options
                ],
                required=False,
                widget=forms.RadioSelect,
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        answered = [item for item in reference.KUJALA_ITEMS if cleaned.get(item.key)]
        if answered and len(answered) < len(reference.KUJALA_ITEMS):
            missing = [
                f"{item.number}. {item.label}"
                for item in reference.KUJALA_ITEMS
                if not cleaned.get(item.key)
            ]
            raise forms.ValidationError(
                "The Kujala questionnaire is partly answered: answer every item or none. "
                f"Missing: {'; '.join(missing)}."
            )
        return cleaned

    @property
    def answers(self) -> dict[str, str] | None:
        answers = {item.key: self.cleaned_data.get(item.key) for item in reference.KUJALA_ITEMS}
        return answers if all(answers.values()) else None


class Tsk11Form(forms.Form):
    """The 11 TSK-11 items, each 1–4: answer all of them or none."""

    prefix = "tsk11"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in reference.TSK11_ITEMS:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=reference.TSK11_ANSWERS,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        missing = [
            str(item.number)
            for item in reference.TSK11_ITEMS
            if cleaned.get(f"item_{item.number}") is None
        ]
        if missing and len(missing) < len(reference.TSK11_ITEMS):
            raise forms.ValidationError(
                "The TSK-11 questionnaire is partly answered: answer every item or none. "
                f"Missing item{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
            )
        return cleaned

    @property
    def answers(self) -> dict[int, int] | None:
        answers = {
            item.number: self.cleaned_data.get(f"item_{item.number}")
            for item in reference.TSK11_ITEMS
        }
        return answers if all(v is not None for v in answers.values()) else None


SMALL_INPUT = "form-control form-control-sm"
VALUE_FIELDS = ("left_value", "right_value", "left_text", "right_text")


class ObjectiveFindingForm(forms.ModelForm):
    class Meta:
        model = ObjectiveFinding
        fields = ["test", "unit", "left_value", "right_value", "left_text", "right_text", "note"]
        widgets = {
            "test": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "unit": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "left_value": forms.NumberInput(
                attrs={"step": "any", "data-side": "left", "class": SMALL_INPUT}
            ),
            "right_value": forms.NumberInput(
                attrs={"step": "any", "data-side": "right", "class": SMALL_INPUT}
            ),
            "left_text": forms.TextInput(attrs={"class": SMALL_INPUT}),
            "right_text": forms.TextInput(attrs={"class": SMALL_INPUT}),
            "note": forms.TextInput(attrs={"class": SMALL_INPUT}),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        if not any(cleaned.get(name) not in (None, "") for name in VALUE_FIELDS):
            raise forms.ValidationError("Enter a left or right result, or clear the row.")
        return cleaned

    @property
    def is_strength_test(self) -> bool:
        test = self["test"].value()
        return test in STRENGTH_TESTS

    @property
    def asymmetry_percent(self) -> float | None:
        """Asymmetry of a strength test, from what was entered (server-side)."""
        if not self.is_bound or not self.is_valid():
            return None
        data = self.cleaned_data
        left, right = data.get("left_value"), data.get("right_value")
        if data.get("test") not in STRENGTH_TESTS or left is None or right is None:
            return None
        if left < 0 or right < 0:
            return None
        return scoring.asymmetry_percent(float(left), float(right))


MAX_FINDINGS = 20

#: Rows offered on a new assessment; blank rows are ignored.
STANDARD_FINDINGS: tuple[tuple[str, str], ...] = (
    (ObjectiveTest.HIP_ABDUCTION_STRENGTH, Unit.NEWTON),
    (ObjectiveTest.HIP_EXTERNAL_ROTATION_STRENGTH, Unit.NEWTON),
    (ObjectiveTest.QUADRICEPS_STRENGTH, Unit.NEWTON),
    (ObjectiveTest.STEP_DOWN, Unit.QUALITY),
    (ObjectiveTest.SINGLE_LEG_SQUAT, Unit.QUALITY),
    (ObjectiveTest.FPI6, Unit.SCORE),
)
SPARE_FINDING_ROWS = 3


def findings_formset(data=None) -> forms.BaseModelFormSet:
    initial = [{"test": test, "unit": unit} for test, unit in STANDARD_FINDINGS]
    formset_class = modelformset_factory(
        ObjectiveFinding,
        form=ObjectiveFindingForm,
        extra=len(initial) + SPARE_FINDING_ROWS,
        max_num=MAX_FINDINGS,
        absolute_max=MAX_FINDINGS,
        validate_max=True,
    )
    return formset_class(
        data, queryset=ObjectiveFinding.objects.none(), initial=initial, prefix="findings"
    )


class ReferralDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("", "Choose a decision"), *reference.REFERRAL_DECISIONS],
        label="Referral decision",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision:
            try:
                scoring.referral_decision_validate(decision, cleaned.get("reason") or "")
            except ValueError as error:
                self.add_error("reason", str(error))
        return cleaned
