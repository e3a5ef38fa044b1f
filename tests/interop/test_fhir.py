import json
from collections import Counter

import pydantic
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from appointments.models import Appointment, Status
from clinic.audit import AccessEvent, Action
from clinic.fhir import bundle as fhir_bundle
from clinic.fhir import patient_bundle
from clinic.fhir.questionnaires import ORDINAL_VALUE_URL
from clinic.models import Location, User
from patients.models import Patient
from treatments import reference
from treatments.models import (
    Assessment,
    DryNeedlingConsent,
    Episode,
    Goal,
    Intervention,
    InterventionKind,
    ObjectiveFinding,
    OutcomeMeasure,
    Taping,
    TreatmentPlan,
    VisitNote,
)

from .conftest import patient_with_episodes


def resources(bundle: dict, resource_type: str) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def by_url(bundle: dict) -> dict[str, dict]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def identified(bundle: dict, resource_type: str, system: str) -> dict[str, dict]:
    """Resources of one type keyed by their product id in ``system``."""
    found = {}
    for resource in resources(bundle, resource_type):
        identifiers = resource["identifier"]
        for identifier in identifiers if isinstance(identifiers, list) else [identifiers]:
            if identifier["system"] == system:
                found[identifier["value"]] = resource
    return found


def references(node) -> list[str]:
    """Every ``reference`` value anywhere in the bundle JSON."""
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in references(item)]
    return []


def codings(concept: dict) -> set[tuple[str, str]]:
    return {(coding["system"], coding["code"]) for coding in concept.get("coding", [])}


def nprs(bundle: dict) -> list[dict]:
    return [
        o
        for o in resources(bundle, "Observation")
        if (reference.LOINC_SYSTEM, reference.LOINC_NPRS) in codings(o["code"])
    ]


def clinicians_of(patient: Patient) -> set[int]:
    episodes = Episode.objects.filter(patient=patient)
    ids = set(patient.appointments.values_list("clinician_id", flat=True))
    ids |= set(episodes.values_list("clinician_id", flat=True))
    ids |= set(
        Assessment.objects.filter(episode__in=episodes).values_list("clinician_id", flat=True)
    )
    ids |= set(
        Intervention.objects.filter(plan__episode__in=episodes).values_list(
            "recorded_by_id", flat=True
        )
    )
    notes = VisitNote.objects.filter(episode__in=episodes)
    ids |= set(notes.values_list("author_id", flat=True))
    ids |= set(notes.exclude(signed_by=None).values_list("signed_by_id", flat=True))
    return ids


def expected_counts(patient: Patient) -> Counter:
    episodes = Episode.objects.filter(patient=patient)
    assessments = Assessment.objects.filter(episode__in=episodes)
    interventions = Intervention.objects.filter(plan__episode__in=episodes)
    notes = VisitNote.objects.filter(episode__in=episodes)
    measures = OutcomeMeasure.objects.filter(assessment__in=assessments)
    clinicians = User.objects.filter(pk__in=clinicians_of(patient))
    appointments = patient.appointments.all()
    location_ids = set(appointments.values_list("location_id", flat=True))
    location_ids |= set(
        clinicians.exclude(staff_profile__locations=None).values_list(
            "staff_profile__locations", flat=True
        )
    )
    room_ids = set(appointments.exclude(room=None).values_list("room_id", flat=True))
    nprs_values = sum(
        1
        for row in assessments.values("nprs_worst", "nprs_rest", "nprs_activity")
        for value in row.values()
        if value is not None
    )
    nprs_values += notes.exclude(nprs=None).count()
    tapings = Taping.objects.filter(plan__episode__in=episodes)
    nprs_values += tapings.exclude(pain_before=None).count()
    nprs_values += tapings.exclude(pain_after=None).count()
    nprs_values += 2 * interventions.filter(kind=InterventionKind.FOOT_ORTHOSES).count()
    findings = ObjectiveFinding.objects.filter(assessment__in=assessments).count()
    return Counter(
        {
            "Patient": 1,
            "Practitioner": clinicians.count(),
            "PractitionerRole": clinicians.count(),
            "Location": len(location_ids) + len(room_ids),
            "Appointment": appointments.count(),
            "Encounter": notes.count(),
            "Condition": episodes.count(),
            "Observation": nprs_values + findings + measures.count(),
            "Questionnaire": measures.values("measure").distinct().count(),
            "QuestionnaireResponse": measures.count(),
            "CarePlan": TreatmentPlan.objects.filter(episode__in=episodes).count(),
            "Goal": Goal.objects.filter(plan__episode__in=episodes).count(),
            "Procedure": interventions.filter(
                kind__in=[
                    InterventionKind.TAPING,
                    InterventionKind.DRY_NEEDLING,
                    InterventionKind.EXERCISE,
                ]
            ).count(),
            "DeviceRequest": interventions.filter(
                kind__in=[InterventionKind.BRACING, InterventionKind.FOOT_ORTHOSES]
            ).count(),
            "Consent": DryNeedlingConsent.objects.filter(patient=patient).count(),
        }
    )


@pytest.fixture
def full_bundle(full_patient) -> dict:
    return patient_bundle(full_patient)


# Validation and shape


def test_a_fully_populated_record_is_a_valid_r4b_collection_bundle(full_bundle) -> None:
    validated = Bundle.model_validate(full_bundle)
    assert validated.type == "collection"
    assert json.loads(json.dumps(full_bundle)) == full_bundle
    assert {r["resourceType"] for r in (e["resource"] for e in full_bundle["entry"])} == {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Appointment",
        "Encounter",
        "Condition",
        "Observation",
        "Questionnaire",
        "QuestionnaireResponse",
        "CarePlan",
        "Goal",
        "Procedure",
        "DeviceRequest",
        "Consent",
    }


def test_a_minimal_record_is_a_valid_bundle_of_just_the_patient(minimal_patient) -> None:
    bundle = patient_bundle(minimal_patient)
    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    patient = bundle["entry"][0]["resource"]
    assert patient["birthDate"] == minimal_patient.date_of_birth.isoformat()
    assert "telecom" not in patient
    assert "address" not in patient


def test_counts_per_resource_type_match_the_database(full_patient, full_bundle) -> None:
    counts = Counter(e["resource"]["resourceType"] for e in full_bundle["entry"])
    assert counts == expected_counts(full_patient)
    assert counts["Appointment"] == 6
    assert counts["Procedure"] == 6  # exercise, taping and dry needling in each of 2 plans
    assert counts["DeviceRequest"] == 4


def test_every_reference_resolves_inside_the_bundle(full_bundle) -> None:
    entries = by_url(full_bundle)
    found = references(full_bundle)
    assert len(found) > 100
    assert all(ref.startswith("urn:uuid:") for ref in found)
    assert {ref for ref in found if ref not in entries} == set()
    for entry in full_bundle["entry"]:
        assert entry["fullUrl"].endswith(entry["resource"]["id"])


def test_questionnaire_canonicals_resolve_to_questionnaires_in_the_bundle(full_bundle) -> None:
    urls = {q["url"] for q in resources(full_bundle, "Questionnaire")}
    cited = {r["questionnaire"] for r in resources(full_bundle, "QuestionnaireResponse")}
    assert cited == urls == {reference.KUJALA_QUESTIONNAIRE_URL, reference.TSK11_QUESTIONNAIRE_URL}


def test_references_point_at_the_right_kind_of_resource(full_bundle) -> None:
    entries = by_url(full_bundle)

    def kind(ref: dict) -> str:
        return entries[ref["reference"]]["resourceType"]

    for appointment in resources(full_bundle, "Appointment"):
        kinds = [kind(p["actor"]) for p in appointment["participant"]]
        assert kinds[:3] == ["Patient", "Practitioner", "Location"]
    for encounter in resources(full_bundle, "Encounter"):
        assert kind(encounter["subject"]) == "Patient"
        assert kind(encounter["appointment"][0]) == "Appointment"
        assert kind(encounter["participant"][0]["individual"]) == "Practitioner"
    for role in resources(full_bundle, "PractitionerRole"):
        assert kind(role["practitioner"]) == "Practitioner"
    for consent in resources(full_bundle, "Consent"):
        assert kind(consent["patient"]) == "Patient"


def test_the_same_record_gets_the_same_ids_every_time(full_patient, full_bundle) -> None:
    again = patient_bundle(full_patient)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in full_bundle["entry"]]


def test_an_invalid_bundle_is_refused_before_it_leaves(full_patient, monkeypatch) -> None:
    def consent_without_scope(builder, consent) -> None:
        builder._add(f"consent/{consent.pk}", {"resourceType": "Consent", "status": "active"})

    monkeypatch.setattr(fhir_bundle._BundleBuilder, "_consent", consent_without_scope)
    with pytest.raises(pydantic.ValidationError):
        patient_bundle(full_patient)


# Codes and content


def test_patient_carries_product_id_name_birth_date_gender_telecom_and_address(
    full_patient, full_bundle
) -> None:
    (patient,) = resources(full_bundle, "Patient")
    assert patient["identifier"][0] == {
        "use": "usual",
        "system": fhir_bundle.PATIENT_ID_SYSTEM,
        "value": str(full_patient.pk),
    }
    assert patient["name"][0] == {"use": "official", "family": "Wright", "given": ["Hannah"]}
    assert patient["name"][1]["given"] == ["Han"]
    assert patient["birthDate"] == "1990-05-17"
    assert patient["gender"] == "female"
    assert {(t["system"], t["value"]) for t in patient["telecom"]} == {
        ("phone", "+447911123456"),
        ("email", "hannah.wright@example.com"),
    }
    assert patient["address"][0]["line"] == ["3 Mill Lane", "London"]
    assert patient["address"][0]["postalCode"] == "E8 1JR"


def test_practitioner_role_notes_a_current_dry_needling_certification(physio, full_bundle) -> None:
    practitioners = identified(full_bundle, "Practitioner", fhir_bundle.STAFF_ID_SYSTEM)
    assert len(practitioners) == 2
    certified = practitioners[str(physio.pk)]
    (qualification,) = certified["qualification"]
    assert codings(qualification["code"]) == {
        (fhir_bundle.QUALIFICATION_SYSTEM, fhir_bundle.DRY_NEEDLING_CERTIFICATION)
    }
    entries = by_url(full_bundle)
    roles = {
        entries[r["practitioner"]["reference"]]["id"]: r
        for r in resources(full_bundle, "PractitionerRole")
    }
    current = (fhir_bundle.QUALIFICATION_SYSTEM, fhir_bundle.DRY_NEEDLING_CERTIFIED)
    physio_codes = set().union(*(codings(c) for c in roles[certified["id"]]["code"]))
    assert current in physio_codes
    assert len(roles[certified["id"]]["location"]) == 2
    colleague = next(p for key, p in practitioners.items() if key != str(physio.pk))
    colleague_codes = set().union(*(codings(c) for c in roles[colleague["id"]].get("code", [])))
    assert current not in colleague_codes
    assert "qualification" not in colleague


def test_rooms_are_locations_part_of_their_location(full_bundle) -> None:
    entries = by_url(full_bundle)
    rooms = [loc for loc in resources(full_bundle, "Location") if "partOf" in loc]
    assert [room["name"] for room in rooms] == ["Treatment room 1"]
    assert entries[rooms[0]["partOf"]["reference"]]["name"] == "Riverside Clinic"


def test_appointment_statuses_map_to_fhir(full_patient, full_bundle) -> None:
    exported = identified(full_bundle, "Appointment", fhir_bundle.APPOINTMENT_ID_SYSTEM)
    expected = {
        Status.BOOKED: "booked",
        Status.ARRIVED: "arrived",
        Status.COMPLETED: "fulfilled",
        Status.CANCELLED: "cancelled",
        Status.NO_SHOW: "noshow",
    }
    for appointment in Appointment.objects.filter(patient=full_patient):
        resource = exported[str(appointment.pk)]
        assert resource["status"] == expected[appointment.status]
        assert resource["start"].startswith(appointment.local_start.isoformat()[:19])
        assert len(resource["participant"]) == 4 if appointment.room_id else 3
    assert {r["status"] for r in exported.values()} == set(expected.values())
    cancelled = next(r for r in exported.values() if r["status"] == "cancelled")
    assert cancelled["cancelationReason"]["text"] == "Unwell"


def test_each_visit_note_is_a_finished_ambulatory_encounter(full_bundle) -> None:
    encounters = resources(full_bundle, "Encounter")
    assert len(encounters) == 2
    for encounter in encounters:
        assert encounter["status"] == "finished"
        assert encounter["class"]["code"] == "AMB"
        assert encounter["class"]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def test_conditions_carry_icd10_cm_codes_and_laterality(full_bundle) -> None:
    conditions = resources(full_bundle, "Condition")
    found = {
        next(iter(codings(c["code"]))): (c["bodySite"][0]["text"], c["clinicalStatus"])
        for c in conditions
    }
    right = (reference.ICD10_CM_SYSTEM, reference.ICD10_PFPS["right"])
    left = (reference.ICD10_CM_SYSTEM, reference.ICD10_PFPS["left"])
    assert set(found) == {right, left}
    assert right == ("http://hl7.org/fhir/sid/icd-10-cm", "M22.2X1")
    assert found[right][0] == "Knee, right"
    assert found[left][0] == "Knee, left"
    assert codings(found[right][1]) == {(fhir_bundle.CONDITION_CLINICAL, "active")}
    assert codings(found[left][1]) == {(fhir_bundle.CONDITION_CLINICAL, "resolved")}


def test_every_nprs_is_a_loinc_observation_with_an_integer_value(full_bundle) -> None:
    observations = nprs(full_bundle)
    # Per episode: 4 assessment scores, 1 visit note, 2 taping and 2 orthoses scores.
    assert len(observations) == 2 * 9
    for observation in observations:
        assert (reference.LOINC_SYSTEM, "72514-3") in codings(observation["code"])
        assert isinstance(observation["valueInteger"], int)
        assert observation["effectiveDateTime"]
    contexts = Counter(
        coding["code"]
        for o in observations
        for coding in o["code"]["coding"]
        if coding["system"] == fhir_bundle.NPRS_CONTEXT_SYSTEM
    )
    assert contexts == {
        "worst": 4,
        "rest": 2,
        "activity": 2,
        "visit": 2,
        "taping-before": 2,
        "taping-after": 2,
        "orthoses-without": 2,
        "orthoses-with": 2,
    }


def test_kujala_and_tsk11_totals_use_the_products_code_system(full_patient, full_bundle) -> None:
    totals = Counter()
    for observation in resources(full_bundle, "Observation"):
        for system, code in codings(observation["code"]):
            if system == reference.OUTCOME_MEASURES_CODE_SYSTEM:
                totals[code] += 1
                assert isinstance(observation["valueInteger"], int)
                assert observation["derivedFrom"]
    assert totals == {reference.KUJALA_CODE: 4, reference.TSK11_CODE: 2}
    stored = set(
        OutcomeMeasure.objects.filter(assessment__episode__patient=full_patient).values_list(
            "total", flat=True
        )
    )
    exported = {
        o["valueInteger"]
        for o in resources(full_bundle, "Observation")
        if codings(o["code"]) & {(reference.OUTCOME_MEASURES_CODE_SYSTEM, reference.KUJALA_CODE)}
        or codings(o["code"]) & {(reference.OUTCOME_MEASURES_CODE_SYSTEM, reference.TSK11_CODE)}
    }
    assert exported == stored


def test_questionnaires_list_every_item_with_scored_answer_options(full_bundle) -> None:
    questionnaires = {q["url"]: q for q in resources(full_bundle, "Questionnaire")}
    kujala = questionnaires[reference.KUJALA_QUESTIONNAIRE_URL]
    assert [item["linkId"] for item in kujala["item"]] == [i.key for i in reference.KUJALA_ITEMS]
    for item, source in zip(kujala["item"], reference.KUJALA_ITEMS, strict=True):
        points = [
            (o["valueCoding"]["code"], o["extension"][0]["valueDecimal"])
            for o in item["answerOption"]
        ]
        assert points == [(option.key, option.points) for option in source.options]
        assert all(o["extension"][0]["url"] == ORDINAL_VALUE_URL for o in item["answerOption"])
    assert [(c["system"], c["code"]) for c in kujala["code"]] == [
        (reference.OUTCOME_MEASURES_CODE_SYSTEM, reference.KUJALA_CODE)
    ]
    tsk11 = questionnaires[reference.TSK11_QUESTIONNAIRE_URL]
    assert len(tsk11["item"]) == len(reference.TSK11_ITEMS) == 11
    assert [o["valueCoding"]["code"] for o in tsk11["item"][0]["answerOption"]] == [
        "1",
        "2",
        "3",
        "4",
    ]


def test_kujala_answer_codes_mean_the_same_in_every_item() -> None:
    labels: dict[str, set[str]] = {}
    for item in reference.KUJALA_ITEMS:
        for option in item.options:
            labels.setdefault(option.key, set()).add(option.label)
    assert all(len(texts) == 1 for texts in labels.values())


def test_questionnaire_responses_hold_the_stored_answers(full_patient, full_bundle) -> None:
    responses = identified(
        full_bundle, "QuestionnaireResponse", fhir_bundle.OUTCOME_MEASURE_ID_SYSTEM
    )
    measures = OutcomeMeasure.objects.filter(assessment__episode__patient=full_patient)
    assert len(responses) == measures.count() == 6
    for measure in measures:
        response = responses[str(measure.pk)]
        assert response["status"] == "completed"
        answers = {i["linkId"]: i["answer"][0]["valueCoding"]["code"] for i in response["item"]}
        assert answers == {key: str(value) for key, value in measure.answers.items()}
        if measure.measure == OutcomeMeasure.Measure.KUJALA:
            assert response["questionnaire"] == reference.KUJALA_QUESTIONNAIRE_URL
            assert len(answers) == 13
        else:
            assert response["questionnaire"] == reference.TSK11_QUESTIONNAIRE_URL
            assert len(answers) == 11


def test_care_plans_have_an_activity_per_intervention(full_patient, full_bundle) -> None:
    plans = identified(full_bundle, "CarePlan", fhir_bundle.PLAN_ID_SYSTEM)
    for plan in TreatmentPlan.objects.filter(episode__patient=full_patient):
        resource = plans[str(plan.pk)]
        assert resource["intent"] == "plan"
        assert resource["status"] == ("active" if plan.episode.is_open else "completed")
        kinds = [
            coding["code"]
            for activity in resource["activity"]
            for coding in activity["detail"]["code"]["coding"]
        ]
        assert sorted(kinds) == sorted(plan.interventions.values_list("kind", flat=True))
        assert set(kinds) == set(InterventionKind.values)
        for activity in resource["activity"]:
            assert activity["detail"]["status"] in {"in-progress", "completed"}
            assert activity["detail"]["description"]


def test_procedures_and_device_requests_for_their_kinds(full_bundle) -> None:
    procedures = resources(full_bundle, "Procedure")
    kinds = Counter(c["code"] for p in procedures for c in p["code"]["coding"])
    assert kinds == {"exercise": 2, "taping": 2, "dry_needling": 2}
    for procedure in procedures:
        assert procedure["status"] in {"completed", "in-progress"}
        assert procedure["performedPeriod"]["start"]
    taping = [p for p in procedures if p["code"]["coding"][0]["code"] == "taping"]
    assert {p["status"] for p in taping} == {"completed"}  # stopped after a week
    requests = resources(full_bundle, "DeviceRequest")
    assert Counter(c["code"] for r in requests for c in r["codeCodeableConcept"]["coding"]) == {
        "bracing": 2,
        "foot_orthoses": 2,
    }
    assert {r["intent"] for r in requests} == {"order"}


def test_dry_needling_consent_has_status_scope_category_patient_and_date(
    full_patient, full_bundle
) -> None:
    (consent,) = resources(full_bundle, "Consent")
    stored = DryNeedlingConsent.objects.get(patient=full_patient)
    assert consent["status"] == "active"
    assert codings(consent["scope"]) == {
        ("http://terminology.hl7.org/CodeSystem/consentscope", "treatment")
    }
    assert codings(consent["category"][0]) == {(reference.LOINC_SYSTEM, "59284-0")}
    assert consent["dateTime"] == stored.consented_on.isoformat()
    assert codings(consent["provision"]["code"][0]) == {
        (fhir_bundle.INTERVENTION_KINDS_SYSTEM, InterventionKind.DRY_NEEDLING)
    }


# Queries


def test_the_bundle_costs_the_same_queries_for_two_or_six_episodes(physio) -> None:
    small = patient_with_episodes(physio, 2, hour=9)
    large = patient_with_episodes(physio, 6, hour=14)
    costs = []
    for patient in (small, large):
        patient = Patient.objects.get(pk=patient.pk)
        with CaptureQueriesContext(connection) as queries:
            bundle = patient_bundle(patient)
        costs.append(len(queries))
        assert (
            len(resources(bundle, "Condition")) == Episode.objects.filter(patient=patient).count()
        )
    assert costs[0] == costs[1]
    assert costs[0] <= 15


# Download


def url(patient: Patient) -> str:
    return reverse("patients:fhir_export", args=[patient.pk])


def exports(patient: Patient):
    return AccessEvent.objects.filter(action=Action.EXPORT, patient_id=patient.pk)


def test_anonymous_visitors_are_sent_to_sign_in(client, minimal_patient) -> None:
    response = client.get(url(minimal_patient))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not exports(minimal_patient).exists()


@pytest.mark.parametrize("who", ["front_desk_client", "outsider_client"])
def test_front_desk_and_people_without_a_role_cannot_download(
    request, who, minimal_patient
) -> None:
    response = request.getfixturevalue(who).get(url(minimal_patient))
    assert response.status_code == 403
    assert not exports(minimal_patient).exists()


@pytest.mark.parametrize("who", ["physio_client", "manager_client"])
def test_physiotherapists_and_managers_download_a_logged_fhir_bundle(
    request, who, full_patient
) -> None:
    response = request.getfixturevalue(who).get(url(full_patient))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"patient-{full_patient.pk}-fhir-" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    Bundle.model_validate(json.loads(response.content))
    (entry,) = exports(full_patient)
    assert entry.object_type == "patients.patient"
    assert entry.object_id == str(full_patient.pk)
    assert entry.user.username == who.removesuffix("_client").replace("_", "")


def test_an_unknown_patient_is_not_found(physio_client) -> None:
    response = physio_client.get(reverse("patients:fhir_export", args=[999999]))
    assert response.status_code == 404


def test_the_download_accepts_only_get(physio_client, minimal_patient) -> None:
    assert physio_client.post(url(minimal_patient)).status_code == 405


@pytest.mark.parametrize(
    ("who", "shown"),
    [("physio_client", True), ("manager_client", True), ("front_desk_client", False)],
)
def test_the_patient_page_links_the_download_for_those_who_may(
    request, who, shown, minimal_patient
) -> None:
    page = request.getfixturevalue(who).get(minimal_patient.get_absolute_url())
    assert page.status_code == 200
    assert (url(minimal_patient) in page.content.decode()) is shown


def test_location_count_includes_each_room_and_location_once(full_patient, full_bundle) -> None:
    names = sorted(loc["name"] for loc in resources(full_bundle, "Location"))
    assert names == sorted([*Location.objects.values_list("name", flat=True), "Treatment room 1"])
