import datetime
import re

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Status
from tests.appointments.factories import AppointmentFactory, works_every_day
from tests.factories import LocationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHART_TITLES = [
    "Appointments per clinician per week",
    "Utilisation per clinician",
    "Cancellation, late-cancellation and no-show rates per week",
    "New patients per month by where they registered",
    "Kujala outcome of discharged episodes",
    "Interventions started, by kind, with the evidence verdict",
]


def _authenticator_for(user):
    """A confirmed authenticator app, when two-factor sign-in is installed."""
    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _give_code_if_asked(page, device) -> None:
    if "two-factor" not in page.url:
        return
    from django_otp.oath import totp

    assert device is not None, f"signed in to {page.url} without an authenticator"
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/")


def test_manager_opens_the_reports_and_sees_charts_beside_tables(page, sign_in, manager, physio):
    clinic = LocationFactory(name="Islington", time_zone="Europe/London")
    works_every_day(physio, clinic)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    AppointmentFactory(
        clinician=physio, location=clinic, starts_at=yesterday, status=Status.COMPLETED
    )
    AppointmentFactory(
        clinician=physio,
        location=clinic,
        starts_at=yesterday - datetime.timedelta(hours=2),
        status=Status.NO_SHOW,
    )
    device = _authenticator_for(manager)

    sign_in("manager")
    _give_code_if_asked(page, device)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()

    expect(page).to_have_url(re.compile(re.escape(reverse("reports:index")) + "$"))
    expect(page.get_by_role("heading", name="Practice reports")).to_be_visible()
    charts = page.locator("svg.report-chart")
    expect(charts).to_have_count(len(CHART_TITLES))
    for index, title in enumerate(CHART_TITLES):
        expect(charts.nth(index).locator("> title")).to_have_text(title)
        expect(page.get_by_role("img", name=title)).to_be_visible()
    expect(page.locator("table.report-table")).to_have_count(len(CHART_TITLES))
    appointments = page.locator("#appointments-per-clinician table")
    expect(appointments.get_by_role("columnheader", name="Priya Shah")).to_be_visible()
    expect(appointments.locator("tfoot")).to_contain_text("All weeks")
    cancellations = page.locator("#cancellations table tfoot")
    expect(cancellations).to_contain_text("50.0")

    page.get_by_label("Location").select_option(label="Islington")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main p").first).to_contain_text("Islington")
    expect(page.locator("svg.report-chart")).to_have_count(len(CHART_TITLES))
