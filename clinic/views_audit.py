"""The access log for practice managers: filter it, page through it, download it as CSV."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from .audit import AccessEvent, Action, Outcome, log_access
from .csvsafe import csv_response

PERMISSION = "clinic.view_accessevent"
PAGE_SIZE = 50
MAX_PAGE = 10_000

CSV_HEADER = [
    "time (UTC)",
    "username",
    "roles",
    "action",
    "outcome",
    "object type",
    "object id",
    "patient id",
    "IP address",
    "user agent",
    "request id",
    "path",
]
CSV_FIELDS = [
    "at",
    "username",
    "roles",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "patient_id",
    "ip_address",
    "user_agent",
    "request_id",
    "path",
]


class AccessLogFilterForm(forms.Form):
    patient = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, label="Patient id"
    )
    user = forms.CharField(required=False, max_length=150, label="Username")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *Action.choices])
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices])
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filter(self, events: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
        """``events`` narrowed to the valid filters; dates are whole days in local time."""
        data = self.cleaned_data
        if data.get("patient"):
            events = events.filter(patient_id=data["patient"])
        if data.get("user"):
            events = events.filter(username=data["user"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        if data.get("date_from"):
            events = events.filter(at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            events = events.filter(at__lt=_start_of(data["date_to"] + datetime.timedelta(days=1)))
        return events

    def query_string(self, **changes) -> str:
        """The valid filters as a query string (without the page unless changed)."""
        params = {
            name: value.isoformat() if isinstance(value, datetime.date) else value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and name != "page"
        }
        return urlencode({**params, **changes})


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def access_log(request: HttpRequest) -> HttpResponse:
    form = AccessLogFilterForm(request.GET)
    context: dict = {"form": form, "events": [], "page_size": PAGE_SIZE}
    if not form.is_valid():
        return render(request, "clinic/access_log.html", context, status=400)
    page = form.cleaned_data["page"] or 1
    offset = (page - 1) * PAGE_SIZE
    # Like the admin's show_full_result_count = False: one row more than a page tells
    # whether another page follows, without counting a table that only grows.
    rows = list(form.filter(AccessEvent.objects.all())[offset : offset + PAGE_SIZE + 1])
    context.update(
        events=rows[:PAGE_SIZE],
        page=page,
        filters=form.query_string(),
        previous_query=form.query_string(page=page - 1) if page > 1 else "",
        next_query=form.query_string(page=page + 1) if len(rows) > PAGE_SIZE else "",
    )
    return render(request, "clinic/access_log.html", context)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def access_log_csv(request: HttpRequest) -> HttpResponse:
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "events": [], "page_size": PAGE_SIZE}
        return render(request, "clinic/access_log.html", context, status=400)
    log_access(
        request,
        Action.EXPORT,
        object_type="clinic.accessevent",
        patient_id=form.cleaned_data["patient"],
    )
    events = form.filter(AccessEvent.objects.all()).values_list(*CSV_FIELDS)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    rows = (
        (at.astimezone(datetime.UTC).isoformat(timespec="seconds"), *rest)
        for at, *rest in events.iterator(chunk_size=2000)
    )
    return csv_response(f"access-log-{stamp}.csv", CSV_HEADER, rows)


urlpatterns = [
    path("access-log/", access_log, name="access_log"),
    path("access-log.csv", access_log_csv, name="access_log_csv"),
]
