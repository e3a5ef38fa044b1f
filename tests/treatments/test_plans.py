import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory
from treatments import reference, services
from treatments.models import Goal, Intervention, Taping

from .plan_factories import episode_for, prescribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(patient, physio):
    return episode_for(patient, physio)


def plan_url(episode) -> str:
    return reverse("treatments:plan", args=[episode.patient_id, episode.pk])


def add_taping(episode, by) -> Taping:
    return services.intervention_add(
        intervention=Taping(
            tape_type=Taping.TapeType.KINESIOLOGY,
            technique="Medial glide",
            provocative_activity="Step-down",
            pain_before=6,
            pain_after=3,
            skin_checked=True,
        ),
        episode=episode,
        by=by,
    )


def test_plan_page_shows_interventions_with_dose_and_evidence_badges(
    physio_client, physio, episode
):
    prescribe(episode, physio, "Clam shells", sets=3, reps=15, load="red band")
    add_taping(episode, physio)

    response = physio_client.get(plan_url(episode))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Clam shells" in page
    assert "3 × 15, red band, 1× a day, 7 days a week" in page
    assert "Medial glide" in page
    assert "6 → 3" in page
    assert "text-bg-success" in page and "Recommended" in page
    assert "text-bg-warning" in page and "Uncertain" in page
    assert reference.EVIDENCE_CITATION in page


def test_plan_page_groups_active_and_stopped_interventions(physio_client, physio, episode):
    prescribe(episode, physio, "Clam shells")
    stopped = add_taping(episode, physio)
    services.intervention_stop(intervention=stopped, by=physio)

    response = physio_client.get(plan_url(episode))

    active, stopped_part = response.content.decode().split('id="stopped-heading"')
    assert "Clam shells" in active and "Medial glide" not in active
    assert "Medial glide" in stopped_part


def test_plan_page_offers_a_button_for_every_kind(physio_client, episode):
    page = physio_client.get(plan_url(episode)).content.decode()

    for kind in ("exercise", "taping", "bracing", "foot_orthoses", "dry_needling"):
        url = reverse("treatments:intervention_create", args=[episode.patient_id, episode.pk, kind])
        assert url in page


def test_plan_page_suggests_hip_exercise_when_only_knee_exercises_are_prescribed(
    physio_client, physio, episode
):
    prescribe(episode, physio, "Knee extension")

    page = physio_client.get(plan_url(episode)).content.decode()

    assert "hip and knee exercise" in page


def test_physio_saves_the_planned_frequency_and_sessions(physio_client, episode):
    response = physio_client.post(
        plan_url(episode),
        {"action": "plan", "planned_frequency": "Weekly", "planned_sessions": "6"},
        follow=True,
    )

    assert "Plan saved." in response.content.decode()
    episode.plan.refresh_from_db()
    assert (episode.plan.planned_frequency, episode.plan.planned_sessions) == ("Weekly", 6)


def test_too_many_planned_sessions_is_a_form_error(physio_client, episode):
    response = physio_client.post(plan_url(episode), {"action": "plan", "planned_sessions": "500"})

    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    episode.plan.refresh_from_db()
    assert episode.plan.planned_sessions is None


def test_physio_adds_a_measurable_goal_and_marks_it_achieved(physio_client, episode):
    target = timezone.localdate() + datetime.timedelta(weeks=8)
    physio_client.post(
        plan_url(episode),
        {"action": "goal", "description": "Run 5 km pain-free", "target_date": target},
    )
    goal = episode.plan.goals.get()
    assert goal.target_date == target

    response = physio_client.post(
        plan_url(episode), {"action": "goal_achieved", "goal": goal.pk}, follow=True
    )

    goal.refresh_from_db()
    assert goal.achieved_on == timezone.localdate()
    assert "Achieved" in response.content.decode()


def test_a_goal_needs_a_description(physio_client, episode):
    response = physio_client.post(plan_url(episode), {"action": "goal", "description": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Goal.objects.exists()


def test_marking_another_plans_goal_achieved_is_404_and_changes_nothing(
    physio_client, physio, episode
):
    other = episode_for(PatientFactory(), physio)
    goal = Goal.objects.create(plan=other.plan, description="Squat without pain")

    response = physio_client.post(plan_url(episode), {"action": "goal_achieved", "goal": goal.pk})

    assert response.status_code == 404
    goal.refresh_from_db()
    assert goal.achieved_on is None


def test_a_discharged_episodes_plan_no_longer_changes(physio_client, physio, episode):
    services.episode_discharge(episode=episode, outcome="goals_met", by=physio)

    page = physio_client.get(plan_url(episode)).content.decode()
    response = physio_client.post(
        plan_url(episode), {"action": "plan", "planned_frequency": "Weekly"}
    )

    assert "can no longer change" in page
    assert "Save plan" not in page
    assert "can no longer change" in response.content.decode()
    episode.plan.refresh_from_db()
    assert episode.plan.planned_frequency == ""


def _plan_page_queries(client, episode) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(plan_url(episode)).status_code == 200
    return len(queries)


def test_plan_page_queries_do_not_grow_with_the_number_of_interventions(
    physio_client, physio, episode
):
    prescribe(episode, physio, "Clam shells")
    add_taping(episode, physio)
    Goal.objects.create(plan=episode.plan, description="Stairs pain-free")
    small = _plan_page_queries(physio_client, episode)

    for name in ("Knee extension", "Sit to stand", "Standing calf stretch", "Glute bridge"):
        prescribe(episode, physio, name)
    for _ in range(3):
        services.intervention_stop(intervention=add_taping(episode, physio), by=physio)
    for number in range(4):
        Goal.objects.create(plan=episode.plan, description=f"Goal {number}")
    large = _plan_page_queries(physio_client, episode)

    assert small == large


# --- Access ------------------------------------------------------------------------------


def _every_url(patient_pk: int, episode_pk: int, intervention_pk: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("treatments:plan", args=[patient_pk, episode_pk])),
        ("post", reverse("treatments:plan", args=[patient_pk, episode_pk])),
        (
            "get",
            reverse("treatments:intervention_create", args=[patient_pk, episode_pk, "exercise"]),
        ),
        (
            "post",
            reverse("treatments:intervention_create", args=[patient_pk, episode_pk, "taping"]),
        ),
        (
            "post",
            reverse("treatments:intervention_stop", args=[patient_pk, episode_pk, intervention_pk]),
        ),
        ("get", reverse("treatments:consent_create", args=[patient_pk])),
        ("post", reverse("treatments:consent_create", args=[patient_pk])),
        ("get", reverse("treatments:handout", args=[patient_pk, episode_pk])),
        ("get", reverse("treatments:handout_pdf", args=[patient_pk, episode_pk])),
        ("post", reverse("treatments:handout_email", args=[patient_pk, episode_pk])),
    ]


@pytest.mark.parametrize("role_client", ["front_desk_client", "manager_client", "outsider_client"])
def test_only_physiotherapists_reach_plans_interventions_consents_and_handouts(
    request, role_client, physio, patient, episode
):
    client = request.getfixturevalue(role_client)
    patient.email_reminders = True
    patient.save()
    intervention = prescribe(episode, physio)

    for method, url in _every_url(patient.pk, episode.pk, intervention.pk):
        response = getattr(client, method)(url, {"action": "plan", "planned_frequency": "Daily"})
        assert response.status_code == 403, f"{method.upper()} {url}"

    intervention.refresh_from_db()
    episode.plan.refresh_from_db()
    assert intervention.stopped_on is None
    assert episode.plan.planned_frequency == ""
    assert not patient.needling_consents.exists()
    assert mail.outbox == []


def test_another_patients_episode_is_404_on_every_url(physio_client, physio, patient, episode):
    other_patient = PatientFactory(email_reminders=True)
    other_episode = episode_for(other_patient, physio)
    intervention = prescribe(other_episode, physio)

    # This patient in the URL, with another patient's episode and intervention ids.
    for method, url in _every_url(patient.pk, other_episode.pk, intervention.pk):
        if "consents" in url:
            continue
        response = getattr(physio_client, method)(url, {"action": "plan", "planned_frequency": "x"})
        assert response.status_code == 404, f"{method.upper()} {url}"

    intervention.refresh_from_db()
    other_episode.plan.refresh_from_db()
    assert intervention.stopped_on is None
    assert other_episode.plan.planned_frequency == ""
    assert Intervention.objects.count() == 1
    assert mail.outbox == []


def test_stopping_an_intervention_of_another_episode_is_404_and_changes_nothing(
    physio_client, physio, patient, episode
):
    second_episode = episode_for(patient, physio, title="Left anterior knee pain")
    elsewhere = prescribe(second_episode, physio)

    response = physio_client.post(
        reverse("treatments:intervention_stop", args=[patient.pk, episode.pk, elsewhere.pk])
    )

    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.stopped_on is None


def test_unknown_patient_for_consent_is_404(physio_client):
    response = physio_client.get(reverse("treatments:consent_create", args=[999999]))

    assert response.status_code == 404
