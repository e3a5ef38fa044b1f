"""Browser security: the Content-Security-Policy and the pages that keep to it, the other
security headers, friendly error pages and the production cookie and HSTS settings."""

import json
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import timezone

from appointments.models import PracticeSettings
from clinic.roles import Role
from tests.appointments.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    works_every_day,
)
from tests.clinic.test_settings import PRODUCTION, run_python
from tests.factories import LocationFactory, StaffProfileFactory, UserFactory
from tests.treatments.factories import AssessmentFactory
from tests.treatments.note_factories import draft_note, visit_for
from tests.treatments.plan_factories import episode_for, prescribe

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


class InlineCodeFinder(HTMLParser):
    """Collects everything a strict CSP would block: inline scripts and styles, event
    handler attributes and ``javascript:`` links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> block")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>: {value}")
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")
            if name in {"hx-on", "hx-vars"} or name.startswith("hx-on"):
                self.problems.append(f"{name}= evaluates code on <{tag}>")
            if name == "hx-vals" and (value or "").lstrip().startswith("js:"):
                self.problems.append(f"hx-vals=js: on <{tag}>")


def csp_problems(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def parse_csp(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def assert_page_keeps_to_the_policy(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    assert parse_csp(response["Content-Security-Policy"]) == CSP_DIRECTIVES, url
    assert csp_problems(response.content.decode()) == [], url


# --- The pages ---------------------------------------------------------------------------------


@pytest.fixture
def clinical_record(patient, physio):
    """An episode with an assessment (so its chart draws), an exercise and a draft note."""
    episode = episode_for(patient, physio)
    AssessmentFactory(episode=episode, clinician=physio, kujala=62, tsk11=30)
    exercise = prescribe(episode, physio)
    appointment = visit_for(patient, physio)
    note = draft_note(appointment, episode, physio, subjective="Stairs hurt")
    return {"episode": episode, "exercise": exercise, "appointment": appointment, "note": note}


@pytest.fixture
def online_clinic(db):
    practice = PracticeSettings.load()
    practice.online_booking_enabled = True
    practice.save()
    location = LocationFactory(name="Riverside", time_zone="Europe/London")
    clinician = UserFactory(username="alex", roles=[Role.PHYSIOTHERAPIST])
    StaffProfileFactory(user=clinician, display_name="Alex Moreno", bookable_online=True)
    works_every_day(clinician, location)
    kind = AppointmentTypeFactory(
        name="Initial assessment", duration_minutes=45, price=Decimal("60"), online_bookable=True
    )
    return {"location": location, "kind": kind}


@pytest.mark.parametrize("who", ["physio_client", "front_desk_client", "manager_client"])
def test_every_roles_home_page_keeps_to_the_policy(request, who) -> None:
    assert_page_keeps_to_the_policy(request.getfixturevalue(who), reverse("home"))


def test_the_home_page_carries_the_whole_policy(physio_client) -> None:
    response = physio_client.get(reverse("home"))
    assert parse_csp(response["Content-Security-Policy"]) == CSP_DIRECTIVES
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_htmx_is_told_not_to_evaluate_code_or_inject_styles(physio_client) -> None:
    page = physio_client.get(reverse("home")).content.decode()
    assert '"allowEval": false' in page
    assert '"allowScriptTags": false' in page
    assert '"includeIndicatorStyles": false' in page


@pytest.mark.parametrize("who", ["physio_client", "front_desk_client", "manager_client"])
def test_patient_pages_keep_to_the_policy(request, who, patient, clinical_record) -> None:
    client = request.getfixturevalue(who)
    for url in [
        reverse("patients:list") + "?q=wright",
        reverse("patients:detail", args=[patient.pk]),
        reverse("patients:update", args=[patient.pk]),
        reverse("patients:create"),
    ]:
        assert_page_keeps_to_the_policy(client, url)


def test_history_pages_keep_to_the_policy(
    physio_client, manager_client, patient, clinical_record
) -> None:
    episode = clinical_record["episode"]
    history = reverse("treatments:episode_history", args=[patient.pk, episode.pk])
    assert_page_keeps_to_the_policy(physio_client, history)
    assert_page_keeps_to_the_policy(manager_client, history)
    assert_page_keeps_to_the_policy(manager_client, reverse("patients:history", args=[patient.pk]))


def test_calendar_and_booking_pages_keep_to_the_policy(front_desk_client, patient) -> None:
    appointment = AppointmentFactory(patient=patient)
    day = timezone.localtime(appointment.starts_at).date().isoformat()
    for url in [
        reverse("appointments:day") + f"?date={day}",
        reverse("appointments:week") + f"?date={day}",
        reverse("appointments:detail", args=[appointment.pk]),
        reverse("appointments:move", args=[appointment.pk]),
        reverse("appointments:create"),
        reverse("appointments:find"),
        reverse("appointments:waitlist"),
    ]:
        assert_page_keeps_to_the_policy(front_desk_client, url)


def test_clinical_pages_keep_to_the_policy_and_draw_the_chart_without_styles(
    physio_client, patient, clinical_record
) -> None:
    episode, note = clinical_record["episode"], clinical_record["note"]
    episode_url = reverse("treatments:episode", args=[patient.pk, episode.pk])
    page = physio_client.get(episode_url).content.decode()
    assert "<svg" in page
    for url in [
        episode_url,
        reverse("treatments:episode_update", args=[patient.pk, episode.pk]),
        reverse("treatments:assessment_create", args=[patient.pk, episode.pk]) + "?kind=initial",
        reverse("treatments:plan", args=[patient.pk, episode.pk]),
        reverse("treatments:note", args=[patient.pk, note.pk]),
    ]:
        assert_page_keeps_to_the_policy(physio_client, url)


def test_online_booking_pages_keep_to_the_policy(client, online_clinic) -> None:
    location, kind = online_clinic["location"], online_clinic["kind"]
    for url in [
        reverse("booking:start"),
        reverse("booking:services", args=[location.pk]),
        reverse("booking:clinicians", args=[location.pk, kind.pk]),
        reverse("booking:times", args=[location.pk, kind.pk]) + "?clinician=any",
        reverse("booking:privacy"),
    ]:
        assert_page_keeps_to_the_policy(client, url)


def test_the_sign_in_page_keeps_to_the_policy(client) -> None:
    assert_page_keeps_to_the_policy(client, reverse("login"))


def test_the_admin_site_works_under_the_same_policy(manager_client, patient) -> None:
    for url in [
        reverse("admin:index"),
        reverse("admin:patients_patient_changelist"),
        reverse("admin:patients_patient_change", args=[patient.pk]),
        reverse("admin:clinic_user_add"),
        reverse("admin:treatments_exercise_changelist"),
        reverse("admin:appointments_workinghours_add"),
    ]:
        assert_page_keeps_to_the_policy(manager_client, url)


def test_the_finder_spots_what_the_policy_would_block() -> None:
    html = (
        '<script>alert(1)</script><p style="color:red" onclick="x()">'
        '<a href="javascript:void(0)">x</a><button hx-on:click="x()"></button>'
        '<svg><rect style="fill:red"/></svg><style>p{}</style><script src="/a.js"></script>'
    )
    assert len(csp_problems(html)) == 7


# --- Other headers ---------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(physio_client) -> None:
    response = physio_client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"]:
        assert feature in policy


def test_public_pages_carry_them_too(client) -> None:
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert "Permissions-Policy" in response
    assert "Content-Security-Policy" in response


def test_cookies_are_sent_only_to_this_site(client) -> None:
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_HTTPONLY


# --- Error pages ---------------------------------------------------------------------------


@override_settings(DEBUG=False)
def test_a_missing_page_is_friendly_and_shows_no_internals(physio_client) -> None:
    response = physio_client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page
    for internal in ["Traceback", "urlpatterns", "Django tried", "clinic.urls", "/no/such/page"]:
        assert internal not in page
    assert csp_problems(page) == []


@override_settings(DEBUG=False)
def test_a_missing_record_looks_the_same_as_a_missing_page(physio_client) -> None:
    response = physio_client.get(reverse("patients:detail", args=[999999]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Patient" not in response.content.decode()


def test_the_server_error_page_needs_no_context_and_no_database() -> None:
    """No ``db`` fixture here: any query would fail the test."""
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert csp_problems(page) == []


def test_the_bad_request_page_is_friendly() -> None:
    from django.test import RequestFactory
    from django.views.defaults import bad_request

    response = bad_request(RequestFactory().get("/"), exception=None)
    assert response.status_code == 400
    assert "Request not understood" in response.content.decode()


def _broken(request):
    raise RuntimeError("secret internals")


urlpatterns = [path("boom/", _broken)]


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_an_unexpected_error_shows_the_friendly_page(physio) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(physio)
    response = client.get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internals" not in page
    assert "RuntimeError" not in page


# --- Admin URL and production settings ------------------------------------------------------


def test_the_admin_site_lives_at_the_configured_address() -> None:
    code = (
        "import django; django.setup(); from django.urls import reverse; "
        "print(reverse('admin:index'))"
    )
    result = run_python(code, "clinic.settings.production", **PRODUCTION, ADMIN_URL="back-office/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/back-office/"


def test_production_sends_hsts_and_keeps_cookies_on_https() -> None:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.X_FRAME_OPTIONS, "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']]))"
    )
    result = run_python(code, "clinic.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    hsts, subdomains, session_secure, csrf_secure, redirect, *rest = values
    assert hsts >= 60 * 60 * 24 * 365 and subdomains
    assert session_secure and csrf_secure and redirect
    assert rest == ["Lax", "Lax", "DENY", ["'self'"]]


def test_hsts_is_sent_over_https_when_configured(settings, client) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
