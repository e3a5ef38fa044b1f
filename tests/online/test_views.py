"""The public booking pages: what an anonymous visitor sees and every refusal."""

import datetime
import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments import online_services as online
from appointments.models import Appointment, Status
from clinic.roles import Role
from patients.models import Patient
from tests.appointments.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    works_every_day,
)
from tests.factories import PatientFactory, RoomFactory, StaffProfileFactory, UserFactory

from .conftest import local_slot, make_details, post_confirm

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
TOKEN = re.compile(r"/book/(manage|confirmed)/[^/\"'\s]+/")


def _normalised(text: str) -> str:
    return TOKEN.sub("/book/<token>/", CSRF.sub("", text))


@pytest.fixture
def visitor() -> Client:
    return Client(enforce_csrf_checks=False)


def _details_query(clinic, starts_at, **extra) -> str:
    query = {"clinician": clinic["clinician"].pk, "start": starts_at.isoformat(), **extra}
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])
    return f"{url}?{urlencode(query)}"


def _form_data(clinic, starts_at, **overrides) -> dict:
    data = {
        "clinician": clinic["clinician"].pk,
        "start": starts_at.isoformat(),
        "first_name": "Nora",
        "last_name": "Quinn",
        "date_of_birth": "1990-05-17",
        "email": "Nora.Quinn@example.com",
        "phone": "07911 123457",
        "patient_status": "new",
        "reason": "Knee pain",
        "accept_privacy": "on",
        "email_reminders": "on",
        "website": "",
    }
    data.update(overrides)
    return data


# --- Choosing ---------------------------------------------------------------------------


def test_the_booking_pages_need_no_account(visitor, clinic) -> None:
    location, kind = clinic["location"], clinic["kind"]
    for url in (
        reverse("booking:start"),
        reverse("booking:services", args=[location.pk]),
        reverse("booking:clinicians", args=[location.pk, kind.pk]),
        reverse("booking:times", args=[location.pk, kind.pk]) + "?clinician=any",
        reverse("booking:privacy"),
    ):
        response = visitor.get(url)
        assert response.status_code == 200, url
        assert b"Sign out" not in response.content


def test_only_online_bookable_services_are_listed(visitor, clinic) -> None:
    AppointmentTypeFactory(name="Shockwave", online_bookable=False)
    response = visitor.get(reverse("booking:services", args=[clinic["location"].pk]))
    assert "Initial assessment" in response.text
    assert "Shockwave" not in response.text
    assert "33% off your first appointment" in response.text


def test_a_service_not_bookable_online_is_not_found(visitor, clinic) -> None:
    hidden = AppointmentTypeFactory(name="Shockwave", online_bookable=False)
    url = reverse("booking:clinicians", args=[clinic["location"].pk, hidden.pk])
    assert visitor.get(url).status_code == 404


@pytest.mark.parametrize("which", ["location", "kind"])
@pytest.mark.parametrize("pk", [987654, 2**31, 2**63, 10**30])
def test_a_location_or_service_that_does_not_exist_is_not_found(visitor, clinic, which, pk) -> None:
    ids = {"location": clinic["location"].pk, "kind": clinic["kind"].pk, which: pk}
    for name in ("booking:clinicians", "booking:times"):
        response = visitor.get(reverse(name, args=[ids["location"], ids["kind"]]))
        assert response.status_code == 404, (name, pk)


def test_the_pages_follow_changes_to_services_and_physiotherapists(visitor, clinic) -> None:
    """The queries are compiled once per worker; what they find is read afresh each time."""
    url = reverse("booking:clinicians", args=[clinic["location"].pk, clinic["kind"].pk])
    assert "Alex Moreno" in visitor.get(url).text
    other = UserFactory(first_name="Bea", last_name="Lind", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=other, display_name="Bea Lind", bookable_online=True)
    works_every_day(other, clinic["location"])
    assert "Bea Lind" in visitor.get(url).text

    other.staff_profile.bookable_online = False
    other.staff_profile.save()
    assert "Bea Lind" not in visitor.get(url).text
    clinic["kind"].online_bookable = False
    clinic["kind"].save()
    assert visitor.get(url).status_code == 404


def test_any_physiotherapist_and_the_named_ones_are_offered(visitor, clinic) -> None:
    response = visitor.get(
        reverse("booking:clinicians", args=[clinic["location"].pk, clinic["kind"].pk])
    )
    assert "Any physiotherapist" in response.text
    assert "Alex Moreno" in response.text


def test_evening_and_weekend_times_are_marked_in_words(visitor, clinic) -> None:
    url = reverse("booking:times", args=[clinic["location"].pk, clinic["kind"].pk])
    response = visitor.get(f"{url}?clinician={clinic['clinician'].pk}")
    assert response.status_code == 200
    assert '<span class="badge text-bg-dark">Evening</span>' in response.text
    assert '<span class="badge text-bg-warning">Weekend</span>' in response.text
    assert "at 18:00, evening" in response.text


def test_times_for_any_physiotherapist_name_who_each_time_is_with(visitor, clinic) -> None:
    profile = clinic["clinician"].staff_profile
    profile.display_name = "Sam O'Neil & <Partners>"
    profile.save()
    location, kind = clinic["location"], clinic["kind"]
    url = reverse("booking:times", args=[location.pk, kind.pk])

    response = visitor.get(f"{url}?clinician=any")

    today = timezone.localtime(timezone.now(), location.zone).date()
    weekday = next(d for d in range(1, 7) if (today + datetime.timedelta(days=d)).weekday() < 5)
    starts_at = local_slot(location, days=weekday, hour=18)
    day = timezone.localtime(starts_at, location.zone)
    name = "Sam O&#x27;Neil &amp; &lt;Partners&gt;"
    details = reverse("booking:details", args=[location.pk, kind.pk])
    start = urlencode({"start": starts_at.isoformat()})
    assert (
        f'href="{details}?clinician={clinic["clinician"].pk}&amp;{start}&amp;any=on"'
        f' aria-label="{day:%A} {day.day} {day:%B} at 18:00, evening, with {name}"'
    ) in response.text
    assert f'<span class="slot-who">{name}</span>' in response.text
    assert "<Partners>" not in response.text


TIMES_PAGE_QUERIES = 6


@pytest.mark.parametrize(("colleagues", "booked_per_day"), [(0, 1), (4, 5)])
def test_the_times_page_queries_do_not_grow_with_the_schedule(
    colleagues, booked_per_day, visitor, clinic, django_assert_max_num_queries
) -> None:
    location, kind = clinic["location"], clinic["kind"]
    kind.needs_room = True
    kind.save()
    room = RoomFactory(location=location, name="Room 1")
    RoomFactory(location=location, name="Room 2")
    team = [clinic["clinician"]]
    for number in range(colleagues):
        colleague = UserFactory(first_name="Colleague", last_name=f"{number}",
                                roles=[Role.PHYSIOTHERAPIST])  # fmt: skip
        StaffProfileFactory(user=colleague, bookable_online=True)
        works_every_day(colleague, location)
        team.append(colleague)
    for days in range(1, 15):
        for index, member in enumerate(team):
            for hour in range(9, 9 + booked_per_day):
                AppointmentFactory(
                    clinician=member,
                    location=location,
                    appointment_type=kind,
                    room=room if index == 0 else None,
                    starts_at=local_slot(location, days=days, hour=hour),
                )
    url = reverse("booking:times", args=[location.pk, kind.pk])

    with django_assert_max_num_queries(TIMES_PAGE_QUERIES):
        response = visitor.get(f"{url}?clinician=any")

    assert response.status_code == 200
    assert response.text.count('class="btn btn-outline-primary slot"') > 100


def test_a_bad_clinician_choice_goes_back_to_the_list(visitor, clinic) -> None:
    url = reverse("booking:times", args=[clinic["location"].pk, clinic["kind"].pk])
    assert visitor.get(f"{url}?clinician=drop%20table").status_code == 302
    assert visitor.get(f"{url}?clinician=99999").status_code == 404


def test_online_booking_switched_off_shows_a_friendly_page(visitor, clinic) -> None:
    clinic["practice"].online_booking_enabled = False
    clinic["practice"].save()
    response = visitor.get(reverse("booking:start"))
    assert response.status_code == 200
    assert "Online booking is not available at the moment" in response.text
    assert "+442079460123" in response.text


# --- Details and review -----------------------------------------------------------------


def test_the_details_form_shows_the_chosen_time(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    response = visitor.get(_details_query(clinic, starts_at))
    assert response.status_code == 200
    assert "18:00" in response.text
    assert 'class="hp-field"' in response.text
    assert "style=" not in response.text and "<script" not in response.text


DETAILS_PAGE_QUERIES = 6


@pytest.mark.parametrize("chosen", ["named", "any"])
def test_the_details_page_reads_the_settings_and_physiotherapists_once(
    chosen, visitor, clinic, django_assert_num_queries
) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    extra = {"any": "on"} if chosen == "any" else {}
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])

    with django_assert_num_queries(DETAILS_PAGE_QUERIES):
        form = visitor.get(_details_query(clinic, starts_at, **extra))
    with django_assert_num_queries(DETAILS_PAGE_QUERIES):
        review = visitor.post(url, _form_data(clinic, starts_at, **extra))

    who = "Any physiotherapist" if chosen == "any" else "Alex Moreno"
    assert f'<dd class="col-8">{who}</dd>' in form.text
    assert "Check and confirm" in review.text and "£40.20" in review.text
    assert f'<dd class="col-8">{who}</dd>' in review.text


def test_a_time_no_longer_free_sends_the_visitor_back_to_the_times(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    AppointmentFactory(
        clinician=clinic["clinician"], location=clinic["location"], starts_at=starts_at
    )
    response = visitor.get(_details_query(clinic, starts_at))
    assert response.status_code == 302
    assert visitor.get(_details_query(clinic, starts_at, start="yesterday")).status_code == 302


def test_the_review_shows_the_price_with_the_new_patient_discount(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])
    response = visitor.post(url, _form_data(clinic, starts_at))
    assert response.status_code == 200
    assert "Check and confirm" in response.text
    assert "£60.00" in response.text and "£40.20" in response.text
    assert "nora.quinn@example.com" in response.text
    assert not Appointment.objects.exists()


def test_a_returning_patient_sees_the_full_price(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])
    response = visitor.post(url, _form_data(clinic, starts_at, patient_status="returning"))
    assert "£40.20" not in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("accept_privacy", "", "Please accept the privacy notice"),
        ("reason", "x" * 301, "at most 300 characters"),
        ("phone", "12", "Enter a valid phone number"),
        ("email", "not-an-address", "Enter a valid email address"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("first_name", "x" * 101, "at most 100 characters"),
        ("patient_status", "", "This field is required"),
    ],
)
def test_bad_details_get_a_clear_message(visitor, clinic, field, value, message) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])
    response = visitor.post(url, _form_data(clinic, starts_at, **{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert "Please check the details marked below" in response.text


def test_a_filled_honeypot_on_the_details_is_refused(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    url = reverse("booking:details", args=[clinic["location"].pk, clinic["kind"].pk])
    response = visitor.post(url, _form_data(clinic, starts_at, website="http://spam"))
    assert response.status_code == 400
    assert "We could not take this booking online" in response.text


# --- Confirm ----------------------------------------------------------------------------


def test_confirming_books_and_shows_the_confirmation(
    visitor, clinic, django_capture_on_commit_callbacks
) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_confirm(visitor, make_details(clinic, starts_at))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.source == "online" and appointment.starts_at == starts_at
    page = visitor.get(response.url)
    assert page.status_code == 200
    assert "You're booked" in page.text
    assert "Alex Moreno" in page.text
    (message,) = mail.outbox
    assert "/book/manage/" in message.body


def test_a_filled_honeypot_on_confirm_books_nothing(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    response = post_confirm(visitor, make_details(clinic, starts_at), website="me")
    assert response.status_code == 400
    assert "We could not take this booking online" in response.text
    assert not Appointment.objects.exists() and not Patient.objects.exists()


@pytest.mark.parametrize("booking", ["", "garbage", "eyJhIjoxfQ:1abc:xyz"])
def test_tampered_booking_details_are_refused(visitor, clinic, booking) -> None:
    response = visitor.post(reverse("booking:confirm"), {"booking": booking})
    assert response.status_code == 400
    assert "Please start your booking again" in response.text
    assert not Appointment.objects.exists()


def test_details_changed_after_review_are_refused(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    signed = online.details_sign(make_details(clinic, starts_at))
    value, _, signature = signed.rpartition(":")
    response = visitor.post(reverse("booking:confirm"), {"booking": f"{value}x:{signature}"})
    assert response.status_code == 400


def test_confirm_only_takes_post(visitor, clinic) -> None:
    assert visitor.get(reverse("booking:confirm")).status_code == 405


def test_a_lost_race_offers_the_nearest_free_times(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    other = PatientFactory(first_name="Ivy", last_name="Secret")
    AppointmentFactory(
        patient=other,
        clinician=clinic["clinician"],
        location=clinic["location"],
        starts_at=starts_at,
    )
    response = post_confirm(visitor, make_details(clinic, starts_at))
    assert response.status_code == 409
    assert "That time was just taken — here are the nearest free times" in response.text
    assert "17:" in response.text or "19:" in response.text
    assert "Secret" not in response.text
    assert Appointment.objects.count() == 1


LOST_RACE_QUERIES = 14


def test_a_lost_race_reads_the_physiotherapists_once(
    visitor, clinic, django_assert_num_queries
) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    AppointmentFactory(
        clinician=clinic["clinician"], location=clinic["location"], starts_at=starts_at
    )

    with django_assert_num_queries(LOST_RACE_QUERIES):
        response = post_confirm(visitor, make_details(clinic, starts_at))

    assert response.status_code == 409
    assert 'with Alex Moreno">' in response.text
    assert "17:" in response.text or "19:" in response.text


def test_the_cap_is_a_clear_message(visitor, clinic) -> None:
    for days in (3, 4, 5):
        post_confirm(
            visitor, make_details(clinic, local_slot(clinic["location"], days=days, hour=9))
        )
    response = post_confirm(
        visitor, make_details(clinic, local_slot(clinic["location"], days=6, hour=9))
    )
    assert response.status_code == 200
    assert "at most 3 upcoming appointments" in response.text
    assert Appointment.objects.count() == 3


def test_confirming_while_switched_off_books_nothing(visitor, clinic) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    clinic["practice"].online_booking_enabled = False
    clinic["practice"].save()
    response = post_confirm(visitor, make_details(clinic, starts_at))
    assert "Online booking is not available" in response.text
    assert not Appointment.objects.exists()


# --- No enumeration ---------------------------------------------------------------------


def _run_booking(visitor, clinic, starts_at, on_commit) -> tuple:
    mail.outbox.clear()
    with on_commit(execute=True):
        response = post_confirm(visitor, make_details(clinic, starts_at))
    page = visitor.get(response.url)
    (message,) = mail.outbox
    return response, page, message


def test_the_response_is_the_same_whether_or_not_the_patient_exists(
    clinic, django_capture_on_commit_callbacks
) -> None:
    starts_at = local_slot(clinic["location"], days=3, hour=18)
    existing = PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
        phone="+447700900999",
    )
    matched = _run_booking(Client(), clinic, starts_at, django_capture_on_commit_callbacks)
    first = Appointment.objects.get()
    assert first.patient == existing
    Appointment.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    existing.first_name = "Nina"
    existing.save()
    unmatched = _run_booking(Client(), clinic, starts_at, django_capture_on_commit_callbacks)
    second = Appointment.objects.exclude(pk=first.pk).get()
    assert second.patient.registered_online and second.patient != existing

    for one, other in zip(matched[:2], unmatched[:2], strict=True):
        assert one.status_code == other.status_code
        assert _normalised(one.text if one.status_code == 200 else one.url) == _normalised(
            other.text if other.status_code == 200 else other.url
        )
    assert matched[2].subject == unmatched[2].subject
    assert _normalised(matched[2].body) == _normalised(unmatched[2].body)
    assert matched[2].to == unmatched[2].to == ["nora.quinn@example.com"]


def test_matching_and_not_matching_take_the_same_code_path(clinic, monkeypatch) -> None:
    calls = []
    real = online.patient_for_booking
    monkeypatch.setattr(online, "patient_for_booking", lambda d: calls.append(d) or real(d))
    PatientFactory(
        first_name="Nora",
        last_name="Quinn",
        date_of_birth=datetime.date(1990, 5, 17),
        email="nora.quinn@example.com",
    )
    post_confirm(Client(), make_details(clinic, local_slot(clinic["location"], days=3, hour=9)))
    post_confirm(
        Client(),
        make_details(clinic, local_slot(clinic["location"], days=4, hour=9), first_name="Zed"),
    )
    assert len(calls) == 2


# --- Rate limits ------------------------------------------------------------------------


def test_too_many_confirms_from_one_address_get_a_429(visitor, clinic, monkeypatch) -> None:
    monkeypatch.setattr(online, "CONFIRM_RATE_PER_IP", "3/h")
    monkeypatch.setattr(online, "CONFIRM_RATE_PER_EMAIL", "100/h")
    for index in range(3):
        details = make_details(
            clinic,
            local_slot(clinic["location"], days=3 + index, hour=9),
            email=f"p{index}@example.com",
            first_name=f"P{index}",
        )
        assert post_confirm(visitor, details).status_code == 302
    response = post_confirm(
        visitor, make_details(clinic, local_slot(clinic["location"], days=9, hour=9))
    )
    assert response.status_code == 429
    assert "Too many booking attempts" in response.text
    assert Appointment.objects.count() == 3


def test_too_many_confirms_for_one_email_get_a_429(clinic, monkeypatch) -> None:
    monkeypatch.setattr(online, "CONFIRM_RATE_PER_EMAIL", "2/h")
    for index in range(2):
        client = Client(REMOTE_ADDR=f"10.0.0.{index + 1}")
        details = make_details(clinic, local_slot(clinic["location"], days=3 + index, hour=9))
        assert post_confirm(client, details).status_code == 302
    client = Client(REMOTE_ADDR="10.0.0.99")
    response = post_confirm(
        client, make_details(clinic, local_slot(clinic["location"], days=8, hour=9))
    )
    assert response.status_code == 429
    assert Appointment.objects.count() == 2


def test_the_default_limits_are_ten_per_address_and_five_per_email() -> None:
    assert online.CONFIRM_RATE_PER_IP == "10/h"
    assert online.CONFIRM_RATE_PER_EMAIL == "5/h"


# --- The manage link --------------------------------------------------------------------


@pytest.fixture
def booked(clinic) -> Appointment:
    return online.online_book(
        details=make_details(clinic, local_slot(clinic["location"], days=3, hour=18)),
        manage_url=lambda token: token,
    )


def test_the_manage_page_shows_the_appointment_and_its_choices(visitor, booked) -> None:
    token = online.manage_token(booked)
    response = visitor.get(reverse("booking:manage", args=[token]))
    assert response.status_code == 200
    assert "Move to another time" in response.text
    assert "Cancel appointment" in response.text
    assert "Nora" not in response.text


LINK_PAGE_QUERIES = 3


@pytest.mark.parametrize("page", ["confirmed", "manage"])
def test_the_link_pages_read_the_practice_settings_once(
    page, visitor, booked, django_assert_num_queries
) -> None:
    url = reverse(f"booking:{page}", args=[online.manage_token(booked)])

    with django_assert_num_queries(LINK_PAGE_QUERIES):
        response = visitor.get(url)

    assert response.status_code == 200
    assert "24 hours" in response.text


@pytest.mark.parametrize("token", ["nonsense", "eyJhIjoxfQ:1tXyZa:abcdefghijklmnop"])
def test_a_tampered_link_gets_a_clear_not_found_page(visitor, booked, token) -> None:
    for name in ("confirmed", "manage", "move"):
        response = visitor.get(reverse(f"booking:{name}", args=[token]))
        assert response.status_code == 404
        assert "This link is not valid" in response.text
    response = visitor.post(reverse("booking:cancel", args=[token]), {"reason": "x"})
    assert response.status_code == 404
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_an_expired_link_gets_a_clear_page(visitor, booked, monkeypatch) -> None:
    long_ago = timezone.now().timestamp() - online.MANAGE_MAX_AGE.total_seconds() - 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: long_ago)
    token = online.manage_token(booked)
    monkeypatch.undo()
    response = visitor.get(reverse("booking:manage", args=[token]))
    assert response.status_code == 400
    assert "This link has expired" in response.text


def test_cancelling_through_the_link(visitor, booked) -> None:
    token = online.manage_token(booked)
    response = visitor.post(reverse("booking:cancel", args=[token]), {"reason": "Feeling better"})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    page = visitor.get(response.url)
    assert "Your appointment is cancelled" in page.text
    assert "This appointment is cancelled" in page.text


def test_cancelling_needs_a_reason(visitor, booked) -> None:
    token = online.manage_token(booked)
    response = visitor.post(reverse("booking:cancel", args=[token]), {"reason": ""})
    assert response.status_code == 400
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_moving_through_the_link(visitor, booked, clinic) -> None:
    token = online.manage_token(booked)
    page = visitor.get(reverse("booking:move", args=[token]))
    assert page.status_code == 200
    assert "Evening" in page.text
    new_start = local_slot(clinic["location"], days=6, hour=19)
    response = visitor.post(reverse("booking:move", args=[token]), {"start": new_start.isoformat()})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == new_start


MOVE_PAGE_QUERIES = 6


def test_the_move_page_reads_the_practice_settings_once(
    visitor, booked, django_assert_num_queries
) -> None:
    url = reverse("booking:move", args=[online.manage_token(booked)])

    with django_assert_num_queries(MOVE_PAGE_QUERIES):
        response = visitor.get(url)

    assert response.status_code == 200
    assert "Move to " in response.text


def test_moving_to_a_taken_time_offers_others(visitor, booked, clinic) -> None:
    taken = local_slot(clinic["location"], days=6, hour=19)
    AppointmentFactory(clinician=clinic["clinician"], location=clinic["location"], starts_at=taken)
    token = online.manage_token(booked)
    response = visitor.post(reverse("booking:move", args=[token]), {"start": taken.isoformat()})
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    booked.refresh_from_db()
    assert booked.starts_at != taken


def test_inside_the_notice_window_the_page_says_to_phone(visitor, booked) -> None:
    soon = timezone.now() + datetime.timedelta(hours=5)
    Appointment.objects.filter(pk=booked.pk).update(
        starts_at=soon, ends_at=soon + datetime.timedelta(minutes=45)
    )
    token = online.manage_token(booked)
    response = visitor.get(reverse("booking:manage", args=[token]))
    assert "can no longer be changed online" in response.text
    assert "+442079460123" in response.text
    assert "Cancel appointment" not in response.text
    assert visitor.get(reverse("booking:move", args=[token])).status_code == 302
    visitor.post(reverse("booking:cancel", args=[token]), {"reason": "late"})
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


def test_the_link_still_works_while_online_booking_is_off(visitor, booked, clinic) -> None:
    clinic["practice"].online_booking_enabled = False
    clinic["practice"].save()
    response = visitor.get(reverse("booking:manage", args=[online.manage_token(booked)]))
    assert response.status_code == 200
    assert "Cancel appointment" in response.text


def test_the_calendar_marks_online_bookings(front_desk_client, booked) -> None:
    response = front_desk_client.get(booked.get_absolute_url())
    assert "Booked online" in response.text
