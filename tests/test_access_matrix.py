"""Every URL the project resolves has a declared access decision for every role.

A URL pattern missing from ``ACCESS`` fails ``test_every_url_has_an_access_decision``,
so no view ships without someone deciding who may use it.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from appointments.models import CalendarFeed, Source, Status, WaitlistEntry
from appointments.online_services import manage_token

from .appointments.factories import AppointmentFactory, AppointmentTypeFactory, works_every_day
from .factories import PatientFactory
from .treatments.factories import AssessmentFactory
from .treatments.note_factories import draft_note, episode_for, exercise_in_plan, visit_for

ROLES = ("anonymous", "outsider", "front_desk", "physio", "manager")
LOGIN = "login"  # a redirect to the sign-in page


@dataclass
class Rule:
    """How to reach a URL and what each role gets back."""

    url: Callable[[dict], str]
    expect: dict[str, int | str]
    method: str = "get"
    data: dict = field(default_factory=dict)


def staff_only(ok: int | str = 200) -> dict[str, int | str]:
    return {"anonymous": LOGIN, "outsider": 403, "front_desk": 403, "physio": 403, "manager": ok}


def everyone_signed_in(ok: int | str = 200) -> dict[str, int | str]:
    return {"anonymous": LOGIN, "outsider": ok, "front_desk": ok, "physio": ok, "manager": ok}


def public(ok: int | str = 200) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, ok)


PATIENT_READERS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 200,
    "physio": 200,
    "manager": 200,
}
PATIENT_ARCHIVERS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 302,
    "physio": 403,
    "manager": 302,
}

SCHEDULE_READERS = PATIENT_READERS
BOOKERS = {"anonymous": LOGIN, "outsider": 403, "front_desk": 200, "physio": 200, "manager": 403}
BOOKER_ACTIONS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 302,
    "physio": 302,
    "manager": 403,
}
FRONT_DESK_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 200,
    "physio": 403,
    "manager": 403,
}
FRONT_DESK_ACTIONS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 302,
    "physio": 403,
    "manager": 403,
}

CLINICAL = {"anonymous": LOGIN, "outsider": 403, "front_desk": 403, "physio": 200, "manager": 403}
CLINICAL_ACTION = {**CLINICAL, "physio": 302}
MANAGER_ONLY = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 403,
    "physio": 403,
    "manager": 200,
}
HISTORY_READERS = {
    "anonymous": LOGIN,
    "outsider": 403,
    "front_desk": 403,
    "physio": 200,
    "manager": 200,
}
REVIEWERS = {"anonymous": LOGIN, "outsider": 403, "front_desk": 200, "physio": 403, "manager": 200}

ACCESS: dict[str, Rule] = {
    "home": Rule(lambda o: reverse("home"), everyone_signed_in()),
    "healthz": Rule(lambda o: reverse("healthz"), public()),
    "login": Rule(
        lambda o: reverse("login"),
        {"anonymous": 200, "outsider": 302, "front_desk": 302, "physio": 302, "manager": 302},
    ),
    "logout": Rule(lambda o: reverse("logout"), public(LOGIN), method="post"),
    "password_change": Rule(lambda o: reverse("password_change"), everyone_signed_in()),
    "password_change_done": Rule(lambda o: reverse("password_change_done"), everyone_signed_in()),
    "password_reset": Rule(lambda o: reverse("password_reset"), public()),
    "password_reset_done": Rule(lambda o: reverse("password_reset_done"), public()),
    "password_reset_confirm": Rule(
        lambda o: reverse("password_reset_confirm", args=["MQ", "set-password"]), public()
    ),
    "password_reset_complete": Rule(lambda o: reverse("password_reset_complete"), public()),
    "patients:list": Rule(lambda o: reverse("patients:list"), PATIENT_READERS),
    "patients:create": Rule(lambda o: reverse("patients:create"), PATIENT_READERS),
    "patients:detail": Rule(
        lambda o: reverse("patients:detail", args=[o["patient"].pk]), PATIENT_READERS
    ),
    "patients:update": Rule(
        lambda o: reverse("patients:update", args=[o["patient"].pk]), PATIENT_READERS
    ),
    "patients:archive": Rule(
        lambda o: reverse("patients:archive", args=[o["patient"].pk]),
        PATIENT_ARCHIVERS,
        method="post",
    ),
    "patients:restore": Rule(
        lambda o: reverse("patients:restore", args=[o["archived"].pk]),
        PATIENT_ARCHIVERS,
        method="post",
    ),
    "appointments:day": Rule(lambda o: reverse("appointments:day"), SCHEDULE_READERS),
    "appointments:day_print": Rule(lambda o: reverse("appointments:day_print"), SCHEDULE_READERS),
    "appointments:week": Rule(lambda o: reverse("appointments:week"), SCHEDULE_READERS),
    "appointments:find": Rule(lambda o: reverse("appointments:find"), SCHEDULE_READERS),
    "appointments:type_styles": Rule(
        lambda o: reverse("appointments:type_styles"), SCHEDULE_READERS
    ),
    "appointments:patient_picker": Rule(
        lambda o: reverse("appointments:patient_picker") + "?patient_q=wr", SCHEDULE_READERS
    ),
    "appointments:detail": Rule(
        lambda o: reverse("appointments:detail", args=[o["appointment"].pk]), SCHEDULE_READERS
    ),
    "appointments:create": Rule(lambda o: reverse("appointments:create"), BOOKERS),
    "appointments:series_create": Rule(lambda o: reverse("appointments:series_create"), BOOKERS),
    "appointments:move": Rule(
        lambda o: reverse("appointments:move", args=[o["appointment"].pk]), BOOKERS
    ),
    "appointments:cancel": Rule(
        lambda o: reverse("appointments:cancel", args=[o["appointment"].pk]),
        BOOKER_ACTIONS,
        method="post",
    ),
    "appointments:status": Rule(
        lambda o: reverse("appointments:status", args=[o["appointment"].pk]),
        BOOKER_ACTIONS,
        method="post",
    ),
    "appointments:waitlist": Rule(lambda o: reverse("appointments:waitlist"), SCHEDULE_READERS),
    "appointments:waitlist_create": Rule(
        lambda o: reverse("appointments:waitlist_create"), FRONT_DESK_ONLY
    ),
    "appointments:waitlist_offer": Rule(
        lambda o: reverse("appointments:waitlist_offer", args=[o["cancelled"].pk, o["entry"].pk]),
        FRONT_DESK_ACTIONS,
        method="post",
    ),
    "appointments:waitlist_withdraw": Rule(
        lambda o: reverse("appointments:waitlist_withdraw", args=[o["entry"].pk]),
        FRONT_DESK_ACTIONS,
        method="post",
    ),
    "appointments:feed": Rule(
        lambda o: reverse("appointments:feed", args=[o["feed"].token]), public()
    ),
    "appointments:feed_settings": Rule(
        lambda o: reverse("appointments:feed_settings"),
        {"anonymous": LOGIN, "outsider": 403, "front_desk": 403, "physio": 200, "manager": 403},
    ),
    # The clinical record: physiotherapists only.
    "treatments:episode_create": Rule(
        lambda o: reverse("treatments:episode_create", args=[o["patient"].pk]), CLINICAL
    ),
    "treatments:episode": Rule(lambda o: _episode_url("episode", o), CLINICAL),
    "treatments:episode_update": Rule(lambda o: _episode_url("episode_update", o), CLINICAL),
    "treatments:episode_discharge": Rule(lambda o: _episode_url("episode_discharge", o), CLINICAL),
    "treatments:episode_chart": Rule(lambda o: _episode_url("episode_chart", o), CLINICAL),
    "treatments:assessment_create": Rule(
        lambda o: reverse("treatments:assessment_create", args=_episode_args(o)), CLINICAL
    ),
    "treatments:assessment": Rule(
        lambda o: reverse("treatments:assessment", args=[*_episode_args(o), o["assessment"].pk]),
        CLINICAL,
    ),
    "treatments:referral_decision": Rule(
        lambda o: reverse(
            "treatments:referral_decision", args=[*_episode_args(o), o["assessment"].pk]
        ),
        CLINICAL,
        method="post",
    ),
    "treatments:plan": Rule(lambda o: _episode_url("plan", o), CLINICAL),
    "treatments:intervention_create": Rule(
        lambda o: reverse("treatments:intervention_create", args=[*_episode_args(o), "exercise"]),
        CLINICAL,
    ),
    "treatments:intervention_stop": Rule(
        lambda o: reverse(
            "treatments:intervention_stop", args=[*_episode_args(o), o["intervention"].pk]
        ),
        CLINICAL_ACTION,
        method="post",
    ),
    "treatments:consent_create": Rule(
        lambda o: reverse("treatments:consent_create", args=[o["patient"].pk]), CLINICAL
    ),
    "treatments:handout": Rule(lambda o: _episode_url("handout", o), CLINICAL),
    "treatments:handout_pdf": Rule(lambda o: _episode_url("handout_pdf", o), CLINICAL),
    "treatments:handout_email": Rule(
        lambda o: _episode_url("handout_email", o), CLINICAL_ACTION, method="post"
    ),
    "treatments:note_for_appointment": Rule(
        lambda o: reverse("treatments:note_for_appointment", args=[o["visit"].pk]), CLINICAL
    ),
    "treatments:note": Rule(
        lambda o: reverse("treatments:note", args=[o["patient"].pk, o["note"].pk]), CLINICAL
    ),
    "treatments:note_sign": Rule(
        lambda o: reverse("treatments:note_sign", args=[o["patient"].pk, o["note"].pk]),
        CLINICAL_ACTION,
        method="post",
    ),
    "treatments:addendum_create": Rule(
        lambda o: reverse("treatments:addendum_create", args=[o["patient"].pk, o["note"].pk]),
        CLINICAL_ACTION,
        method="post",
    ),
    "treatments:notes_unsigned": Rule(lambda o: reverse("treatments:notes_unsigned"), CLINICAL),
    # Online booking: public, the same for everyone; manage pages need a valid signed link.
    "booking:start": Rule(lambda o: reverse("booking:start"), public()),
    "booking:privacy": Rule(lambda o: reverse("booking:privacy"), public()),
    "booking:services": Rule(
        lambda o: reverse("booking:services", args=[o["online_type"].location.pk]), public()
    ),
    "booking:clinicians": Rule(
        lambda o: reverse("booking:clinicians", args=_online_args(o)), public()
    ),
    "booking:times": Rule(
        lambda o: reverse("booking:times", args=_online_args(o)) + "?clinician=any", public()
    ),
    "booking:details": Rule(
        lambda o: reverse("booking:details", args=_online_args(o)), public(302)
    ),
    "booking:confirm": Rule(lambda o: reverse("booking:confirm"), public(400), method="post"),
    "booking:confirmed": Rule(
        lambda o: reverse("booking:confirmed", args=[o["online_token"]]), public()
    ),
    "booking:manage": Rule(lambda o: reverse("booking:manage", args=[o["online_token"]]), public()),
    "booking:cancel": Rule(
        lambda o: reverse("booking:cancel", args=[o["online_token"]]), public(400), method="post"
    ),
    "booking:move": Rule(lambda o: reverse("booking:move", args=[o["online_token"]]), public()),
    # Reviewing online registrations: those who may archive (a merge archives the duplicate).
    "patients:review_list": Rule(lambda o: reverse("patients:review_list"), REVIEWERS),
    "patients:merge": Rule(
        lambda o: reverse("patients:merge", args=[o["online_patient"].pk]), REVIEWERS
    ),
    # Protecting patient data: the access log, two-factor sign-in, record history, exports.
    "access_log": Rule(lambda o: reverse("access_log"), MANAGER_ONLY),
    "access_log_csv": Rule(lambda o: reverse("access_log_csv"), MANAGER_ONLY),
    "two_factor": Rule(lambda o: reverse("two_factor"), everyone_signed_in()),
    "two_factor_setup": Rule(
        lambda o: reverse("two_factor_setup"), {**everyone_signed_in(), "manager": 302}
    ),
    "two_factor_verify": Rule(lambda o: reverse("two_factor_verify"), everyone_signed_in(302)),
    "two_factor_recovery_codes": Rule(
        lambda o: reverse("two_factor_recovery_codes"), everyone_signed_in(302)
    ),
    "two_factor_disable": Rule(
        lambda o: reverse("two_factor_disable"), everyone_signed_in(302), method="post"
    ),
    "patients:history": Rule(
        lambda o: reverse("patients:history", args=[o["patient"].pk]), HISTORY_READERS
    ),
    "treatments:episode_history": Rule(
        lambda o: _episode_url("episode_history", o), {**CLINICAL, "manager": 200}
    ),
    "patients:export_json": Rule(
        lambda o: reverse("patients:export_json", args=[o["patient"].pk]), MANAGER_ONLY
    ),
    "patients:export_html": Rule(
        lambda o: reverse("patients:export_html", args=[o["patient"].pk]), MANAGER_ONLY
    ),
    "patients:fhir_export": Rule(
        lambda o: reverse("patients:fhir_export", args=[o["patient"].pk]),
        {**CLINICAL, "manager": 200},
    ),
    # Interoperability and reporting: managers only.
    "patients:import": Rule(lambda o: reverse("patients:import"), MANAGER_ONLY),
    "patients:import_preview": Rule(
        lambda o: reverse("patients:import_preview"), {**MANAGER_ONLY, "manager": 302}
    ),
    "patients:import_commit": Rule(
        lambda o: reverse("patients:import_commit"), {**MANAGER_ONLY, "manager": 302}, method="post"
    ),
    "patients:export_csv": Rule(lambda o: reverse("patients:export_csv"), MANAGER_ONLY),
    "appointments:export_csv": Rule(lambda o: reverse("appointments:export_csv"), MANAGER_ONLY),
    "reports:index": Rule(lambda o: reverse("reports:index"), MANAGER_ONLY),
    "reports:csv": Rule(lambda o: reverse("reports:csv", args=["utilisation"]), MANAGER_ONLY),
}


def _episode_args(o: dict) -> list[int]:
    return [o["patient"].pk, o["episode"].pk]


def _episode_url(name: str, o: dict) -> str:
    return reverse(f"treatments:{name}", args=_episode_args(o))


def _online_args(o: dict) -> list[int]:
    return [o["online_type"].location.pk, o["online_type"].pk]


# The admin site: only staff (practice managers) get in; everyone else is sent to the
# admin's sign-in page. What a manager may do inside is covered in tests/clinic/test_admin.py.
ADMIN_NAMESPACE = "admin"
ADMIN_DENIED = {"anonymous": LOGIN, "outsider": LOGIN, "front_desk": LOGIN, "physio": LOGIN}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    """Yield (name, route, namespace) for every URL pattern, nested includes too."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            nested = ":".join(filter(None, [namespace, entry.namespace])) or None
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), nested)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), namespace


def all_url_names() -> list[tuple[str | None, str, str | None]]:
    return list(_walk(get_resolver().url_patterns))


def test_every_url_has_an_access_decision() -> None:
    undeclared = [
        (name, route)
        for name, route, namespace in all_url_names()
        if namespace != ADMIN_NAMESPACE and name not in ACCESS
    ]
    assert undeclared == [], f"URLs without an access decision: {undeclared}"


def test_no_declaration_is_stale() -> None:
    names = {name for name, _, _ in all_url_names()}
    assert set(ACCESS) - names == set()


@pytest.fixture
def objects(db, physio):
    archived = PatientFactory()
    archived.archived_at = "2026-01-01T00:00:00Z"
    archived.save()
    appointment = AppointmentFactory()
    cancelled = AppointmentFactory(
        location=appointment.location,
        status=Status.CANCELLED,
        starts_at=appointment.starts_at + datetime.timedelta(days=1),
    )
    feed = CalendarFeed.objects.create(
        clinician=appointment.clinician, token=CalendarFeed.new_token()
    )
    entry = WaitlistEntry.objects.create(
        patient=PatientFactory(email="waiting@example.com"),
        appointment_type=cancelled.appointment_type,
        location=cancelled.location,
    )
    patient = PatientFactory()
    episode = episode_for(patient, physio)
    assessment = AssessmentFactory(episode=episode, clinician=physio)
    intervention = exercise_in_plan(episode, physio)
    visit = visit_for(patient, physio)
    note = draft_note(visit_for(patient, physio, ago=datetime.timedelta(hours=3)), episode, physio)
    online_type = AppointmentTypeFactory(name="Online follow-up", online_bookable=True)
    works_every_day(appointment.clinician, appointment.location)
    online = AppointmentFactory(
        location=appointment.location,
        appointment_type=online_type,
        source=Source.ONLINE,
        starts_at=appointment.starts_at + datetime.timedelta(days=2),
    )
    online_type.location = appointment.location
    online_patient = PatientFactory(registered_online=True, needs_review=True)
    return {
        "patient": patient,
        "episode": episode,
        "assessment": assessment,
        "intervention": intervention,
        "visit": visit,
        "note": note,
        "online_type": online_type,
        "online_token": manage_token(online),
        "online_patient": online_patient,
        "archived": archived,
        "appointment": appointment,
        "cancelled": cancelled,
        "entry": entry,
        "feed": feed,
    }


@pytest.fixture
def clients(outsider, front_desk, physio, manager) -> dict[str, Client]:
    result = {"anonymous": Client()}
    for role, user in [
        ("outsider", outsider),
        ("front_desk", front_desk),
        ("physio", physio),
        ("manager", manager),
    ]:
        client = Client()
        client.force_login(user)
        result[role] = client
    return result


def _outcome(response) -> int | str:
    if response.status_code == 302:
        location = response.headers["Location"]
        if location.startswith(reverse("login")) or location.startswith(reverse("admin:login")):
            return LOGIN
    return response.status_code


@pytest.mark.parametrize("name", sorted(ACCESS))
@pytest.mark.parametrize("role", ROLES)
def test_access_is_as_declared(name: str, role: str, objects, clients) -> None:
    rule = ACCESS[name]
    response = getattr(clients[role], rule.method)(rule.url(objects), rule.data)
    assert _outcome(response) == rule.expect[role], f"{role} on {name}"


def _admin_urls(objects) -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls += [reverse(f"{base}_changelist"), reverse(f"{base}_add")]
        instance = model._default_manager.first()
        if instance is not None:
            urls += [
                reverse(f"{base}_change", args=[instance.pk]),
                reverse(f"{base}_history", args=[instance.pk]),
            ]
    return urls


@pytest.mark.parametrize("role", sorted(ADMIN_DENIED))
def test_only_managers_reach_the_admin_site(role: str, objects, clients) -> None:
    for url in _admin_urls(objects):
        assert _outcome(clients[role].get(url)) == LOGIN, url


def test_managers_reach_every_admin_page_they_maintain(objects, clients) -> None:
    for url in _admin_urls(objects):
        response = clients["manager"].get(url)
        assert response.status_code in {200, 403}, url
        assert _outcome(response) != LOGIN


def test_the_admin_site_lives_at_the_configured_path() -> None:
    assert reverse("admin:index") == "/" + settings.ADMIN_URL
