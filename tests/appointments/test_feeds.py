"""Clinicians' calendar feeds: what the feed shows, who may manage it, resetting the link."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from appointments.models import CalendarFeed, Status
from clinic.roles import Role
from tests.factories import LocationFactory, PatientFactory, RoomFactory, UserFactory

from .factories import AppointmentFactory, AppointmentTypeFactory

DAY = datetime.timedelta(days=1)


def feed_url(token: str) -> str:
    return reverse("appointments:feed", args=[token])


def settings_url() -> str:
    return reverse("appointments:feed_settings")


def events(response) -> list:
    return Calendar.from_ical(response.content).events


@pytest.fixture
def calendar_feed(physio):
    return CalendarFeed.objects.create(clinician=physio, token=CalendarFeed.new_token())


@pytest.fixture
def booked(patient, physio):
    location = LocationFactory(name="Islington", time_zone="Europe/London")
    return AppointmentFactory(
        patient=patient,
        clinician=physio,
        location=location,
        room=RoomFactory(location=location, name="Room 2"),
        appointment_type=AppointmentTypeFactory(name="Follow-up"),
        starts_at=(timezone.now() + 2 * DAY).replace(microsecond=0),
    )


def test_the_feed_shows_initials_and_type_not_the_patients_name(calendar_feed, booked):
    response = Client().get(feed_url(calendar_feed.token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    (event,) = events(response)
    assert event["summary"] == "HW – Follow-up"
    assert event["location"] == "Islington · Room 2"
    assert event["uid"] == f"appointment-{booked.pk}@example.com"
    assert event.decoded("dtstart") == booked.starts_at.astimezone(datetime.UTC)
    assert event.decoded("dtend") == booked.ends_at.astimezone(datetime.UTC)
    assert b"Hannah" not in response.content
    assert b"Wright" not in response.content


def test_the_feed_shows_full_names_when_the_clinician_chooses_them(calendar_feed, booked):
    calendar_feed.show_full_names = True
    calendar_feed.save()

    response = Client().get(feed_url(calendar_feed.token))

    assert events(response)[0]["summary"] == "Hannah Wright – Follow-up"


def test_the_feed_holds_only_this_clinicians_live_appointments_in_range(
    physio, calendar_feed, booked
):
    now = timezone.now()
    other_physio = UserFactory(username="other", roles=[Role.PHYSIOTHERAPIST])
    AppointmentFactory(clinician=other_physio, starts_at=now + DAY)
    AppointmentFactory(clinician=physio, starts_at=now + 3 * DAY, status=Status.CANCELLED)
    AppointmentFactory(clinician=physio, starts_at=now - 31 * DAY)
    AppointmentFactory(clinician=physio, starts_at=now + 181 * DAY)
    recent = AppointmentFactory(clinician=physio, starts_at=now - 29 * DAY, status=Status.COMPLETED)
    later = AppointmentFactory(clinician=physio, starts_at=now + 179 * DAY)

    response = Client().get(feed_url(calendar_feed.token))

    uids = [str(event["uid"]) for event in events(response)]
    assert uids == [f"appointment-{item.pk}@example.com" for item in (recent, booked, later)]


def test_an_unknown_token_is_not_found(calendar_feed):
    assert Client().get(feed_url("not-a-real-token")).status_code == 404


def test_the_feed_of_a_clinician_who_left_is_not_found(physio, calendar_feed):
    physio.is_active = False
    physio.save()

    assert Client().get(feed_url(calendar_feed.token)).status_code == 404


def test_the_first_visit_creates_a_private_link(physio, physio_client):
    response = physio_client.get(settings_url())

    assert response.status_code == 200
    calendar_feed = CalendarFeed.objects.get(clinician=physio)
    assert f"http://testserver{feed_url(calendar_feed.token)}" in response.content.decode()
    assert f"webcal://testserver{feed_url(calendar_feed.token)}" in response.content.decode()
    physio_client.get(settings_url())
    assert CalendarFeed.objects.filter(clinician=physio).count() == 1


def test_resetting_the_link_makes_the_old_one_stop_working(physio_client, calendar_feed, booked):
    old_url = feed_url(calendar_feed.token)

    response = physio_client.post(settings_url(), {"action": "reset"}, follow=True)

    calendar_feed.refresh_from_db()
    new_url = feed_url(calendar_feed.token)
    assert new_url != old_url
    assert "Your calendar link is reset" in response.content.decode()
    assert new_url in response.content.decode()
    assert Client().get(old_url).status_code == 404
    assert Client().get(new_url).status_code == 200


def test_the_clinician_can_switch_full_names_on_and_off(physio_client, calendar_feed):
    response = physio_client.post(settings_url(), {"action": "names", "show_full_names": "on"})

    assert response.status_code == 302
    calendar_feed.refresh_from_db()
    assert calendar_feed.show_full_names is True
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your calendar now shows patients' full names."
    ]

    physio_client.post(settings_url(), {"action": "names"})
    calendar_feed.refresh_from_db()
    assert calendar_feed.show_full_names is False


def test_a_garbled_request_changes_nothing(physio_client, calendar_feed):
    token = calendar_feed.token

    response = physio_client.post(settings_url(), {"action": "delete-everything"})

    assert response.status_code == 200
    assert "nothing was changed" in response.content.decode()
    calendar_feed.refresh_from_db()
    assert calendar_feed.token == token


def test_each_clinician_sees_only_their_own_link(physio, physio_client, calendar_feed):
    other = UserFactory(username="other", roles=[Role.PHYSIOTHERAPIST])
    other_client = Client()
    other_client.force_login(other)

    page = other_client.get(settings_url()).content.decode()

    assert calendar_feed.token not in page
    assert CalendarFeed.objects.get(clinician=other).token in page


@pytest.mark.parametrize(
    "client_fixture", ["front_desk_client", "manager_client", "outsider_client"]
)
def test_staff_who_are_not_physiotherapists_cannot_have_a_feed(request, client_fixture):
    client = request.getfixturevalue(client_fixture)

    assert client.get(settings_url()).status_code == 403
    assert client.post(settings_url(), {"action": "reset"}).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in_for_the_settings(db):
    response = Client().get(settings_url())

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_feed_link_itself_works_without_signing_in(calendar_feed):
    response = Client().get(feed_url(calendar_feed.token))

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_settings_page_has_no_inline_script(physio_client):
    page = physio_client.get(settings_url()).content.decode()

    assert "<script>" not in page
    assert "<script src=" in page
    assert " onclick=" not in page


def test_initials_are_capitals_whatever_was_typed(physio, calendar_feed):
    AppointmentFactory(
        clinician=physio,
        patient=PatientFactory(first_name="ada", last_name="lovelace"),
        starts_at=timezone.now() + DAY,
    )

    (event,) = events(Client().get(feed_url(calendar_feed.token)))

    assert event["summary"] == "AL – Follow-up"
