import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.treatments.note_factories import episode_for, visit_for
from treatments.models import VisitNote

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_physio_writes_and_signs_the_note_for_todays_visit(page, sign_in, physio, patient) -> None:
    episode_for(patient, physio)
    visit = visit_for(patient, physio)
    sign_in("physio")

    page.goto(reverse("treatments:note_for_appointment", args=[visit.pk]))
    expect(page.get_by_role("heading", name="Visit note for Hannah Wright")).to_be_visible()
    page.get_by_label("Episode").select_option(label="Right anterior knee pain (Hannah Wright)")
    page.get_by_label("Subjective").fill("Stairs easier; still sore after long sitting.")
    page.get_by_label("Objective").fill("Single-leg squat: less valgus.")
    page.get_by_label("Assessment").fill("Improving.")
    page.get_by_label("Plan").fill("Progress hip abductor strengthening.")
    page.get_by_label("Pain today (0–10)").fill("3")
    page.get_by_label("Exercise adherence").select_option(label="Most of it")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The draft note is saved.")).to_be_visible()

    page.get_by_role("button", name="Sign note").click()

    expect(page.get_by_text(re.compile(r"Signed by Priya Shah at"))).to_have_count(2)
    expect(page.locator("h1 .badge")).to_have_text("Signed")
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(page.get_by_label("Subjective")).to_have_count(0)
    expect(page.get_by_text("Stairs easier; still sore after long sitting.")).to_be_visible()
    expect(page.get_by_role("button", name="Add and sign addendum")).to_be_visible()
    note = VisitNote.objects.get(appointment=visit)
    assert note.is_signed and note.content_hash == note.compute_hash()
