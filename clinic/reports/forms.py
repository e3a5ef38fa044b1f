import datetime

from django import forms
from django.utils import timezone

from appointments.forms import validate_calendar_date
from clinic.models import Location

DEFAULT_WEEKS = 12
MAX_DAYS = 731


def default_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last 12 weeks: from the Monday 11 weeks before this week's, up to today."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    return monday - datetime.timedelta(weeks=DEFAULT_WEEKS - 1), today


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(
        label="From",
        required=False,
        validators=[validate_calendar_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        validators=[validate_calendar_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.order_by("name"), required=False, empty_label="All locations"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        date_from, date_to = default_range()
        self.fields["date_from"].initial = date_from
        self.fields["date_to"].initial = date_to
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name == "location" else "form-control"

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        default_from, default_to = default_range()
        date_from = cleaned.get("date_from") or default_from
        date_to = cleaned.get("date_to") or default_to
        if date_to < date_from:
            raise forms.ValidationError("The end date must be on or after the start date.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError("Choose a period of at most two years.")
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        return cleaned
