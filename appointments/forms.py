import datetime

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead
from clinic.models import Location, Room, User
from clinic.roles import Role
from patients.forms import PatientRulesMixin
from patients.models import Patient

from .models import AppointmentType, CancelledBy, Status, WaitlistEntry, Weekday

MAX_RANGE_DAYS = 8 * 7

#: Dates outside these years are typing mistakes, and near the ends of the calendar the
#: day before or after would not exist.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2199, 12, 31)


def validate_calendar_date(value: datetime.date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise forms.ValidationError(
            f"Choose a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."
        )


def clinician_choices():
    return (
        User.objects.filter(is_active=True, groups__name=Role.PHYSIOTHERAPIST)
        .select_related("staff_profile")
        .order_by("last_name", "first_name")
    )


class Select(forms.Select):
    """Django's select drawn in Python, the same HTML without a template per option. Named
    Select so that crispy forms gives it the same "select" class."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(f'\n  <optgroup label="{escape(group_name)}">')
            for option in options:
                html.append(
                    f'\n  <option value="{escape(option["value"])}"'
                    f"{_attrs_html(option['attrs'])}>{escape(option['label'])}</option>\n"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


def _attrs_html(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


_WIDGET_CLASSES = {
    Select: "select form-select",
    forms.DateInput: "dateinput form-control",
    forms.NumberInput: "numberinput form-control",
}


def _field_html(field: forms.BoundField) -> SafeString:
    """A field without errors or help text as crispy forms' bootstrap5 field template
    writes it (whitespace aside): label, asterisk when required, and the widget."""
    required = field.field.required
    label_class = "form-label requiredField" if required else "form-label"
    asterisk = '<span class="asteriskField">*</span>' if required else ""
    widget = field.as_widget(attrs={"class": _WIDGET_CLASSES[type(field.field.widget)]})
    return mark_safe(
        f'<div id="div_{field.auto_id}" class="mb-3">'
        f'<label for="{field.id_for_label}" class="{label_class}">'
        f"{escape(field.label)}{asterisk}</label>{widget}</div>"
    )


class ListedChoiceIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.options():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.field.options()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.options())


class DeclaredChoiceField(forms.ModelChoiceField):
    """A model choice whose declared queryset is read with SQL compiled once, as every form
    of its kind reads it: the chosen row on submission (``to_python``). A queryset a view
    sets afterwards (``field.queryset = …``) is read as any queryset is."""

    _every: CompiledRead | None = None
    _chosen: CompiledRead | None = None

    def __init__(self, queryset, **kwargs) -> None:
        super().__init__(queryset, **kwargs)
        declared = self.queryset
        self._every = CompiledRead(lambda: declared)
        self._chosen = CompiledRead(lambda pk: declared.filter(pk=pk), ID_PLACEHOLDER)

    def _set_queryset(self, queryset) -> None:
        super()._set_queryset(queryset)
        self._every = self._chosen = None

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)
        # The copy's queryset is the declared one again, so its reads serve it too.
        copied._every, copied._chosen = self._every, self._chosen
        return copied

    def _pk(self, value) -> int | None:
        self.validate_no_null_characters(value)
        if isinstance(value, self.queryset.model):
            value = value.pk
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def _invalid_choice(self) -> forms.ValidationError:
        return forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self._chosen is None or self.to_field_name:
            return super().to_python(value)
        pk = self._pk(value)
        chosen = None if pk is None else self._chosen.get(pk)
        if chosen is None:
            raise self._invalid_choice()
        return chosen


class ClinicianField(DeclaredChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class ListedChoiceField(DeclaredChoiceField):
    """A model choice whose options are read once, in one plain query, and then serve both
    checking the choice and drawing the picker; a page that has read them already hands
    them over as ``listed``."""

    iterator = ListedChoiceIterator
    widget = Select
    listed: list | None = None

    def options(self) -> list:
        if self.listed is None:
            read = self._every
            self.listed = read.all() if read is not None else list(self.queryset)
        return self.listed

    def to_python(self, value):
        if value in self.empty_values:
            return None
        pk = self._pk(value)
        for obj in self.options():
            if obj.pk == pk:
                return obj
        raise self._invalid_choice()


class CalendarDayForm(forms.Form):
    location = ListedChoiceField(queryset=Location.objects.all(), required=False)
    date = forms.DateField(
        required=False,
        validators=[validate_calendar_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class CalendarWeekForm(forms.Form):
    clinician = ListedChoiceField(queryset=clinician_choices(), required=False)
    date = forms.DateField(
        required=False,
        validators=[validate_calendar_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _local_datetime(day: datetime.date, at: datetime.time, location: Location) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=location.zone)


class NewPatientMixin(forms.Form):
    """Register a patient on the spot while booking: the registry's rules apply."""

    new_first_name = forms.CharField(label="First name", max_length=100, required=False)
    new_last_name = forms.CharField(label="Last name", max_length=100, required=False)
    new_date_of_birth = forms.DateField(
        label="Date of birth", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    new_phone = forms.CharField(label="Phone", max_length=30, required=False)
    new_email = forms.EmailField(label="E-mail", max_length=254, required=False)

    def clean_new_patient(self, cleaned: dict) -> Patient | None:
        wanted = [
            cleaned.get(f"new_{name}") for name in ("first_name", "last_name", "date_of_birth")
        ]
        if not any(wanted) and not cleaned.get("new_phone") and not cleaned.get("new_email"):
            return None
        if not all(wanted):
            self.add_error(
                "new_first_name",
                "To register a new patient give first name, last name and date of birth.",
            )
            return None
        form = _InlinePatientForm(
            data={
                "first_name": cleaned["new_first_name"],
                "last_name": cleaned["new_last_name"],
                "date_of_birth": cleaned["new_date_of_birth"].isoformat(),
                "phone": cleaned.get("new_phone", ""),
                "email": cleaned.get("new_email", ""),
                "sex": "unknown",
                "funding": "self_pay",
            }
        )
        if not form.is_valid():
            for field, errors in form.errors.items():
                target = f"new_{field}" if f"new_{field}" in self.fields else None
                for error in errors:
                    self.add_error(target, error)
            return None
        return form.instance


class _InlinePatientForm(PatientRulesMixin, forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["first_name", "last_name", "date_of_birth", "phone", "email", "sex", "funding"]


class BookingForm(NewPatientMixin, forms.Form):
    patient = DeclaredChoiceField(
        queryset=Patient.objects.active(), required=False, widget=forms.HiddenInput
    )
    appointment_type = DeclaredChoiceField(
        queryset=AppointmentType.objects.active(), label="Appointment type"
    )
    location = DeclaredChoiceField(queryset=Location.objects.all())
    clinician = ClinicianField(queryset=clinician_choices())
    date = forms.DateField(
        validators=[validate_calendar_date], widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    room = DeclaredChoiceField(
        queryset=Room.objects.filter(active=True).select_related("location"),
        required=False,
        empty_label="Any free room",
    )
    notes = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        new_patient = self.clean_new_patient(cleaned)
        if cleaned.get("patient") and new_patient is not None:
            raise forms.ValidationError(
                "Choose an existing patient or register a new one, not both."
            )
        if not cleaned.get("patient") and new_patient is None and not self.errors:
            raise forms.ValidationError("Choose a patient, or register a new one.")
        cleaned["new_patient"] = new_patient
        location = cleaned.get("location")
        if location and cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = _local_datetime(cleaned["date"], cleaned["time"], location)
            if cleaned["starts_at"] < timezone.now() - datetime.timedelta(hours=12):
                self.add_error("date", "That time has passed; choose a time from today on.")
        return cleaned


class MoveForm(forms.Form):
    clinician = ClinicianField(queryset=clinician_choices())
    date = forms.DateField(
        validators=[validate_calendar_date], widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))

    def __init__(self, *args, location: Location, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.location = location

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = _local_datetime(cleaned["date"], cleaned["time"], self.location)
            if cleaned["starts_at"] < timezone.now():
                self.add_error("date", "An appointment can only be moved to a time still to come.")
        return cleaned


class CancelForm(forms.Form):
    SCOPE_CHOICES = [
        ("this", "This appointment"),
        ("following", "This and the following in the series"),
    ]

    cancelled_by = forms.ChoiceField(
        choices=CancelledBy.choices, widget=forms.RadioSelect, label="Who cancelled"
    )
    reason = forms.CharField(max_length=300, label="Reason")
    scope = forms.ChoiceField(
        choices=SCOPE_CHOICES, initial="this", required=False, widget=forms.RadioSelect
    )


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(
        choices=[(s, label) for s, label in Status.choices if s != Status.CANCELLED]
    )


TIME_OF_DAY_CHOICES = WaitlistEntry.TimeOfDay.choices
DAY_PARTS = [*TIME_OF_DAY_CHOICES, ("any", "All day")]
DAY_PART_HOURS = {
    **{str(part): hours for part, hours in WaitlistEntry.TIME_OF_DAY_HOURS.items()},
    "any": (datetime.time.min, datetime.time.max),
}


class FindSlotsForm(forms.Form):
    appointment_type = ListedChoiceField(
        queryset=AppointmentType.objects.active(), label="Appointment type"
    )
    location = ListedChoiceField(queryset=Location.objects.all())
    clinician = ListedChoiceField(
        # Their names, and their dry-needling certification for the slot finder.
        queryset=clinician_choices().only(
            "first_name",
            "last_name",
            "username",
            "staff_profile__display_name",
            "staff_profile__dry_needling_certified_on",
            "staff_profile__dry_needling_expires_on",
        ),
        required=False,
        empty_label="Anyone",
    )
    from_date = forms.DateField(
        label="From",
        required=False,
        validators=[validate_calendar_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    weeks = forms.IntegerField(min_value=1, max_value=8, initial=2)
    when = forms.MultipleChoiceField(
        choices=[
            (f"{day}-{part}", f"{day_label} {part_label.lower()}")
            for day, day_label in Weekday.choices
            for part, part_label in DAY_PARTS
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days and times that suit",
        help_text="Any ticked box will do, e.g. Tuesday evening or Saturday all day.",
    )

    def clean_from_date(self) -> datetime.date:
        value = self.cleaned_data.get("from_date") or timezone.localdate()
        if value > timezone.localdate() + datetime.timedelta(days=730):
            raise forms.ValidationError("Look no more than two years ahead.")
        return value

    def windows(self) -> list[tuple[int, datetime.time, datetime.time]] | None:
        """The ticked (weekday, from, until) windows, or None for any time."""
        chosen = self.cleaned_data.get("when") or []
        if not chosen:
            return None
        windows = []
        for value in chosen:
            day, part = value.split("-")
            start, end = DAY_PART_HOURS[part]
            windows.append((int(day), start, end))
        return windows

    def fields_html(self) -> dict[str, SafeString]:
        """The pickers, date and weeks as crispy forms draws them without errors, written
        in Python; a field with errors is still drawn by crispy forms, messages and all."""
        return {
            name: as_crispy_field(self[name]) if self[name].errors else _field_html(self[name])
            for name in ("appointment_type", "location", "clinician", "from_date", "weeks")
        }

    def grid_html(self) -> SafeString:
        """The days × times table's head and rows of boxes, written in Python."""
        ticked = set(self["when"].value() or [])
        parts = [(part, escape(part_label)) for part, part_label in DAY_PARTS]
        html = ['<thead><tr><th scope="col">Day</th>']
        html.extend(f'<th scope="col">{label}</th>' for _, label in parts)
        html.append("</tr></thead>\n          <tbody>")
        for day, day_label in Weekday.choices:
            day_label = escape(day_label)
            html.append(f'\n            <tr><th scope="row">{day_label}</th>\n            ')
            for part, part_label in parts:
                value = f"{day}-{part}"
                checked = " checked" if value in ticked else ""
                html.append(
                    f'<td class="text-center"><input class="form-check-input" type="checkbox" '
                    f'name="when" value="{value}" id="when-{value}"{checked} '
                    f'aria-label="{day_label}: {part_label}"></td>'
                )
            html.append("\n            </tr>")
        html.append("\n          </tbody>")
        return mark_safe("".join(html))


class SeriesForm(BookingForm):
    every_weeks = forms.IntegerField(min_value=1, max_value=12, initial=1, label="Every (weeks)")
    count = forms.IntegerField(
        min_value=2, max_value=52, required=False, label="Number of appointments"
    )
    until = forms.DateField(
        required=False, label="Or until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("count") and cleaned.get("until"):
            raise forms.ValidationError("Give a number of appointments or an end date, not both.")
        if not cleaned.get("count") and not cleaned.get("until"):
            raise forms.ValidationError("Give a number of appointments or an end date.")
        until = cleaned.get("until")
        if until and cleaned.get("date") and until <= cleaned["date"]:
            self.add_error("until", "The end date must be after the first appointment.")
        if until and cleaned.get("date") and until > cleaned["date"] + datetime.timedelta(days=366):
            self.add_error("until", "A series can run for at most a year.")
        return cleaned


class WaitlistForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days that suit",
    )
    times_of_day = forms.MultipleChoiceField(
        choices=TIME_OF_DAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Times that suit",
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "patient",
            "appointment_type",
            "location",
            "clinician",
            "weekdays",
            "times_of_day",
            "earliest_date",
            "latest_date",
            "notes",
        ]
        widgets = {
            "patient": forms.HiddenInput,
            "earliest_date": forms.DateInput(attrs={"type": "date"}),
            "latest_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.active()
        self.fields["clinician"].queryset = clinician_choices()
        self.fields["clinician"].empty_label = "Anyone"
        self.fields["appointment_type"].queryset = AppointmentType.objects.active()

    def clean(self) -> dict:
        cleaned = super().clean()
        earliest, latest = cleaned.get("earliest_date"), cleaned.get("latest_date")
        if earliest and latest and latest < earliest:
            self.add_error("latest_date", "Must be on or after the earliest date.")
        return cleaned
