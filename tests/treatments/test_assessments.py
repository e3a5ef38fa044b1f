import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from treatments import reference
from treatments.forms.episodes import findings_formset
from treatments.models import Assessment, Episode, ObjectiveFinding, OutcomeMeasure
from treatments.selectors import patient_clinical_summary

from .factories import BEST_KUJALA, AssessmentFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

DECISION_NEEDED = "RED FLAG — referral decision needed"


@pytest.fixture
def episode(patient, physio):
    return EpisodeFactory(patient=patient, clinician=physio)


def create_url(episode: Episode, kind: str = "initial") -> str:
    url = reverse("treatments:assessment_create", args=[episode.patient_id, episode.pk])
    return f"{url}?kind={kind}"


def assessment_data(
    *, kind: str = "initial", findings: dict | None = None, kujala=None, tsk11=None, **fields
) -> dict:
    """What the browser posts for the page as offered, with ``fields`` filled in."""
    data = {"kind": kind, "assessed_on": timezone.localdate().isoformat()}
    formset = findings_formset()
    for name, value in formset.management_form.initial.items():
        data[f"findings-{name}"] = value
    for form in formset.forms:
        for name in form.fields:
            value = form[name].value()
            data[form.add_prefix(name)] = "" if value is None else value
    for key, value in (findings or {}).items():
        data[f"findings-{key}"] = value
    for key, option in (kujala or {}).items():
        data[f"kujala-{key}"] = option
    for number, answer in (tsk11 or {}).items():
        data[f"tsk11-item_{number}"] = answer
    data.update(fields)
    return data


def test_the_form_offers_every_red_flag_standard_findings_and_both_questionnaires(
    physio_client, episode
):
    response = physio_client.get(create_url(episode))

    page = response.content.decode()
    assert response.status_code == 200
    for _key, label in reference.RED_FLAGS:
        assert label.replace("'", "&#x27;") in page
    assert page.count("[child / adolescent]") == len(reference.RED_FLAGS_CHILD_OR_ADOLESCENT)
    for test in ("Hip abductor strength", "Hip external rotator strength", "Quadriceps strength"):
        assert f"selected>{test}</option>" in page
    assert "selected>Foot Posture Index (FPI-6) total</option>" in page
    assert "Limp (5)" not in page  # options carry points, items carry numbers
    assert "None (5)" in page
    assert "More than 2 dislocations (0)" in page
    assert reference.TSK11_ITEMS[10].text in page


def test_initial_assessment_with_best_kujala_answers_scores_100_on_the_episode_page(
    physio_client, episode
):
    data = assessment_data(kujala=BEST_KUJALA, nprs_worst="6", nprs_rest="1", nprs_activity="5")
    response = physio_client.post(create_url(episode), data, follow=True)

    assessment = Assessment.objects.get(episode=episode)
    kujala = assessment.measures.get(measure=OutcomeMeasure.Measure.KUJALA)
    page = response.content.decode()
    assert kujala.total == 100
    assert response.redirect_chain[-1][0] == episode.get_absolute_url()
    assert '<span class="kujala-total">100</span>/100' in page
    assert "Initial assessment on" in page
    assert not assessment.findings.exists()


def test_tsk11_is_scored_and_shown_on_the_assessment(physio_client, episode):
    answers = {item.number: 3 for item in reference.TSK11_ITEMS}
    physio_client.post(create_url(episode), assessment_data(tsk11=answers))

    assessment = Assessment.objects.get(episode=episode)
    assert assessment.measures.get(measure="tsk11").total == 33
    page = physio_client.get(assessment.get_absolute_url()).content.decode()
    assert '<strong class="tsk11-total">33</strong> / 44' in page


def test_a_partly_answered_kujala_is_refused_naming_the_missing_items_and_nothing_is_saved(
    physio_client, episode
):
    partial = dict(BEST_KUJALA)
    del partial["stairs"]
    del partial["jumping"]
    data = assessment_data(kujala=partial, nprs_worst="6", findings={"0-left_value": "150"})
    response = physio_client.post(create_url(episode), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert "Missing: 4. Stairs; 7. Jumping." in page
    assert not Assessment.objects.exists()
    assert not ObjectiveFinding.objects.exists()
    assert not OutcomeMeasure.objects.exists()


def test_a_partly_answered_tsk11_is_refused(physio_client, episode):
    data = assessment_data(tsk11={1: 2, 2: 3})
    response = physio_client.post(create_url(episode), data)

    assert "Missing items: 3, 4, 5, 6, 7, 8, 9, 10, 11." in response.content.decode()
    assert not Assessment.objects.exists()


def test_strength_asymmetry_is_shown_as_a_percentage(physio_client, episode):
    findings = {"0-left_value": "160", "0-right_value": "200", "5-left_value": "6"}
    response = physio_client.post(create_url(episode), assessment_data(findings=findings))
    assert response.status_code == 302

    assessment = Assessment.objects.get(episode=episode)
    hip = assessment.findings.get(test="hip_abduction_strength")
    page = physio_client.get(assessment.get_absolute_url()).content.decode()
    assert (hip.left_value, hip.right_value) == (160, 200)
    assert assessment.findings.get(test="fpi6").left_value == 6
    assert assessment.findings.count() == 2
    assert '<span class="asymmetry">20.0 %</span>' in page


def test_asymmetry_is_computed_on_the_form_when_it_comes_back_with_errors(physio_client, episode):
    findings = {"0-left_value": "200", "0-right_value": "160"}
    data = assessment_data(findings=findings, nprs_worst="11")
    response = physio_client.post(create_url(episode), data)

    assert "20.0 %" in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_red_flag_puts_a_banner_on_the_episode_and_the_patient_summary(
    physio_client, physio, patient, episode
):
    data = assessment_data(red_flags=["locked_knee", "child_locking_or_giving_way"])
    response = physio_client.post(create_url(episode), data, follow=True)

    page = response.content.decode()
    assert DECISION_NEEDED in page
    assert "Locked knee" in page
    assert "record a referral decision now" in page
    request = RequestFactory().get("/")
    request.user = physio
    summary = render_to_string(
        "treatments/_patient_clinical.html",
        {"patient": patient, **patient_clinical_summary(patient)},
        request=request,
    )
    assert DECISION_NEEDED in summary
    assert "Red flag: decision needed" in summary


def test_recording_a_referral_decision_clears_the_decision_needed_state(
    physio_client, physio, patient, episode
):
    assessment = AssessmentFactory(episode=episode, red_flags=["haemarthrosis"])
    url = reverse("treatments:referral_decision", args=[patient.pk, episode.pk, assessment.pk])
    response = physio_client.post(url, {"decision": "emergency_department"}, follow=True)

    assessment.refresh_from_db()
    page = response.content.decode()
    assert assessment.referral_decision == "emergency_department"
    assert "Referral decision recorded: Refer to emergency department." in page
    assert DECISION_NEEDED not in page
    assert "Red flags on record" in page
    assert not patient_clinical_summary(patient)["clinical_decision_needed"]


def test_deciding_not_to_refer_needs_a_reason(physio_client, patient, episode):
    assessment = AssessmentFactory(episode=episode, red_flags=["knee_giving_way"])
    url = reverse("treatments:referral_decision", args=[patient.pk, episode.pk, assessment.pk])
    response = physio_client.post(url, {"decision": "none", "reason": "  "})

    assessment.refresh_from_db()
    assert response.status_code == 200
    assert "Give a reason for not referring the patient on." in response.content.decode()
    assert assessment.referral_decision == ""


def test_a_referral_decision_can_be_recorded_with_the_assessment(physio_client, episode):
    data = assessment_data(
        red_flags=["knee_giving_way"], referral_decision="none", referral_reason=""
    )
    response = physio_client.post(create_url(episode), data)
    assert "Give a reason for not referring" in response.content.decode()
    assert not Assessment.objects.exists()

    data["referral_reason"] = "Giving way once on a trip, no effusion, stable on testing."
    response = physio_client.post(create_url(episode), data, follow=True)
    assert Assessment.objects.get().referral_decision == "none"
    assert DECISION_NEEDED not in response.content.decode()


def test_the_assessment_page_shows_what_was_recorded(physio_client, episode):
    data = assessment_data(
        kujala=BEST_KUJALA,
        aggravating_activities=["stairs_down", "squatting"],
        symptoms=["pain_after_prolonged_sitting"],
        contributing_factors=["muscle_weakness"],
        sport="Running",
        weekly_volume="25 km",
        clinical_impression="Patellofemoral pain, load error.",
    )
    physio_client.post(create_url(episode), data)

    page = physio_client.get(Assessment.objects.get().get_absolute_url()).content.decode()
    for text in (
        "Stairs down, Squatting",
        "Pain after sitting long with knees bent",
        "Muscle weakness or imbalance",
        "25 km",
        "Patellofemoral pain, load error.",
        '<strong class="kujala-total">100</strong>',
        "Red-flag screen: none present",
    ):
        assert text in page


def test_an_episode_takes_one_initial_assessment(physio_client, episode):
    AssessmentFactory(episode=episode)
    response = physio_client.post(create_url(episode), assessment_data())

    assert "already has an initial assessment" in response.content.decode()
    assert episode.assessments.count() == 1


def test_a_reassessment_is_offered_once_there_is_an_initial_one(physio_client, episode):
    AssessmentFactory(episode=episode)
    url = reverse("treatments:assessment_create", args=[episode.patient_id, episode.pk])
    response = physio_client.get(url)
    assert response.context["form"]["kind"].value() == "reassessment"


def test_a_discharged_episode_takes_no_assessment(physio_client, episode):
    episode.status = Episode.Status.DISCHARGED
    episode.discharged_on = timezone.localdate()
    episode.discharge_outcome = Episode.Outcome.IMPROVED
    episode.save()
    response = physio_client.post(create_url(episode), assessment_data(), follow=True)

    assert "This episode is discharged" in response.content.decode()
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"onset_mechanism": "fell\x00over"},
        {"nprs_worst": "11"},
        {"nprs_rest": "-1"},
        {"nprs_activity": "1" + "0" * 40},
        {"duration_weeks": "9" * 30},
        {"assessed_on": "2025-13-45"},
        {"assessed_on": "2999-01-01"},
        {"kind": "surgery"},
        {"red_flags": ["locked_knee", "alien_abduction"]},
        {"symptoms": ["\x00"]},
        {"referral_decision": "witch_doctor"},
        {"findings-0-left_value": "1e20"},
        {"findings-0-left_value": "-5"},
        {"findings-5-left_value": "30"},
        {"findings-0-test": "x-ray"},
        {"findings-TOTAL_FORMS": "100000"},
        {"findings-TOTAL_FORMS": "abc"},
        {"kujala-limp": "hopping"},
        {"tsk11-item_1": "9"},
    ],
)
def test_hostile_assessment_input_gets_a_message_and_saves_nothing(
    physio_client, episode, overrides
):
    data = assessment_data()
    data.update(overrides)
    response = physio_client.post(create_url(episode), data)

    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert not Assessment.objects.exists()
    assert not ObjectiveFinding.objects.exists()


def test_hostile_kind_in_the_query_string_is_ignored(physio_client, episode):
    url = reverse("treatments:assessment_create", args=[episode.patient_id, episode.pk])
    response = physio_client.get(url, {"kind": "\x00' OR 1=1"})

    assert response.status_code == 200
    assert response.context["form"]["kind"].value() == "initial"


def test_an_assessment_is_reached_only_through_its_own_episode(physio_client, physio, patient):
    first = EpisodeFactory(patient=patient, clinician=physio)
    second = EpisodeFactory(patient=patient, clinician=physio, title="Left knee")
    assessment = AssessmentFactory(episode=second, red_flags=["locked_knee"])
    url = reverse("treatments:assessment", args=[patient.pk, first.pk, assessment.pk])
    referral = reverse("treatments:referral_decision", args=[patient.pk, first.pk, assessment.pk])

    assert physio_client.get(url).status_code == 404
    assert physio_client.post(referral, {"decision": "gp"}).status_code == 404
    assessment.refresh_from_db()
    assert assessment.referral_decision == ""


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "witch_doctor"},
        {"decision": "gp\x00"},
        {"decision": "none", "reason": "fine\x00"},
        {"decision": "gp", "reason": "x" * 5000},
        {},
    ],
)
def test_hostile_referral_input_gets_a_message_and_changes_nothing(
    physio_client, patient, episode, data
):
    assessment = AssessmentFactory(episode=episode, red_flags=["locked_knee"])
    url = reverse("treatments:referral_decision", args=[patient.pk, episode.pk, assessment.pk])
    response = physio_client.post(url, data)

    assessment.refresh_from_db()
    assert response.status_code == 200
    assert response.context["referral_form"].errors
    assert DECISION_NEEDED in response.content.decode()
    assert assessment.referral_decision == ""
