"""The clinical issue's whole pathway in one browser session: assess with Kujala, build a
plan with two exercises, open the home-exercise sheet, sign the visit note — and the
signed note can no longer be edited."""

import re

import pytest
from playwright.sync_api import expect

from tests.treatments.factories import kujala_answers_totalling
from tests.treatments.note_factories import visit_for
from tests.treatments.plan_factories import library_exercise
from treatments.models import ExerciseCategory, ExercisePrescription, VisitNote

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_physio_assesses_plans_prints_the_handout_and_signs_the_note(
    page, sign_in, physio, patient
) -> None:
    library_exercise("Clam shells", ExerciseCategory.HIP_STRENGTHENING)
    library_exercise("Sit to stand", ExerciseCategory.KNEE_STRENGTHENING)
    visit = visit_for(patient, physio)
    sign_in("physio")

    page.goto(patient.get_absolute_url())
    page.get_by_role("link", name="Start an episode").click()
    page.get_by_label("Title").fill("Right anterior knee pain")
    page.get_by_role("button", name="M22.2X1 · right").click()
    page.get_by_role("button", name="Open episode").click()
    expect(page.get_by_text("Episode “Right anterior knee pain” is open.")).to_be_visible()

    page.get_by_role("link", name="Initial assessment").click()
    page.get_by_label("Pain at worst (0–10)").fill("6")
    for item, option in kujala_answers_totalling(70).items():
        page.locator(f"input[name='kujala-{item}'][value='{option}']").check()
    page.get_by_role("button", name="Save assessment").click()
    expect(page.locator(".kujala-total")).to_have_text("70")

    page.get_by_role("link", name="Open the treatment plan").click()
    for name, reps in (("Clam shells", "15"), ("Sit to stand", "10")):
        page.get_by_role("link", name="Exercise", exact=True).click()
        page.locator("select[name='exercise']").select_option(label=name)
        page.get_by_label("Sets").fill("3")
        page.get_by_label("Reps").fill(reps)
        page.get_by_role("button", name="Add to the plan").click()
        expect(page.get_by_text(name).first).to_be_visible()
    assert ExercisePrescription.objects.filter(plan__episode__patient=patient).count() == 2

    page.goto(patient.get_absolute_url())
    page.get_by_role("link", name="Right anterior knee pain").click()
    page.get_by_role("link", name="Home-exercise programme").click()
    expect(page.get_by_text("Clam shells").first).to_be_visible()
    expect(page.get_by_text("Sit to stand").first).to_be_visible()
    expect(page.get_by_text(patient.full_name).first).to_be_visible()

    page.goto(visit.get_absolute_url())
    page.get_by_role("link", name="Visit note").click()
    page.get_by_label("Episode").select_option(label="Right anterior knee pain (Hannah Wright)")
    page.get_by_label("Subjective").fill("Sore on stairs; keen to run again.")
    page.get_by_label("Plan").fill("Hip and knee strengthening at home; review in two weeks.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Sign note").click()

    expect(page.get_by_text(re.compile(r"Signed by Priya Shah at")).first).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(page.get_by_label("Subjective")).to_have_count(0)
    assert VisitNote.objects.get(appointment=visit).is_signed
