"""Patient e-mails: what the confirmation, change, cancellation and waitlist offer say."""

import datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from icalendar import Calendar

from appointments import notifications, services
from appointments.models import (
    CancelledBy,
    OutboxMessage,
    PracticeSettings,
    WaitlistEntry,
)
from tests.factories import LocationFactory, PatientFactory

from .factories import AppointmentFactory, AppointmentTypeFactory, works_every_day

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
UTC = datetime.UTC


def local(text: str, zone: ZoneInfo = LONDON) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture
def london(db):
    return LocationFactory(
        name="Islington",
        address="12 Upper Street\nLondon N1 0PQ",
        phone="+442071234567",
        time_zone="Europe/London",
    )


@pytest.fixture
def follow_up(db):
    return AppointmentTypeFactory(name="Follow-up", duration_minutes=45, price=Decimal("60.00"))


@pytest.fixture
def bookable(physio, london):
    works_every_day(physio, london)


def book(patient, physio, location, appointment_type, starts_at):
    return services.appointment_book(
        patient=patient,
        clinician=physio,
        location=location,
        appointment_type=appointment_type,
        starts_at=starts_at,
        by=physio,
    )


def attachment(email) -> tuple[Calendar, str]:
    (item,) = email.attachments
    assert item.filename == "appointment.ics"
    return Calendar.from_ical(item.content), item.mimetype


def calendar_method_header(email) -> str:
    """The method a mail program reads from the attachment's Content-Type header."""
    (part,) = [p for p in email.message().walk() if p.get_content_type() == "text/calendar"]
    return part.get_param("method")


def test_booking_sends_a_confirmation_in_the_location_time_zone(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    starts = local("2030-07-02 18:30")  # British Summer Time: 17:30 UTC
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, starts)

    (email,) = mail.outbox
    assert email.to == ["hannah.wright@example.com"]
    assert "Tuesday 2 July 2030, 18:30" in email.subject
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    for body in (email.body, html):
        assert "Hannah Wright" in body
        assert "Tuesday 2 July 2030, 18:30" in body
        assert "Follow-up" in body
        assert "Priya Shah" in body
        assert "12 Upper Street" in body
        assert "London N1 0PQ" in body
        assert "+442071234567" in body
        assert "£60.00" in body
        assert "discount" not in body
    message = OutboxMessage.objects.get()
    assert (message.kind, message.state, message.attempts) == ("confirmation", "sent", 1)


def test_the_confirmation_invitation_updates_the_patients_calendar(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient, physio, london, follow_up, local("2030-07-02 18:30"))

    calendar, mimetype = attachment(mail.outbox[0])
    assert mimetype == "text/calendar; method=REQUEST"
    assert calendar_method_header(mail.outbox[0]) == "REQUEST"
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.events
    assert event.decoded("dtstart") == datetime.datetime(2030, 7, 2, 17, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime.datetime(2030, 7, 2, 18, 15, tzinfo=UTC)
    assert event["uid"] == f"appointment-{appointment.pk}@example.com"
    assert event["sequence"] == 0
    assert event["summary"] == "Follow-up with Priya Shah"
    assert event["location"] == "Islington, 12 Upper Street, London N1 0PQ"


def test_a_new_patient_sees_full_price_discount_and_price_due(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    PracticeSettings.objects.update_or_create(pk=1, defaults={"new_patient_discount_percent": 20})
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    email = mail.outbox[0]
    assert "Price: £60.00" in email.body
    assert "New-patient discount: 20% (−£12.00)" in email.body
    assert "Price due: £48.00" in email.body
    html = email.alternatives[0][0]
    assert "20% (−£12.00)" in html
    assert "<strong>£48.00</strong>" in html


def test_the_confirmation_states_the_cancellation_policy(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    PracticeSettings.objects.update_or_create(
        pk=1, defaults={"cancellation_policy": "Cancel 48 hours ahead or pay in full."}
    )
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    email = mail.outbox[0]
    assert "Cancel 48 hours ahead or pay in full." in email.body
    assert "Cancel 48 hours ahead or pay in full." in email.alternatives[0][0]


def test_a_sydney_appointment_is_shown_in_sydney_time(
    patient, physio, follow_up, django_capture_on_commit_callbacks
):
    sydney = LocationFactory(name="Bondi", time_zone="Australia/Sydney")
    works_every_day(physio, sydney)
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, sydney, follow_up, local("2030-01-08 09:00", SYDNEY))

    email = mail.outbox[0]
    assert "Tuesday 8 January 2030, 09:00" in email.body
    calendar, _ = attachment(email)
    # Daylight saving time in Sydney: UTC+11, so the day before in UTC.
    assert calendar.events[0].decoded("dtstart") == datetime.datetime(2030, 1, 7, 22, 0, tzinfo=UTC)


def test_moving_an_appointment_sends_a_change_with_a_higher_sequence(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_move(
            appointment=appointment, starts_at=local("2030-03-07 15:15"), by=physio
        )

    assert len(mail.outbox) == 2
    change = mail.outbox[1]
    assert "has moved to Thursday 7 March 2030, 15:15" in change.subject
    assert "It is now on Thursday 7 March 2030, 15:15." in change.body
    calendar, mimetype = attachment(change)
    assert mimetype == "text/calendar; method=REQUEST"
    (event,) = calendar.events
    assert event["uid"] == f"appointment-{appointment.pk}@example.com"
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == datetime.datetime(2030, 3, 7, 15, 15, tzinfo=UTC)


def test_moving_twice_sends_two_changes(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_move(
            appointment=appointment, starts_at=local("2030-03-07 15:15"), by=physio
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_move(
            appointment=appointment, starts_at=local("2030-03-05 10:00"), by=physio
        )

    subjects = [email.subject for email in mail.outbox]
    assert len(subjects) == 3
    assert "has moved to Tuesday 5 March 2030, 10:00" in subjects[2]
    sequences = [attachment(email)[0].events[0]["sequence"] for email in mail.outbox]
    assert sequences == [0, 1, 2]


def test_cancelling_sends_a_cancellation_that_removes_the_calendar_event(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(
            appointment=appointment,
            cancelled_by=CancelledBy.CLINIC,
            reason="Clinician unwell",
            by=physio,
        )

    cancellation = mail.outbox[1]
    assert "Your appointment on Tuesday 5 March 2030, 10:00 is cancelled" in cancellation.subject
    assert "is cancelled" in cancellation.body
    assert "is cancelled" in cancellation.alternatives[0][0]
    calendar, mimetype = attachment(cancellation)
    assert mimetype == "text/calendar; method=CANCEL"
    assert calendar_method_header(cancellation) == "CANCEL"
    assert calendar["method"] == "CANCEL"
    (event,) = calendar.events
    assert event["status"] == "CANCELLED"
    assert event["uid"] == f"appointment-{appointment.pk}@example.com"
    assert event["sequence"] == 1


def test_a_series_confirmation_lists_every_date_with_one_event_each(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    request = services.BookingRequest(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    starts = services.series_dates(first=request.starts_at, location=london, every_weeks=1, count=5)
    with django_capture_on_commit_callbacks(execute=True):
        _, booked = services.series_book(
            request=request, starts=starts, every_weeks=1, by=physio, free_only=False
        )

    (email,) = mail.outbox
    assert "Your 5 appointments are booked" in email.subject
    # The clocks go forward on 31 March: the wall-clock time stays 10:00.
    for day in ("5", "12", "19", "26"):
        assert f"Tuesday {day} March 2030, 10:00" in email.body
    assert "Tuesday 2 April 2030, 10:00" in email.body
    calendar, _ = attachment(email)
    assert calendar["method"] == "REQUEST"
    assert [event["uid"] for event in calendar.events] == [
        f"appointment-{item.pk}@example.com" for item in booked
    ]
    assert calendar.events[-1].decoded("dtstart") == datetime.datetime(2030, 4, 2, 9, 0, tzinfo=UTC)


def test_cancelling_the_rest_of_a_series_sends_one_cancellation_for_all(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    request = services.BookingRequest(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    starts = services.series_dates(first=request.starts_at, location=london, every_weeks=1, count=3)
    _, booked = services.series_book(
        request=request, starts=starts, every_weeks=1, by=physio, free_only=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.series_cancel_following(
            appointment=booked[1], cancelled_by=CancelledBy.PATIENT, reason="Moving away", by=None
        )

    (email,) = mail.outbox
    assert "Your 2 appointments from Tuesday 12 March 2030, 10:00 are cancelled" in email.subject
    assert "Tuesday 19 March 2030, 10:00" in email.body
    calendar, _ = attachment(email)
    assert calendar["method"] == "CANCEL"
    assert [event["status"] for event in calendar.events] == ["CANCELLED", "CANCELLED"]


def test_patients_who_declined_reminders_still_get_their_confirmation(
    physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email="no.reminders@example.com", email_reminders=False)
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    assert [email.to for email in mail.outbox] == [["no.reminders@example.com"]]


def test_a_patient_without_an_email_address_gets_no_email(
    physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_nothing_is_sent_when_the_booking_is_rolled_back(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
        raise RuntimeError("the surrounding work failed")

    assert callbacks == []
    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_queueing_the_same_confirmation_twice_sends_it_once(
    patient, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(patient=patient)
    with django_capture_on_commit_callbacks(execute=True):
        first = notifications.queue(appointment, notifications.Kind.CONFIRMATION)
        second = notifications.queue(appointment, notifications.Kind.CONFIRMATION)

    assert first.pk == second.pk
    assert len(mail.outbox) == 1


def test_a_failed_send_is_recorded_and_the_retry_sends_it_once(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts) == ("failed", 1)
    assert message.last_error == "OSError: SMTP down"
    assert mail.outbox == []

    assert notifications.deliver_pending() == (1, 0)
    assert notifications.deliver(message.pk) is True
    assert notifications.deliver_pending() == (0, 0)
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, "")


def test_a_retry_sends_exactly_what_was_queued(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    message = OutboxMessage.objects.get()
    PracticeSettings.objects.filter(pk=1).update(cancellation_policy="Changed later.")

    notifications.deliver_pending()

    (email,) = mail.outbox
    assert email.subject == message.subject
    assert email.body == message.body_text
    assert email.alternatives[0][0] == message.body_html
    assert email.attachments[0].content == message.ics
    assert "Changed later." not in email.body


def test_a_failed_confirmation_is_not_retried_once_the_appointment_is_cancelled(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        appointment = book(patient, physio, london, follow_up, local("2030-03-05 10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(
            appointment=appointment, cancelled_by=CancelledBy.PATIENT, reason="Better", by=None
        )

    notifications.deliver_pending()

    assert [email.subject.split(" · ")[0] for email in mail.outbox] == [
        "Your appointment on Tuesday 5 March 2030, 10:00 is cancelled"
    ]
    confirmation = OutboxMessage.objects.get(kind="confirmation")
    assert confirmation.state == "failed"
    assert "a later change or cancellation replaces it" in confirmation.last_error


def test_messages_are_given_up_after_the_maximum_attempts(patient):
    appointment = AppointmentFactory(patient=patient)
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")):
        message = notifications.queue(appointment, notifications.Kind.CONFIRMATION)
        results = [notifications.deliver_pending() for _ in range(OutboxMessage.MAX_ATTEMPTS + 2)]

    assert results == [(0, 1)] * OutboxMessage.MAX_ATTEMPTS + [(0, 0)] * 2
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("failed", OutboxMessage.MAX_ATTEMPTS)


def test_a_waitlist_offer_names_the_slot_but_not_who_cancelled(
    physio, london, follow_up, django_capture_on_commit_callbacks
):
    cancelled = AppointmentFactory(
        patient=PatientFactory(first_name="Quentin", last_name="Blake"),
        clinician=physio,
        location=london,
        appointment_type=follow_up,
        starts_at=local("2030-03-05 10:00"),
        status="cancelled",
    )
    waiting = PatientFactory(first_name="Wendy", last_name="Lee", email="wendy@example.com")
    entry = WaitlistEntry.objects.create(
        patient=waiting, appointment_type=follow_up, location=london
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.waitlist_offer(entry=entry, appointment=cancelled, by=physio)

    (email,) = mail.outbox
    assert email.to == ["wendy@example.com"]
    assert "An earlier appointment is free: Tuesday 5 March 2030, 10:00" in email.subject
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert "Wendy Lee" in body
        assert "Tuesday 5 March 2030, 10:00" in body
        assert "Priya Shah" in body
        assert "Quentin" not in body
        assert "Blake" not in body
    assert email.attachments == []


def test_html_bodies_escape_what_staff_typed(
    physio, london, follow_up, bookable, django_capture_on_commit_callbacks
):
    patient = PatientFactory(first_name="<b>Eve</b>", last_name="O'Neil")
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, physio, london, follow_up, local("2030-03-05 10:00"))

    email = mail.outbox[0]
    assert "&lt;b&gt;Eve&lt;/b&gt;" in email.alternatives[0][0]
    assert "<b>Eve</b> O'Neil" in email.body


def _close_as_the_server_does(response) -> None:
    """``response.close()``, as a WSGI server calls it after the last byte — without the
    end-of-request signal closing the test's database connection (as the test client)."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def _booking_view(patient, physio, london, follow_up, starts_at, on_commit):
    from django.http import HttpResponse

    def view(request):
        with on_commit(execute=True):  # the booking commits inside the view
            book(patient, physio, london, follow_up, starts_at)
        return HttpResponse("booked")

    return view


def test_during_a_request_the_confirmation_goes_once_the_response_has_been_sent(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks, rf
):
    middleware = notifications.DeliverAfterResponse(
        _booking_view(
            patient,
            physio,
            london,
            follow_up,
            local("2030-07-02 18:30"),
            django_capture_on_commit_callbacks,
        )
    )
    response = middleware(rf.post("/appointments/book/"))

    assert response.content == b"booked"
    assert mail.outbox == []  # committed to the outbox, not yet sent
    assert OutboxMessage.objects.get().state == "pending"

    _close_as_the_server_does(response)

    (email,) = mail.outbox
    assert "Tuesday 2 July 2030, 18:30" in email.subject
    assert OutboxMessage.objects.get().state == "sent"


def test_a_send_failing_after_the_response_leaves_the_message_for_the_retry(
    patient, physio, london, follow_up, bookable, django_capture_on_commit_callbacks, rf
):
    middleware = notifications.DeliverAfterResponse(
        _booking_view(
            patient,
            physio,
            london,
            follow_up,
            local("2030-03-05 10:00"),
            django_capture_on_commit_callbacks,
        )
    )
    response = middleware(rf.post("/appointments/book/"))
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("SMTP down")):
        _close_as_the_server_does(response)

    message = OutboxMessage.objects.get()
    assert (message.state, message.last_error) == ("failed", "OSError: SMTP down")
    assert notifications.deliver_pending() == (1, 0)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)  # the booking really commits inside the request
def test_the_booking_page_answers_before_the_confirmation_is_sent(
    front_desk_client, patient, physio, london, follow_up, bookable
):
    from django.urls import reverse

    sent_before_answer = []
    real_send = EmailMultiAlternatives.send

    def send(self, *args, **kwargs):
        sent_before_answer.append(response_seen)
        return real_send(self, *args, **kwargs)

    response_seen = False
    form = {
        "patient": patient.pk,
        "appointment_type": follow_up.pk,
        "location": london.pk,
        "clinician": physio.pk,
        "date": "2030-07-02",
        "time": "10:00",
        "room": "",
        "notes": "",
    }
    with mock.patch.object(EmailMultiAlternatives, "send", send):
        from django.http import HttpResponseBase

        real_close = HttpResponseBase.close

        def close(self):
            nonlocal response_seen
            response_seen = True  # the server has sent the whole response
            real_close(self)

        with mock.patch.object(HttpResponseBase, "close", close):
            response = front_desk_client.post(reverse("appointments:create"), form)

    assert response.status_code == 302
    assert sent_before_answer == [True]
    assert len(mail.outbox) == 1
