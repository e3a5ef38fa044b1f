import datetime
from html import escape  # what django.utils.html.escape does, without its lazy-string wrapper
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Page, Paginator
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

PAGE_SIZE = 25
#: A search matching more patients than this shows a first handful and asks for more.
SEARCH_COUNT_CAP = COUNT_CAP


@permission_required("patients.view_patient", raise_exception=True)
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    patients = Patient.objects.none()
    query, status, page_number = "", "active", 1
    if form.is_valid():
        query = form.cleaned_data["q"]
        status = form.cleaned_data["status"] or "active"
        page_number = form.cleaned_data["page"] or 1
        patients = {
            "active": Patient.objects.active(),
            "archived": Patient.objects.archived(),
            "all": Patient.objects.all(),
        }[status].search(query)
    action = Action.SEARCH if query else Action.LIST
    with access_logged(request, action, object_type="patients.patient"):
        page, capped, broad = _patient_page(patients, query, page_number)
    context = {
        "form": form,
        "page": page,
        "rows": _patient_rows(page),
        "query": query,
        "status": status,
        "capped": capped,
        "broad": broad,
        "search_cap": SEARCH_COUNT_CAP,
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


def _patient_page(patients, query: str, page_number: int) -> tuple[Page, bool, bool]:
    """A page of ``patients`` in name order, in one query whatever their number: the
    values of up to ``SEARCH_COUNT_CAP + 1`` of them (in name order for a plain list; as
    the indexes find them for a search, then sorted here). More matches than that for a
    search (a fragment such as "son" among 100,000 patients) is ``broad``: the first page
    found is shown, in name order, with a request for more letters. A plain list that long is
    ``capped``: it pages through the first ``SEARCH_COUNT_CAP`` in name order."""
    found = patients.order_by() if query else patients
    first_page = min(PAGE_SIZE, SEARCH_COUNT_CAP)
    rows, count = _read_rows(
        found.values_list("pk", *PatientRow._fields[1:])[: SEARCH_COUNT_CAP + 1],
        enough=first_page if query else None,
    )
    capped = count > SEARCH_COUNT_CAP
    broad = capped and bool(query)
    rows = rows[: first_page if broad else SEARCH_COUNT_CAP]
    if query:
        rows.sort(key=PatientRow.name_key)
    return Paginator(rows, PAGE_SIZE).get_page(1 if broad else page_number), capped, broad


def _read_rows(queryset, enough: int | None) -> tuple[list[PatientRow], int]:
    """The rows of a ``values_list()`` sliced at ``SEARCH_COUNT_CAP + 1``, and how many it
    found. Where the database says how many before they are read (PostgreSQL), a search
    finding more than ``SEARCH_COUNT_CAP`` reads just ``enough`` of them into Python: the
    rest only told it that the search was broad."""
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # nothing can match (an invalid search): no query
        return [], 0
    with compiler.connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.rowcount  # -1 where the database cannot tell before reading (SQLite)
        broad = enough is not None and count > SEARCH_COUNT_CAP
        rows = cursor.fetchmany(enough) if broad else cursor.fetchall()
    if count < 0:
        count = len(rows)
    converters = compiler.get_converters(
        [column[0] for column in compiler.select[: compiler.col_count]]
    )
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [PatientRow(*row) for row in rows], count


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
