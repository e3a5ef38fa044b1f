"""Practice managers: appointments over a date range as a CSV file, times in each
location's own time zone."""

import datetime
from collections.abc import Iterator

from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.audit import Action, log_access
from clinic.csvsafe import csv_response
from clinic.decorators import practice_manager_required
from clinic.models import Location

from .models import Appointment, Source, Status, local_day_bounds

MAX_DAYS = 366

HEADER = (
    "Date",
    "Start",
    "End",
    "Time zone",
    "Location",
    "Room",
    "Patient",
    "Clinician",
    "Type",
    "Status",
    "Late cancellation",
    "Source",
    "Price",
    "Discount %",
    "Price due",
)


class AppointmentExportForm(forms.Form):
    date_from = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="To (inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(), required=False, empty_label="All locations"
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", "The range must end on or after the day it starts.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("date_to", f"Export at most {MAX_DAYS} days at a time.")
        return cleaned


def appointments_in_range(
    locations: list[Location], date_from: datetime.date, date_to: datetime.date
):
    """Appointments starting on those days, each location's days in its own time zone."""
    in_range = Q(pk__in=[])
    for location in locations:
        start, _ = local_day_bounds(location, date_from)
        _, end = local_day_bounds(location, date_to)
        in_range |= Q(location=location, starts_at__gte=start, starts_at__lt=end)
    return Appointment.objects.filter(in_range).with_related().order_by("starts_at", "pk")


def _rows(appointments) -> Iterator[list[object]]:
    statuses, sources = dict(Status.choices), dict(Source.choices)
    for appointment in appointments.iterator(chunk_size=2000):
        start, end = appointment.local_start, appointment.local_end
        yield [
            start.date().isoformat(),
            start.strftime("%H:%M"),
            end.strftime("%H:%M"),
            appointment.location.time_zone,
            appointment.location.name,
            appointment.room.name if appointment.room else "",
            appointment.patient.full_name,
            str(appointment.clinician),
            appointment.appointment_type.name,
            statuses.get(appointment.status, appointment.status),
            "Yes" if appointment.late_cancellation else "",
            sources.get(appointment.source, appointment.source),
            appointment.price,
            appointment.discount_percent,
            appointment.price_due,
        ]


@practice_manager_required
@require_GET
def appointment_export_csv(request: HttpRequest) -> HttpResponse:
    """The form first; with a valid range, the CSV download."""
    if not {"date_from", "date_to"} & set(request.GET):
        today = timezone.localdate()
        location_pk = request.GET.get("location", "")
        if not (location_pk.isascii() and location_pk.isdigit()):
            location_pk = ""
        form = AppointmentExportForm(
            initial={
                "date_from": today.replace(day=1),
                "date_to": today,
                "location": int(location_pk) if location_pk else None,
            }
        )
        return render(request, "appointments/appointment_export.html", {"form": form})
    form = AppointmentExportForm(request.GET)
    if not form.is_valid():
        return render(request, "appointments/appointment_export.html", {"form": form})
    location = form.cleaned_data["location"]
    locations = [location] if location else list(Location.objects.all())
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    appointments = appointments_in_range(locations, date_from, date_to)
    log_access(
        request,
        Action.EXPORT,
        object_type="appointments_csv",
        object_id=location.pk if location else "",
    )
    return csv_response(
        f"appointments-{date_from:%Y-%m-%d}-to-{date_to:%Y-%m-%d}.csv", HEADER, _rows(appointments)
    )


urlpatterns = [
    path("export/", appointment_export_csv, name="export_csv"),
]
