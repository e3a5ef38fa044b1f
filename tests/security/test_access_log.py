"""The access log: one entry per read or change of patient data, kept as it was written."""

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import CalendarFeed, Source, WaitlistEntry
from appointments.online_services import manage_token
from clinic.models import AccessEvent, Action, Outcome
from patients.models import Patient

from ..appointments.factories import AppointmentFactory
from ..factories import PatientFactory, UserFactory
from ..queries import together_only
from ..treatments.factories import AssessmentFactory
from ..treatments.note_factories import draft_note, episode_for, exercise_in_plan, visit_for

USER_AGENT = "Mozilla/5.0 (clinic test browser)"
CSV_URL = reverse("access_log_csv")
LOG_URL = reverse("access_log")


@pytest.fixture
def record(db, patient, physio) -> dict:
    """One patient's record with something of every kind, plus a few other people."""
    appointment = AppointmentFactory(patient=patient)
    episode = episode_for(patient, physio)
    visit = visit_for(patient, physio, ago=datetime.timedelta(hours=3))
    online = AppointmentFactory(
        patient=patient,
        location=appointment.location,
        source=Source.ONLINE,
        starts_at=appointment.starts_at + datetime.timedelta(days=2),
    )
    archived = PatientFactory(first_name="Archibald", last_name="Oldfield")
    Patient.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    entry = WaitlistEntry.objects.create(
        patient=patient,
        appointment_type=appointment.appointment_type,
        location=appointment.location,
    )
    return {
        "patient": patient,
        "physio": physio,
        "appointment": appointment,
        "episode": episode,
        "assessment": AssessmentFactory(episode=episode, clinician=physio),
        "intervention": exercise_in_plan(episode, physio),
        "note": draft_note(visit, episode, physio),
        "online_token": manage_token(online),
        "online": online,
        "archived": archived,
        "entry": entry,
        "online_patient": PatientFactory(
            first_name="Olwen", registered_online=True, needs_review=True
        ),
        "feed": CalendarFeed.objects.create(
            clinician=physio, token=CalendarFeed.new_token(), show_full_names=True
        ),
    }


@dataclass
class Case:
    """A request, who makes it, and the entry it must write."""

    who: str
    url: Callable[[dict], str]
    action: str
    object_type: str
    object_id: Callable[[dict], object] = lambda r: ""
    patient: Callable[[dict], object] = lambda r: None
    method: str = "get"
    data: dict = field(default_factory=dict)


def _pk(name: str) -> Callable[[dict], int]:
    return lambda r: r[name].pk


def _patient(r: dict) -> int:
    return r["patient"].pk


def _calendar_day(r: dict) -> str:
    location = r["appointment"].location
    return f"location {location.pk} {timezone.localdate(timezone=location.zone):%Y-%m-%d}"


def _calendar_week(r: dict) -> str:
    today = timezone.localdate(timezone=r["appointment"].location.zone)
    monday = today - datetime.timedelta(days=today.weekday())
    return f"clinician {r['physio'].pk} {monday:%Y-%m-%d}"


def _episode_url(name: str) -> Callable[[dict], str]:
    return lambda r: reverse(f"treatments:{name}", args=[r["patient"].pk, r["episode"].pk])


CASES = {
    "home": Case("front_desk", lambda r: reverse("home"), Action.LIST, "home"),
    "patient list": Case(
        "front_desk", lambda r: reverse("patients:list"), Action.LIST, "patients.patient"
    ),
    "patient search": Case(
        "front_desk",
        lambda r: reverse("patients:list") + "?q=wright",
        Action.SEARCH,
        "patients.patient",
    ),
    "patient page": Case(
        "front_desk",
        lambda r: reverse("patients:detail", args=[r["patient"].pk]),
        Action.VIEW,
        "patients.patient",
        _patient,
        _patient,
    ),
    "patient edit form": Case(
        "front_desk",
        lambda r: reverse("patients:update", args=[r["patient"].pk]),
        Action.VIEW,
        "patients.patient",
        _patient,
        _patient,
    ),
    "patient edit": Case(
        "front_desk",
        lambda r: reverse("patients:update", args=[r["patient"].pk]),
        Action.UPDATE,
        "patients.patient",
        _patient,
        _patient,
        method="post",
        data={"first_name": ""},
    ),
    "patient archive": Case(
        "front_desk",
        lambda r: reverse("patients:archive", args=[r["patient"].pk]),
        Action.ARCHIVE,
        "patients.patient",
        _patient,
        _patient,
        method="post",
    ),
    "patient restore": Case(
        "front_desk",
        lambda r: reverse("patients:restore", args=[r["archived"].pk]),
        Action.RESTORE,
        "patients.patient",
        _pk("archived"),
        _pk("archived"),
        method="post",
    ),
    "online registrations": Case(
        "front_desk", lambda r: reverse("patients:review_list"), Action.LIST, "patients.patient"
    ),
    "merge page": Case(
        "front_desk",
        lambda r: reverse("patients:merge", args=[r["online_patient"].pk]),
        Action.VIEW,
        "patients.patient",
        _pk("online_patient"),
        _pk("online_patient"),
    ),
    "day calendar": Case(
        "front_desk", lambda r: reverse("appointments:day"), Action.LIST, "calendar", _calendar_day
    ),
    "printed day calendar": Case(
        "front_desk",
        lambda r: reverse("appointments:day_print"),
        Action.PRINT,
        "calendar",
        _calendar_day,
    ),
    "week calendar": Case(
        "physio", lambda r: reverse("appointments:week"), Action.LIST, "calendar", _calendar_week
    ),
    "appointment": Case(
        "front_desk",
        lambda r: reverse("appointments:detail", args=[r["appointment"].pk]),
        Action.VIEW,
        "appointments.appointment",
        _pk("appointment"),
        _patient,
    ),
    "move form": Case(
        "front_desk",
        lambda r: reverse("appointments:move", args=[r["appointment"].pk]),
        Action.VIEW,
        "appointments.appointment",
        _pk("appointment"),
        _patient,
    ),
    "cancel": Case(
        "front_desk",
        lambda r: reverse("appointments:cancel", args=[r["appointment"].pk]),
        Action.UPDATE,
        "appointments.appointment",
        _pk("appointment"),
        _patient,
        method="post",
        data={"cancelled_by": "clinic", "reason": "Physio unwell"},
    ),
    "status": Case(
        "front_desk",
        lambda r: reverse("appointments:status", args=[r["appointment"].pk]),
        Action.UPDATE,
        "appointments.appointment",
        _pk("appointment"),
        _patient,
        method="post",
        data={"to_status": "arrived"},
    ),
    "booking form for a patient": Case(
        "front_desk",
        lambda r: reverse("appointments:create") + f"?patient={r['patient'].pk}",
        Action.VIEW,
        "patients.patient",
        _patient,
        _patient,
    ),
    "patient picker": Case(
        "front_desk",
        lambda r: reverse("appointments:patient_picker") + "?patient_q=wri",
        Action.SEARCH,
        "patients.patient",
    ),
    "waitlist": Case(
        "front_desk",
        lambda r: reverse("appointments:waitlist"),
        Action.LIST,
        "appointments.waitlistentry",
    ),
    "waitlist withdraw": Case(
        "front_desk",
        lambda r: reverse("appointments:waitlist_withdraw", args=[r["entry"].pk]),
        Action.UPDATE,
        "appointments.waitlistentry",
        _pk("entry"),
        _patient,
        method="post",
    ),
    "calendar feed": Case(
        "anonymous",
        lambda r: reverse("appointments:feed", args=[r["feed"].token]),
        Action.EXPORT,
        "appointments.calendarfeed",
        _pk("feed"),
    ),
    "online confirmation": Case(
        "anonymous",
        lambda r: reverse("booking:confirmed", args=[r["online_token"]]),
        Action.VIEW,
        "appointments.appointment",
        _pk("online"),
        _patient,
    ),
    "online manage page": Case(
        "anonymous",
        lambda r: reverse("booking:manage", args=[r["online_token"]]),
        Action.VIEW,
        "appointments.appointment",
        _pk("online"),
        _patient,
    ),
    "online cancel": Case(
        "anonymous",
        lambda r: reverse("booking:cancel", args=[r["online_token"]]),
        Action.UPDATE,
        "appointments.appointment",
        _pk("online"),
        _patient,
        method="post",
        data={"reason": "Feeling better"},
    ),
    "online move page": Case(
        "anonymous",
        lambda r: reverse("booking:move", args=[r["online_token"]]),
        Action.VIEW,
        "appointments.appointment",
        _pk("online"),
        _patient,
    ),
    "episode": Case(
        "physio",
        _episode_url("episode"),
        Action.VIEW,
        "treatments.episode",
        _pk("episode"),
        _patient,
    ),
    "episode chart": Case(
        "physio",
        _episode_url("episode_chart"),
        Action.VIEW,
        "treatments.episode",
        _pk("episode"),
        _patient,
    ),
    "episode edit form": Case(
        "physio",
        _episode_url("episode_update"),
        Action.VIEW,
        "treatments.episode",
        _pk("episode"),
        _patient,
    ),
    "new episode form": Case(
        "physio",
        lambda r: reverse("treatments:episode_create", args=[r["patient"].pk]),
        Action.VIEW,
        "patients.patient",
        _patient,
        _patient,
    ),
    "assessment": Case(
        "physio",
        lambda r: reverse(
            "treatments:assessment",
            args=[r["patient"].pk, r["episode"].pk, r["assessment"].pk],
        ),
        Action.VIEW,
        "treatments.assessment",
        _pk("assessment"),
        _patient,
    ),
    "plan": Case(
        "physio",
        _episode_url("plan"),
        Action.VIEW,
        "treatments.treatmentplan",
        lambda r: r["episode"].plan.pk,
        _patient,
    ),
    "intervention stop": Case(
        "physio",
        lambda r: reverse(
            "treatments:intervention_stop",
            args=[r["patient"].pk, r["episode"].pk, r["intervention"].pk],
        ),
        Action.UPDATE,
        "treatments.intervention",
        _pk("intervention"),
        _patient,
        method="post",
    ),
    "handout page": Case(
        "physio",
        _episode_url("handout"),
        Action.PRINT,
        "treatments.treatmentplan",
        lambda r: r["episode"].plan.pk,
        _patient,
    ),
    "handout PDF": Case(
        "physio",
        _episode_url("handout_pdf"),
        Action.EXPORT,
        "treatments.treatmentplan",
        lambda r: r["episode"].plan.pk,
        _patient,
    ),
    "handout e-mail": Case(
        "physio",
        _episode_url("handout_email"),
        Action.EXPORT,
        "treatments.treatmentplan",
        lambda r: r["episode"].plan.pk,
        _patient,
        method="post",
    ),
    "visit note": Case(
        "physio",
        lambda r: reverse("treatments:note", args=[r["patient"].pk, r["note"].pk]),
        Action.VIEW,
        "treatments.visitnote",
        _pk("note"),
        _patient,
    ),
    "note sign": Case(
        "physio",
        lambda r: reverse("treatments:note_sign", args=[r["patient"].pk, r["note"].pk]),
        Action.SIGN,
        "treatments.visitnote",
        _pk("note"),
        _patient,
        method="post",
    ),
    "unsigned notes": Case(
        "physio",
        lambda r: reverse("treatments:notes_unsigned"),
        Action.LIST,
        "treatments.visitnote",
    ),
}


@pytest.fixture
def clients(front_desk, physio) -> dict[str, Client]:
    result = {"anonymous": Client(HTTP_USER_AGENT=USER_AGENT)}
    for role, user in [("front_desk", front_desk), ("physio", physio)]:
        result[role] = Client(HTTP_USER_AGENT=USER_AGENT)
        result[role].force_login(user)
    return result


def patient_values() -> set[str]:
    """Every name, phone and e-mail of every patient: none may appear in the log."""
    values = set()
    for row in Patient.objects.values_list("first_name", "last_name", "phone", "email"):
        values.update(value.lower() for value in row if value)
    return values


def assert_no_patient_values(events) -> None:
    forbidden = patient_values()
    for event in events:
        for column in AccessEvent._meta.fields:
            text = str(getattr(event, column.attname) or "").lower()
            # Whole values only: a surname such as "Lowe" inside "allowed" is no leak.
            leaked = [
                value
                for value in forbidden
                if re.search(rf"(?<![a-z0-9]){re.escape(value)}(?![a-z0-9])", text)
            ]
            assert leaked == [], f"{column.name} of {event} holds {leaked}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_patient_data_view_writes_exactly_one_entry(name, record, clients, request):
    case = CASES[name]
    before = set(AccessEvent.objects.values_list("pk", flat=True))
    response = getattr(clients[case.who], case.method)(case.url(record), case.data)
    assert response.status_code in (200, 302), response.status_code
    events = list(AccessEvent.objects.exclude(pk__in=before))
    assert len(events) == 1, [(e.action, e.object_type) for e in events]
    event = events[0]
    user = request.getfixturevalue(case.who) if case.who != "anonymous" else None
    assert event.user == user
    assert event.username == (user.username if user else "")
    assert event.roles == (",".join(role.value for role in user.roles) if user else "")
    assert (event.action, event.object_type) == (case.action, case.object_type)
    assert event.object_id == str(case.object_id(record))
    assert event.patient_id == case.patient(record)
    assert event.outcome == Outcome.ALLOWED
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == USER_AGENT
    assert event.request_id == response.headers["X-Request-ID"]
    assert event.at is not None
    assert_no_patient_values(events)


def test_a_signed_link_token_is_not_written_to_the_log(record, client) -> None:
    client.get(reverse("booking:manage", args=[record["online_token"]]))
    event = AccessEvent.objects.get()
    assert record["online_token"] not in event.path
    assert event.path == "/book/manage/[token]/"


def test_a_new_registration_is_logged_as_created(front_desk_client, front_desk) -> None:
    response = front_desk_client.post(
        reverse("patients:create"),
        {
            "first_name": "Imogen",
            "last_name": "Castellano",
            "date_of_birth": "17/05/1994",
            "sex": "female",
            "funding": "self_pay",
            "phone": "07911 123456",
            "email": "imogen@example.com",
        },
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    event = AccessEvent.objects.get()
    assert (event.action, event.object_id, event.patient_id) == (
        Action.CREATE,
        str(patient.pk),
        patient.pk,
    )
    assert_no_patient_values([event])


def test_front_desk_opening_a_clinical_page_writes_a_denied_entry(
    record, front_desk_client, front_desk
) -> None:
    url = reverse("treatments:episode", args=[record["patient"].pk, record["episode"].pk])
    response = front_desk_client.get(url)
    assert response.status_code == 403
    assert "This page is not available to you" in response.content.decode()
    event = AccessEvent.objects.get()
    assert event.outcome == Outcome.DENIED
    assert event.user == front_desk
    assert event.action == Action.VIEW
    assert event.object_type == "treatments:episode"
    assert event.object_id == str(record["episode"].pk)
    assert event.patient_id == record["patient"].pk
    assert event.request_id == response.headers["X-Request-ID"]


def test_a_refused_change_to_a_patient_is_denied_and_logged(record, physio_client) -> None:
    response = physio_client.post(reverse("patients:archive", args=[record["patient"].pk]))
    assert response.status_code == 403
    event = AccessEvent.objects.get()
    assert (event.action, event.outcome, event.patient_id) == (
        Action.UPDATE,
        Outcome.DENIED,
        record["patient"].pk,
    )


def test_an_unknown_record_writes_no_entry(physio_client, patient) -> None:
    response = physio_client.get(reverse("patients:detail", args=[patient.pk + 1000]))
    assert response.status_code == 404
    assert not AccessEvent.objects.exists()


# --- Append-only -------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_to_change_or_delete_entries(record, clients) -> None:
    clients["front_desk"].get(reverse("patients:detail", args=[record["patient"].pk]))
    event = AccessEvent.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(username="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    stored = AccessEvent.objects.get()
    assert (stored.pk, stored.username) == (event.pk, "frontdesk")


# --- Managers read the log ---------------------------------------------------------------


def _entry(*, days_ago: int = 0, **fields) -> AccessEvent:
    at = timezone.now() - datetime.timedelta(days=days_ago)
    with mock.patch("django.utils.timezone.now", return_value=at):
        return AccessEvent.objects.create(**{"action": Action.VIEW, **fields})


@pytest.fixture
def entries(db) -> dict[str, AccessEvent]:
    return {
        "old": _entry(username="ann", patient_id=1, days_ago=40),
        "view": _entry(username="ann", patient_id=1),
        "other_patient": _entry(username="ann", patient_id=2),
        "bob": _entry(username="bob", patient_id=1, action=Action.UPDATE),
        "denied": _entry(username="bob", patient_id=1, outcome=Outcome.DENIED),
    }


def _listed(response) -> set[int]:
    return {event.pk for event in response.context["events"]}


def test_managers_see_the_newest_entries_first(manager_client, entries) -> None:
    response = manager_client.get(LOG_URL)
    assert response.status_code == 200
    events = list(response.context["events"])
    assert events[0] == entries["denied"]
    assert events[-1] == entries["old"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"patient": 2}, {"other_patient"}),
        ({"user": "bob"}, {"bob", "denied"}),
        ({"action": "update"}, {"bob"}),
        ({"outcome": "denied"}, {"denied"}),
        ({"patient": 1, "user": "ann"}, {"old", "view"}),
    ],
)
def test_managers_filter_the_log(manager_client, entries, query, expected) -> None:
    response = manager_client.get(LOG_URL, query)
    assert response.status_code == 200
    assert _listed(response) == {entries[name].pk for name in expected}


def test_managers_filter_the_log_by_dates(manager_client, entries) -> None:
    today = timezone.localdate()
    recent = manager_client.get(LOG_URL, {"date_from": today - datetime.timedelta(days=1)})
    assert entries["old"].pk not in _listed(recent)
    assert entries["view"].pk in _listed(recent)
    old_day = today - datetime.timedelta(days=40)
    old = manager_client.get(LOG_URL, {"date_from": old_day, "date_to": old_day})
    assert _listed(old) == {entries["old"].pk}


def test_bad_filters_get_a_clear_message_and_no_rows(manager_client, entries) -> None:
    response = manager_client.get(
        LOG_URL, {"patient": "x\x00", "date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert list(response.context["events"]) == []


def test_the_log_pages_without_counting_the_whole_table(
    manager_client, db, django_assert_max_num_queries
) -> None:
    AccessEvent.objects.bulk_create(
        [AccessEvent(username="ann", action=Action.VIEW) for _ in range(60)]
    )
    with django_assert_max_num_queries(8) as captured:
        first = manager_client.get(LOG_URL)
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
    assert len(first.context["events"]) == 50
    assert first.context["next_query"] == "page=2"
    second = manager_client.get(LOG_URL, {"page": 2})
    assert len(second.context["events"]) == 10
    assert second.context["next_query"] == ""


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_managers_download_the_filtered_log_and_the_download_is_logged(
    manager_client, manager, entries
) -> None:
    response = manager_client.get(CSV_URL, {"user": "bob"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:4] == ["time (UTC)", "username", "roles", "action"]
    assert sorted(row[3] for row in rows[1:]) == ["update", "view"]
    export = AccessEvent.objects.get(user=manager)
    assert (export.action, export.object_type) == (Action.EXPORT, "clinic.accessevent")


def test_the_download_neutralises_spreadsheet_formulas(manager_client, db) -> None:
    for agent in ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd"]:
        _entry(username="ann", user_agent=agent)
    rows = _csv(manager_client.get(CSV_URL, {"user": "ann"}))
    agents = sorted(row[9] for row in rows[1:])
    assert all(agent.startswith("'") for agent in agents), agents


def test_a_manager_sees_who_accessed_a_record(manager_client, patient, front_desk) -> None:
    client = Client()
    client.force_login(front_desk)
    client.get(reverse("patients:detail", args=[patient.pk]))
    page = manager_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Who accessed this record" in page
    assert "frontdesk" in page
    assert f"{LOG_URL}?patient={patient.pk}" in page


def test_front_desk_does_not_see_who_accessed_a_record(front_desk_client, patient) -> None:
    page = front_desk_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Who accessed this record" not in page


@pytest.mark.parametrize("url", [LOG_URL, CSV_URL])
@pytest.mark.parametrize("role", ["outsider", "front_desk", "physio"])
def test_only_managers_open_the_access_log(url, role, request) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 403


def test_the_admin_site_shows_the_log_read_only(manager_client, entries) -> None:
    changelist = manager_client.get(reverse("admin:clinic_accessevent_changelist"))
    assert changelist.status_code == 200
    assert manager_client.get(reverse("admin:clinic_accessevent_add")).status_code == 403
    change = manager_client.post(
        reverse("admin:clinic_accessevent_change", args=[entries["view"].pk]),
        {"username": "mallory"},
    )
    assert change.status_code == 403
    delete = manager_client.post(
        reverse("admin:clinic_accessevent_delete", args=[entries["view"].pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert AccessEvent.objects.get(pk=entries["view"].pk).username == "ann"


def test_a_user_without_roles_is_never_logged_as_reading_records(db) -> None:
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    client.get(reverse("home"))
    assert not AccessEvent.objects.exists()


def _request_by(user):
    """A request signed in as ``user``, read as every request reads its person (roles too)."""
    from django.test import RequestFactory

    from clinic.auth_backends import RoleBackend

    request = RequestFactory().get("/patients/", HTTP_USER_AGENT=USER_AGENT)
    request.user = RoleBackend().get_user(user.pk)
    return request


def _sent(block) -> list[str]:
    """The SQL sent to the database while ``block`` runs, one item per round trip."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        block()
    return [query["sql"] for query in captured]


def test_a_search_sends_its_entry_with_the_rows_it_reads(front_desk_client, front_desk) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.queries import TOGETHER

    PatientFactory(first_name="Wilhelmina", last_name="Quarrington")
    with CaptureQueriesContext(connection) as captured:
        response = front_desk_client.get(reverse("patients:list"), {"q": "Quarrington"})

    assert "Quarrington, Wilhelmina" in response.content.decode()
    entry = AccessEvent.objects.get(action=Action.SEARCH)
    assert (entry.user_id, entry.object_type, entry.path) == (
        front_desk.pk,
        "patients.patient",
        reverse("patients:list"),
    )
    with_rows = [q["sql"] for q in captured if '"patients_patient"' in q["sql"]]
    assert len(with_rows) == 1
    assert ("INSERT INTO" in with_rows[0]) is TOGETHER  # one round trip on PostgreSQL


def test_an_entry_is_written_with_the_first_query_of_its_block(front_desk) -> None:
    from clinic.audit import access_logged
    from tests.queries import TOGETHER

    counted, request = [], _request_by(front_desk)

    def block() -> None:
        with access_logged(request, Action.SEARCH, object_type="patients"):
            # A query with parameters, as the ORM's are: the entry goes just before it.
            counted.append(AccessEvent.objects.filter(action=Action.SEARCH).count())
            counted.append(AccessEvent.objects.filter(action=Action.SEARCH).count())

    sent = _sent(block)

    assert counted == [1, 1]
    assert sent[0].startswith('INSERT INTO "clinic_accessevent"')
    assert ("SELECT COUNT(*)" in sent[0]) is TOGETHER  # the same round trip on PostgreSQL
    assert len(sent) == (2 if TOGETHER else 3)
    assert all("INSERT" not in sql for sql in sent[1:])
    assert AccessEvent.objects.get().user_agent == USER_AGENT


def test_a_block_that_reads_nothing_writes_its_entry_on_leaving(front_desk) -> None:
    from clinic.audit import access_logged

    with access_logged(_request_by(front_desk), Action.LIST, object_type="patients.patient"):
        pass

    assert AccessEvent.objects.get().action == Action.LIST


def test_a_block_that_fails_before_reading_writes_no_entry(front_desk) -> None:
    from clinic.audit import access_logged

    with pytest.raises(ValueError), access_logged(_request_by(front_desk), Action.VIEW):
        raise ValueError("nothing was read")

    assert not AccessEvent.objects.exists()


def test_an_entry_goes_before_a_query_it_cannot_travel_with(front_desk) -> None:
    from django.db import connection

    from clinic.audit import access_logged

    request = _request_by(front_desk)

    def block() -> None:
        with (
            access_logged(request, Action.EXPORT, object_type="patients"),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 1")  # no parameters: the INSERT goes on its own first
            assert cursor.fetchone() == (1,)

    sent = _sent(block)

    assert len(sent) == 2
    assert sent[0].startswith('INSERT INTO "clinic_accessevent"') and ";" not in sent[0]
    assert sent[1] == "SELECT 1"
    assert AccessEvent.objects.count() == 1


def test_an_entry_goes_before_a_query_read_through_a_server_side_cursor(front_desk) -> None:
    from clinic.audit import access_logged

    PatientFactory(last_name="Iterated")
    with access_logged(_request_by(front_desk), Action.EXPORT, object_type="patients.patient"):
        names = [p.last_name for p in Patient.objects.filter(pk__gt=0).iterator(chunk_size=10)]

    assert names == ["Iterated"]
    assert AccessEvent.objects.get().action == Action.EXPORT


@together_only
@pytest.mark.django_db(transaction=True)
def test_a_read_that_fails_takes_its_entry_with_it() -> None:
    """On PostgreSQL the INSERT and the read are one transaction (outside any atomic block,
    as a page runs): nothing was shown, so no entry stays."""
    from django.db import connection

    from clinic.audit import access_logged

    front_desk = UserFactory()
    with (
        pytest.raises(DatabaseError),
        access_logged(_request_by(front_desk), Action.SEARCH, object_type="patients"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 / %s", [0])

    assert not AccessEvent.objects.exists()
    with (
        access_logged(_request_by(front_desk), Action.SEARCH, object_type="patients"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 / %s", [1])
    assert AccessEvent.objects.count() == 1
