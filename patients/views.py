import datetime
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from appointments.selectors import patient_appointment_summary
from clinic.audit import AccessEvent, Action, access_logged, log_access
from clinic.links import link_maker
from clinic.pagination import COUNT_CAP
from treatments.selectors import patient_clinical_summary

from . import services
from .access import get_patient
from .fhir_views import can_export_fhir
from .forms import PatientForm, PatientSearchForm
from .models import Patient, fold
from .search import CompiledSearch, Statement

PAGE_SIZE = 25
#: A search matching more patients than this shows its first page and asks for more
#: letters: four pages is as far as anyone reads a search's matches.
SEARCH_COUNT_CAP = 100
#: The plain list (no search) pages through this many patients in name order.
LIST_COUNT_CAP = COUNT_CAP


@permission_required("patients.view_patient", raise_exception=True)
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query, status, page_number = "", "active", 1
    valid = form.is_valid()
    if valid:
        query = form.cleaned_data["q"]
        status = form.cleaned_data["status"] or "active"
        page_number = form.cleaned_data["page"] or 1
    action = Action.SEARCH if query else Action.LIST
    with access_logged(request, action, object_type="patients.patient"):
        page, capped, broad = _patient_page(status, query, page_number, valid)
    context = {
        "form": form,
        "page": page,
        "rows": _patient_rows(page),
        "query": query,
        "status": status,
        "capped": capped,
        "broad": broad,
        "search_cap": SEARCH_COUNT_CAP,
        "list_cap": LIST_COUNT_CAP,
    }
    template = "patients/_patient_results.html" if request.htmx else "patients/patient_list.html"
    return render(request, template, context)


_ACTIVE = '<span class="badge text-bg-success">Active</span>'
_ARCHIVED = '<span class="badge text-bg-secondary">Archived</span>'


def _patient_rows(page: Page) -> list[str]:
    """The result rows, written in one pass (a template per row costs more than the search).
    Every value is escaped (the standard library's escape, as Django's, without its check
    for lazy text)."""
    detail = link_maker("patients:detail")
    return [
        mark_safe(
            "<tr>\n"
            f'      <td><a href="{detail(patient.pk)}">{escape(patient.last_name)}, '
            f"{escape(patient.first_name)}</a>"
            + (
                f' <span class="text-body-secondary">({escape(patient.preferred_name)})</span>'
                if patient.preferred_name
                else ""
            )
            + "</td>\n"
            f"      <td>{patient.date_of_birth:%d/%m/%Y}</td>\n"
            f"      <td>{escape(patient.phone)}</td>\n"
            f"      <td>{escape(patient.email)}</td>\n"
            f"      <td>{_ARCHIVED if patient.archived_at else _ACTIVE}</td>\n"
            "    </tr>"
        )
        for patient in page
    ]


class PatientRow(NamedTuple):
    """What the list shows of a patient, read as plain values."""

    pk: int
    last_name: str
    first_name: str
    preferred_name: str
    date_of_birth: datetime.date
    phone: str
    email: str
    archived_at: datetime.datetime | None

    def name_key(self) -> tuple:
        return (fold(self.last_name), fold(self.first_name), self.pk)


def _patients(status: str) -> QuerySet:
    """The patients a list shows: ``active``, ``archived`` or ``all``."""
    return getattr(Patient.objects, status)()


_COLUMNS = ("pk", *PatientRow._fields[1:])
_SEARCH = CompiledSearch(_patients, _COLUMNS)


def _patient_page(
    status: str, query: str, page_number: int, valid: bool = True
) -> tuple[Page, bool, bool]:
    """A page of patients in name order, in one query whatever their number: the values
    of up to ``cap + 1`` of them (in name order for a plain list; as the indexes find them
    for a search, then sorted here). More than ``SEARCH_COUNT_CAP`` matches for a search (a
    fragment such as "son" among 100,000 patients) is ``broad``: the first page found is
    shown, in name order, with a request for more letters. A plain list longer than
    ``LIST_COUNT_CAP`` is ``capped``: it pages through the first of them in name order. An
    invalid search (``valid`` false) finds nobody, without a query."""
    cap = SEARCH_COUNT_CAP if query else LIST_COUNT_CAP
    first_page = min(PAGE_SIZE, cap)
    if not valid:
        rows, count = [], 0
    elif query:
        rows, count = _read_rows(_SEARCH.statement(status, query), cap, enough=first_page)
    else:
        rows, count = _read_rows(Statement.of(_patients(status).values_list(*_COLUMNS)), cap)
    capped = count > cap
    broad = capped and bool(query)
    rows = rows[: first_page if broad else cap]
    if query:
        rows.sort(key=PatientRow.name_key)
    return Paginator(rows, PAGE_SIZE).get_page(1 if broad else page_number), capped, broad


def _read_rows(
    statement: Statement, cap: int, enough: int | None = None
) -> tuple[list[PatientRow], int]:
    """The rows of ``statement`` (the list's columns), up to ``cap + 1`` of them, and how
    many it found.

    A search (``enough`` given) is read in the order its indexes find the rows, and on
    PostgreSQL it is planned to find them all: cut at a small ``cap``, the planner would
    rather scan the whole table hoping to meet enough matches early (a fence the planner does
    not see through, ``MATERIALIZED``, keeps it on the indexes; the cut still stops the
    reading). Where the database says how many rows it found before they are read
    (PostgreSQL), a search finding more than ``cap`` reads just ``enough`` of them into
    Python: the rest only told it that the search was broad."""
    with statement.connection.cursor() as cursor:
        cursor.execute(limited_sql(statement, cap, search=enough is not None), statement.params)
        count = cursor.rowcount  # -1 where the database cannot tell before reading (SQLite)
        broad = enough is not None and count > cap
        rows = cursor.fetchmany(enough) if broad else cursor.fetchall()
    if count < 0:
        count = len(rows)
    if statement.converters:
        rows = statement.compiler.apply_converters(rows, statement.converters)
    return [PatientRow(*row) for row in rows], count


def limited_sql(statement: Statement, cap: int, search: bool) -> str:
    """``statement``'s SQL cut after ``cap + 1`` rows; for a search on PostgreSQL, behind
    the planner's fence (see ``_read_rows``)."""
    if search and statement.connection.vendor == "postgresql":
        return f"WITH found AS MATERIALIZED ({statement.sql}) SELECT * FROM found LIMIT {cap + 1:d}"
    return f"{statement.sql} LIMIT {cap + 1:d}"


@permission_required("patients.add_patient", raise_exception=True)
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_register(patient=form.instance, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            log_access(request, Action.CREATE, patient)
            messages.success(request, f"{patient.full_name} is registered.")
            return redirect(patient)
    return render(request, "patients/patient_form.html", {"form": form, "creating": True})


@permission_required("patients.view_patient", raise_exception=True)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    context = {"patient": patient, "can_export_fhir": can_export_fhir(request.user)}
    with access_logged(request, Action.VIEW, patient):
        if request.user.has_perm("appointments.view_appointment"):
            context.update(patient_appointment_summary(patient))
        if request.user.has_perm("treatments.view_episode"):
            context.update(patient_clinical_summary(patient))
    if request.user.has_perm("clinic.view_accessevent"):
        context["access_events"] = AccessEvent.objects.filter(patient_id=patient.pk)[:20]
    return render(request, "patients/patient_detail.html", context)


@permission_required("patients.change_patient", raise_exception=True)
def patient_update(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    log_access(request, Action.UPDATE if request.method == "POST" else Action.VIEW, patient)
    if patient.is_archived:
        messages.error(request, "An archived patient cannot be edited; restore the record first.")
        return redirect(patient)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=form.instance)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The patient's details are saved.")
            return redirect(patient)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient, "creating": False}
    )


@require_POST
@permission_required("patients.archive_patient", raise_exception=True)
def patient_archive(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    log_access(request, Action.ARCHIVE, patient)
    try:
        services.patient_archive(patient=patient, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{patient.full_name} is archived. The record is kept and can be restored."
        )
    return redirect(patient)


@require_POST
@permission_required("patients.archive_patient", raise_exception=True)
def patient_restore(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient(request, pk)
    log_access(request, Action.RESTORE, patient)
    try:
        services.patient_restore(patient=patient)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{patient.full_name} is restored.")
    return redirect(patient)
