"""Object-level authorization: an id that belongs elsewhere reaches nothing and changes nothing.

Every URL that takes an object id is tried with ids of another patient or another parent
(an episode of patient B under patient A, an assessment of another episode, an
intervention of another plan, a note of another patient) and with ids in POST bodies that
point elsewhere. The answer is always 404 or 403 — or a form error — and every clinical,
scheduling and registry row is exactly as it was.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core import signing
from django.db import models
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentStatusChange,
    OutboxMessage,
    Source,
    Status,
    WaitlistEntry,
)
from appointments.online_services import MANAGE_SALT, manage_token
from clinic.roles import ROLE_PERMISSIONS, Role
from patients.models import Patient
from treatments import services
from treatments.models import (
    Addendum,
    Assessment,
    DryNeedlingConsent,
    Episode,
    Goal,
    Intervention,
    ObjectiveFinding,
    OutcomeMeasure,
    TreatmentPlan,
    VisitNote,
)

from ..appointments.factories import AppointmentFactory, AppointmentTypeFactory, works_every_day
from ..factories import LocationFactory, PatientFactory, RoomFactory, UserFactory
from ..test_access_matrix import ACCESS, LOGIN, ROLES, _outcome, all_url_names
from ..test_access_matrix import clients as clients
from ..test_access_matrix import objects as objects
from ..treatments.factories import AssessmentFactory
from ..treatments.note_factories import draft_note, episode_for, exercise_in_plan, visit_for

#: Rows that must not change when a request is refused (the access log is meant to grow).
WATCHED: tuple[type[models.Model], ...] = (
    Patient,
    Appointment,
    AppointmentStatusChange,
    WaitlistEntry,
    OutboxMessage,
    Episode,
    Assessment,
    ObjectiveFinding,
    OutcomeMeasure,
    TreatmentPlan,
    Goal,
    Intervention,
    DryNeedlingConsent,
    VisitNote,
    VisitNote.delivered.through,
    Addendum,
)


def snapshot() -> dict[str, list[dict]]:
    """Every watched row, every column (``updated_at`` included)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values()) for model in WATCHED
    }


HOURS = datetime.timedelta(hours=1)


@pytest.fixture
def world(db, physio) -> dict:
    """Patients A and B, each with episodes, assessments, plans, notes and appointments."""
    a = PatientFactory(first_name="Ann", last_name="Able")
    b = PatientFactory(first_name="Ben", last_name="Baker")
    episode_a = episode_for(a, physio)
    episode_a2 = episode_for(a, physio, title="Left hip pain")
    episode_b = episode_for(b, physio)
    b_visit = visit_for(b, physio, ago=3 * HOURS)
    signed_b = services.note_sign(
        note=draft_note(visit_for(b, physio, ago=5 * HOURS), episode_b, physio), by=physio
    )
    location = LocationFactory(name="Riverside")
    room_elsewhere = RoomFactory(location=LocationFactory(name="Hilltop"))
    works_every_day(physio, location)
    kind = AppointmentTypeFactory(name="Follow-up")
    cancelled = AppointmentFactory(
        patient=a,
        clinician=physio,
        location=location,
        appointment_type=kind,
        status=Status.CANCELLED,
        starts_at=timezone.now() + datetime.timedelta(days=2),
    )
    archived = PatientFactory(first_name="Arch", last_name="Ived")
    archived.archived_at = timezone.now()
    archived.save()
    return {
        "a": a,
        "b": b,
        "archived": archived,
        "episode_a": episode_a,
        "episode_a2": episode_a2,
        "episode_b": episode_b,
        "assessment_a": AssessmentFactory(episode=episode_a, clinician=physio),
        "assessment_a2": AssessmentFactory(episode=episode_a2, clinician=physio),
        "assessment_b": AssessmentFactory(episode=episode_b, clinician=physio),
        "intervention_a": exercise_in_plan(episode_a, physio),
        "intervention_a2": exercise_in_plan(episode_a2, physio, name="Bridges"),
        "intervention_b": exercise_in_plan(episode_b, physio, name="Wall squats"),
        "goal_b": services.goal_add(
            goal=Goal(description="Run 5 km"), plan=episode_b.plan, by=physio
        ),
        "note_a": draft_note(visit_for(a, physio, ago=HOURS), episode_a, physio),
        "note_b": draft_note(b_visit, episode_b, physio),
        "signed_b": signed_b,
        "visit_a": visit_for(a, physio, ago=7 * HOURS),
        "location": location,
        "room_elsewhere": room_elsewhere,
        "kind": kind,
        "cancelled": cancelled,
        "mismatched_entry": WaitlistEntry.objects.create(
            patient=b, appointment_type=kind, location=room_elsewhere.location
        ),
        "online_b": AppointmentFactory(
            patient=b,
            clinician=physio,
            location=location,
            appointment_type=kind,
            source=Source.ONLINE,
            starts_at=timezone.now() + datetime.timedelta(days=4),
        ),
        "desk_b": AppointmentFactory(
            patient=b,
            clinician=physio,
            location=location,
            appointment_type=kind,
            starts_at=timezone.now() + datetime.timedelta(days=5),
        ),
        "registration": PatientFactory(
            first_name="Ann", last_name="Able", registered_online=True, needs_review=True
        ),
        "physio": physio,
    }


def _booking(w: dict, **overrides) -> dict:
    day = timezone.localdate() + datetime.timedelta(days=10)
    return {
        "patient": w["a"].pk,
        "appointment_type": w["kind"].pk,
        "location": w["location"].pk,
        "clinician": w["physio"].pk,
        "date": day.isoformat(),
        "time": "10:00",
        **overrides,
    }


def _note_fields(**overrides) -> dict:
    return {
        "subjective": "Changed",
        "objective": "",
        "assessment": "",
        "plan": "",
        "nprs": "3",
        "adherence": "all",
        **overrides,
    }


@dataclass
class Case:
    """A request with an id that belongs elsewhere, by someone who may use the URL."""

    name: str
    role: str
    url: Callable[[dict], str]
    method: str = "get"
    data: Callable[[dict], dict] = field(default=lambda w: {})
    expect: frozenset[int] = frozenset({404})


def _u(name: str, *keys: str, extra: tuple = ()) -> Callable[[dict], str]:
    return lambda w: reverse(name, args=[*(w[k].pk for k in keys), *extra])


EPISODE_OF_B_UNDER_A = ("a", "episode_b")

CASES: list[Case] = [
    # An episode of patient B under patient A's URL.
    *[
        Case(f"treatments:{name}", "physio", _u(f"treatments:{name}", *EPISODE_OF_B_UNDER_A))
        for name in (
            "episode",
            "episode_update",
            "episode_discharge",
            "episode_chart",
            "assessment_create",
            "plan",
            "handout",
            "handout_pdf",
        )
    ],
    Case(
        "treatments:episode_update",
        "physio",
        _u("treatments:episode_update", *EPISODE_OF_B_UNDER_A),
        "post",
        lambda w: {"title": "Changed", "body_region": "knee", "side": "left"},
    ),
    Case(
        "treatments:episode_discharge",
        "physio",
        _u("treatments:episode_discharge", *EPISODE_OF_B_UNDER_A),
        "post",
        lambda w: {
            "outcome": "goals_met",
            "discharged_on": timezone.localdate().isoformat(),
            "notes": "",
        },
    ),
    Case(
        "treatments:assessment_create",
        "physio",
        _u("treatments:assessment_create", *EPISODE_OF_B_UNDER_A),
        "post",
        lambda w: {"kind": "reassessment", "assessed_on": timezone.localdate().isoformat()},
    ),
    Case(
        "treatments:plan",
        "physio",
        _u("treatments:plan", *EPISODE_OF_B_UNDER_A),
        "post",
        lambda w: {"action": "plan", "planned_frequency": "daily", "planned_sessions": "9"},
    ),
    Case(
        "treatments:intervention_create",
        "physio",
        _u("treatments:intervention_create", *EPISODE_OF_B_UNDER_A, extra=("education",)),
    ),
    Case(
        "treatments:intervention_create",
        "physio",
        _u("treatments:intervention_create", *EPISODE_OF_B_UNDER_A, extra=("education",)),
        "post",
        lambda w: {"topics": ["load_management"], "started_on": timezone.localdate().isoformat()},
    ),
    Case(
        "treatments:handout_email",
        "physio",
        _u("treatments:handout_email", *EPISODE_OF_B_UNDER_A),
        "post",
    ),
    # An assessment of another patient, and of another episode of the same patient.
    Case(
        "treatments:assessment",
        "physio",
        _u("treatments:assessment", "a", "episode_a", "assessment_b"),
    ),
    Case(
        "treatments:assessment",
        "physio",
        _u("treatments:assessment", "a", "episode_a", "assessment_a2"),
    ),
    Case(
        "treatments:referral_decision",
        "physio",
        _u("treatments:referral_decision", "a", "episode_a", "assessment_b"),
        "post",
        lambda w: {"decision": "refer_gp", "reason": "Changed"},
    ),
    Case(
        "treatments:referral_decision",
        "physio",
        _u("treatments:referral_decision", "a", "episode_a", "assessment_a2"),
        "post",
        lambda w: {"decision": "refer_gp", "reason": "Changed"},
    ),
    # An intervention from another plan: another patient's, or another episode's.
    Case(
        "treatments:intervention_stop",
        "physio",
        _u("treatments:intervention_stop", "a", "episode_a", "intervention_b"),
        "post",
    ),
    Case(
        "treatments:intervention_stop",
        "physio",
        _u("treatments:intervention_stop", "a", "episode_a", "intervention_a2"),
        "post",
    ),
    # A goal of another plan in the plan page's POST body.
    Case(
        "treatments:plan",
        "physio",
        _u("treatments:plan", "a", "episode_a"),
        "post",
        lambda w: {"action": "goal_achieved", "goal": w["goal_b"].pk},
    ),
    # A note of another patient.
    Case("treatments:note", "physio", _u("treatments:note", "a", "note_b")),
    Case(
        "treatments:note",
        "physio",
        _u("treatments:note", "a", "note_b"),
        "post",
        lambda w: _note_fields(),
    ),
    Case("treatments:note_sign", "physio", _u("treatments:note_sign", "a", "note_b"), "post"),
    Case(
        "treatments:addendum_create",
        "physio",
        _u("treatments:addendum_create", "a", "signed_b"),
        "post",
        lambda w: {"text": "Changed"},
    ),
    # Delivered interventions from another plan in a note's POST body: a form error.
    Case(
        "treatments:note",
        "physio",
        _u("treatments:note", "a", "note_a"),
        "post",
        lambda w: _note_fields(delivered=[w["intervention_b"].pk]),
        frozenset({200}),
    ),
    Case(
        "treatments:note",
        "physio",
        _u("treatments:note", "a", "note_a"),
        "post",
        lambda w: _note_fields(delivered=[w["intervention_a2"].pk]),
        frozenset({200}),
    ),
    # A new note for A's visit naming B's episode, or B's intervention.
    Case(
        "treatments:note_for_appointment",
        "physio",
        _u("treatments:note_for_appointment", "visit_a"),
        "post",
        lambda w: _note_fields(episode=w["episode_b"].pk),
        frozenset({200}),
    ),
    Case(
        "treatments:note_for_appointment",
        "physio",
        _u("treatments:note_for_appointment", "visit_a"),
        "post",
        lambda w: _note_fields(episode=w["episode_a"].pk, delivered=[w["intervention_b"].pk]),
        frozenset({200}),
    ),
    Case(
        "treatments:note_for_appointment",
        "physio",
        _u("treatments:note_for_appointment", "visit_a"),
        "post",
        lambda w: _note_fields(episode=w["episode_a"].pk, delivered=[w["intervention_a2"].pk]),
        frozenset({200}),
    ),
    # Opening clinical records for an archived patient changes nothing.
    Case(
        "treatments:episode_create",
        "physio",
        _u("treatments:episode_create", "archived"),
        "post",
        lambda w: {"title": "Changed", "body_region": "knee", "side": "left"},
        frozenset({302}),
    ),
    Case(
        "treatments:consent_create",
        "physio",
        lambda w: reverse("treatments:consent_create", args=[10**9]),
        "post",
        lambda w: {"consented_on": timezone.localdate().isoformat(), "method": "written_paper"},
    ),
    # Scheduling: a waitlist entry that does not match the freed slot; ids in booking bodies.
    Case(
        "appointments:waitlist_offer",
        "front_desk",
        _u("appointments:waitlist_offer", "cancelled", "mismatched_entry"),
        "post",
        expect=frozenset({302}),
    ),
    Case(
        "appointments:waitlist_offer",
        "front_desk",
        lambda w: reverse("appointments:waitlist_offer", args=[w["cancelled"].pk, 10**9]),
        "post",
    ),
    Case(
        "appointments:create",
        "front_desk",
        lambda w: reverse("appointments:create"),
        "post",
        lambda w: _booking(w, patient=w["archived"].pk),
        frozenset({200}),
    ),
    Case(
        "appointments:series_create",
        "front_desk",
        lambda w: reverse("appointments:series_create"),
        "post",
        lambda w: _booking(w, patient=w["archived"].pk, every_weeks=1, count=3, action="book_all"),
        frozenset({200}),
    ),
    Case(
        "appointments:create",
        "front_desk",
        lambda w: reverse("appointments:create"),
        "post",
        lambda w: _booking(w, room=w["room_elsewhere"].pk),
        frozenset({200}),
    ),
    Case(
        "appointments:waitlist_create",
        "front_desk",
        lambda w: reverse("appointments:waitlist_create"),
        "post",
        lambda w: {
            "patient": w["archived"].pk,
            "appointment_type": w["kind"].pk,
            "location": w["location"].pk,
        },
        frozenset({200}),
    ),
    # Merging: only a registration awaiting review, only into one of its candidates.
    Case("patients:merge", "front_desk", _u("patients:merge", "a")),
    Case(
        "patients:merge",
        "front_desk",
        _u("patients:merge", "a"),
        "post",
        lambda w: {"action": "merge", "into": w["b"].pk},
    ),
    Case(
        "patients:merge",
        "front_desk",
        _u("patients:merge", "registration"),
        "post",
        lambda w: {"action": "merge", "into": w["b"].pk},
        frozenset({200}),
    ),
    Case(
        "patients:merge",
        "front_desk",
        _u("patients:merge", "registration"),
        "post",
        lambda w: {"action": "merge", "into": w["registration"].pk},
        frozenset({200}),
    ),
    # Signed booking links: only an online booking's own, untampered link works.
    *[
        Case(
            f"booking:{name}",
            "anonymous",
            lambda w, name=name: reverse(f"booking:{name}", args=[manage_token(w["desk_b"])]),
            method,
        )
        for name, method in (("manage", "get"), ("move", "get"), ("cancel", "post"))
    ],
    *[
        Case(
            "booking:cancel",
            "anonymous",
            lambda w, forge=forge: reverse("booking:cancel", args=[forge(w)]),
            "post",
        )
        for forge in (
            lambda w: signing.dumps({"a": w["online_b"].pk}, salt="another-purpose"),
            lambda w: manage_token(w["online_b"])[:-2] + "xx",
            lambda w: signing.dumps({"a": str(w["online_b"].pk)}, salt=MANAGE_SALT),
            lambda w: signing.dumps({"a": 10**9}, salt=MANAGE_SALT),
        )
    ],
    Case(
        "booking:clinicians",
        "anonymous",
        lambda w: reverse(
            "booking:clinicians", args=[w["room_elsewhere"].location.pk, w["kind"].pk]
        ),
    ),
    # Record history: an episode of patient B under patient A; a patient that does not exist.
    Case(
        "treatments:episode_history",
        "physio",
        _u("treatments:episode_history", *EPISODE_OF_B_UNDER_A),
    ),
    Case("patients:history", "manager", lambda w: reverse("patients:history", args=[10**9])),
    Case(
        "patients:fhir_export", "manager", lambda w: reverse("patients:fhir_export", args=[10**9])
    ),
    # The subject access export of a patient that does not exist.
    Case(
        "patients:export_json", "manager", lambda w: reverse("patients:export_json", args=[10**9])
    ),
    Case(
        "patients:export_html", "manager", lambda w: reverse("patients:export_html", args=[10**9])
    ),
]


@pytest.fixture
def people(world, clients) -> dict:
    return clients


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-{c.method}")
def test_an_id_from_elsewhere_reaches_nothing_and_changes_nothing(
    case: Case, world, people
) -> None:
    try:
        url = case.url(world)
    except NoReverseMatch:
        pytest.skip(f"{case.name} is not part of this build")
    before = snapshot()
    response = getattr(people[case.role], case.method)(url, case.data(world))
    assert response.status_code in case.expect | {403, 404}, response.status_code
    assert snapshot() == before


def test_every_url_taking_an_id_has_a_case_with_a_foreign_id() -> None:
    with_ids = {
        name
        for name, route, namespace in all_url_names()
        if namespace != "admin" and ("<int:" in route or name in SIGNED_LINKS)
    }
    covered = {case.name for case in CASES} | ID_FREE_ANSWERS
    assert with_ids - covered == set()


SIGNED_LINKS = {"booking:manage", "booking:move", "booking:cancel", "booking:confirmed"}


#: URLs whose id leads to a single object with no parent: an unknown id is all there is to try.
ID_FREE_ANSWERS = {
    "patients:detail",
    "patients:update",
    "patients:archive",
    "patients:restore",
    "appointments:detail",
    "appointments:move",
    "appointments:cancel",
    "appointments:status",
    "appointments:waitlist_withdraw",
    "booking:services",
    "booking:times",
    "booking:details",
    "booking:confirmed",
}

UNKNOWN_IDS = (0, 10**9, 2**63 - 1)


def _with_unknown_ids(url: str, unknown: int) -> str:
    match = resolve(url.split("?")[0])
    kwargs = {
        key: unknown if isinstance(value, int) else value for key, value in match.kwargs.items()
    }
    return reverse(match.view_name, kwargs=kwargs)


@pytest.mark.parametrize("unknown", UNKNOWN_IDS)
def test_unknown_ids_are_not_found_for_every_role(unknown: int, objects, clients) -> None:
    """Every URL with an integer id, every role: a refusal or 404, never a page or a 500."""
    before = snapshot()
    for name, rule in ACCESS.items():
        url = rule.url(objects)
        if not resolve(url.split("?")[0]).kwargs or not any(
            isinstance(v, int) for v in resolve(url.split("?")[0]).kwargs.values()
        ):
            continue
        target = _with_unknown_ids(url, unknown)
        for role in ROLES:
            response = getattr(clients[role], rule.method)(target, rule.data)
            assert _outcome(response) in {LOGIN, 403, 404}, (name, role, response.status_code)
    assert snapshot() == before


@pytest.fixture
def manager_and_front_desk(db):
    return UserFactory(username="twohats", roles=[Role.PRACTICE_MANAGER, Role.FRONT_DESK])


def test_several_roles_give_exactly_the_union_of_the_role_table(manager_and_front_desk) -> None:
    user = manager_and_front_desk
    allowed = ROLE_PERMISSIONS[Role.PRACTICE_MANAGER] | ROLE_PERMISSIONS[Role.FRONT_DESK]
    assert user.get_all_permissions() == set(allowed)


def test_a_manager_who_is_also_front_desk_still_sees_no_clinical_record(
    manager_and_front_desk, world, client
) -> None:
    client.force_login(manager_and_front_desk)
    before = snapshot()
    for url in (
        reverse("treatments:episode", args=[world["a"].pk, world["episode_a"].pk]),
        reverse("treatments:note", args=[world["a"].pk, world["note_a"].pk]),
        reverse("treatments:plan", args=[world["a"].pk, world["episode_a"].pk]),
        reverse("treatments:notes_unsigned"),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("treatments:note_sign", args=[world["a"].pk, world["note_a"].pk])
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_a_physiotherapist_who_is_also_a_manager_cannot_export_as_a_physio_alone_would_not(
    world, client
) -> None:
    both = UserFactory(username="owner", roles=[Role.PHYSIOTHERAPIST, Role.PRACTICE_MANAGER])
    only_physio = UserFactory(username="physio2", roles=[Role.PHYSIOTHERAPIST])
    url = reverse("patients:export_json", args=[world["a"].pk])
    client.force_login(only_physio)
    assert client.get(url).status_code == 403
    client.force_login(both)
    assert client.get(url).status_code == 200


def test_an_inactive_user_with_roles_gets_nothing(world, client) -> None:
    user = UserFactory(username="leaver", roles=[Role.PHYSIOTHERAPIST])
    client.force_login(user)
    user.is_active = False
    user.save()
    response = client.get(
        reverse("treatments:episode", args=[world["a"].pk, world["episode_a"].pk])
    )
    assert _outcome(response) in {LOGIN, 403}
