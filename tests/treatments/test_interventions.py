import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from treatments import reference
from treatments.models import (
    Bracing,
    ClinicalSettings,
    DryNeedling,
    DryNeedlingConsent,
    Education,
    Exercise,
    ExercisePrescription,
    FootOrthoses,
    Intervention,
    MovementRetraining,
    SoftTissue,
    Taping,
)

from .plan_factories import certify_for_dry_needling, consent_for, episode_for, prescribe

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def episode(patient, physio):
    return episode_for(patient, physio)


def create_url(episode, kind: str) -> str:
    return reverse("treatments:intervention_create", args=[episode.patient_id, episode.pk, kind])


def post(client, episode, kind: str, data: dict):
    return client.post(create_url(episode, kind), {"started_on": TODAY(), **data}, follow=True)


def errors_of(response) -> str:
    return response.content.decode()


# --- Each kind ---------------------------------------------------------------------------


def test_exercise_form_offers_active_library_exercises_grouped_by_category(physio_client, episode):
    Exercise.objects.filter(name="Glute bridge").update(active=False)

    page = physio_client.get(create_url(episode, "exercise")).content.decode()

    assert '<optgroup label="Hip strengthening">' in page
    assert "Clam shells" in page
    assert "Glute bridge" not in page


def test_physio_prescribes_an_exercise_with_its_dose(physio_client, episode):
    clams = Exercise.objects.get(name="Clam shells")

    response = post(
        physio_client,
        episode,
        "exercise",
        {
            "exercise": clams.pk,
            "sets": 3,
            "reps": 15,
            "hold_seconds": 2,
            "load": "red band",
            "times_per_day": 1,
            "days_per_week": 5,
            "progression": "Add a stronger band when easy",
        },
    )

    prescription = ExercisePrescription.objects.get()
    assert prescription.plan == episode.plan
    assert "Added to the plan: exercise." in errors_of(response)
    assert "3 × 15, hold 2 s, red band, 1× a day, 5 days a week" in errors_of(response)


def test_an_inactive_exercise_cannot_be_prescribed(physio_client, episode):
    retired = Exercise.objects.get(name="Glute bridge")
    retired.active = False
    retired.save()

    response = post(
        physio_client,
        episode,
        "exercise",
        {"exercise": retired.pk, "sets": 3, "reps": 10, "times_per_day": 1, "days_per_week": 7},
    )

    assert "Select a valid choice" in errors_of(response)
    assert not ExercisePrescription.objects.exists()


def test_physio_adds_taping(physio_client, episode):
    post(
        physio_client,
        episode,
        "taping",
        {
            "tape_type": "kinesiology",
            "technique": "Medial glide",
            "tailoring": "Less tension on the lateral strip",
            "skin_checked": "on",
            "provocative_activity": "Step-down",
            "pain_before": 6,
            "pain_after": 2,
        },
    )

    taping = Taping.objects.get()
    assert (taping.pain_before, taping.pain_after, taping.skin_checked) == (6, 2, True)


def test_taping_is_refused_on_a_tape_allergy_with_a_brace_suggested_and_nothing_saved(
    physio_client, patient, episode
):
    patient.allergy_tape_adhesive = True
    patient.save()

    response = post(
        physio_client,
        episode,
        "taping",
        {"tape_type": "kinesiology", "technique": "Medial glide", "skin_checked": "on"},
    )

    page = errors_of(response)
    assert "Not added — nothing was saved." in page
    assert "tape / adhesive allergy" in page
    assert "Consider a brace instead." in page
    assert create_url(episode, "bracing") in page
    assert not Intervention.objects.exists()


def test_physio_adds_a_brace(physio_client, episode):
    post(
        physio_client,
        episode,
        "bracing",
        {
            "brace_type": "realignment",
            "product": "Patella pro",
            "fitting_notes": "Size M",
            "wearing_schedule": "During sport",
        },
    )

    assert Bracing.objects.get().wearing_schedule == "During sport"


def _orthoses(pain_without: int, pain_with: int) -> dict:
    return {
        "construction": "prefabricated",
        "product": "Off-the-shelf insoles",
        "provocative_activity": "Single-leg squat",
        "pain_without": pain_without,
        "pain_with": pain_with,
        "review_on": TODAY() + datetime.timedelta(weeks=4),
    }


def test_orthoses_that_cut_pain_by_the_threshold_are_continued(physio_client, episode):
    response = post(physio_client, episode, "foot_orthoses", _orthoses(6, 4))

    orthoses = FootOrthoses.objects.get()
    assert orthoses.recommendation == "continue"
    assert "continue the inserts" in errors_of(response)
    assert "Recommendation: continue" in errors_of(response)


def test_orthoses_that_cut_pain_by_less_than_the_threshold_are_stopped(physio_client, episode):
    response = post(physio_client, episode, "foot_orthoses", _orthoses(6, 5))

    assert FootOrthoses.objects.get().recommendation == "stop"
    assert "Recommendation: stop" in errors_of(response)


def test_orthoses_follow_the_practices_threshold(physio_client, episode):
    settings = ClinicalSettings.load()
    settings.orthoses_pain_drop_threshold = 3
    settings.save()

    post(physio_client, episode, "foot_orthoses", _orthoses(6, 4))
    post(physio_client, episode, "foot_orthoses", _orthoses(6, 3))

    assert list(FootOrthoses.objects.order_by("pk").values_list("recommendation", flat=True)) == [
        "stop",
        "continue",
    ]


def test_orthoses_pain_outside_0_to_10_is_a_form_error(physio_client, episode):
    response = post(physio_client, episode, "foot_orthoses", _orthoses(11, 4))

    assert "less than or equal to 10" in errors_of(response)
    assert not FootOrthoses.objects.exists()


def test_physio_adds_movement_retraining(physio_client, episode):
    post(
        physio_client,
        episode,
        "movement_retraining",
        {"method": "mirror", "cues": "Knees apart, kneecaps straight ahead"},
    )

    assert MovementRetraining.objects.get().cues == "Knees apart, kneecaps straight ahead"


def test_physio_adds_education_with_topics(physio_client, episode):
    response = post(
        physio_client,
        episode,
        "education",
        {"topics": ["load_management", "peace_and_love"]},
    )

    assert Education.objects.get().topics == ["load_management", "peace_and_love"]
    assert "Load management and pacing, PEACE &amp; LOVE" in errors_of(response)


def test_education_needs_a_topic(physio_client, episode):
    response = post(physio_client, episode, "education", {})

    assert "Tick at least one topic you covered." in errors_of(response)
    assert not Education.objects.exists()


def test_physio_adds_soft_tissue_therapy(physio_client, episode):
    post(
        physio_client,
        episode,
        "soft_tissue",
        {"technique": "Myofascial release", "area": "Lateral quadriceps"},
    )

    assert SoftTissue.objects.get().area == "Lateral quadriceps"


def test_unknown_kind_is_404(physio_client, episode):
    assert physio_client.get(create_url(episode, "acupuncture")).status_code == 404


def test_an_intervention_cannot_start_in_the_future(physio_client, episode):
    response = physio_client.post(
        create_url(episode, "soft_tissue"),
        {
            "started_on": TODAY() + datetime.timedelta(days=3),
            "technique": "Massage",
            "area": "Calf",
        },
    )

    assert "cannot start in the future" in errors_of(response)
    assert not SoftTissue.objects.exists()


# --- Dry needling ------------------------------------------------------------------------


def _needling(**answers: str) -> dict:
    data = {f"precaution_{p.key}": "no" for p in reference.DRY_NEEDLING_PRECAUTIONS}
    data.update({f"precaution_{key}": value for key, value in answers.items()})
    data.update({"muscles": "Vastus lateralis", "needle_count": 4, "response": "Local twitch"})
    return data


def test_dry_needling_form_pre_answers_yes_for_the_patients_alerts(physio_client, patient, episode):
    patient.anticoagulants_or_bleeding_disorder = True
    patient.save()

    form = physio_client.get(create_url(episode, "dry_needling")).context["form"]

    assert form["precaution_anticoagulants_or_bleeding_disorder"].initial == "yes"
    assert form["precaution_needle_phobia"].initial is None


def test_dry_needling_is_allowed_when_certified_consented_and_screened(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(physio)
    consent = consent_for(patient, physio)

    response = post(physio_client, episode, "dry_needling", _needling())

    needling = DryNeedling.objects.get()
    assert needling.consent == consent
    assert needling.precautions == {p.key: False for p in reference.DRY_NEEDLING_PRECAUTIONS}
    assert "Added to the plan: dry needling." in errors_of(response)


def test_dry_needling_is_refused_without_a_certification(physio_client, physio, patient, episode):
    consent_for(patient, physio)

    response = post(physio_client, episode, "dry_needling", _needling())

    assert "current dry-needling certification" in errors_of(response)
    assert not DryNeedling.objects.exists()


def test_dry_needling_is_refused_with_an_expired_certification(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(
        physio,
        certified_on=TODAY() - datetime.timedelta(days=800),
        expires_on=TODAY() - datetime.timedelta(days=1),
    )
    consent_for(patient, physio)

    response = post(physio_client, episode, "dry_needling", _needling())

    assert "missing or has expired" in errors_of(response)
    assert not DryNeedling.objects.exists()


def test_dry_needling_is_refused_without_consent_on_file(physio_client, physio, episode):
    certify_for_dry_needling(physio)

    response = post(physio_client, episode, "dry_needling", _needling())

    page = errors_of(response)
    assert "written informed consent to dry needling first" in page
    assert reverse("treatments:consent_create", args=[episode.patient_id]) in page
    assert not DryNeedling.objects.exists()


def test_dry_needling_is_refused_when_consent_was_withdrawn(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(physio)
    consent = consent_for(patient, physio, days_ago=10)
    DryNeedlingConsent.objects.filter(pk=consent.pk).update(withdrawn_on=TODAY())

    response = post(physio_client, episode, "dry_needling", _needling())

    assert "consent to dry needling first" in errors_of(response)
    assert not DryNeedling.objects.exists()


def test_dry_needling_is_refused_with_an_unanswered_precaution(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(physio)
    consent_for(patient, physio)
    data = _needling()
    del data["precaution_pregnancy"]

    response = post(physio_client, episode, "dry_needling", data)

    assert "Answer yes or no: pregnancy." in errors_of(response)
    assert not DryNeedling.objects.exists()


def test_dry_needling_is_refused_when_the_screen_contradicts_the_patients_alerts(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(physio)
    consent_for(patient, physio)
    patient.allergy_metal = True
    patient.save()

    response = post(physio_client, episode, "dry_needling", _needling(allergy_metal="no"))

    assert "metal allergy: the screen cannot say it is absent" in errors_of(response)
    assert not DryNeedling.objects.exists()


def test_a_precaution_present_needs_a_note_on_how_it_was_managed(
    physio_client, physio, patient, episode
):
    certify_for_dry_needling(physio)
    consent_for(patient, physio)
    patient.needle_phobia = True
    patient.save()

    refused = post(physio_client, episode, "dry_needling", _needling(needle_phobia="yes"))
    allowed = post(
        physio_client,
        episode,
        "dry_needling",
        {**_needling(needle_phobia="yes"), "precautions_note": "Lying down, two needles only"},
    )

    assert "note how you managed them" in errors_of(refused)
    assert "Added to the plan: dry needling." in errors_of(allowed)
    assert DryNeedling.objects.get().precautions["needle_phobia"] is True


def test_physio_records_written_consent_and_returns_to_the_needling_form(
    physio_client, physio, patient, episode
):
    back = create_url(episode, "dry_needling")
    url = reverse("treatments:consent_create", args=[patient.pk])

    response = physio_client.post(
        f"{url}?next={back}", {"consented_on": TODAY(), "method": "written_paper", "next": back}
    )

    assert response.status_code == 302
    assert response.url == back
    consent = patient.needling_consents.get()
    assert consent.recorded_by == physio


def test_consent_ignores_a_next_address_on_another_site(physio_client, patient):
    url = reverse("treatments:consent_create", args=[patient.pk])

    response = physio_client.post(
        url, {"consented_on": TODAY(), "method": "written_paper", "next": "https://evil.example/"}
    )

    assert response.url == patient.get_absolute_url()


def test_consent_cannot_be_dated_in_the_future(physio_client, patient):
    response = physio_client.post(
        reverse("treatments:consent_create", args=[patient.pk]),
        {"consented_on": TODAY() + datetime.timedelta(days=1), "method": "written_paper"},
    )

    assert "cannot be dated in the future" in errors_of(response)
    assert not patient.needling_consents.exists()


# --- Stopping ----------------------------------------------------------------------------


def test_physio_stops_an_intervention(physio_client, physio, episode):
    prescription = prescribe(episode, physio)

    response = physio_client.post(
        reverse(
            "treatments:intervention_stop",
            args=[episode.patient_id, episode.pk, prescription.pk],
        ),
        follow=True,
    )

    prescription.refresh_from_db()
    assert prescription.stopped_on == TODAY()
    assert "Stopped: exercise." in errors_of(response)


def test_stopping_twice_is_a_clear_message(physio_client, physio, episode):
    prescription = prescribe(episode, physio)
    url = reverse(
        "treatments:intervention_stop", args=[episode.patient_id, episode.pk, prescription.pk]
    )
    physio_client.post(url)

    response = physio_client.post(url, follow=True)

    assert "already stopped" in errors_of(response)


def test_stop_only_accepts_post(physio_client, physio, episode):
    prescription = prescribe(episode, physio)
    url = reverse(
        "treatments:intervention_stop", args=[episode.patient_id, episode.pk, prescription.pk]
    )

    assert physio_client.get(url).status_code == 405
