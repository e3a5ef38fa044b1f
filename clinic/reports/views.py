"""Practice reports for managers: charts and tables of aggregate figures, and CSV files."""

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from clinic.audit import Action, log_access
from clinic.csvsafe import safe_cell
from clinic.decorators import practice_manager_required

from .definitions import REPORTS, Cell
from .forms import ReportFilterForm, default_range

app_name = "reports"
#: Tables with more columns than this sit under their chart rather than beside it.
WIDE_TABLE_COLUMNS = 5


def _filters(request: HttpRequest) -> tuple[ReportFilterForm, dict | None]:
    """The form and its cleaned filters, or None (with an error message) for bad input."""
    form = ReportFilterForm(request.GET or None)
    if not form.is_bound:
        date_from, date_to = default_range()
        return form, {"date_from": date_from, "date_to": date_to, "location": None}
    if form.is_valid():
        return form, form.cleaned_data
    problems = " ".join(error for errors in form.errors.values() for error in errors)
    messages.error(request, f"Those filters could not be used: {problems}")
    return form, None


def _query(filters: dict) -> str:
    values = {"date_from": filters["date_from"], "date_to": filters["date_to"]}
    if filters["location"] is not None:
        values["location"] = filters["location"].pk
    return urlencode(values)


@require_GET
@practice_manager_required
def report_index(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        date_from, date_to = default_range()
        filters = {"date_from": date_from, "date_to": date_to, "location": None}
        messages.info(request, "Showing the last 12 weeks at all locations instead.")
    arguments = (filters["date_from"], filters["date_to"], filters["location"])
    reports = []
    for report in REPORTS.values():
        result = report.build(*arguments)
        table = result.table
        reports.append(
            {
                "report": report,
                "chart": result.chart,
                "headers": table.headers,
                "rows": [[_display(cell) for cell in row] for row in table.rows],
                "footer": [_display(cell) for cell in table.footer],
                "wide": len(table.headers) > WIDE_TABLE_COLUMNS,
            }
        )
    return render(
        request,
        "reports/report_list.html",
        {"form": form, "filters": filters, "query": _query(filters), "reports": reports},
    )


def _display(value: Cell) -> str:
    if value is None:
        return "—"
    if hasattr(value, "strftime"):
        return f"{value.day}\N{NO-BREAK SPACE}{value:%b}\N{NO-BREAK SPACE}{value:%Y}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _csv_cell(value: Cell) -> str | int | float:
    """Numbers stay numbers (a negative change is not a formula); text is neutralised."""
    if isinstance(value, int | float):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return safe_cell(value)


@require_GET
@practice_manager_required
def report_csv(request: HttpRequest, report: str) -> HttpResponse:
    definition = REPORTS.get(report)
    if definition is None:
        raise Http404("No such report.")
    _form, filters = _filters(request)
    if filters is None:
        return redirect("reports:index")
    result = definition.build(filters["date_from"], filters["date_to"], filters["location"])
    log_access(request, Action.EXPORT, object_type="report", object_id=definition.slug)
    name = f"{definition.slug}-{filters['date_from']:%Y%m%d}-{filters['date_to']:%Y%m%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    table = result.table
    for row in [table.headers, *table.rows, *([table.footer] if table.footer else [])]:
        writer.writerow([_csv_cell(cell) for cell in row])
    return response


urlpatterns = [
    path("", report_index, name="index"),
    path("<str:report>.csv", report_csv, name="csv"),
]
