import re

import pytest
from playwright.sync_api import expect

from patients.models import Patient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_anonymous_visitor_is_sent_to_sign_in(page) -> None:
    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/patients/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_front_desk_registers_finds_and_edits_a_patient(page, sign_in, front_desk) -> None:
    sign_in("frontdesk")

    page.get_by_role("link", name="Register patient").first.click()
    page.get_by_label("First name").fill("Imogen")
    page.get_by_label("Last name").fill("Castellano")
    page.get_by_label("Date of birth").fill("1994-05-17")
    page.get_by_label("Phone", exact=True).fill("07911 123456")
    page.get_by_label("E-mail", exact=True).fill("imogen@example.com")
    page.get_by_role("button", name="Save patient").click()
    expect(page.get_by_text("Imogen Castellano is registered.")).to_be_visible()

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_label("Name, date of birth, phone or e-mail").fill("castel")
    results = page.locator("#patient-results")
    expect(results.get_by_role("link", name="Castellano, Imogen")).to_be_visible()
    results.get_by_role("link", name="Castellano, Imogen").click()

    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Phone", exact=True).fill("07912 345678")
    page.get_by_role("button", name="Save patient").click()
    expect(page.get_by_text("The patient's details are saved.")).to_be_visible()
    expect(page.get_by_text("+447912345678")).to_be_visible()

    assert Patient.objects.get(last_name="Castellano").phone == "+447912345678"
