import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from clinic.audit import Action, access_logged, log_access
from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead
from clinic.models import Location, User
from patients.models import Patient
from patients.services import patient_register

from . import services
from .availability import find_free_slots
from .calendar import (
    cancelled_list,
    day_grid,
    grid_rows_html,
    options_html,
    week_grid,
)
from .forms import (
    BookingForm,
    CalendarDayForm,
    CalendarWeekForm,
    CancelForm,
    FindSlotsForm,
    MoveForm,
    SeriesForm,
    StatusForm,
    WaitlistForm,
)
from .models import (
    Appointment,
    AppointmentType,
    PracticeSettings,
    Status,
    WaitlistEntry,
    discounted,
)
from .slots import Slot

VIEW = "appointments.view_appointment"
BOOK = "appointments.add_appointment"
CHANGE = "appointments.change_appointment"


def _get_appointment(request: HttpRequest, pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.with_related(), pk=pk)


_first_location_of = CompiledRead(
    lambda profile_id: Location.objects.filter(staff=profile_id).order_by("name")[:1],
    ID_PLACEHOLDER,
)
_first_location = CompiledRead(lambda: Location.objects.order_by("name")[:1])


def _default_location(user: User) -> Location | None:
    """The first of the person's own locations by name, else the first of all."""
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        first = _first_location_of.get(profile.pk)
        if first is not None:
            return first
    return _first_location.get()


def _template(request: HttpRequest, page: str, partial: str) -> str:
    return partial if request.htmx and not request.htmx.boosted else page


@permission_required(VIEW, raise_exception=True)
def calendar_day(request: HttpRequest) -> HttpResponse:
    form = CalendarDayForm(request.GET)
    locations = form.fields["location"].options()
    location = day = None
    if form.is_valid():
        location = form.cleaned_data["location"]
        day = form.cleaned_data["date"]
    elif request.GET:
        messages.error(request, "That calendar could not be opened; showing today instead.")
    location = location or _default_location(request.user)
    if location is None:
        messages.info(request, "Add a location in the admin site to start the calendar.")
        return render(request, "appointments/calendar_day.html", {"form": form})
    day = day or timezone.localdate(timezone=location.zone)
    print_view = request.resolver_match.url_name == "day_print"
    with access_logged(
        request,
        Action.PRINT if print_view else Action.LIST,
        object_type="calendar",
        object_id=f"location {location.pk} {day:%Y-%m-%d}",
    ):
        grid = day_grid(location, day, printed=print_view)
    context = {
        "form": form,
        "grid": grid,
        "location": location,
        "day": day,
        "today": timezone.localdate(timezone=location.zone),
        "previous": day - datetime.timedelta(days=1),
        "next": day + datetime.timedelta(days=1),
        "location_options": options_html(locations, location.pk, label=lambda option: option.name),
        "print_view": print_view,
    }
    if context["print_view"]:
        return render(request, "appointments/calendar_day_print.html", context)
    context["grid_rows"] = grid_rows_html(grid, can_book=request.user.has_perm(BOOK))
    context["cancelled"] = cancelled_list(grid)
    return render(
        request,
        _template(request, "appointments/calendar_day.html", "appointments/_calendar_day.html"),
        context,
    )


@permission_required(VIEW, raise_exception=True)
def calendar_week(request: HttpRequest) -> HttpResponse:
    form = CalendarWeekForm(request.GET)
    clinicians = form.fields["clinician"].options()
    clinician = day = None
    if form.is_valid():
        clinician = form.cleaned_data["clinician"]
        day = form.cleaned_data["date"]
    elif request.GET:
        messages.error(request, "That week could not be opened; showing this week instead.")
    if clinician is None:
        clinician = (
            request.user if request.user.is_physiotherapist else next(iter(clinicians), None)
        )
    location = _default_location(clinician) if clinician else None
    if clinician is None or location is None:
        messages.info(request, "Add physiotherapists and a location in the admin site first.")
        return render(request, "appointments/calendar_week.html", {"form": form})
    day = day or timezone.localdate(timezone=location.zone)
    monday = day - datetime.timedelta(days=day.weekday())
    with access_logged(
        request,
        Action.LIST,
        object_type="calendar",
        object_id=f"clinician {clinician.pk} {monday:%Y-%m-%d}",
    ):
        grid = week_grid(clinician, location, monday)
    context = {
        "form": form,
        "grid": grid,
        "grid_rows": grid_rows_html(grid, can_book=request.user.has_perm(BOOK), week_view=True),
        "clinician": clinician,
        "location": location,
        "monday": monday,
        "previous": monday - datetime.timedelta(days=7),
        "next": monday + datetime.timedelta(days=7),
        "today": timezone.localdate(timezone=location.zone),
        "clinician_options": options_html(clinicians, clinician.pk),
    }
    return render(
        request,
        _template(request, "appointments/calendar_week.html", "appointments/_calendar_week.html"),
        context,
    )


def _booking_initial(request: HttpRequest) -> dict:
    initial = {}
    for key in ("clinician", "location", "appointment_type", "patient", "date", "time"):
        value = request.GET.get(key, "")
        if value and len(value) <= 40:
            initial[key] = value
    return initial


def _book_from_form(request: HttpRequest, form: BookingForm) -> Appointment:
    """Book, and log the booking in the same transaction: one commit for both."""
    data = form.cleaned_data
    with transaction.atomic():
        patient = data["patient"]
        if patient is None:
            patient = patient_register(patient=data["new_patient"], by=request.user)
        appointment = services.appointment_book(
            patient=patient,
            clinician=data["clinician"],
            location=data["location"],
            appointment_type=data["appointment_type"],
            starts_at=data["starts_at"],
            room=data.get("room"),
            notes=data.get("notes", ""),
            by=request.user,
        )
        log_access(request, Action.CREATE, appointment)
        return appointment


@permission_required(BOOK, raise_exception=True)
def appointment_create(request: HttpRequest) -> HttpResponse:
    form = BookingForm(request.POST or None, initial=_booking_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            appointment = _book_from_form(request, form)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                f"Booked: {appointment.patient.full_name} with {appointment.clinician} on "
                f"{appointment.local_start:%a %d %b %Y at %H:%M}.",
            )
            return redirect(appointment)
    context = _booking_context(form)
    _log_selected_patient(request, context)
    return render(request, "appointments/appointment_form.html", context)


def _log_selected_patient(request: HttpRequest, context: dict) -> None:
    """A booking form that names a chosen patient shows who they are."""
    if context["selected_patient"] is not None:
        log_access(request, Action.VIEW, context["selected_patient"])


def _booking_context(form) -> dict:
    patient = None
    value = form["patient"].value()
    if value and str(value).isascii() and str(value).isdigit():
        patient = Patient.objects.active().filter(pk=value).first()
    discount = PracticeSettings.load().new_patient_discount_percent
    return {
        "form": form,
        "selected_patient": patient,
        "discount_percent": discount,
        "prices": [
            (kind, kind.price, discounted(kind.price, discount))
            for kind in AppointmentType.objects.active()
        ],
    }


@permission_required(VIEW, raise_exception=True)
def patient_picker(request: HttpRequest) -> HttpResponse:
    """htmx: patients matching what the front desk types in the booking form."""
    query = request.GET.get("patient_q", "")[:100].replace("\x00", "")
    patients = []
    if len(query.strip()) >= 2:
        patients = Patient.objects.active().search(query)[:10]
        log_access(request, Action.SEARCH, object_type="patients.patient")
    return render(
        request, "appointments/_patient_picker.html", {"patients": patients, "query": query}
    )


@permission_required(VIEW, raise_exception=True)
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    log_access(request, Action.VIEW, appointment)
    context = {
        "appointment": appointment,
        "history": appointment.status_changes.select_related("changed_by__staff_profile"),
        "cancel_form": CancelForm(),
        "transitions": [
            (status, Status(status).label)
            for status in sorted(appointment.allowed_transitions())
            if status != Status.CANCELLED
        ],
        "can_cancel": Status.CANCELLED in appointment.allowed_transitions(),
        "waitlist": (
            services.waitlist_matches(appointment)
            if appointment.status == Status.CANCELLED and appointment.starts_at > timezone.now()
            else []
        ),
    }
    return render(request, "appointments/appointment_detail.html", context)


@permission_required(CHANGE, raise_exception=True)
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    log_access(request, Action.UPDATE if request.method == "POST" else Action.VIEW, appointment)
    initial = {
        "clinician": appointment.clinician,
        "date": appointment.local_start.date(),
        "time": appointment.local_start.time(),
    }
    form = MoveForm(request.POST or None, initial=initial, location=appointment.location)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.appointment_move(
                appointment=appointment,
                starts_at=form.cleaned_data["starts_at"],
                clinician=form.cleaned_data["clinician"],
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Moved to {moved.local_start:%a %d %b %Y at %H:%M}.")
            return redirect(moved)
    return render(
        request, "appointments/appointment_move.html", {"form": form, "appointment": appointment}
    )


@require_POST
@permission_required(CHANGE, raise_exception=True)
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    log_access(request, Action.UPDATE, appointment)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "To cancel, say who cancelled and give a reason.")
        return redirect(appointment)
    data = form.cleaned_data
    try:
        if data.get("scope") == "following" and appointment.series_id:
            cancelled = services.series_cancel_following(
                appointment=appointment,
                cancelled_by=data["cancelled_by"],
                reason=data["reason"],
                by=request.user,
            )
            messages.success(request, f"Cancelled {len(cancelled)} appointment(s) in the series.")
        else:
            cancelled_one = services.appointment_cancel(
                appointment=appointment,
                cancelled_by=data["cancelled_by"],
                reason=data["reason"],
                by=request.user,
            )
            late = " It was a late cancellation." if cancelled_one.late_cancellation else ""
            messages.success(request, f"The appointment is cancelled.{late}")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(appointment)


@require_POST
@permission_required(CHANGE, raise_exception=True)
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    log_access(request, Action.UPDATE, appointment)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That status is not one an appointment can have.")
    else:
        try:
            appointment = services.appointment_set_status(
                appointment=appointment, to_status=form.cleaned_data["to_status"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{appointment.patient.full_name}: {appointment.get_status_display().lower()}.",
            )
    if request.htmx:
        appointment = _get_appointment(request, pk)
        return render(request, "appointments/_today_row.html", {"appointment": appointment})
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect(appointment)


@permission_required(VIEW, raise_exception=True)
def find_slots(request: HttpRequest) -> HttpResponse:
    form = FindSlotsForm(request.GET or None)
    context = {"form": form, "found": None}
    if form.is_valid():
        data = form.cleaned_data
        first_day = data["from_date"]
        physiotherapists = form.fields["clinician"].options()
        found = find_free_slots(
            appointment_type=data["appointment_type"],
            location=data["location"],
            clinician=data.get("clinician"),
            first_day=first_day,
            last_day=first_day
            + datetime.timedelta(weeks=data["weeks"])
            - datetime.timedelta(days=1),
            windows=form.windows(),
            limit=60,
            among=physiotherapists,
        )
        book_url = ""
        if request.user.has_perm(BOOK):
            book_url = (
                f"{reverse('appointments:create')}?clinician={{}}&location={data['location'].pk}"
                f"&appointment_type={data['appointment_type'].pk}&date={{}}&time={{}}"
            )
        context["found"] = _free_time_rows(found, data["location"].zone, physiotherapists, book_url)
    return render(request, "appointments/find_slots.html", context)


def _free_time_rows(
    found: list[Slot], zone: ZoneInfo, clinicians: list[User], book_url: str
) -> list[SafeString]:
    """The rows of free times, written in Python with the words escaped, each clinician's
    name and each day's date once; the booking link (a path and numbers only) just for
    those who may book."""
    names = {u.pk: escape(u) for u in clinicians}
    dates: dict[datetime.date, str] = {}
    rows = []
    for slot in found:
        local = slot.start.astimezone(zone)
        day = local.date()
        if day not in dates:
            dates[day] = escape(dateformat.format(local, "D j M Y"))
        time = f"{local:%H:%M}"
        book = ""
        if book_url:
            link = book_url.format(slot.clinician_id, day.isoformat(), time)
            book = f'<a class="btn btn-sm btn-outline-primary" href="{link}">Book</a>'
        rows.append(
            mark_safe(
                f"\n    <tr>\n      <td>{dates[day]}, {time}</td>"
                f"\n      <td>{names.get(slot.clinician_id, 'None')}</td>"
                f"\n      <td>{book}</td>\n    </tr>\n  "
            )
        )
    return rows


@permission_required(BOOK, raise_exception=True)
def series_create(request: HttpRequest) -> HttpResponse:
    form = SeriesForm(request.POST or None, initial=_booking_initial(request))
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                patient = data["patient"] or patient_register(
                    patient=data["new_patient"], by=request.user
                )
                booking = services.BookingRequest(
                    patient,
                    data["clinician"],
                    data["location"],
                    data["appointment_type"],
                    data["starts_at"],
                    data.get("room"),
                    data.get("notes", ""),
                )
                starts = services.series_dates(
                    first=data["starts_at"],
                    location=data["location"],
                    every_weeks=data["every_weeks"],
                    count=data.get("count"),
                    until=data.get("until"),
                )
                action = request.POST.get("action", "preview")
                if action in ("book_all", "book_free"):
                    series, booked = services.series_book(
                        request=booking,
                        starts=starts,
                        every_weeks=data["every_weeks"],
                        by=request.user,
                        free_only=action == "book_free",
                    )
                    log_access(request, Action.CREATE, series, patient_id=patient.pk)
                    messages.success(request, f"Booked {len(booked)} appointment(s) in the series.")
                    return redirect(booked[0])
                preview = services.series_preview(request=booking, starts=starts)
                transaction.set_rollback(True)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
    context = _booking_context(form)
    _log_selected_patient(request, context)
    context.update({"preview": preview, "series": True})
    if preview is not None:
        context["free_count"] = sum(1 for o in preview if o.free)
        context["zone"] = form.cleaned_data["location"].zone
    return render(request, "appointments/series_form.html", context)


@permission_required("appointments.view_waitlistentry", raise_exception=True)
def waitlist(request: HttpRequest) -> HttpResponse:
    entries = WaitlistEntry.objects.filter(
        state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED]
    ).select_related("patient", "appointment_type", "location", "clinician__staff_profile")
    log_access(request, Action.LIST, object_type="appointments.waitlistentry")
    return render(request, "appointments/waitlist.html", {"entries": entries})


@permission_required("appointments.add_waitlistentry", raise_exception=True)
def waitlist_create(request: HttpRequest) -> HttpResponse:
    form = WaitlistForm(request.POST or None, initial=_booking_initial(request))
    if request.method == "POST" and form.is_valid():
        entry = form.save(commit=False)
        entry.created_by = request.user
        entry.save()
        log_access(request, Action.CREATE, entry)
        messages.success(request, f"{entry.patient.full_name} is on the waitlist.")
        return redirect("appointments:waitlist")
    context = _booking_context(form)
    _log_selected_patient(request, context)
    return render(request, "appointments/waitlist_form.html", context)


@require_POST
@permission_required("appointments.change_waitlistentry", raise_exception=True)
def waitlist_offer(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    appointment = _get_appointment(request, pk)
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient"), pk=entry_pk)
    log_access(request, Action.UPDATE, entry)
    if entry not in services.waitlist_matches(appointment):
        messages.error(request, "That waitlist entry does not match this slot.")
        return redirect(appointment)
    try:
        services.waitlist_offer(entry=entry, appointment=appointment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The slot was offered to {entry.patient.full_name} by e-mail.")
    return redirect(appointment)


@require_POST
@permission_required("appointments.change_waitlistentry", raise_exception=True)
def waitlist_withdraw(request: HttpRequest, entry_pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry, pk=entry_pk)
    log_access(request, Action.UPDATE, entry)
    entry.state = WaitlistEntry.State.WITHDRAWN
    entry.save(update_fields=["state"])
    messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    return redirect(reverse("appointments:waitlist"))


@permission_required(VIEW, raise_exception=True)
def type_styles(request: HttpRequest) -> HttpResponse:
    """One CSS class per appointment type colour, so pages need no inline styles."""
    rules = [
        f".type-{pk} {{ border-left: 5px solid {colour}; background-color: {colour}1f; }}"
        for pk, colour in AppointmentType.objects.values_list("pk", "colour")
    ]
    response = HttpResponse("\n".join(rules), content_type="text/css")
    response["Cache-Control"] = "private, max-age=300"
    return response
