"""Forms of the public booking pages: every value from the query string or a POST body."""

import datetime

from django import forms
from django.utils import timezone

from patients.forms import normalise_phone, validate_date_of_birth

from .online_services import OnlineDetails

NEW, RETURNING = "new", "returning"


def _spaces(value: str) -> str:
    return " ".join((value or "").split())


class ClinicianChoiceForm(forms.Form):
    """``clinician`` is "any" or a clinician's id; ``start`` pages through the weeks."""

    clinician = forms.CharField(max_length=12)
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean_clinician(self) -> int | None:
        value = self.cleaned_data["clinician"]
        if value == "any":
            return None
        if not (value.isascii() and value.isdigit()):
            raise forms.ValidationError("Choose a physiotherapist.")
        return int(value)


class SlotForm(forms.Form):
    """The time a patient tapped: the clinician offered and the start in UTC."""

    clinician = forms.IntegerField(min_value=1, max_value=2**31)
    any = forms.BooleanField(required=False)
    start = forms.CharField(max_length=40)

    def clean_start(self) -> datetime.datetime:
        try:
            value = datetime.datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            raise forms.ValidationError("Choose a time from the list.") from None
        if timezone.is_naive(value):
            raise forms.ValidationError("Choose a time from the list.")
        return value.astimezone(datetime.UTC)


class MoveForm(forms.Form):
    start = forms.CharField(max_length=40)

    clean_start = SlotForm.clean_start


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": 300}),
    )


class HoneypotMixin(forms.Form):
    """A field people never see (moved off-screen by CSS) and bots fill in."""

    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class DetailsForm(HoneypotMixin, forms.Form):
    first_name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    date_of_birth = forms.DateField(
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        help_text="We send the confirmation and the link to cancel or move here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    patient_status = forms.ChoiceField(
        label="Have you been treated here before?",
        choices=[
            (NEW, "No, this is my first appointment here"),
            (RETURNING, "Yes, I have been treated here before"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Reason for your visit (optional)",
        required=False,
        max_length=300,
        help_text="A few words, for example “right knee pain when running”. Up to 300 characters.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300}),
    )
    accept_privacy = forms.BooleanField(
        label="I have read the privacy notice and agree to my details being stored.",
        error_messages={"required": "Please accept the privacy notice to book online."},
    )
    email_reminders = forms.BooleanField(
        label="Send me an e-mail reminder before my appointment.", required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            else:
                widget.attrs.setdefault("class", "form-control")

    def clean_first_name(self) -> str:
        return _spaces(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return _spaces(self.cleaned_data["last_name"])

    def clean_date_of_birth(self) -> datetime.date:
        value = self.cleaned_data["date_of_birth"]
        validate_date_of_birth(value)
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean_reason(self) -> str:
        return " ".join(self.cleaned_data["reason"].split())

    def details(self, *, location_id: int, appointment_type_id: int, slot: dict) -> OnlineDetails:
        data = self.cleaned_data
        return OnlineDetails(
            location_id=location_id,
            appointment_type_id=appointment_type_id,
            clinician_id=slot["clinician"],
            any_clinician=slot["any"],
            starts_at=slot["start"].isoformat(),
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"].isoformat(),
            email=data["email"],
            phone=data["phone"],
            declared_new=data["patient_status"] == NEW,
            reason=data["reason"],
            email_reminders=data["email_reminders"],
        )


class ConfirmForm(HoneypotMixin, forms.Form):
    booking = forms.CharField(max_length=4000, widget=forms.HiddenInput)
