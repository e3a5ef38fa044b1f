"""Online self-booking: the rules the public pages add on top of the front desk's services.

Slots come from the same slot finder and bookings go through the same ``appointment_book``,
so the clash rules and the database guarantees are the front desk's. What is added here:
which types and clinicians are offered online, matching a patient without revealing
whether one exists, the cap on future online bookings, the new-patient discount as the
patient declared it, the signed links and the patient's e-mails.
"""

import datetime
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.compiled_queries import ID_PLACEHOLDER, CompiledRead
from clinic.models import Location, User
from patients.models import Patient
from patients.services import patient_register

from . import ics, notifications
from .availability import find_free_slots, online_clinicians_read
from .models import (
    Appointment,
    AppointmentType,
    CancelledBy,
    OutboxMessage,
    PracticeSettings,
    Source,
    Status,
    discounted,
)
from .services import (
    BookingError,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from .slots import Slot

#: Abuse limits on the confirm step, counted in the shared cache (django-ratelimit).
CONFIRM_RATE_PER_IP = "10/h"
CONFIRM_RATE_PER_EMAIL = "5/h"

#: How long the details a patient reviewed stay valid before confirming.
REVIEW_SALT = "appointments.online.review"
REVIEW_MAX_AGE = datetime.timedelta(minutes=30)

#: The manage link: long enough for the furthest appointment the horizon (≤ 730 days) allows.
MANAGE_SALT = "appointments.online.manage"
MANAGE_MAX_AGE = datetime.timedelta(days=731)

#: How many days of free times one page shows: a week, with "later" and "earlier" links
#: (a fortnight of times for any physiotherapist ran to several hundred buttons).
DAYS_PER_PAGE = 7
NEAREST_ALTERNATIVES = 6

TAKEN = "That time was just taken — here are the nearest free times."


class OnlineBookingRefused(ValidationError):
    """A refusal the patient can act on (cap, booking switched off); never names a patient."""


class InvalidLink(Exception):
    """A manage link that was altered, or points at nothing we booked online."""


class ExpiredLink(Exception):
    """A manage link older than ``MANAGE_MAX_AGE``."""


# --- What is offered online ------------------------------------------------------------


def online_clinicians(appointment_type: AppointmentType, location: Location) -> list[User]:
    """Clinicians who offer the type at the location and may be chosen online."""
    return online_clinicians_read.all(appointment_type.pk, location.pk)


def online_types(location: Location) -> list[AppointmentType]:
    """Active online-bookable types with at least one clinician bookable online here."""
    kinds = AppointmentType.objects.active().filter(online_bookable=True)
    return [kind for kind in kinds if online_clinicians(kind, location)]


_online_type = CompiledRead(
    lambda type_id: AppointmentType.objects.active().filter(online_bookable=True, pk=type_id),
    ID_PLACEHOLDER,
)


def online_type(location: Location, type_id: int) -> tuple[AppointmentType | None, list[User]]:
    """The type if it is one of ``online_types(location)``, with its online clinicians."""
    kind = _online_type.get(type_id)
    if kind is None:
        return None, []
    offered = online_clinicians(kind, location)
    return (kind if offered else None), offered


def free_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    clinician: User | None,
    first_day: datetime.date,
    last_day: datetime.date,
    now: datetime.datetime | None = None,
    offered: list[User] | None = None,
    practice: PracticeSettings | None = None,
) -> list[Slot]:
    """Free start times offered online; with any clinician, one slot per start time.

    Minimum notice and the horizon come from the practice settings through the slot finder.
    ``offered`` (``online_clinicians`` for the type and location) and ``practice`` save
    reading them again when the caller has them.
    """
    if offered is None:
        offered = online_clinicians(appointment_type, location)
    if clinician is not None and clinician.pk not in {c.pk for c in offered}:
        return []
    return find_free_slots(
        appointment_type=appointment_type,
        location=location,
        first_day=first_day,
        last_day=last_day,
        clinician=clinician,
        now=now,
        among=offered,
        practice=practice,
        one_per_start=clinician is None,
    )


def _day_range(start: datetime.datetime, location: Location) -> tuple:
    day = timezone.localtime(start, location.zone).date()
    return day, day


def offered_clinicians_at(
    *,
    appointment_type: AppointmentType,
    location: Location,
    start: datetime.datetime,
    clinician: User | None,
    offered: list[User] | None = None,
    practice: PracticeSettings | None = None,
) -> list[int]:
    """Clinicians (ids) free online at exactly ``start``: the chosen one, or any.

    ``offered`` and ``practice`` save reading them again, as in ``free_slots``."""
    first_day, last_day = _day_range(start, location)
    found = find_free_slots(
        appointment_type=appointment_type,
        location=location,
        first_day=first_day,
        last_day=last_day,
        clinician=clinician,
        among=online_clinicians(appointment_type, location) if offered is None else offered,
        practice=practice,
    )
    return [s.clinician_id for s in found if s.start == start]


def nearest_slots(
    *,
    appointment_type: AppointmentType,
    location: Location,
    clinician: User | None,
    wanted: datetime.datetime,
    exclude: datetime.datetime | None = None,
    offered: list[User] | None = None,
    practice: PracticeSettings | None = None,
) -> list[Slot]:
    """The free times closest to ``wanted``, earliest first (for a lost race)."""
    day = timezone.localtime(wanted, location.zone).date()
    found = free_slots(
        appointment_type=appointment_type,
        location=location,
        clinician=clinician,
        first_day=day - datetime.timedelta(days=3),
        last_day=day + datetime.timedelta(days=DAYS_PER_PAGE),
        offered=offered,
        practice=practice,
    )
    found = [s for s in found if s.start != exclude]
    closest = sorted(found, key=lambda s: abs((s.start - wanted).total_seconds()))
    return sorted(closest[:NEAREST_ALTERNATIVES], key=lambda s: s.start)


# --- Price -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    price: Decimal
    discount_percent: int

    @property
    def due(self) -> Decimal:
        return discounted(self.price, self.discount_percent)


def quoted_price(
    appointment_type: AppointmentType,
    *,
    declared_new: bool,
    practice: PracticeSettings | None = None,
) -> Price:
    """The price shown before confirming: from what the patient declared, never the record.

    The stored price follows ``price_for`` (a genuinely new patient only), so a returning
    patient whose details matched pays the full price without the page saying so.
    """
    if not declared_new:
        return Price(appointment_type.price, 0)
    practice = practice or PracticeSettings.load()
    return Price(appointment_type.price, practice.new_patient_discount_percent)


# --- The details a patient gives, signed between review and confirm ---------------------


@dataclass(frozen=True)
class OnlineDetails:
    location_id: int
    appointment_type_id: int
    clinician_id: int
    any_clinician: bool
    starts_at: str
    first_name: str
    last_name: str
    date_of_birth: str
    email: str
    phone: str
    declared_new: bool
    reason: str
    email_reminders: bool

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.starts_at)

    @property
    def dob(self) -> datetime.date:
        return datetime.date.fromisoformat(self.date_of_birth)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def details_sign(details: OnlineDetails) -> str:
    return signing.dumps(asdict(details), salt=REVIEW_SALT, compress=True)


def details_load(value: str) -> OnlineDetails:
    """The reviewed details; raises ``signing.BadSignature`` (or its subclass for expiry)."""
    data = signing.loads(value, salt=REVIEW_SALT, max_age=REVIEW_MAX_AGE)
    try:
        return OnlineDetails(**data)
    except TypeError as error:
        raise signing.BadSignature("Unexpected booking details.") from error


# --- Patients: matching without enumeration ---------------------------------------------


def patient_match(details: OnlineDetails) -> Patient | None:
    """The one existing patient these details are: name, date of birth and e-mail or phone."""
    contact = Q(email__iexact=details.email)
    if details.phone:
        contact |= Q(phone=details.phone)
    return (
        Patient.objects.active()
        .filter(
            contact,
            first_name__iexact=details.first_name,
            last_name__iexact=details.last_name,
            date_of_birth=details.dob,
        )
        .order_by("pk")
        .first()
    )


def patient_for_booking(details: OnlineDetails) -> Patient:
    """The matched patient, or a new record for the front desk to review.

    Nothing the caller returns to the patient may depend on which branch ran; a matched
    record is never changed by what was typed online.
    """
    matched = patient_match(details)
    if matched is not None:
        return matched
    return patient_register(
        patient=Patient(
            first_name=details.first_name,
            last_name=details.last_name,
            date_of_birth=details.dob,
            email=details.email,
            phone=details.phone,
            privacy_notice_accepted_on=timezone.localdate(),
            email_reminders=details.email_reminders,
            registered_online=True,
            needs_review=True,
        ),
        by=None,
    )


def future_online_bookings(patient: Patient, email: str, now: datetime.datetime) -> int:
    """Upcoming online bookings held by this record or booked with this e-mail address."""
    return (
        Appointment.objects.filter(source=Source.ONLINE, status=Status.BOOKED, starts_at__gt=now)
        .filter(Q(patient=patient) | Q(patient__email__iexact=email))
        .count()
    )


def cap_message(cap: int, location: Location) -> str:
    phone = f" on {location.phone}" if location.phone else ""
    return (
        f"We take at most {cap} upcoming appointments per patient online. "
        f"To book more, please phone {location.name}{phone}."
    )


# --- Booking ---------------------------------------------------------------------------


def online_book(
    *,
    details: OnlineDetails,
    manage_url: Callable[[str], str],
    now: datetime.datetime | None = None,
) -> Appointment:
    """Book what the patient reviewed, through the front desk's booking service.

    Raises ``BookingError(TAKEN)`` when the time is no longer offered or is lost in a race,
    and ``OnlineBookingRefused`` for a switched-off service or the cap. A patient record
    created here is rolled back with a refused booking.
    """
    now = now or timezone.now()
    practice = PracticeSettings.load()
    location = Location.objects.get(pk=details.location_id)
    if not practice.online_booking_enabled:
        raise OnlineBookingRefused("Online booking is switched off at the moment.")
    kind = (
        AppointmentType.objects.active()
        .filter(online_bookable=True)
        .get(pk=details.appointment_type_id)
    )
    chosen = None if details.any_clinician else User.objects.get(pk=details.clinician_id)
    free = offered_clinicians_at(
        appointment_type=kind, location=location, start=details.start, clinician=chosen
    )
    if not free:
        raise BookingError(TAKEN)
    with transaction.atomic():
        patient = patient_for_booking(details)
        # One patient's bookings queue here, so two at once cannot both slip under the cap.
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if future_online_bookings(patient, details.email, now) >= (
            practice.online_max_future_bookings
        ):
            raise OnlineBookingRefused(cap_message(practice.online_max_future_bookings, location))
        appointment = _book_first_free(details, patient, kind, location, free)
        if not details.declared_new and appointment.discount_percent:
            appointment.discount_percent = 0
            appointment.save(update_fields=["discount_percent", "updated_at"])
        queue_email(
            appointment,
            OutboxMessage.Kind.CONFIRMATION,
            to=details.email,
            name=details.full_name,
            manage_url=manage_url(manage_token(appointment)),
        )
    return appointment


def _book_first_free(
    details: OnlineDetails,
    patient: Patient,
    kind: AppointmentType,
    location: Location,
    clinician_ids: list[int],
) -> Appointment:
    clinicians = User.objects.in_bulk(clinician_ids)
    # Always in the same order, so attempts that lock several clinicians cannot deadlock.
    for clinician_id in sorted(clinician_ids):
        try:
            return appointment_book(
                patient=patient,
                clinician=clinicians[clinician_id],
                location=location,
                appointment_type=kind,
                starts_at=details.start,
                by=None,
                notes=f"Booked online. Reason: {details.reason}" if details.reason else "",
                source=Source.ONLINE,
                notify=False,
            )
        except BookingError:
            continue
    raise BookingError(TAKEN)


# --- The manage link --------------------------------------------------------------------


def manage_token(appointment: Appointment) -> str:
    return signing.dumps({"a": appointment.pk}, salt=MANAGE_SALT)


def appointment_for_token(token: str) -> Appointment:
    """The online appointment a manage link points at; ``InvalidLink`` or ``ExpiredLink``."""
    try:
        data = signing.loads(token, salt=MANAGE_SALT, max_age=MANAGE_MAX_AGE)
    except signing.SignatureExpired as error:
        raise ExpiredLink from error
    except signing.BadSignature as error:
        raise InvalidLink from error
    pk = data.get("a") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        raise InvalidLink
    appointment = Appointment.objects.with_related().filter(pk=pk, source=Source.ONLINE).first()
    if appointment is None:
        raise InvalidLink
    return appointment


def can_change(
    appointment: Appointment,
    now: datetime.datetime | None = None,
    *,
    practice: PracticeSettings | None = None,
) -> bool:
    """Cancel or move online only while booked and before the cancellation notice window."""
    now = now or timezone.now()
    notice = (practice or PracticeSettings.load()).cancellation_notice
    return appointment.status == Status.BOOKED and appointment.starts_at - now >= notice


def _booking_email(appointment: Appointment) -> str:
    """Where the patient asked for e-mails when booking (the confirmation's address)."""
    confirmation = (
        OutboxMessage.objects.filter(appointment=appointment, kind=OutboxMessage.Kind.CONFIRMATION)
        .order_by("pk")
        .first()
    )
    return confirmation.to if confirmation else appointment.patient.email


def online_cancel(*, appointment: Appointment, reason: str) -> Appointment:
    if not can_change(appointment):
        raise OnlineBookingRefused("This appointment can no longer be cancelled online.")
    with transaction.atomic():
        cancelled = appointment_cancel(
            appointment=appointment,
            cancelled_by=CancelledBy.PATIENT,
            reason=f"Cancelled online: {reason.strip()}",
            by=None,
            notify=False,
        )
        queue_email(
            cancelled,
            OutboxMessage.Kind.CANCELLATION,
            to=_booking_email(cancelled),
            name=cancelled.patient.full_name,
        )
    return cancelled


def online_move(
    *, appointment: Appointment, starts_at: datetime.datetime, manage_url: str
) -> Appointment:
    if not can_change(appointment):
        raise OnlineBookingRefused("This appointment can no longer be moved online.")
    free = offered_clinicians_at(
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        start=starts_at,
        clinician=appointment.clinician,
    )
    if not free:
        raise BookingError(TAKEN)
    with transaction.atomic():
        try:
            moved = appointment_move(
                appointment=appointment, starts_at=starts_at, by=None, notify=False
            )
        except BookingError as error:
            raise BookingError(TAKEN) from error
        queue_email(
            moved,
            OutboxMessage.Kind.CHANGE,
            to=_booking_email(moved),
            name=moved.patient.full_name,
            manage_url=manage_url,
        )
    return moved


# --- E-mails ---------------------------------------------------------------------------

_TEMPLATES = {
    OutboxMessage.Kind.CONFIRMATION: "online_confirmation",
    OutboxMessage.Kind.CHANGE: "online_change",
    OutboxMessage.Kind.CANCELLATION: "cancellation",
}


def queue_email(
    appointment: Appointment, kind: str, *, to: str, name: str, manage_url: str = ""
) -> OutboxMessage:
    """The patient's e-mail about an online booking, through the outbox, with the .ics.

    Sent to the address given when booking, greeting the name typed then; its wording
    and price lines never depend on whether the details matched an existing record.
    """
    (anchor,) = notifications._with_sequences([appointment])
    context = notifications._appointment_context(kind, anchor, [anchor])
    price = quoted_price(anchor.appointment_type, declared_new=True)
    context.update(
        patient_name=name,
        manage_url=manage_url,
        price=notifications._money(price.price),
        discount_percent=price.discount_percent,
        first_visit_price=notifications._money(price.due),
        notice_hours=PracticeSettings.load().cancellation_notice_hours,
    )
    text, html = notifications._render(_TEMPLATES[kind], context)
    method = ics.Method.CANCEL if kind == OutboxMessage.Kind.CANCELLATION else ics.Method.REQUEST
    invitation = ics.invitation(
        [anchor],
        method=method,
        sequences={anchor.pk: anchor.sequence},
        attendee_email=to,
        attendee_name=name,
    )
    message, created = notifications.outbox_add(
        dedupe_key=notifications._dedupe_key(kind, anchor),
        kind=kind,
        appointment=anchor,
        patient=anchor.patient,
        to=to,
        subject=notifications._subject(kind, anchor, 1),
        body_text=text,
        body_html=html,
        ics=invitation,
    )
    if created:
        notifications._deliver_on_commit(message)
    return message
