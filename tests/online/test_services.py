"""Online booking rules in the service layer: matching, discount, cap, slots, links."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.utils import timezone

from appointments import online_services as online
from appointments.models import Appointment, OutboxMessage, Source, Status
from appointments.services import BookingError
from clinic.roles import Role
from tests.appointments.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    works_every_day,
)
from tests.factories import PatientFactory, StaffProfileFactory, UserFactory

from .conftest import local_slot, make_details, manage_url_for

pytestmark = pytest.mark.django_db


def _book(clinic, starts_at=None, **overrides) -> Appointment:
    starts_at = starts_at or local_slot(clinic["location"], days=3, hour=18)
    return online.online_book(
        details=make_details(clinic, starts_at, **overrides), manage_url=manage_url_for
    )


# --- Matching ---------------------------------------------------------------------------


def test_a_patient_is_linked_when_name_birth_date_and_email_match(clinic) -> None:
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
        phone="+447700900999",
    )
    appointment = _book(clinic, first_name="NORA", last_name="quinn")
    assert appointment.patient == existing
    assert not existing.registered_online


def test_a_patient_is_linked_when_the_phone_matches_instead_of_the_email(clinic) -> None:
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="old@example.com",
        phone="+447700900123",
    )
    assert _book(clinic).patient == existing


@pytest.mark.parametrize(
    "different",
    [
        {"first_name": "Norah"},
        {"last_name": "Quin"},
        {"date_of_birth": "1990-05-18"},
        {"email": "someone@example.com", "phone": "+447700900555"},
    ],
)
def test_anything_short_of_a_full_match_creates_a_record_to_review(clinic, different) -> None:
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
        phone="+447700900123",
    )
    appointment = _book(clinic, **different)
    created = appointment.patient
    assert created != existing
    assert created.registered_online and created.needs_review
    assert created.privacy_notice_accepted_on == timezone.localdate()
    assert created.email_reminders is True


def test_an_archived_patient_is_never_linked(clinic) -> None:
    PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
        archived_at=timezone.now(),
    )
    assert _book(clinic).patient.registered_online


def test_a_matched_record_is_not_changed_by_what_was_typed(clinic) -> None:
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
        phone="+447700900999",
        email_reminders=False,
    )
    _book(clinic, email_reminders=True)
    existing.refresh_from_db()
    assert existing.phone == "+447700900999"
    assert existing.email_reminders is False


# --- Price ------------------------------------------------------------------------------


def test_a_genuinely_new_patient_gets_the_discount_on_the_first_appointment(clinic) -> None:
    appointment = _book(clinic)
    assert appointment.discount_percent == 33
    assert appointment.source == Source.ONLINE


def test_a_patient_who_says_they_have_been_before_pays_the_full_price(clinic) -> None:
    assert _book(clinic, declared_new=False).discount_percent == 0


def test_a_matched_patient_seen_before_pays_the_full_price_whatever_they_declare(clinic) -> None:
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
    )
    AppointmentFactory(
        patient=existing,
        status=Status.COMPLETED,
        starts_at=timezone.now() - datetime.timedelta(days=30),
    )
    assert _book(clinic, declared_new=True).discount_percent == 0


def test_the_second_online_booking_of_a_new_patient_pays_the_full_price(clinic) -> None:
    first = _book(clinic)
    second = _book(clinic, local_slot(clinic["location"], days=10, hour=9))
    assert first.patient == second.patient
    assert (first.discount_percent, second.discount_percent) == (33, 0)


def test_the_quote_follows_the_declaration(clinic) -> None:
    assert online.quoted_price(clinic["kind"], declared_new=True).due == Decimal("40.20")
    assert online.quoted_price(clinic["kind"], declared_new=False).due == Decimal("60.00")


# --- What is offered --------------------------------------------------------------------


def test_a_time_inside_the_minimum_notice_is_not_offered(clinic) -> None:
    soon = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(minutes=30)
    with pytest.raises(BookingError):
        _book(clinic, soon)
    assert not Appointment.objects.exists()


def test_a_time_past_the_horizon_is_not_offered(clinic) -> None:
    with pytest.raises(BookingError):
        _book(clinic, local_slot(clinic["location"], days=95, hour=10))


def test_a_clinician_not_bookable_online_is_neither_offered_nor_booked(clinic) -> None:
    hidden = UserFactory(username="hidden", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=hidden, bookable_online=False)
    works_every_day(hidden, clinic["location"])
    assert hidden not in online.online_clinicians(clinic["kind"], clinic["location"])
    with pytest.raises(BookingError):
        _book(clinic, clinician_id=hidden.pk)


def test_a_type_not_bookable_online_cannot_be_booked(clinic) -> None:
    private = AppointmentTypeFactory(name="Dry needling", online_bookable=False)
    assert private not in online.online_types(clinic["location"])
    with pytest.raises(online.AppointmentType.DoesNotExist):
        _book(clinic, appointment_type_id=private.pk)


def test_any_physiotherapist_shows_each_start_time_once(clinic) -> None:
    second = UserFactory(username="sam", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=second)
    works_every_day(second, clinic["location"])
    day = timezone.localdate() + datetime.timedelta(days=3)
    slots = online.free_slots(
        appointment_type=clinic["kind"],
        location=clinic["location"],
        clinician=None,
        first_day=day,
        last_day=day,
    )
    starts = [s.start for s in slots]
    assert len(starts) == len(set(starts))


def test_any_physiotherapist_books_whoever_is_still_free(clinic) -> None:
    second = UserFactory(username="sam", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=second)
    works_every_day(second, clinic["location"])
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    AppointmentFactory(
        clinician=clinic["clinician"], location=clinic["location"], starts_at=starts_at
    )
    appointment = _book(clinic, starts_at, any_clinician=True)
    assert appointment.clinician == second


def test_a_taken_time_is_refused_and_nothing_is_kept(clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    AppointmentFactory(
        clinician=clinic["clinician"], location=clinic["location"], starts_at=starts_at
    )
    with pytest.raises(BookingError) as refused:
        _book(clinic, starts_at)
    assert "just taken" in refused.value.messages[0]
    assert not online.Patient.objects.filter(registered_online=True).exists()


def test_the_nearest_free_times_surround_the_lost_one(clinic) -> None:
    wanted = local_slot(clinic["location"], days=3, hour=12)
    nearest = online.nearest_slots(
        appointment_type=clinic["kind"],
        location=clinic["location"],
        clinician=None,
        wanted=wanted,
        exclude=wanted,
    )
    assert len(nearest) == online.NEAREST_ALTERNATIVES
    assert wanted not in [s.start for s in nearest]
    assert all(abs(s.start - wanted) <= datetime.timedelta(hours=1) for s in nearest)


# --- Cap --------------------------------------------------------------------------------


def test_the_cap_on_future_online_bookings_refuses_one_more(clinic) -> None:
    for days in (3, 4, 5):
        _book(clinic, local_slot(clinic["location"], days=days, hour=9))
    with pytest.raises(online.OnlineBookingRefused) as refused:
        _book(clinic, local_slot(clinic["location"], days=6, hour=9))
    assert "at most 3" in refused.value.messages[0]
    assert "+442079460123" in refused.value.messages[0]
    assert Appointment.objects.count() == 3


def test_the_cap_also_counts_bookings_made_with_the_same_email(clinic) -> None:
    for days, first in ((3, "Ann"), (4, "Bea"), (5, "Cat")):
        _book(clinic, local_slot(clinic["location"], days=days, hour=9), first_name=first)
    with pytest.raises(online.OnlineBookingRefused):
        _book(clinic, local_slot(clinic["location"], days=6, hour=9), first_name="Dee")


def test_cancelled_and_front_desk_bookings_do_not_count_towards_the_cap(clinic) -> None:
    first = _book(clinic, local_slot(clinic["location"], days=3, hour=9))
    online.online_cancel(appointment=first, reason="Better")
    AppointmentFactory(patient=first.patient, location=clinic["location"])
    for days in (4, 5, 6):
        _book(clinic, local_slot(clinic["location"], days=days, hour=9))


def test_online_booking_switched_off_refuses(clinic) -> None:
    clinic["practice"].online_booking_enabled = False
    clinic["practice"].save()
    with pytest.raises(online.OnlineBookingRefused):
        _book(clinic)


# --- E-mail -----------------------------------------------------------------------------


def test_the_confirmation_goes_to_the_address_typed_with_the_link_and_the_invitation(
    clinic, django_capture_on_commit_callbacks
) -> None:
    PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="stored@example.com",
        phone="+447700900123",
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment = _book(clinic)
    (message,) = mail.outbox
    assert message.to == ["nora.quinn@example.com"]
    # The link's token is signed with the time it was made: read it back from the e-mail.
    prefix = manage_url_for("TOKEN").split("TOKEN")[0]
    token = message.body.split(prefix, 1)[1].split("/", 1)[0]
    assert online.appointment_for_token(token) == appointment
    assert manage_url_for(token) in message.body
    assert "Dear Nora Quinn" in message.body
    assert "33% off the first appointment" in message.body
    (name, ics, _mimetype) = message.attachments[0]
    assert name == "appointment.ics" and "BEGIN:VEVENT" in ics
    html = message.alternatives[0][0]
    assert manage_url_for(token) in html


# --- The manage link --------------------------------------------------------------------


def test_a_token_leads_back_to_its_appointment(clinic) -> None:
    appointment = _book(clinic)
    assert online.appointment_for_token(online.manage_token(appointment)) == appointment


@pytest.mark.parametrize(
    "change",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: "nonsense"],
)
def test_a_tampered_token_is_invalid(clinic, change) -> None:
    token = online.manage_token(_book(clinic))
    with pytest.raises(online.InvalidLink):
        online.appointment_for_token(change(token))


def test_a_token_signed_for_something_else_is_invalid(clinic) -> None:
    appointment = _book(clinic)
    forged = signing.dumps({"a": appointment.pk}, salt=online.REVIEW_SALT)
    with pytest.raises(online.InvalidLink):
        online.appointment_for_token(forged)


def test_a_token_for_a_front_desk_booking_is_invalid(clinic) -> None:
    front_desk = AppointmentFactory(location=clinic["location"])
    with pytest.raises(online.InvalidLink):
        online.appointment_for_token(online.manage_token(front_desk))


def test_an_old_token_has_expired(clinic, monkeypatch) -> None:
    appointment = _book(clinic)
    long_ago = timezone.now().timestamp() - online.MANAGE_MAX_AGE.total_seconds() - 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: long_ago)
    token = online.manage_token(appointment)
    monkeypatch.undo()
    with pytest.raises(online.ExpiredLink):
        online.appointment_for_token(token)


def test_changes_are_allowed_only_before_the_notice_window(clinic) -> None:
    appointment = _book(clinic, local_slot(clinic["location"], days=3, hour=18))
    now = appointment.starts_at - datetime.timedelta(hours=24)
    assert online.can_change(appointment, now=now)
    assert not online.can_change(appointment, now=now + datetime.timedelta(minutes=1))


def test_cancelling_online_records_the_patient_and_emails_the_booking_address(
    clinic, django_capture_on_commit_callbacks
) -> None:
    appointment = _book(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        online.online_cancel(appointment=appointment, reason="Feeling better")
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancelled_by == "patient"
    assert not appointment.late_cancellation
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CANCELLATION)
    assert message.to == "nora.quinn@example.com"
    assert "METHOD:CANCEL" in message.ics


def test_moving_online_keeps_the_clinician_and_emails_the_new_time(clinic) -> None:
    appointment = _book(clinic)
    new_start = local_slot(clinic["location"], days=5, hour=19)
    moved = online.online_move(
        appointment=appointment, starts_at=new_start, manage_url="http://testserver/m"
    )
    assert moved.starts_at == new_start and moved.clinician == clinic["clinician"]
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.CHANGE)
    assert "http://testserver/m" in message.body_text


def test_moving_to_a_taken_time_is_refused(clinic) -> None:
    appointment = _book(clinic)
    taken = local_slot(clinic["location"], days=5, hour=9)
    AppointmentFactory(clinician=clinic["clinician"], location=clinic["location"], starts_at=taken)
    with pytest.raises(BookingError):
        online.online_move(appointment=appointment, starts_at=taken, manage_url="")


def test_inside_the_notice_window_nothing_changes_online(clinic) -> None:
    appointment = _book(clinic)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=3),
        ends_at=timezone.now() + datetime.timedelta(hours=4),
    )
    appointment.refresh_from_db()
    with pytest.raises(online.OnlineBookingRefused):
        online.online_cancel(appointment=appointment, reason="x")
    with pytest.raises(online.OnlineBookingRefused):
        online.online_move(
            appointment=appointment,
            starts_at=local_slot(clinic["location"], days=5, hour=9),
            manage_url="",
        )
