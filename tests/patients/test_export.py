"""Subject access export: a manager downloads or prints everything held about one patient."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import OutboxMessage, WaitlistEntry
from clinic.audit import AccessEvent, Action
from patients.export import patient_record
from treatments import services
from treatments.models import DryNeedlingConsent, Education, Goal

from ..appointments.factories import AppointmentFactory
from ..factories import PatientFactory
from ..treatments.factories import AssessmentFactory, ObjectiveFindingFactory
from ..treatments.note_factories import draft_note, episode_for, exercise_in_plan, visit_for


def _full_record(patient, physio) -> dict:
    """A patient with one of every kind of row the export covers."""
    episode = episode_for(patient, physio)
    assessment = AssessmentFactory(episode=episode, clinician=physio, kujala=80, tsk11=20)
    ObjectiveFindingFactory(assessment=assessment)
    exercise = exercise_in_plan(episode, physio)
    services.intervention_add(
        intervention=Education(topics=["load_management"]), episode=episode, by=physio
    )
    services.goal_add(goal=Goal(description="Run 5 km pain-free"), plan=episode.plan, by=physio)
    services.consent_record(
        consent=DryNeedlingConsent(
            patient=patient,
            consented_on=timezone.localdate(),
            method=DryNeedlingConsent.Method.WRITTEN_PAPER,
        ),
        by=physio,
    )
    visit = visit_for(patient, physio)
    note = draft_note(visit, episode, physio, subjective="Stairs easier")
    note = services.note_save(note=note, by=physio, delivered=[exercise])
    note = services.note_sign(note=note, by=physio)
    services.addendum_add(note=note, text="Also iced afterwards", by=physio)
    WaitlistEntry.objects.create(
        patient=patient, appointment_type=visit.appointment_type, location=visit.location
    )
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.choices[0][0],
        appointment=visit,
        patient=patient,
        to=patient.email,
        subject="Your appointment",
        body_text="See you soon",
        dedupe_key=f"test-{visit.pk}",
    )
    return {"episode": episode, "note": note, "exercise": exercise, "visit": visit}


def test_the_record_holds_every_part_of_the_patient(patient, physio) -> None:
    rows = _full_record(patient, physio)
    record = json.loads(json.dumps(patient_record(patient)))
    assert record["patient"]["last_name"] == "Wright"
    assert "search_name" not in record["patient"]
    assert record["consents"]["dry_needling"][0]["method"] == "written_paper"
    assert [a["id"] for a in record["appointments"]] == [rows["visit"].pk]
    assert record["appointments"][0]["status_display"] == "Arrived"
    assert record["waitlist_entries"][0]["state"] == "waiting"
    [episode] = record["episodes"]
    [assessment] = episode["assessments"]
    assert {m["measure"] for m in assessment["outcome_measures"]} == {"kujala", "tsk11"}
    assert assessment["outcome_measures"][0]["answers"]
    assert assessment["findings"][0]["left_value"] == "160.00"
    assert episode["plan"]["goals"][0]["description"] == "Run 5 km pain-free"
    kinds = {i["kind"]: i for i in episode["plan"]["interventions"]}
    assert kinds["exercise"]["details"]["exercise"] == "Clam shells"
    assert kinds["education"]["details"]["topics"] == ["load_management"]
    [note] = episode["visit_notes"]
    assert note["subjective"] == "Stairs easier"
    assert note["signed_by"]["name"] == str(physio)
    assert note["content_hash"] == rows["note"].content_hash
    assert note["delivered_intervention_ids"] == [rows["exercise"].pk]
    assert note["addenda"][0]["text"] == "Also iced afterwards"
    assert record["messages"][0]["subject"] == "Your appointment"


def test_the_record_holds_nothing_of_another_patient(patient, physio) -> None:
    other = PatientFactory(last_name="Elsewhere")
    _full_record(other, physio)
    AppointmentFactory(patient=patient)
    record = patient_record(patient)
    assert "Elsewhere" not in json.dumps(record)
    assert record["episodes"] == []
    assert len(record["appointments"]) == 1


def test_the_query_count_does_not_grow_with_the_record(patient, physio) -> None:
    _full_record(patient, physio)
    with CaptureQueriesContext(connection) as one_of_each:
        patient_record(patient)
    second = episode_for(patient, physio, title="Left hip")
    exercise_in_plan(second, physio, name="Bridges")
    AssessmentFactory(episode=second, clinician=physio, kujala=60)
    draft_note(visit_for(patient, physio, ago=datetime.timedelta(days=2)), second, physio)
    with CaptureQueriesContext(connection) as two_of_each:
        patient_record(patient)
    assert len(two_of_each) == len(one_of_each)


def test_a_manager_downloads_the_record_as_json(manager_client, patient) -> None:
    response = manager_client.get(reverse("patients:export_json", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert json.loads(response.content)["patient"]["id"] == patient.pk


def test_a_manager_reads_the_record_as_a_page(manager_client, patient, physio) -> None:
    _full_record(patient, physio)
    response = manager_client.get(reverse("patients:export_html", args=[patient.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Complete record of Hannah Wright" in page
    assert "Stairs easier" in page
    assert "Also iced afterwards" in page
    assert "Clam shells" in page


@pytest.mark.parametrize("name", ["patients:export_json", "patients:export_html"])
def test_each_export_writes_one_access_log_entry(manager_client, manager, patient, name) -> None:
    manager_client.get(reverse(name, args=[patient.pk]))
    [event] = AccessEvent.objects.all()
    assert event.action == Action.EXPORT
    assert (event.patient_id, event.user_id) == (patient.pk, manager.pk)


@pytest.mark.parametrize("who", ["front_desk_client", "physio_client", "outsider_client"])
def test_only_managers_may_export(request, who, patient) -> None:
    client = request.getfixturevalue(who)
    for name in ("patients:export_json", "patients:export_html"):
        assert client.get(reverse(name, args=[patient.pk])).status_code == 403
    assert not AccessEvent.objects.filter(action=Action.EXPORT, outcome="allowed").exists()


def test_the_patient_page_offers_the_export_to_managers_only(
    manager_client, front_desk_client, patient
) -> None:
    url = reverse("patients:detail", args=[patient.pk])
    export = reverse("patients:export_html", args=[patient.pk])
    assert export in manager_client.get(url).content.decode()
    assert export not in front_desk_client.get(url).content.decode()


def test_an_unknown_patient_is_not_found(manager_client) -> None:
    assert manager_client.get(reverse("patients:export_json", args=[999999])).status_code == 404
