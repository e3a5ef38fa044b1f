"""The send_reminders command: one reminder per appointment, consent, retries, time zones."""

import datetime
import threading
from io import StringIO
from smtplib import SMTPServerDisconnected
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from icalendar import Calendar

from appointments import notifications
from appointments.models import Appointment, OutboxMessage, PracticeSettings, Status
from tests.factories import LocationFactory, PatientFactory

from .factories import AppointmentFactory

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)


def send_reminders() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def consenting(db):
    return PatientFactory(
        first_name="Hannah",
        last_name="Wright",
        email="hannah.wright@example.com",
        email_reminders=True,
    )


@pytest.fixture
def soon(consenting, physio):
    return AppointmentFactory(
        patient=consenting, clinician=physio, starts_at=timezone.now() + 3 * HOUR
    )


def test_running_the_command_twice_sends_one_reminder(soon):
    first = send_reminders()
    second = send_reminders()

    assert first == "Reminders queued: 1; sent: 1; failed: 0"
    assert second == "Reminders queued: 0; sent: 0; failed: 0"
    (email,) = mail.outbox
    assert email.to == ["hannah.wright@example.com"]
    assert email.subject.startswith("Reminder: your appointment on ")
    assert "This is a reminder of your appointment" in email.body
    assert "Priya Shah" in email.alternatives[0][0]
    message = OutboxMessage.objects.get()
    assert (message.kind, message.state, message.attempts) == ("reminder", "sent", 1)


def test_the_reminder_carries_the_calendar_invitation(soon):
    send_reminders()

    (item,) = mail.outbox[0].attachments
    calendar = Calendar.from_ical(item.content)
    assert item.mimetype == "text/calendar; method=REQUEST"
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.events
    assert event["uid"] == f"appointment-{soon.pk}@example.com"
    assert event.decoded("dtstart") == soon.starts_at.astimezone(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    "email, consent",
    [("no.consent@example.com", False), ("", True)],
    ids=["declined reminders", "no e-mail address"],
)
def test_patients_who_cannot_be_reminded_get_nothing(physio, email, consent):
    AppointmentFactory(
        patient=PatientFactory(email=email, email_reminders=consent),
        clinician=physio,
        starts_at=timezone.now() + 3 * HOUR,
    )

    assert send_reminders() == "Reminders queued: 0; sent: 0; failed: 0"
    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_appointments_beyond_the_reminder_window_wait(consenting, physio):
    AppointmentFactory(patient=consenting, clinician=physio, starts_at=timezone.now() + 30 * HOUR)

    assert send_reminders().startswith("Reminders queued: 0;")
    PracticeSettings.objects.update_or_create(pk=1, defaults={"reminder_hours_before": 48})
    assert send_reminders().startswith("Reminders queued: 1;")
    assert len(mail.outbox) == 1


def test_past_started_and_cancelled_appointments_are_not_reminded(consenting, physio):
    now = timezone.now()
    AppointmentFactory(patient=consenting, clinician=physio, starts_at=now - 2 * HOUR)
    AppointmentFactory(patient=consenting, clinician=physio, starts_at=now - HOUR / 6)
    AppointmentFactory(
        patient=consenting, clinician=physio, starts_at=now + 5 * HOUR, status=Status.CANCELLED
    )

    assert send_reminders() == "Reminders queued: 0; sent: 0; failed: 0"
    assert mail.outbox == []


def test_a_failed_reminder_is_recorded_and_retried_on_the_next_run(soon):
    with mock.patch.object(
        EmailMultiAlternatives, "send", side_effect=SMTPServerDisconnected("connection lost")
    ):
        assert send_reminders() == "Reminders queued: 1; sent: 0; failed: 1"

    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts) == ("failed", 1)
    assert message.last_error == "SMTPServerDisconnected: connection lost"
    assert mail.outbox == []

    assert send_reminders() == "Reminders queued: 0; sent: 1; failed: 0"
    assert send_reminders() == "Reminders queued: 0; sent: 0; failed: 0"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, "")


def test_a_failed_reminder_is_not_retried_once_the_appointment_is_cancelled(soon):
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("down")):
        send_reminders()
    Appointment.objects.filter(pk=soon.pk).update(status=Status.CANCELLED)

    assert send_reminders() == "Reminders queued: 0; sent: 0; failed: 1"
    assert mail.outbox == []
    message = OutboxMessage.objects.get()
    assert message.last_error == "RuntimeError: Not sent: the appointment is cancelled."


def test_a_failed_reminder_is_not_retried_once_the_patient_withdraws_consent(soon):
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("down")):
        send_reminders()
    soon.patient.email_reminders = False
    soon.patient.save()

    assert send_reminders() == "Reminders queued: 0; sent: 0; failed: 1"
    assert mail.outbox == []
    assert "no longer wants reminders" in OutboxMessage.objects.get().last_error


def test_a_failed_reminder_is_not_sent_after_the_appointment_started(soon):
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("down")):
        notifications.queue_due_reminders()
        notifications.deliver_pending()

    later = soon.starts_at + HOUR / 12
    assert notifications.deliver_pending(now=later) == (0, 1)
    assert mail.outbox == []
    assert "the appointment has started" in OutboxMessage.objects.get().last_error


def test_a_moved_appointment_gets_a_fresh_reminder(soon):
    send_reminders()
    new_start = soon.starts_at + 2 * HOUR
    Appointment.objects.filter(pk=soon.pk).update(
        starts_at=new_start, ends_at=new_start + soon.duration
    )

    assert send_reminders() == "Reminders queued: 1; sent: 1; failed: 0"
    assert len(mail.outbox) == 2
    when = notifications.format_when(new_start, soon.location.zone)
    assert when in mail.outbox[1].body


def test_the_reminder_uses_london_time_on_the_day_the_clocks_go_forward(consenting, physio):
    london = LocationFactory(name="Islington", time_zone="Europe/London")
    # Sunday 29 March 2026, 10:00 British Summer Time is 09:00 UTC.
    AppointmentFactory(
        patient=consenting,
        clinician=physio,
        location=london,
        starts_at=datetime.datetime(2026, 3, 29, 9, 0, tzinfo=UTC),
    )
    now = datetime.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)

    assert notifications.queue_due_reminders(now) == 1
    assert notifications.deliver_pending(now) == (1, 0)

    email = mail.outbox[0]
    assert "Sunday 29 March 2026, 10:00" in email.subject
    assert "Sunday 29 March 2026, 10:00" in email.body
    event = Calendar.from_ical(email.attachments[0].content).events[0]
    assert event.decoded("dtstart") == datetime.datetime(2026, 3, 29, 9, 0, tzinfo=UTC)


def test_the_reminder_uses_sydney_time_on_the_day_daylight_saving_ends(consenting, physio):
    sydney = LocationFactory(name="Bondi", time_zone="Australia/Sydney")
    starts = datetime.datetime(2026, 4, 5, 9, 0, tzinfo=ZoneInfo("Australia/Sydney"))
    AppointmentFactory(patient=consenting, clinician=physio, location=sydney, starts_at=starts)
    now = datetime.datetime(2026, 4, 4, 1, 0, tzinfo=UTC)

    notifications.queue_due_reminders(now)
    notifications.deliver_pending(now)

    email = mail.outbox[0]
    assert "Sunday 5 April 2026, 09:00" in email.body
    assert "Sunday 5 April 2026, 09:00" in email.alternatives[0][0]
    event = Calendar.from_ical(email.attachments[0].content).events[0]
    assert event.decoded("dtstart") == datetime.datetime(2026, 4, 4, 23, 0, tzinfo=UTC)


def test_the_reminder_window_counts_real_hours_across_the_clock_change(consenting, physio):
    # Sunday 25 October 2026, 09:00 GMT; the clocks went back at 02:00 that morning.
    AppointmentFactory(
        patient=consenting,
        clinician=physio,
        starts_at=datetime.datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    )
    # 09:30 BST the day before: 24 and a half real hours ahead, although the clock
    # on the wall says 23 and a half.
    assert (
        notifications.queue_due_reminders(datetime.datetime(2026, 10, 24, 8, 30, tzinfo=UTC)) == 0
    )
    assert notifications.queue_due_reminders(datetime.datetime(2026, 10, 24, 9, 0, tzinfo=UTC)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_another_run_is_sending_is_skipped_not_sent_twice(physio):
    patient = PatientFactory(email="hannah@example.com", email_reminders=True)
    AppointmentFactory(patient=patient, clinician=physio, starts_at=timezone.now() + 3 * HOUR)
    notifications.queue_due_reminders()
    message = OutboxMessage.objects.get()
    locked, release = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=message.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert locked.wait(10)
        assert notifications.deliver_pending() == (0, 0)
    finally:
        release.set()
        thread.join()

    assert notifications.deliver_pending() == (1, 0)
    assert notifications.deliver_pending() == (0, 0)
    assert len(mail.outbox) == 1
