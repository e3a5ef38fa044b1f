"""The public booking pages under /book/: no account, a phone in one hand.

Choose a location, a service, a physiotherapist (or any), a free time; give details;
review the price; confirm. The manage link in the e-mail cancels or moves. Every view
here is public, so each is marked ``login_not_required`` and shows nothing about any
patient other than what the visitor typed or the signed link points at.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from html import escape
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from clinic.audit import Action, log_access
from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead
from clinic.models import Location, User

from . import online_services as booking
from .models import Appointment, AppointmentType, PracticeSettings
from .online_forms import (
    CancelForm,
    ClinicianChoiceForm,
    ConfirmForm,
    DetailsForm,
    MoveForm,
    SlotForm,
)
from .services import BookingError
from .slots import Slot

EVENING_FROM = datetime.time(17, 0)
_EVENING_BADGE = '<span class="badge text-bg-dark">Evening</span>'
REFUSAL = (
    "We could not take this booking online. Please phone the clinic and we will book it for you."
)


def _notice(request: HttpRequest, title: str, message: str, status: int = 200, **extra):
    context = {"title": title, "message": message, "locations": _locations(), **extra}
    return render(request, "booking/notice.html", context, status=status)


def _locations():
    return Location.objects.order_by("name")


def booking_open(view: Callable) -> Callable:
    """Public, and a friendly page instead of the view while online booking is off.

    The view finds the practice settings it was let through with on ``request.practice``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.practice = PracticeSettings.load()
        if not request.practice.online_booking_enabled:
            return _notice(
                request,
                "Online booking is not available at the moment",
                "Please phone the clinic to book; we will be glad to help.",
            )
        return view(request, *args, **kwargs)

    return login_not_required(wrapper)


_location_read = CompiledRead(lambda pk: Location.objects.filter(pk=pk), ID_PLACEHOLDER)


def _location(location_id: int) -> Location:
    location = _location_read.get(location_id)
    if location is None:
        raise Http404("No such location.")
    return location


def _kind_offered(location: Location, type_id: int) -> tuple[AppointmentType, list[User]]:
    """The service and the physiotherapists offering it online here, or 404."""
    kind, offered = booking.online_type(location, type_id)
    if kind is None:
        raise Http404("This service cannot be booked online here.")
    return kind, offered


def _clinician(offered: list[User], clinician_id: int | None) -> User | None:
    """The chosen physiotherapist among those ``offered`` online, None for anyone."""
    if clinician_id is None:
        return None
    for clinician in offered:
        if clinician.pk == clinician_id:
            return clinician
    raise Http404("This physiotherapist cannot be booked online here.")


def _price_context(
    kind: AppointmentType, *, declared_new: bool | None, practice: PracticeSettings
) -> dict:
    quoted = booking.quoted_price(kind, declared_new=bool(declared_new), practice=practice)
    new_price = booking.quoted_price(kind, declared_new=True, practice=practice)
    return {
        "price": quoted,
        "discount_percent": practice.new_patient_discount_percent,
        "first_visit_price": new_price.due,
    }


def _slot_rows(
    slots: list[Slot],
    location: Location,
    clinicians: dict[int, str],
    link: Callable[[Slot], str] | None,
) -> list[dict]:
    """Free times grouped by local day; evening and weekend times are flagged in words.

    A week holds hundreds of times, so each day's name and each time's words are put
    together here once rather than by template filters for every button. With ``link``
    each day's buttons are written here in one pass (``links``), naming the clinician from
    ``clinicians``; without, the move page's form buttons (the booked clinician's own
    times) are written by booking/_slot_days.html from ``slots``.
    """
    zone = location.zone
    names = {pk: escape(name) for pk, name in clinicians.items() if name}
    days: dict[datetime.date, dict] = {}
    buttons: dict[datetime.date, list[str]] = defaultdict(list)
    spoken: dict[datetime.date, str] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        date = local.date()
        day = days.get(date)
        if day is None:
            day = days[date] = {
                "date": date,
                "name": dateformat.format(local, "l j F"),
                "weekend": local.weekday() >= 5,
                "slots": [],
            }
            spoken[date] = escape(day["name"])
        evening = local.time() >= EVENING_FROM
        time = f"{local.hour:02}:{local.minute:02}"
        flags = (", evening" if evening else "") + (", weekend" if day["weekend"] else "")
        if link is not None:
            buttons[date].append(
                _slot_button(
                    link(slot),
                    f"{spoken[date]} at {time}{flags}",
                    time,
                    evening,
                    names.get(slot.clinician_id),
                )
            )
            continue
        day["slots"].append(
            {
                "time": time,
                "label": f"{day['name']} at {time}{flags}",
                "evening": evening,
                "value": slot.start.isoformat(),
            }
        )
    for date, written in buttons.items():
        days[date]["links"] = mark_safe("".join(written))
    return list(days.values())


def _slot_button(href: str, words: str, time: str, evening: bool, who: str | None) -> str:
    """One time button as booking/_slot_days.html writes it: ``words`` (the day, the time,
    its flags) and ``who`` come escaped, ``time`` is digits and a colon, and ``href`` is
    escaped here (the standard library's escape, as Django's, without its check for lazy
    text)."""
    label = f"{words}, with {who}" if who else words
    badge = _EVENING_BADGE if evening else ""
    name = f'<span class="slot-who">{who}</span>' if who else ""
    return (
        f'\n    <li>\n      <a class="btn btn-outline-primary slot" href="{escape(href)}"'
        f' aria-label="{label}">\n'
        f'        <span class="slot-time">{time}</span>\n'
        f"        {badge}\n        {name}\n      </a>\n    </li>\n    "
    )


# --- Choosing ---------------------------------------------------------------------------


@booking_open
@require_GET
def location_list(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/location_list.html", {"locations": _locations()})


@booking_open
@require_GET
def service_list(request: HttpRequest, location_id: int) -> HttpResponse:
    location = _location(location_id)
    kinds = booking.online_types(location)
    percent = request.practice.new_patient_discount_percent
    return render(
        request,
        "booking/service_list.html",
        {"location": location, "kinds": kinds, "discount_percent": percent},
    )


@booking_open
@require_GET
def clinician_list(request: HttpRequest, location_id: int, type_id: int) -> HttpResponse:
    location = _location(location_id)
    kind, clinicians = _kind_offered(location, type_id)
    return render(
        request,
        "booking/clinician_list.html",
        {"location": location, "kind": kind, "clinicians": clinicians},
    )


@booking_open
@require_GET
def slot_list(request: HttpRequest, location_id: int, type_id: int) -> HttpResponse:
    location = _location(location_id)
    kind, offered = _kind_offered(location, type_id)
    form = ClinicianChoiceForm(request.GET)
    if not form.is_valid():
        return redirect("booking:clinicians", location.pk, kind.pk)
    clinician = _clinician(offered, form.cleaned_data["clinician"])
    today = timezone.localtime(timezone.now(), location.zone).date()
    first_day = max(form.cleaned_data["start"] or today, today)
    last_day = first_day + datetime.timedelta(days=booking.DAYS_PER_PAGE - 1)
    practice = request.practice
    horizon_day = today + datetime.timedelta(days=practice.booking_horizon_days)
    found = booking.free_slots(
        appointment_type=kind,
        location=location,
        clinician=clinician,
        first_day=first_day,
        last_day=last_day,
        offered=offered,
        practice=practice,
    )
    names = {c.pk: str(c) for c in offered}
    details_url = reverse("booking:details", args=[location.pk, kind.pk])
    any_clinician = "&any=on" if clinician is None else ""

    def link(slot: Slot) -> str:
        # An instant's ISO form has only ":" and "+" to quote; quote() costs more per time.
        start = slot.start.isoformat().replace(":", "%3A").replace("+", "%2B")
        return f"{details_url}?clinician={slot.clinician_id}&start={start}{any_clinician}"

    choice = form.cleaned_data["clinician"] or "any"
    page_url = reverse("booking:times", args=[location.pk, kind.pk])

    def page(day: datetime.date) -> str:
        return f"{page_url}?{urlencode({'clinician': choice, 'start': day.isoformat()})}"

    next_day = last_day + datetime.timedelta(days=1)
    previous_day = first_day - datetime.timedelta(days=booking.DAYS_PER_PAGE)
    return render(
        request,
        "booking/slot_list.html",
        {
            "location": location,
            "kind": kind,
            "clinician": clinician,
            "days": _slot_rows(found, location, names, link),
            "first_day": first_day,
            "last_day": last_day,
            "next_url": page(next_day) if next_day <= horizon_day else "",
            "previous_url": page(max(previous_day, today)) if first_day > today else "",
        },
    )


# --- Details, review and confirm --------------------------------------------------------


def _chosen_slot(
    request: HttpRequest, location: Location, kind: AppointmentType, offered: list[User]
) -> tuple[dict | None, User | None]:
    """The tapped time if it is still offered online, else (None, None)."""
    form = SlotForm(request.POST or request.GET)
    if not form.is_valid():
        return None, None
    slot = form.cleaned_data
    chosen = None if slot["any"] else _clinician(offered, slot["clinician"])
    free = booking.offered_clinicians_at(
        appointment_type=kind,
        location=location,
        start=slot["start"],
        clinician=chosen,
        offered=offered,
        practice=request.practice,
    )
    if slot["clinician"] not in free:
        return None, None
    return slot, next(c for c in offered if c.pk == slot["clinician"])


def _slot_summary(slot: dict, location: Location, clinician: User) -> dict:
    return {
        "when": timezone.localtime(slot["start"], location.zone),
        "clinician_name": "Any physiotherapist" if slot["any"] else str(clinician),
    }


@booking_open
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, location_id: int, type_id: int) -> HttpResponse:
    location = _location(location_id)
    kind, offered = _kind_offered(location, type_id)
    slot, clinician = _chosen_slot(request, location, kind, offered)
    if slot is None:
        messages.warning(request, "That time is no longer free. Please choose another.")
        return redirect(f"{reverse('booking:times', args=[location.pk, kind.pk])}?clinician=any")
    form = DetailsForm(request.POST or None)
    if request.method == "POST" and form.is_bot:
        return _notice(request, "Booking not possible online", REFUSAL, status=400)
    context = {
        "location": location,
        "kind": kind,
        "slot": slot,
        **_slot_summary(slot, location, clinician),
    }
    if request.method == "POST" and form.is_valid():
        online = form.details(location_id=location.pk, appointment_type_id=kind.pk, slot=slot)
        context.update(
            details=online,
            confirm_form=ConfirmForm(initial={"booking": booking.details_sign(online)}),
            **_price_context(kind, declared_new=online.declared_new, practice=request.practice),
        )
        return render(request, "booking/review.html", context)
    context.update(form=form, **_price_context(kind, declared_new=None, practice=request.practice))
    return render(request, "booking/details_form.html", context)


def _manage_url(request: HttpRequest) -> Callable[[str], str]:
    return lambda token: request.build_absolute_uri(reverse("booking:manage", args=[token]))


def _rate_limited(request: HttpRequest, group: str, rate: str, key) -> bool:
    return is_ratelimited(request, group=group, key=key, rate=rate, method="POST", increment=True)


def _too_many(request: HttpRequest) -> HttpResponse:
    return _notice(
        request,
        "Too many booking attempts",
        "We have had too many booking attempts from here in the last hour. "
        "Please try again later, or phone the clinic.",
        status=429,
    )


@booking_open
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    if _rate_limited(request, "booking-confirm-ip", booking.CONFIRM_RATE_PER_IP, "ip"):
        return _too_many(request)
    form = ConfirmForm(request.POST)
    if form.is_bot:
        return _notice(request, "Booking not possible online", REFUSAL, status=400)
    try:
        if not form.is_valid():
            raise signing.BadSignature("No booking details.")
        online = booking.details_load(form.cleaned_data["booking"])
    except signing.BadSignature:
        return _notice(
            request,
            "Please start your booking again",
            "Your booking details have expired or could not be read. Nothing was booked.",
            status=400,
        )
    email = online.email
    if _rate_limited(
        request, "booking-confirm-email", booking.CONFIRM_RATE_PER_EMAIL, lambda g, r: email
    ):
        return _too_many(request)
    try:
        appointment = booking.online_book(details=online, manage_url=_manage_url(request))
    except BookingError:
        return _taken(request, online)
    except booking.OnlineBookingRefused as error:
        return _notice(request, "We could not book this online", " ".join(error.messages))
    except (Location.DoesNotExist, AppointmentType.DoesNotExist, User.DoesNotExist):
        return _notice(request, "Booking not possible online", REFUSAL, status=400)
    log_access(request, Action.CREATE, appointment)
    return redirect("booking:confirmed", booking.manage_token(appointment))


def _taken(request: HttpRequest, online) -> HttpResponse:
    location = _location(online.location_id)
    kind, offered = _kind_offered(location, online.appointment_type_id)
    clinician = None if online.any_clinician else _clinician(offered, online.clinician_id)
    nearest = booking.nearest_slots(
        appointment_type=kind,
        location=location,
        clinician=clinician,
        wanted=online.start,
        exclude=online.start,
        offered=offered,
        practice=request.practice,
    )
    names = {c.pk: str(c) for c in offered}
    details_url = reverse("booking:details", args=[location.pk, kind.pk])

    def link(slot: Slot) -> str:
        query = {"clinician": slot.clinician_id, "start": slot.start.isoformat()}
        if online.any_clinician:
            query["any"] = "on"
        return f"{details_url}?{urlencode(query)}"

    return render(
        request,
        "booking/taken.html",
        {
            "location": location,
            "kind": kind,
            "days": _slot_rows(nearest, location, names, link),
            "times_url": f"{reverse('booking:times', args=[location.pk, kind.pk])}?"
            + urlencode({"clinician": online.clinician_id if clinician else "any"}),
        },
        status=409,
    )


# --- The signed link: confirmation, cancel, move ----------------------------------------


def with_link(view: Callable) -> Callable:
    """Resolve the token to its online appointment, or a clear page (never a 500)."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        try:
            appointment = booking.appointment_for_token(token)
        except booking.ExpiredLink:
            return _notice(
                request,
                "This link has expired",
                "Please phone the clinic about your appointment.",
                status=400,
            )
        except booking.InvalidLink:
            return _notice(
                request,
                "This link is not valid",
                "Please check that you copied the whole link from your e-mail, "
                "or phone the clinic about your appointment.",
                status=404,
            )
        return view(request, appointment, token)

    return login_not_required(wrapper)


def _appointment_context(
    appointment: Appointment, token: str, practice: PracticeSettings | None = None
) -> dict:
    practice = practice or PracticeSettings.load()
    return {
        "appointment": appointment,
        "token": token,
        "can_change": booking.can_change(appointment, practice=practice),
        "notice_hours": practice.cancellation_notice_hours,
        "policy": practice.cancellation_policy,
        "manage_url": reverse("booking:manage", args=[token]),
    }


@with_link
@require_GET
def confirmed(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    log_access(request, Action.VIEW, appointment)
    practice = PracticeSettings.load()
    context = _appointment_context(appointment, token, practice)
    context.update(
        _price_context(appointment.appointment_type, declared_new=None, practice=practice)
    )
    return render(request, "booking/confirmed.html", context)


@with_link
@require_GET
def manage(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    log_access(request, Action.VIEW, appointment)
    context = _appointment_context(appointment, token)
    context["cancel_form"] = CancelForm()
    return render(request, "booking/manage.html", context)


@with_link
@require_POST
def cancel(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    log_access(request, Action.UPDATE, appointment)
    form = CancelForm(request.POST)
    if not form.is_valid():
        context = _appointment_context(appointment, token)
        context["cancel_form"] = form
        return render(request, "booking/manage.html", context, status=400)
    try:
        booking.online_cancel(appointment=appointment, reason=form.cleaned_data["reason"])
    except booking.OnlineBookingRefused as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your appointment is cancelled. We have sent you an e-mail.")
    return redirect("booking:manage", token)


@with_link
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    log_access(request, Action.UPDATE if request.method == "POST" else Action.VIEW, appointment)
    practice = PracticeSettings.load()
    if not booking.can_change(appointment, practice=practice):
        messages.error(request, "This appointment can no longer be moved online.")
        return redirect("booking:manage", token)
    location, kind = appointment.location, appointment.appointment_type
    if request.method == "POST":
        form = MoveForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Please choose a time from the list.")
            return redirect("booking:move", token)
        try:
            booking.online_move(
                appointment=appointment,
                starts_at=form.cleaned_data["start"],
                manage_url=request.build_absolute_uri(reverse("booking:manage", args=[token])),
            )
        except BookingError:
            nearest = booking.nearest_slots(
                appointment_type=kind,
                location=location,
                clinician=appointment.clinician,
                wanted=form.cleaned_data["start"],
                exclude=form.cleaned_data["start"],
                practice=practice,
            )
            context = _appointment_context(appointment, token, practice)
            context.update(
                days=_slot_rows(nearest, location, {}, None),
                taken=True,
            )
            return render(request, "booking/move.html", context, status=409)
        except booking.OnlineBookingRefused as error:
            messages.error(request, " ".join(error.messages))
            return redirect("booking:manage", token)
        messages.success(request, "Your appointment has moved. We have sent you an e-mail.")
        return redirect("booking:manage", token)
    today = timezone.localtime(timezone.now(), location.zone).date()
    found = booking.free_slots(
        appointment_type=kind,
        location=location,
        clinician=appointment.clinician,
        first_day=today,
        last_day=today + datetime.timedelta(days=booking.DAYS_PER_PAGE * 2 - 1),
        practice=practice,
    )
    context = _appointment_context(appointment, token, practice)
    context["days"] = _slot_rows(found, location, {}, None)
    return render(request, "booking/move.html", context)


@login_not_required
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/privacy.html", {"locations": _locations()})


urlpatterns = [
    path("", location_list, name="start"),
    path("privacy/", privacy, name="privacy"),
    path("confirm/", confirm, name="confirm"),
    path("<int:location_id>/", service_list, name="services"),
    path("<int:location_id>/<int:type_id>/", clinician_list, name="clinicians"),
    path("<int:location_id>/<int:type_id>/times/", slot_list, name="times"),
    path("<int:location_id>/<int:type_id>/details/", details, name="details"),
    path("confirmed/<str:token>/", confirmed, name="confirmed"),
    path("manage/<str:token>/", manage, name="manage"),
    path("manage/<str:token>/cancel/", cancel, name="cancel"),
    path("manage/<str:token>/move/", move, name="move"),
]
