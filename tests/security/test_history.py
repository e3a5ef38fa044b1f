"""Record history: every change to patient and clinical data, with who and when."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Status
from clinic.audit import AccessEvent
from clinic.roles import Role
from patients.models import Patient
from tests.appointments.factories import AppointmentFactory
from tests.factories import UserFactory
from tests.treatments.note_factories import draft_note, visit_for
from tests.treatments.plan_factories import episode_for, prescribe
from treatments import services
from treatments.models import Episode, ExercisePrescription, Goal, VisitNote


def edit_data(**changes) -> dict:
    return {
        "first_name": "Hannah",
        "last_name": "Wright",
        "date_of_birth": "17/05/1994",
        "sex": "female",
        "funding": "self_pay",
        "phone": "07911 123456",
        "email": "hannah.wright@example.com",
        **changes,
    }


def patient_history_url(patient: Patient) -> str:
    return reverse("patients:history", args=[patient.pk])


def episode_history_url(episode: Episode) -> str:
    return reverse("treatments:episode_history", args=[episode.patient_id, episode.pk])


@pytest.fixture
def episode(patient, physio) -> Episode:
    return episode_for(patient, physio)


def test_editing_a_patient_records_a_historical_row_with_the_editor(
    front_desk_client, front_desk, patient
) -> None:
    url = reverse("patients:update", args=[patient.pk])
    front_desk_client.post(url, edit_data(last_name="Wright-Ellis"))
    latest = patient.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == front_desk
    assert latest.last_name == "Wright-Ellis"
    assert latest.prev_record.last_name == "Wright"


def test_the_history_page_shows_who_when_and_what_changed(
    front_desk_client, manager_client, patient
) -> None:
    front_desk_client.post(
        reverse("patients:update", args=[patient.pk]), edit_data(last_name="Wright-Ellis")
    )
    response = manager_client.get(patient_history_url(patient))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fran Miller" in page
    assert timezone.localtime().strftime("%Y") in page
    assert "Last name" in page
    assert "Wright-Ellis" in page


def test_a_physiotherapist_may_read_a_patients_history(physio_client, patient) -> None:
    assert physio_client.get(patient_history_url(patient)).status_code == 200


@pytest.mark.parametrize("who", ["front_desk_client", "outsider_client"])
def test_front_desk_and_people_without_a_role_may_not_read_a_patients_history(
    request, who, patient
) -> None:
    assert request.getfixturevalue(who).get(patient_history_url(patient)).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, patient) -> None:
    response = client.get(patient_history_url(patient))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_reading_a_patients_history_is_written_to_the_access_log(manager_client, patient):
    manager_client.get(patient_history_url(patient))
    event = AccessEvent.objects.get(path=patient_history_url(patient))
    assert event.patient_id == patient.pk
    assert event.outcome == "allowed"


def test_appointment_moves_and_cancellations_appear_in_the_patients_history(
    manager_client, front_desk, patient
) -> None:
    appointment = AppointmentFactory(patient=patient)
    appointment.status = Status.CANCELLED
    appointment.cancellation_reason = "Unwell"
    appointment._history_user = front_desk
    appointment.save()
    page = manager_client.get(patient_history_url(patient)).content.decode()
    assert "Cancelled" in page
    assert "Unwell" in page
    assert "Fran Miller" in page


def test_an_unknown_patient_is_a_404(manager_client) -> None:
    assert manager_client.get(reverse("patients:history", args=[999999])).status_code == 404


# --- Clinical history -------------------------------------------------------------------------


def test_the_treating_physiotherapist_sees_every_clinical_change_with_values(
    physio_client, physio, episode
) -> None:
    services.goal_add(goal=Goal(description="Run 5 km pain-free"), plan=episode.plan, by=physio)
    episode.diagnosis = "Patellofemoral pain syndrome"
    services.episode_update(episode=episode, by=physio)
    response = physio_client.get(episode_history_url(episode))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Run 5 km pain-free" in page
    assert "Patellofemoral pain syndrome" in page
    assert "Priya Shah" in page


def test_a_manager_sees_who_changed_which_fields_but_no_clinical_values(
    manager_client, physio, episode
) -> None:
    services.goal_add(goal=Goal(description="Run 5 km pain-free"), plan=episode.plan, by=physio)
    episode.diagnosis = "Patellofemoral pain syndrome"
    episode._history_user = physio
    services.episode_update(episode=episode, by=physio)
    response = manager_client.get(episode_history_url(episode))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Diagnosis" in page
    assert "Goal" in page
    assert "Priya Shah" in page
    for clinical in ["Run 5 km pain-free", "Patellofemoral", "Right anterior knee pain"]:
        assert clinical not in page


def test_another_physiotherapist_may_not_read_an_episodes_history(episode) -> None:
    from django.test import Client

    colleague = UserFactory(roles=[Role.PHYSIOTHERAPIST])
    client = Client()
    client.force_login(colleague)
    assert client.get(episode_history_url(episode)).status_code == 403


@pytest.mark.parametrize("who", ["front_desk_client", "outsider_client"])
def test_front_desk_and_people_without_a_role_may_not_read_clinical_history(
    request, who, episode
) -> None:
    assert request.getfixturevalue(who).get(episode_history_url(episode)).status_code == 403


def test_an_episode_of_another_patient_is_a_404(physio_client, physio, episode) -> None:
    other = episode_for(AppointmentFactory().patient, physio)
    url = reverse("treatments:episode_history", args=[episode.patient_id, other.pk])
    assert physio_client.get(url).status_code == 404


def test_interventions_keep_one_history_from_prescription_to_discharge(
    physio_client, physio, episode
) -> None:
    prescription = prescribe(episode, physio, sets=3, reps=12)
    services.intervention_stop(intervention=prescription.intervention_ptr, by=physio)
    history = ExercisePrescription.history.filter(intervention_ptr_id=prescription.pk)
    assert [row.history_type for row in history.order_by("history_date")] == ["+", "~"]
    assert history.latest().stopped_on == timezone.localdate()
    page = physio_client.get(episode_history_url(episode)).content.decode()
    assert "Intervention: Exercise" in page


def test_discharge_records_every_intervention_it_stops(physio, episode) -> None:
    prescription = prescribe(episode, physio)
    services.episode_discharge(episode=episode, outcome=Episode.Outcome.GOALS_MET, by=physio)
    latest = ExercisePrescription.history.filter(intervention_ptr_id=prescription.pk).latest()
    assert latest.stopped_on == timezone.localdate()


def test_a_visit_note_keeps_its_drafts_signature_and_delivered_interventions(
    physio_client, physio, patient, episode
) -> None:
    prescription = prescribe(episode, physio)
    appointment = visit_for(patient, physio, ago=datetime.timedelta(hours=1))
    note = draft_note(appointment, episode, physio, subjective="Knee sore on stairs")
    note.subjective = "Knee sore on stairs and hills"
    services.note_save(note=note, by=physio, delivered=[prescription.intervention_ptr])
    services.note_sign(note=note, by=physio)
    history = VisitNote.history.filter(id=note.pk).order_by("history_date", "history_id")
    assert history.first().subjective == "Knee sore on stairs"
    assert history.last().signed_at is not None
    page = physio_client.get(episode_history_url(episode)).content.decode()
    assert "Knee sore on stairs and hills" in page
    assert "Interventions delivered" in page


def test_the_patient_page_links_to_the_history_for_those_who_may_read_it(
    physio_client, manager_client, front_desk_client, patient
) -> None:
    link = f'href="{patient_history_url(patient)}"'
    assert link in physio_client.get(patient.get_absolute_url()).content.decode()
    assert link in manager_client.get(patient.get_absolute_url()).content.decode()
    assert link not in front_desk_client.get(patient.get_absolute_url()).content.decode()


def test_the_episode_page_links_to_its_history_for_the_treating_physiotherapist(
    physio_client, episode
) -> None:
    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert f'href="{episode_history_url(episode)}"' in page


def test_a_manager_reaches_each_episodes_change_log_from_the_patients_history(
    manager_client, patient, episode
) -> None:
    page = manager_client.get(patient_history_url(patient)).content.decode()
    assert f'href="{episode_history_url(episode)}"' in page
    assert "Right anterior knee pain" not in page
