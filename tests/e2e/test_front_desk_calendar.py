import re

import pytest
from playwright.sync_api import Page, expect

from appointments.models import Appointment, Status
from tests.appointments.factories import AppointmentTypeFactory, works_every_day
from tests.appointments.scheduling import day_ahead
from tests.factories import LocationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DAY = day_ahead(14)


def open_calendar_on(page: Page, day) -> None:
    page.get_by_role("link", name="Calendar", exact=True).first.click()
    page.wait_for_url("**/appointments/")
    page.wait_for_load_state("load")
    page.get_by_label("Date").fill(day.isoformat())
    heading = f"Islington · {day:%A} {day.day} {day:%B %Y}"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def test_front_desk_books_and_cancels_from_the_calendar(
    page, sign_in, front_desk, physio, patient
) -> None:
    islington = LocationFactory(name="Islington")
    works_every_day(physio, islington)
    AppointmentTypeFactory(name="Follow-up", duration_minutes=45)
    sign_in("frontdesk")

    open_calendar_on(page, DAY)
    page.get_by_role("link", name=f"Book 10:00 on {DAY:%a %d %b} with Priya Shah").click()

    page.get_by_label("Find an existing patient").fill("wrig")
    page.get_by_role("button", name="Choose Hannah Wright").click()
    expect(page.locator("#selected-patient")).to_contain_text("Hannah Wright")
    page.get_by_label("Appointment type").select_option(label="Follow-up (45 min)")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(
        page.get_by_text(f"Booked: Hannah Wright with Priya Shah on {DAY:%a %d %b %Y} at 10:00.")
    ).to_be_visible()

    open_calendar_on(page, DAY)
    in_grid = page.locator("a.appt", has_text="Hannah Wright")
    expect(in_grid).to_contain_text("10:00–10:45")
    expect(in_grid).to_contain_text("Follow-up")
    in_grid.click()

    page.get_by_label("Patient", exact=True).check()
    page.get_by_label("Reason").fill("Moving house that week")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.get_by_text("The appointment is cancelled.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"by the patient on .*: Moving house that week"))
    ).to_be_visible()

    open_calendar_on(page, DAY)
    expect(page.locator("a.appt")).to_have_count(0)
    cancelled = page.get_by_role("heading", name="Cancelled").locator("xpath=following-sibling::ul")
    expect(cancelled).to_contain_text(re.compile(r"10:00 Hannah Wright with Priya Shah"))
    assert Appointment.objects.get().status == Status.CANCELLED
