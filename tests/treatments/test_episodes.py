import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.roles import Role
from tests.factories import PatientFactory, UserFactory
from treatments.models import Assessment, ClinicalSettings, Episode, TreatmentPlan

from .factories import (
    AssessmentFactory,
    EducationFactory,
    EpisodeFactory,
    ObjectiveFindingFactory,
)
from .note_factories import draft_note, visit_for

pytestmark = pytest.mark.django_db


def episode_url(name: str, episode: Episode, *extra) -> str:
    return reverse(f"treatments:{name}", args=[episode.patient_id, episode.pk, *extra])


def opening_data(**overrides) -> dict:
    data = {
        "title": "Right anterior knee pain",
        "body_region": "knee",
        "side": "right",
        "onset_date": "2025-01-10",
        "diagnosis": "Patellofemoral pain",
        "icd10_code": "m22.2x1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def episode(patient, physio):
    return EpisodeFactory(patient=patient, clinician=physio)


def test_physio_opens_an_episode_with_its_treatment_plan(physio_client, physio, patient):
    url = reverse("treatments:episode_create", args=[patient.pk])
    response = physio_client.post(url, opening_data(clinician=physio.pk), follow=True)

    episode = Episode.objects.get(patient=patient)
    assert response.redirect_chain[-1][0] == episode.get_absolute_url()
    assert "Episode “Right anterior knee pain” is open." in response.content.decode()
    assert episode.icd10_code == "M22.2X1"
    assert episode.clinician == physio
    assert episode.created_by == physio
    assert TreatmentPlan.objects.filter(episode=episode).exists()


def test_episode_form_offers_the_patellofemoral_codes_and_defaults_to_the_user(
    physio_client, physio, patient
):
    response = physio_client.get(reverse("treatments:episode_create", args=[patient.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    for code in ("M22.2X1", "M22.2X2", "M22.2X9"):
        assert code in page
    assert response.context["form"].initial["clinician"] == physio.pk


def test_an_unknown_icd10_code_is_refused_and_nothing_saved(physio_client, physio, patient):
    url = reverse("treatments:episode_create", args=[patient.pk])
    response = physio_client.post(url, opening_data(clinician=physio.pk, icd10_code="knee"))

    assert response.status_code == 200
    assert "Enter an ICD-10 code such as M22.2X1." in response.content.decode()
    assert not Episode.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "Knee\x00pain"},
        {"onset_date": "2025-02-30"},
        {"onset_date": "99999-01-01"},
        {"onset_date": "2999-01-01"},
        {"side": "upside_down"},
        {"body_region": "\x00"},
        {"clinician": "99999999999999999999999"},
        {"title": "x" * 5000},
    ],
)
def test_hostile_episode_input_gets_a_message_and_saves_nothing(
    physio_client, physio, patient, overrides
):
    data = opening_data(clinician=physio.pk)
    data.update(overrides)
    response = physio_client.post(reverse("treatments:episode_create", args=[patient.pk]), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Episode.objects.exists()


def test_an_archived_patient_cannot_get_a_new_episode(physio_client, physio):
    archived = PatientFactory(archived_at=timezone.now())
    url = reverse("treatments:episode_create", args=[archived.pk])
    response = physio_client.post(url, opening_data(clinician=physio.pk), follow=True)

    assert "Restore the patient&#x27;s record" in response.content.decode()
    assert not Episode.objects.exists()


def test_physio_edits_an_open_episode(physio_client, physio, episode):
    data = opening_data(clinician=physio.pk, title="Left anterior knee pain", side="left")
    data["icd10_code"] = "M22.2X2"
    response = physio_client.post(episode_url("episode_update", episode), data, follow=True)

    episode.refresh_from_db()
    assert episode.title == "Left anterior knee pain"
    assert episode.icd10_code == "M22.2X2"
    assert "Episode details saved." in response.content.decode()


def test_a_discharged_episode_cannot_be_edited(physio_client, physio, episode):
    episode.status = Episode.Status.DISCHARGED
    episode.discharged_on = timezone.localdate()
    episode.discharge_outcome = Episode.Outcome.GOALS_MET
    episode.save()
    data = opening_data(clinician=physio.pk, title="Changed")
    response = physio_client.post(episode_url("episode_update", episode), data, follow=True)

    episode.refresh_from_db()
    assert episode.title == "Right anterior knee pain"
    assert "A discharged episode cannot be edited." in response.content.decode()


def test_physio_discharges_an_episode_and_running_interventions_stop(
    physio_client, physio, episode
):
    education = EducationFactory(plan=episode.plan, recorded_by=physio)
    data = {"outcome": "goals_met", "notes": "Running 5 km pain-free."}
    response = physio_client.post(episode_url("episode_discharge", episode), data, follow=True)

    episode.refresh_from_db()
    education.refresh_from_db()
    page = response.content.decode()
    assert episode.status == Episode.Status.DISCHARGED
    assert episode.discharge_outcome == "goals_met"
    assert education.stopped_on == timezone.localdate()
    assert "Discharged on" in page
    assert "Goals met" in page


def test_discharge_needs_an_outcome(physio_client, episode):
    response = physio_client.post(episode_url("episode_discharge", episode), {"outcome": "bogus"})

    episode.refresh_from_db()
    assert response.status_code == 200
    assert episode.is_open
    assert response.context["form"].errors["outcome"]


def test_discharge_cannot_be_dated_in_the_future(physio_client, episode):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = {"outcome": "goals_met", "discharged_on": tomorrow.isoformat()}
    response = physio_client.post(episode_url("episode_discharge", episode), data)

    episode.refresh_from_db()
    assert "cannot be in the future" in response.content.decode()
    assert episode.is_open


def test_episode_page_shows_status_assessments_and_visit_note_section(physio_client, episode):
    AssessmentFactory(episode=episode, kujala=64, nprs_worst=6)
    response = physio_client.get(episode.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert "Open" in page
    assert "64" in page
    assert "Visit notes" in page
    assert "Treatment plan" in page
    assert "Reassess" in page


def _urls(episode: Episode, assessment: Assessment) -> list[tuple[str, str]]:
    patient = episode.patient_id
    return [
        ("get", reverse("treatments:episode_create", args=[patient])),
        ("post", reverse("treatments:episode_create", args=[patient])),
        ("get", episode_url("episode", episode)),
        ("get", episode_url("episode_update", episode)),
        ("post", episode_url("episode_update", episode)),
        ("get", episode_url("episode_discharge", episode)),
        ("post", episode_url("episode_discharge", episode)),
        ("get", episode_url("episode_chart", episode)),
        ("get", reverse("treatments:assessment_create", args=[patient, episode.pk])),
        ("post", reverse("treatments:assessment_create", args=[patient, episode.pk])),
        ("get", assessment.get_absolute_url()),
        (
            "post",
            reverse("treatments:referral_decision", args=[patient, episode.pk, assessment.pk]),
        ),
    ]


@pytest.mark.parametrize("role", ["front_desk_client", "manager_client", "outsider_client"])
def test_front_desk_manager_and_outsider_get_403_on_every_clinical_url(request, role, episode):
    client = request.getfixturevalue(role)
    assessment = AssessmentFactory(episode=episode)
    for method, url in _urls(episode, assessment):
        response = getattr(client, method)(url, {"outcome": "goals_met", "decision": "gp"})
        assert response.status_code == 403, (method, url)
    episode.refresh_from_db()
    assessment.refresh_from_db()
    assert episode.is_open
    assert assessment.referral_decision == ""


def test_another_patients_ids_are_404_and_change_nothing(physio_client, physio, episode):
    other_patient = PatientFactory()
    other_episode = EpisodeFactory(patient=other_patient, clinician=physio)
    assessment = AssessmentFactory(episode=other_episode, red_flags=["locked_knee"])
    mixed = [
        ("get", reverse("treatments:episode", args=[episode.patient_id, other_episode.pk])),
        (
            "post",
            reverse("treatments:episode_discharge", args=[episode.patient_id, other_episode.pk]),
        ),
        (
            "post",
            reverse("treatments:episode_update", args=[episode.patient_id, other_episode.pk]),
        ),
        ("get", reverse("treatments:episode_chart", args=[episode.patient_id, other_episode.pk])),
        ("get", reverse("treatments:assessment", args=[episode.patient_id, episode.pk, 1])),
        (
            "get",
            reverse("treatments:assessment", args=[episode.patient_id, episode.pk, assessment.pk]),
        ),
        (
            "post",
            reverse(
                "treatments:referral_decision",
                args=[episode.patient_id, episode.pk, assessment.pk],
            ),
        ),
        (
            "post",
            reverse("treatments:assessment_create", args=[episode.patient_id, other_episode.pk]),
        ),
        ("get", reverse("treatments:episode_create", args=[99999999])),
    ]
    data = {"outcome": "goals_met", "decision": "gp", "title": "Hijacked", "clinician": physio.pk}
    for method, url in mixed:
        response = getattr(physio_client, method)(url, data)
        assert response.status_code == 404, (method, url)
    other_episode.refresh_from_db()
    assessment.refresh_from_db()
    assert other_episode.is_open
    assert other_episode.title == "Right anterior knee pain"
    assert assessment.referral_decision == ""
    assert other_episode.assessments.count() == 1


def _episode_with(count: int, patient, physio) -> Episode:
    episode = EpisodeFactory(patient=patient, clinician=physio)
    start = timezone.localdate() - datetime.timedelta(weeks=count)
    for week in range(count):
        assessment = AssessmentFactory(
            episode=episode,
            kind="initial" if week == 0 else "reassessment",
            assessed_on=start + datetime.timedelta(weeks=week),
            nprs_worst=7 - week % 7,
            red_flags=["locked_knee"] if week == 1 else [],
            kujala=50 + week,
            tsk11=30,
        )
        ObjectiveFindingFactory(assessment=assessment)
        ObjectiveFindingFactory(assessment=assessment, test="quadriceps_strength")
        visit = visit_for(patient, physio, ago=datetime.timedelta(days=week + 1))
        draft_note(visit, episode, physio, subjective="Sore on stairs.")
    EducationFactory(plan=episode.plan, recorded_by=physio)
    return episode


@pytest.mark.parametrize("count", [2, 8])
def test_episode_page_query_count_does_not_grow_with_assessments(
    physio_client, physio, patient, count, django_assert_max_num_queries
):
    ClinicalSettings.load()
    episode = _episode_with(count, patient, physio)
    physio_client.get(episode.get_absolute_url())  # warm the session and permission caches
    with django_assert_max_num_queries(15):  # 14 and one INSERT into the access log
        response = physio_client.get(episode.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["assessments"]) == count
    assert len(response.context["notes"]) == count


def test_a_second_physio_may_open_the_episode_page(episode):
    from django.test import Client

    colleague = UserFactory(username="colleague", roles=[Role.PHYSIOTHERAPIST])
    client = Client()
    client.force_login(colleague)
    assert client.get(episode.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "goals_met", "notes": "done\x00"},
        {"outcome": "goals_met", "discharged_on": "31/31/2025"},
        {"outcome": "goals_met", "discharged_on": "1899-12-31"},
        {"outcome": "goals_met", "notes": "x" * 3000},
        {"outcome": ["goals_met", "worse"], "discharged_on": "0000-00-00"},
    ],
)
def test_hostile_discharge_input_gets_a_message_and_changes_nothing(physio_client, episode, data):
    response = physio_client.post(episode_url("episode_discharge", episode), data)

    episode.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors
    assert episode.is_open
