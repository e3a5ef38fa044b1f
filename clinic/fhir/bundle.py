"""A patient's whole record as one FHIR R4B Bundle (type "collection").

Every entry's ``fullUrl`` is ``urn:uuid:<uuid5 of the product's own id>``, so the same
record always gets the same ids, and every reference in the bundle points at one of them
(Questionnaires are the exception: their ``fullUrl`` is their canonical URL, which is
what a QuestionnaireResponse cites). The bundle is validated with ``fhir.resources.R4B``
before it is returned; that checks structure, not codes, so the tests check the codes.
"""

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from appointments.models import Appointment, Status
from clinic.models import Discipline, Location, Room, User
from patients.models import Patient, Sex
from treatments import reference
from treatments.models import (
    DETAIL_ACCESSORS,
    BodyRegion,
    DryNeedlingConsent,
    Episode,
    Intervention,
    InterventionKind,
    ObjectiveFinding,
    ObjectiveTest,
    OutcomeMeasure,
    Side,
    Unit,
    VisitNote,
)

from . import questionnaires

BASE = reference.PRODUCT_FHIR_BASE

# Identifier systems: the product's own ids.
PATIENT_ID_SYSTEM = f"{BASE}/sid/patient-id"
STAFF_ID_SYSTEM = f"{BASE}/sid/staff-id"
REGISTRATION_NUMBER_SYSTEM = f"{BASE}/sid/professional-registration-number"
LOCATION_ID_SYSTEM = f"{BASE}/sid/location-id"
ROOM_ID_SYSTEM = f"{BASE}/sid/room-id"
APPOINTMENT_ID_SYSTEM = f"{BASE}/sid/appointment-id"
VISIT_NOTE_ID_SYSTEM = f"{BASE}/sid/visit-note-id"
EPISODE_ID_SYSTEM = f"{BASE}/sid/episode-id"
PLAN_ID_SYSTEM = f"{BASE}/sid/treatment-plan-id"
INTERVENTION_ID_SYSTEM = f"{BASE}/sid/intervention-id"
CONSENT_ID_SYSTEM = f"{BASE}/sid/consent-id"
OUTCOME_MEASURE_ID_SYSTEM = f"{BASE}/sid/outcome-measure-id"

# The product's own code systems, for concepts no standard terminology covers exactly.
DISCIPLINE_SYSTEM = f"{BASE}/CodeSystem/discipline"
QUALIFICATION_SYSTEM = f"{BASE}/CodeSystem/qualification"
DRY_NEEDLING_CERTIFICATION = "dry-needling-certification"
DRY_NEEDLING_CERTIFIED = "dry-needling-certified"
INTERVENTION_KINDS_SYSTEM = f"{BASE}/CodeSystem/intervention-kind"
OBJECTIVE_TESTS_SYSTEM = f"{BASE}/CodeSystem/objective-test"
BODY_SITE_SYSTEM = f"{BASE}/CodeSystem/body-site"
SIDE_SYSTEM = f"{BASE}/CodeSystem/side"
NPRS_CONTEXT_SYSTEM = f"{BASE}/CodeSystem/nprs-context"
NPRS_CONTEXTS: dict[str, str] = {
    "worst": "Pain at worst",
    "rest": "Pain at rest",
    "activity": "Pain during the aggravating activity",
    "visit": "Pain on the day of the visit",
    "taping-before": "Pain on the provocative activity before taping",
    "taping-after": "Pain on the provocative activity after taping",
    "orthoses-without": "Pain on the provocative activity without foot orthoses",
    "orthoses-with": "Pain on the provocative activity with foot orthoses",
}

# HL7 terminology.
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
LOCATION_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
CONTACT_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/v2-0131"
UCUM = "http://unitsofmeasure.org"
CONSENT_CATEGORY_PATIENT_CONSENT = "59284-0"  # LOINC "Patient Consent"

GENDER: dict[str, str] = {
    Sex.FEMALE: "female",
    Sex.MALE: "male",
    Sex.INTERSEX: "other",
    Sex.UNKNOWN: "unknown",
}
APPOINTMENT_STATUS: dict[str, str] = {
    Status.BOOKED: "booked",
    Status.ARRIVED: "arrived",
    Status.COMPLETED: "fulfilled",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "noshow",
}
ENCOUNTER_STATUS: dict[str, str] = {
    Status.BOOKED: "planned",
    Status.ARRIVED: "in-progress",
    Status.COMPLETED: "finished",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "cancelled",
}
UCUM_UNITS: dict[str, tuple[str, str]] = {
    Unit.NEWTON: ("N", "N"),
    Unit.KILOGRAM: ("kg", "kg"),
    Unit.CENTIMETRE: ("cm", "cm"),
    Unit.DEGREE: ("deg", "degrees"),
    Unit.SCORE: ("{score}", "score"),
}
DEVICE_KINDS = frozenset({InterventionKind.BRACING, InterventionKind.FOOT_ORTHOSES})
PROCEDURE_KINDS = frozenset(
    {InterventionKind.TAPING, InterventionKind.DRY_NEEDLING, InterventionKind.EXERCISE}
)
MEASURES = {
    OutcomeMeasure.Measure.KUJALA: (
        reference.KUJALA_QUESTIONNAIRE_URL,
        reference.KUJALA_CODE,
        reference.KUJALA_DISPLAY,
        questionnaires.kujala_questionnaire,
        questionnaires.kujala_response_items,
    ),
    OutcomeMeasure.Measure.TSK11: (
        reference.TSK11_QUESTIONNAIRE_URL,
        reference.TSK11_CODE,
        reference.TSK11_DISPLAY,
        questionnaires.tsk11_questionnaire,
        questionnaires.tsk11_response_items,
    ),
}


def patient_bundle(patient: Patient) -> dict:
    """The patient's record as a validated FHIR R4B Bundle, ready for ``json.dumps``.

    Raises ``pydantic.ValidationError`` if the bundle does not validate.
    """
    data = _BundleBuilder(patient).build()
    Bundle.model_validate(data)
    return data


def urn(key: str) -> str:
    """The stable ``urn:uuid`` of one product record, e.g. ``urn("patient/12")``."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{BASE}/{key}')}"


def _ref(key: str, display: str = "") -> dict:
    return {"reference": urn(key), "display": display}


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, "display": display}


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict:
    return {"coding": [_coding(system, code, display)], "text": text or display}


def _identifier(system: str, value: object) -> list[dict]:
    return [{"system": system, "value": str(value)}]


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _instant(value: datetime.datetime | None, zone=None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value, zone).isoformat() if zone else value.isoformat()


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _icd10(code: str) -> str:
    """ICD-10-CM as FHIR expects it, with the dot: "M222X1" → "M22.2X1"."""
    code = code.strip().upper()
    return code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _prune(node):
    """Drop empty values (None, "", [], {}) so optional elements are simply absent."""
    if isinstance(node, dict):
        pruned = {key: _prune(value) for key, value in node.items()}
        return {key: value for key, value in pruned.items() if value not in (None, "", [], {})}
    if isinstance(node, list):
        pruned = [_prune(item) for item in node]
        return [item for item in pruned if item not in (None, "", [], {})]
    return node


class _BundleBuilder:
    def __init__(self, patient: Patient) -> None:
        self.patient = patient
        self.patient_key = f"patient/{patient.pk}"
        self.today = timezone.localdate()
        self.entries: dict[str, dict] = {}

    # Loading: a fixed number of queries however long the record is.

    def _load(self) -> None:
        patient = self.patient
        self.appointments = list(
            Appointment.objects.filter(patient=patient)
            .select_related("location", "room__location", "appointment_type")
            .order_by("starts_at", "pk")
        )
        interventions = Intervention.objects.select_related(
            *DETAIL_ACCESSORS.values(), "exerciseprescription__exercise", "dryneedling__consent"
        ).order_by("started_on", "pk")
        self.episodes = list(
            Episode.objects.filter(patient=patient)
            .select_related("plan")
            .prefetch_related(
                "assessments__measures",
                Prefetch("assessments__findings", ObjectiveFinding.objects.order_by("pk")),
                "plan__goals",
                Prefetch("plan__interventions", interventions),
            )
            .order_by("created_at", "pk")
        )
        self.notes = list(
            VisitNote.objects.filter(episode__patient=patient)
            .select_related(
                "appointment__location",
                "appointment__room__location",
                "appointment__appointment_type",
            )
            .order_by("appointment__starts_at", "pk")
        )
        self.consents = list(
            DryNeedlingConsent.objects.filter(patient=patient).order_by("consented_on", "pk")
        )
        clinician_ids = {a.clinician_id for a in self.appointments}
        for episode in self.episodes:
            clinician_ids.add(episode.clinician_id)
            clinician_ids.update(a.clinician_id for a in episode.assessments.all())
            plan = self._plan(episode)
            if plan is not None:
                clinician_ids.update(i.recorded_by_id for i in plan.interventions.all())
        for note in self.notes:
            clinician_ids.update(filter(None, (note.author_id, note.signed_by_id)))
        self.clinicians = list(
            User.objects.filter(pk__in=clinician_ids)
            .select_related("staff_profile")
            .prefetch_related("staff_profile__locations")
            .order_by("pk")
        )

    @staticmethod
    def _plan(episode: Episode):
        try:
            return episode.plan
        except ObjectDoesNotExist:
            return None

    # Assembly.

    def _add(self, key: str, resource: dict) -> dict:
        full_url = urn(key)
        resource_type = resource.pop("resourceType")
        self.entries.setdefault(
            full_url,
            {"resourceType": resource_type, "id": full_url.removeprefix("urn:uuid:"), **resource},
        )
        return {"reference": full_url}

    def build(self) -> dict:
        self._load()
        self._patient()
        for user in self.clinicians:
            self._practitioner(user)
        for appointment in self.appointments:
            self._appointment(appointment)
        for episode in self.episodes:
            self._episode(episode)
        for note in self.notes:
            self._encounter(note)
        for consent in self.consents:
            self._consent(consent)
        return _prune(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "timestamp": timezone.now().isoformat(),
                "entry": [
                    {"fullUrl": full_url, "resource": resource}
                    for full_url, resource in self.entries.items()
                ],
            }
        )

    def _patient(self) -> None:
        p = self.patient
        names = [{"use": "official", "family": p.last_name, "given": [p.first_name]}]
        if p.preferred_name and p.preferred_name != p.first_name:
            names.append({"use": "usual", "family": p.last_name, "given": [p.preferred_name]})
        telecom = []
        if p.phone:
            telecom.append({"system": "phone", "value": p.phone, "use": "mobile"})
        if p.email:
            telecom.append({"system": "email", "value": p.email})
        address = {}
        if p.address or p.postcode:
            address = {
                "text": ", ".join(filter(None, [*p.address.splitlines(), p.postcode])),
                "line": [line.strip() for line in p.address.splitlines() if line.strip()],
                "postalCode": p.postcode,
            }
        contact = {}
        if p.emergency_contact_name:
            contact = {
                "relationship": [
                    _concept(CONTACT_RELATIONSHIP, "C", "Emergency Contact"),
                    {"text": p.emergency_contact_relationship},
                ],
                "name": {"text": p.emergency_contact_name},
                "telecom": [{"system": "phone", "value": p.emergency_contact_phone}],
            }
        self._add(
            self.patient_key,
            {
                "resourceType": "Patient",
                "identifier": [{"use": "usual", "system": PATIENT_ID_SYSTEM, "value": str(p.pk)}],
                "active": not p.is_archived,
                "name": names,
                "telecom": telecom,
                "gender": GENDER.get(p.sex, "unknown"),
                "birthDate": _date(p.date_of_birth),
                "address": [address],
                "contact": [contact],
            },
        )

    def _practitioner(self, user: User) -> None:
        profile = getattr(user, "staff_profile", None)
        identifiers = _identifier(STAFF_ID_SYSTEM, user.pk)
        qualifications, role_codes, locations = [], [], []
        if profile is not None:
            if profile.registration_number:
                identifiers += _identifier(REGISTRATION_NUMBER_SYSTEM, profile.registration_number)
            role_codes.append(
                _concept(
                    DISCIPLINE_SYSTEM,
                    profile.discipline,
                    Discipline(profile.discipline).label,
                )
            )
            if profile.dry_needling_certified_on:
                qualifications.append(
                    {
                        "code": _concept(
                            QUALIFICATION_SYSTEM,
                            DRY_NEEDLING_CERTIFICATION,
                            "Dry-needling certification",
                        ),
                        "period": {
                            "start": _date(profile.dry_needling_certified_on),
                            "end": _date(profile.dry_needling_expires_on),
                        },
                    }
                )
            if profile.dry_needling_certified(self.today):
                role_codes.append(
                    _concept(
                        QUALIFICATION_SYSTEM,
                        DRY_NEEDLING_CERTIFIED,
                        "Holds a current dry-needling certification",
                    )
                )
            locations = [self._location(location) for location in profile.locations.all()]
        key = f"practitioner/{user.pk}"
        self._add(
            key,
            {
                "resourceType": "Practitioner",
                "identifier": identifiers,
                "active": user.is_active,
                "name": [
                    {
                        "family": user.last_name,
                        "given": [user.first_name],
                        "text": str(user),
                    }
                ],
                "qualification": qualifications,
            },
        )
        self._add(
            f"practitioner-role/{user.pk}",
            {
                "resourceType": "PractitionerRole",
                "active": user.is_active,
                "practitioner": _ref(key, str(user)),
                "code": role_codes,
                "location": locations,
            },
        )

    def _location(self, location: Location) -> dict:
        lines = [line.strip() for line in location.address.splitlines() if line.strip()]
        return self._add(
            f"location/{location.pk}",
            {
                "resourceType": "Location",
                "identifier": _identifier(LOCATION_ID_SYSTEM, location.pk),
                "status": "active",
                "name": location.name,
                "mode": "instance",
                "telecom": [{"system": "phone", "value": location.phone}],
                "address": {"text": ", ".join(lines), "line": lines},
                "physicalType": _concept(LOCATION_PHYSICAL_TYPE, "si", "Site"),
            },
        ) | {"display": location.name}

    def _room(self, room: Room) -> dict:
        return self._add(
            f"room/{room.pk}",
            {
                "resourceType": "Location",
                "identifier": _identifier(ROOM_ID_SYSTEM, room.pk),
                "status": "active" if room.active else "inactive",
                "name": room.name,
                "mode": "instance",
                "physicalType": _concept(LOCATION_PHYSICAL_TYPE, "ro", "Room"),
                "partOf": self._location(room.location),
            },
        ) | {"display": str(room)}

    def _practitioner_ref(self, user_id: int | None) -> dict | None:
        return {"reference": urn(f"practitioner/{user_id}")} if user_id else None

    def _patient_ref(self) -> dict:
        return {"reference": urn(self.patient_key)}

    def _appointment(self, appointment: Appointment) -> None:
        zone = appointment.location.zone
        actors = [
            self._patient_ref(),
            self._practitioner_ref(appointment.clinician_id),
            self._location(appointment.location),
        ]
        if appointment.room is not None:
            actors.append(self._room(appointment.room))
        self._add(
            f"appointment/{appointment.pk}",
            {
                "resourceType": "Appointment",
                "identifier": _identifier(APPOINTMENT_ID_SYSTEM, appointment.pk),
                "status": APPOINTMENT_STATUS[appointment.status],
                "cancelationReason": {"text": appointment.cancellation_reason}
                if appointment.status == Status.CANCELLED
                else None,
                "serviceType": [{"text": appointment.appointment_type.name}],
                "start": _instant(appointment.starts_at, zone),
                "end": _instant(appointment.ends_at, zone),
                "minutesDuration": int(appointment.duration.total_seconds() // 60),
                "created": _instant(appointment.created_at),
                "comment": appointment.notes,
                "participant": [{"actor": actor, "status": "accepted"} for actor in actors],
            },
        )

    def _encounter(self, note: VisitNote) -> None:
        appointment = note.appointment
        zone = appointment.location.zone
        where = self._room(appointment.room) if appointment.room else None
        where = where or self._location(appointment.location)
        individuals = dict.fromkeys(filter(None, (note.author_id, note.signed_by_id)))
        key = f"encounter/{note.pk}"
        self._add(
            key,
            {
                "resourceType": "Encounter",
                "identifier": _identifier(VISIT_NOTE_ID_SYSTEM, note.pk),
                "status": ENCOUNTER_STATUS[appointment.status],
                "class": _coding(V3_ACT_CODE, "AMB", "ambulatory"),
                "serviceType": {"text": appointment.appointment_type.name},
                "subject": self._patient_ref(),
                "participant": [
                    {"individual": self._practitioner_ref(user_id)} for user_id in individuals
                ],
                "appointment": [{"reference": urn(f"appointment/{appointment.pk}")}],
                "period": {
                    "start": _instant(appointment.starts_at, zone),
                    "end": _instant(appointment.ends_at, zone),
                },
                "diagnosis": [{"condition": _ref(f"condition/{note.episode_id}")}],
                "location": [{"location": where}],
            },
        )
        if note.nprs is not None:
            self._nprs(
                f"note/{note.pk}/visit",
                note.nprs,
                "visit",
                _instant(appointment.starts_at, zone),
                performer=note.author_id,
                status="final" if note.is_signed else "preliminary",
                encounter=key,
            )

    def _episode(self, episode: Episode) -> None:
        condition = self._condition(episode)
        for assessment in episode.assessments.all():
            effective = _date(assessment.assessed_on)
            for context in ("worst", "rest", "activity"):
                value = getattr(assessment, f"nprs_{context}")
                if value is not None:
                    self._nprs(
                        f"assessment/{assessment.pk}/{context}",
                        value,
                        context,
                        effective,
                        performer=assessment.clinician_id,
                    )
            for finding in assessment.findings.all():
                self._finding(finding, effective, assessment.clinician_id)
            for measure in assessment.measures.all():
                self._measure(measure, effective, assessment.clinician_id)
        plan = self._plan(episode)
        if plan is not None:
            self._care_plan(episode, plan, condition)

    def _condition(self, episode: Episode) -> dict:
        code = _icd10(episode.icd10_code) if episode.icd10_code else ""
        region = BodyRegion(episode.body_region).label
        if episode.side == Side.NOT_APPLICABLE:
            site_code, site_text = episode.body_region, region
        else:
            site_code = f"{episode.body_region}-{episode.side}"
            site_text = f"{region}, {Side(episode.side).label.lower()}"
        clinician = self._practitioner_ref(episode.clinician_id)
        return self._add(
            f"condition/{episode.pk}",
            {
                "resourceType": "Condition",
                "identifier": _identifier(EPISODE_ID_SYSTEM, episode.pk),
                "clinicalStatus": _concept(
                    CONDITION_CLINICAL, "active" if episode.is_open else "resolved"
                ),
                "verificationStatus": _concept(
                    CONDITION_VERIFICATION, "confirmed" if code else "provisional"
                ),
                "category": [
                    _concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
                ],
                "code": {
                    "coding": [
                        _coding(
                            reference.ICD10_CM_SYSTEM,
                            code,
                            reference.ICD10_PFPS_DISPLAY.get(code, ""),
                        )
                    ]
                    if code
                    else [],
                    "text": episode.diagnosis or episode.title,
                },
                "bodySite": [_concept(BODY_SITE_SYSTEM, site_code, site_text)],
                "subject": self._patient_ref(),
                "onsetDateTime": _date(episode.onset_date),
                "abatementDateTime": _date(episode.discharged_on),
                "recordedDate": _instant(episode.created_at),
                "recorder": clinician,
                "asserter": clinician,
                "note": [{"text": episode.title}, {"text": episode.discharge_notes}],
            },
        )

    def _nprs(
        self,
        key: str,
        value: int,
        context: str,
        effective: str | None,
        *,
        performer: int | None,
        status: str = "final",
        encounter: str | None = None,
        part_of: dict | None = None,
        based_on: dict | None = None,
    ) -> None:
        label = NPRS_CONTEXTS[context]
        self._add(
            f"observation/{key}",
            {
                "resourceType": "Observation",
                "status": status,
                "basedOn": [based_on],
                "partOf": [part_of],
                "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
                "code": {
                    "coding": [
                        _coding(
                            reference.LOINC_SYSTEM,
                            reference.LOINC_NPRS,
                            reference.LOINC_NPRS_DISPLAY,
                        ),
                        _coding(NPRS_CONTEXT_SYSTEM, context, label),
                    ],
                    "text": label,
                },
                "subject": self._patient_ref(),
                "encounter": {"reference": urn(encounter)} if encounter else None,
                "effectiveDateTime": effective,
                "performer": [self._practitioner_ref(performer)],
                "valueInteger": value,
            },
        )

    def _finding(self, finding: ObjectiveFinding, effective: str | None, performer: int) -> None:
        label = ObjectiveTest(finding.test).label
        components = []
        for side in (Side.LEFT, Side.RIGHT):
            number = getattr(finding, f"{side}_value")
            text = getattr(finding, f"{side}_text")
            component = {"code": _concept(SIDE_SYSTEM, side, Side(side).label, f"{label}, {side}")}
            if number is not None and finding.unit in UCUM_UNITS:
                code, unit = UCUM_UNITS[finding.unit]
                component["valueQuantity"] = {
                    "value": _number(number),
                    "unit": unit,
                    "system": UCUM,
                    "code": code,
                }
            elif text or number is not None:
                component["valueString"] = text or str(number)
            else:
                continue
            components.append(component)
        self._add(
            f"observation/finding/{finding.pk}",
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [_concept(OBSERVATION_CATEGORY, "exam", "Exam")],
                "code": _concept(OBJECTIVE_TESTS_SYSTEM, finding.test, label),
                "subject": self._patient_ref(),
                "effectiveDateTime": effective,
                "performer": [self._practitioner_ref(performer)],
                "note": [{"text": finding.note}],
                "component": components,
            },
        )

    def _measure(self, measure: OutcomeMeasure, effective: str | None, performer: int) -> None:
        canonical, code, display, questionnaire, response_items = MEASURES[measure.measure]
        self.entries.setdefault(canonical, questionnaire())
        response = self._add(
            f"questionnaire-response/{measure.pk}",
            {
                "resourceType": "QuestionnaireResponse",
                "identifier": {"system": OUTCOME_MEASURE_ID_SYSTEM, "value": str(measure.pk)},
                "questionnaire": canonical,
                "status": "completed",
                "subject": self._patient_ref(),
                "authored": effective,
                "author": self._practitioner_ref(performer),
                "source": self._patient_ref(),
                "item": response_items(measure.answers),
            },
        )
        self._add(
            f"observation/measure/{measure.pk}",
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
                "code": _concept(reference.OUTCOME_MEASURES_CODE_SYSTEM, code, display),
                "subject": self._patient_ref(),
                "effectiveDateTime": effective,
                "performer": [self._practitioner_ref(performer)],
                "valueInteger": measure.total,
                "derivedFrom": [response],
            },
        )

    def _care_plan(self, episode: Episode, plan, condition: dict) -> None:
        key = f"care-plan/{plan.pk}"
        goals = [self._goal(goal, episode, condition) for goal in plan.goals.all()]
        activities = [
            self._activity(intervention, episode, key, condition)
            for intervention in plan.interventions.all()
        ]
        sessions = f"{plan.planned_sessions} sessions" if plan.planned_sessions else ""
        starts = [i.started_on for i in plan.interventions.all()]
        starts.append(timezone.localdate(plan.created_at))
        self._add(
            key,
            {
                "resourceType": "CarePlan",
                "identifier": _identifier(PLAN_ID_SYSTEM, plan.pk),
                "status": "active" if episode.is_open else "completed",
                "intent": "plan",
                "title": f"Treatment plan: {episode.title}",
                "description": ", ".join(filter(None, [plan.planned_frequency, sessions])),
                "subject": self._patient_ref(),
                "period": {
                    "start": _date(min(starts)),
                    "end": _date(episode.discharged_on),
                },
                "created": _instant(plan.created_at),
                "author": self._practitioner_ref(episode.clinician_id),
                "addresses": [condition],
                "goal": goals,
                "activity": activities,
            },
        )

    def _goal(self, goal, episode: Episode, condition: dict) -> dict:
        if goal.achieved_on:
            achievement = "achieved"
        else:
            achievement = "in-progress" if episode.is_open else "not-achieved"
        return self._add(
            f"goal/{goal.pk}",
            {
                "resourceType": "Goal",
                "lifecycleStatus": "active"
                if episode.is_open and not goal.achieved_on
                else "completed",
                "achievementStatus": _concept(GOAL_ACHIEVEMENT, achievement),
                "description": {"text": goal.description},
                "subject": self._patient_ref(),
                "target": [{"dueDate": _date(goal.target_date)}],
                "statusDate": _date(goal.achieved_on),
                "addresses": [condition],
            },
        )

    def _activity(
        self, intervention: Intervention, episode: Episode, plan_key: str, condition: dict
    ) -> dict:
        detail = intervention.detail()
        kind = intervention.kind
        finished = intervention.stopped_on is not None or not episode.is_open
        code = _concept(
            INTERVENTION_KINDS_SYSTEM,
            kind,
            InterventionKind(kind).label,
            _summary(detail),
        )
        period = {"start": _date(intervention.started_on), "end": _date(intervention.stopped_on)}
        common = {
            "identifier": _identifier(INTERVENTION_ID_SYSTEM, intervention.pk),
            "basedOn": [{"reference": urn(plan_key)}],
            "subject": self._patient_ref(),
            "reasonReference": [condition],
            "note": [{"text": intervention.notes}],
        }
        outcome = []
        if kind in PROCEDURE_KINDS:
            outcome.append(self._procedure(detail, code, period, finished, common))
        elif kind in DEVICE_KINDS:
            self._device_request(detail, code, period, finished, common)
        return {
            "outcomeReference": outcome,
            "detail": {
                "kind": "DeviceRequest" if kind in DEVICE_KINDS else "ServiceRequest",
                "code": code,
                "status": "completed" if finished else "in-progress",
                "scheduledPeriod": period,
                "performer": [self._practitioner_ref(intervention.recorded_by_id)],
                "description": _summary(detail),
            },
        }

    def _procedure(self, detail, code: dict, period: dict, finished: bool, common: dict) -> dict:
        key = f"procedure/{detail.pk}"
        performer = self._practitioner_ref(detail.recorded_by_id)
        resource = {
            "resourceType": "Procedure",
            **common,
            "status": "completed" if finished else "in-progress",
            "code": code,
            "performedPeriod": period,
            "recorder": performer,
            "performer": [{"actor": performer}],
        }
        if detail.kind == InterventionKind.DRY_NEEDLING:
            resource["bodySite"] = [{"text": detail.muscles}]
            resource["outcome"] = {"text": detail.response}
            resource["complication"] = [{"text": detail.adverse_events}]
        reference_ = self._add(key, resource)
        if detail.kind == InterventionKind.TAPING:
            for context, value in (
                ("taping-before", detail.pain_before),
                ("taping-after", detail.pain_after),
            ):
                if value is not None:
                    self._nprs(
                        f"intervention/{detail.pk}/{context}",
                        value,
                        context,
                        period["start"],
                        performer=detail.recorded_by_id,
                        part_of=reference_,
                    )
        return reference_

    def _device_request(
        self, detail, code: dict, period: dict, finished: bool, common: dict
    ) -> None:
        reference_ = self._add(
            f"device-request/{detail.pk}",
            {
                "resourceType": "DeviceRequest",
                **common,
                "status": "completed" if finished else "active",
                "intent": "order",
                "codeCodeableConcept": code,
                "occurrencePeriod": period,
                "authoredOn": period["start"],
                "requester": self._practitioner_ref(detail.recorded_by_id),
            },
        )
        if detail.kind == InterventionKind.FOOT_ORTHOSES:
            for context, value in (
                ("orthoses-without", detail.pain_without),
                ("orthoses-with", detail.pain_with),
            ):
                self._nprs(
                    f"intervention/{detail.pk}/{context}",
                    value,
                    context,
                    period["start"],
                    performer=detail.recorded_by_id,
                    based_on=reference_,
                )

    def _consent(self, consent: DryNeedlingConsent) -> None:
        dry_needling = InterventionKind.DRY_NEEDLING
        self._add(
            f"consent/{consent.pk}",
            {
                "resourceType": "Consent",
                "identifier": _identifier(CONSENT_ID_SYSTEM, consent.pk),
                "status": "inactive" if consent.withdrawn_on else "active",
                "scope": _concept(CONSENT_SCOPE, "treatment", "Treatment"),
                "category": [
                    _concept(
                        reference.LOINC_SYSTEM, CONSENT_CATEGORY_PATIENT_CONSENT, "Patient Consent"
                    )
                ],
                "patient": self._patient_ref(),
                "dateTime": _date(consent.consented_on),
                "performer": [self._patient_ref()],
                "sourceAttachment": {"title": consent.get_method_display()},
                "policyRule": _concept(V3_ACT_CODE, "OPTIN", "opt-in"),
                "provision": {
                    "type": "permit",
                    "period": {
                        "start": _date(consent.consented_on),
                        "end": _date(consent.withdrawn_on),
                    },
                    "code": [
                        _concept(
                            INTERVENTION_KINDS_SYSTEM,
                            dry_needling,
                            InterventionKind(dry_needling).label,
                        )
                    ],
                },
            },
        )


def _summary(detail: Intervention) -> str:
    """One line saying what was done or prescribed, for CarePlan and Procedure texts."""
    kind = detail.kind
    if kind == InterventionKind.EXERCISE:
        parts: Iterable[str] = [f"{detail.exercise.name}: {detail.dose}", detail.progression]
    elif kind == InterventionKind.TAPING:
        parts = [f"{detail.get_tape_type_display()}: {detail.technique}", detail.tailoring]
    elif kind == InterventionKind.BRACING:
        parts = [detail.get_brace_type_display(), detail.product, detail.wearing_schedule]
    elif kind == InterventionKind.FOOT_ORTHOSES:
        parts = [
            f"{detail.get_construction_display()} foot orthoses",
            detail.product,
            f"recommendation: {detail.recommendation}" if detail.recommendation else "",
        ]
    elif kind == InterventionKind.DRY_NEEDLING:
        parts = [f"Dry needling of {detail.muscles}", f"{detail.needle_count} needle(s)"]
    elif kind == InterventionKind.MOVEMENT_RETRAINING:
        parts = [f"{detail.get_method_display()}: {detail.cues}"]
    elif kind == InterventionKind.EDUCATION:
        labels = dict(type(detail).Topic.choices)
        parts = [labels.get(topic, topic) for topic in detail.topics]
    elif kind == InterventionKind.SOFT_TISSUE:
        parts = [f"{detail.technique} ({detail.area})"]
    else:
        parts = [InterventionKind(kind).label]
    return "; ".join(part for part in parts if part)
