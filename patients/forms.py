import datetime

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.utils import timezone

from .models import Patient

MAX_AGE_YEARS = 120


def normalise_phone(value: str) -> str:
    """Parse a phone number typed in any common form and return it in E.164 form."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise forms.ValidationError("Enter a valid phone number, e.g. 07911 123456.") from None
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError("Enter a valid phone number, e.g. 07911 123456.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_date_of_birth(value: datetime.date) -> None:
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError("The date of birth cannot be in the future.")
    if (
        today.year - value.year - ((today.month, today.day) < (value.month, value.day))
        > MAX_AGE_YEARS
    ):
        raise forms.ValidationError(f"The date of birth gives an age over {MAX_AGE_YEARS}.")


class PatientRulesMixin:
    """Validation shared by the registry's form and the admin site's."""

    def clean_date_of_birth(self) -> datetime.date:
        value = self.cleaned_data["date_of_birth"]
        validate_date_of_birth(value)
        return value

    def clean_privacy_notice_accepted_on(self) -> datetime.date | None:
        value = self.cleaned_data.get("privacy_notice_accepted_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError("The privacy notice cannot be accepted in the future.")
        return value

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean_emergency_contact_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("emergency_contact_phone", ""))

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("funding") == "insurer" and not cleaned.get("insurer"):
            self._rule_error("insurer", "Name the insurer for an insured patient.")
        if cleaned.get("sms_reminders") and not cleaned.get("phone"):
            self._rule_error("sms_reminders", "SMS reminders need a phone number.")
        if cleaned.get("email_reminders") and not cleaned.get("email"):
            self._rule_error("email_reminders", "E-mail reminders need an e-mail address.")
        return cleaned

    def _rule_error(self, field: str, message: str) -> None:
        """On the field when the form shows it (the booking form's inline one does not)."""
        self.add_error(field if field in self.fields else None, message)


class PatientAdminForm(PatientRulesMixin, forms.ModelForm):
    """The admin site builds the fields; this adds the registry's validation."""


class PatientForm(PatientRulesMixin, forms.ModelForm):
    confirm_not_duplicate = forms.BooleanField(
        required=False,
        label="This is a different person: register anyway",
    )

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "sex",
            "gender",
            "phone",
            "email",
            "address",
            "postcode",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
            "referrer",
            "gp_name",
            "gp_practice",
            "funding",
            "insurer",
            "policy_number",
            "occupation",
            "sports",
            "activity_level",
            "privacy_notice_accepted_on",
            "email_reminders",
            "sms_reminders",
            *Patient.ALERT_FIELDS,
            "other_alerts",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "privacy_notice_accepted_on": forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            ),
            "address": forms.Textarea(attrs={"rows": 2}),
            "other_alerts": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "emergency_contact_phone": forms.TextInput(attrs={"type": "tel"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("date_of_birth", "privacy_notice_accepted_on"):
            self.fields[name].input_formats = ["%Y-%m-%d", "%d/%m/%Y"]
        if self.instance.pk:
            del self.fields["confirm_not_duplicate"]
        self.duplicates: list[Patient] = []
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Identity",
                Div(
                    Div("first_name", css_class="col-md-4"),
                    Div("last_name", css_class="col-md-4"),
                    Div("preferred_name", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("date_of_birth", css_class="col-md-4"),
                    Div("sex", css_class="col-md-4"),
                    Div("gender", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Contact",
                Div(
                    Div("phone", css_class="col-md-6"),
                    Div("email", css_class="col-md-6"),
                    css_class="row",
                ),
                Div(
                    Div("address", css_class="col-md-8"),
                    Div("postcode", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("emergency_contact_name", css_class="col-md-4"),
                    Div("emergency_contact_phone", css_class="col-md-4"),
                    Div("emergency_contact_relationship", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Referral and funding",
                Div(
                    Div("referrer", css_class="col-md-4"),
                    Div("gp_name", css_class="col-md-4"),
                    Div("gp_practice", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("funding", css_class="col-md-4"),
                    Div("insurer", css_class="col-md-4"),
                    Div("policy_number", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Work and activity",
                Div(
                    Div("occupation", css_class="col-md-4"),
                    Div("sports", css_class="col-md-4"),
                    Div("activity_level", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Consents",
                Div(
                    Div("privacy_notice_accepted_on", css_class="col-md-4"),
                    Div("email_reminders", css_class="col-md-4"),
                    Div("sms_reminders", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Medical alerts",
                HTML(
                    '<p class="form-text">Safety checks for taping and dry needling read these.</p>'
                ),
                Div(
                    *[Div(name, css_class="col-md-4") for name in Patient.ALERT_FIELDS],
                    css_class="row",
                ),
                "other_alerts",
            ),
            *(["confirm_not_duplicate"] if "confirm_not_duplicate" in self.fields else []),
            Submit("save", "Save patient"),
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if "confirm_not_duplicate" in self.fields and not self.errors:
            self.duplicates = list(
                Patient.objects.filter(
                    first_name__iexact=cleaned.get("first_name", ""),
                    last_name__iexact=cleaned.get("last_name", ""),
                    date_of_birth=cleaned.get("date_of_birth"),
                )[:5]
            )
            if self.duplicates and not cleaned.get("confirm_not_duplicate"):
                raise forms.ValidationError(
                    "A patient with this name and date of birth is already registered. "
                    "Open the existing record, or tick “This is a different person” "
                    "to register anyway.",
                    code="duplicate",
                )
        return cleaned


class PatientSearchForm(forms.Form):
    STATUS_CHOICES = [("active", "Active"), ("archived", "Archived"), ("all", "All")]

    q = forms.CharField(required=False, max_length=100, strip=True, label="Search")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
