"""A new patient books an evening time on a phone, then cancels through the e-mailed link."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment, PracticeSettings, Status
from clinic.roles import Role
from tests.appointments.factories import AppointmentTypeFactory, works_every_day
from tests.factories import LocationFactory, StaffProfileFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser, live_server):
    cache.clear()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
    cache.clear()


@pytest.fixture
def clinic(db):
    practice = PracticeSettings.load()
    practice.new_patient_discount_percent = 33
    practice.save()
    location = LocationFactory(name="Riverside", phone="+442079460123")
    physio = UserFactory(
        username="alex", first_name="Alex", last_name="Moreno", roles=[Role.PHYSIOTHERAPIST]
    )
    StaffProfileFactory(user=physio, display_name="Alex Moreno")
    works_every_day(physio, location)
    AppointmentTypeFactory(
        name="Initial assessment", duration_minutes=45, price=Decimal("60.00"), online_bookable=True
    )
    return location


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_new_patient_books_an_evening_time_and_cancels_through_the_link(
    phone_page, clinic
) -> None:
    page = phone_page
    page.goto("/book/")
    page.get_by_role("link", name=re.compile("Riverside")).click()
    page.get_by_role("link", name=re.compile("Initial assessment")).click()
    page.get_by_role("link", name=re.compile("Alex Moreno")).click()
    expect(page.get_by_role("heading", name="Choose a time")).to_be_visible()
    assert _fits_the_screen(page)

    # Three days ahead: far enough to stay outside the cancellation notice window.
    day = timezone.localdate() + datetime.timedelta(days=3)
    evening = page.get_by_role(
        "link", name=re.compile(f"^{day:%A} {day.day} {day:%B} at 18:00, evening")
    )
    expect(evening).to_contain_text("Evening")
    evening.click()

    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    assert page.get_by_label("Leave this field empty").bounding_box()["x"] < 0
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Date of birth").fill("1990-05-17")
    page.get_by_label("E-mail", exact=True).fill("nora.quinn@example.com")
    page.get_by_label("Phone", exact=True).fill("07911 123457")
    page.get_by_label("No, this is my first appointment here").check()
    page.get_by_label("Reason for your visit (optional)").fill("Knee pain when running")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Continue to review").click()

    expect(page.get_by_role("heading", name="Check and confirm")).to_be_visible()
    expect(page.get_by_text("£40.20")).to_be_visible()
    assert _fits_the_screen(page)
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.get_by_text("18:00")).to_be_visible()
    appointment = Appointment.objects.get()
    assert appointment.source == "online" and appointment.local_start.hour == 18

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/book/manage/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Your appointment")).to_be_visible()
    page.get_by_label("Why are you cancelling?").fill("Feeling better")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.get_by_text("Your appointment is cancelled.", exact=False).first).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
