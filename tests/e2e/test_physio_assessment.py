import pytest
from playwright.sync_api import expect

from tests.treatments.factories import kujala_answers_totalling
from treatments.models import Episode, OutcomeMeasure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_physio_starts_an_episode_and_records_an_initial_assessment_with_kujala(
    page, sign_in, physio, patient
) -> None:
    sign_in("physio")
    page.goto(patient.get_absolute_url())
    expect(page.get_by_role("heading", name=patient.display_name)).to_be_visible()

    page.get_by_role("link", name="Start an episode").click()
    page.get_by_label("Title").fill("Right anterior knee pain")
    page.get_by_role("button", name="M22.2X1 · right").click()
    expect(page.get_by_label("ICD-10 code")).to_have_value("M22.2X1")
    expect(page.get_by_label("Diagnosis")).to_have_value("Patellofemoral disorders, right knee")
    page.get_by_role("button", name="Open episode").click()
    expect(page.get_by_text("Episode “Right anterior knee pain” is open.")).to_be_visible()

    page.get_by_role("link", name="Initial assessment").click()
    page.get_by_label("Pain at worst (0–10)").fill("6")
    page.locator("input[name='findings-0-left_value']").fill("160")
    page.locator("input[name='findings-0-right_value']").fill("200")
    expect(page.locator("[data-asymmetry]").first).to_have_text("20.0 %")
    for item, option in kujala_answers_totalling(82).items():
        page.locator(f"input[name='kujala-{item}'][value='{option}']").check()
    expect(page.locator("[data-kujala-total]")).to_have_text("82 / 100")
    page.get_by_role("button", name="Save assessment").click()

    expect(page.get_by_text("Initial assessment on")).to_be_visible()
    expect(page.locator(".kujala-total")).to_have_text("82")
    episode = Episode.objects.get(patient=patient)
    assert episode.icd10_code == "M22.2X1"
    assert OutcomeMeasure.objects.get(assessment__episode=episode).total == 82
