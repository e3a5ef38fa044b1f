"""Reports read from the "reports" database (a read replica) when there is one; every write,
the access log's included, goes to the primary."""

from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment
from clinic.audit import AccessEvent, Action, log_access
from clinic.db_routers import REPORTS, reports_database
from clinic.models import Location
from patients.models import Patient

from .conftest import at, day, visit
from .test_views import INDEX, WEEK, _csv

APPOINTMENTS = '"appointments_appointment"'
pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPORTS])


@pytest.fixture(scope="module", autouse=True)
def _reports_database(django_db_setup, django_db_blocker) -> Iterator[None]:
    """A "reports" database for this module's tests: a mirror of the test database, as a
    replica mirrors its primary.

    It is a connection of its own, so it sees only committed rows (hence ``transaction=True``),
    as a replica sees only what the primary has committed. On in-memory SQLite both
    connections open the same shared-cache database.
    """
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPORTS] = {
        **primary,
        "OPTIONS": {**primary["OPTIONS"]},
        "TEST": {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
    }
    yield
    with django_db_blocker.unblock():
        connections[REPORTS].close()
    del connections[REPORTS]
    del connections.settings[REPORTS]


@pytest.fixture
def replica() -> BaseDatabaseWrapper:
    return connections[REPORTS]


def _writes(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def _reads_appointments(captured: CaptureQueriesContext) -> bool:
    return any(APPOINTMENTS in query["sql"] for query in captured.captured_queries)


def test_the_reports_page_reads_its_figures_from_the_replica(manager_client, replica, no_show_week):
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        response = manager_client.get(INDEX, WEEK)
    assert response.status_code == 200
    [cancellations] = [
        r for r in response.context["reports"] if r["report"].slug == "cancellations"
    ]
    assert cancellations["footer"] == ["All weeks", "8", "2", "1", "2", "25.0", "12.5", "25.0"]
    assert _reads_appointments(on_replica)
    assert not _reads_appointments(on_primary)


def test_a_csv_export_reads_from_the_replica_and_logs_on_the_primary(
    manager_client, replica, utilisation_week
):
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        response = manager_client.get(reverse("reports:csv", args=["utilisation"]), WEEK)
    assert _csv(response)[-1] == ["All clinicians", "8.0", "6.0", "75.0"]
    assert _reads_appointments(on_replica)
    assert _writes(on_replica) == []
    assert any('"clinic_accessevent"' in sql for sql in _writes(on_primary))
    event = AccessEvent.objects.using(DEFAULT_DB_ALIAS).get()
    assert (event.action, event.object_id) == (Action.EXPORT, "utilisation")


def test_the_access_log_is_written_to_the_primary_while_a_report_is_read(manager, replica):
    request = RequestFactory().get(INDEX)
    request.user = manager
    with reports_database(), CaptureQueriesContext(replica) as on_replica:
        log_access(request, Action.EXPORT, object_type="report", object_id="utilisation")
    assert _writes(on_replica) == []
    assert AccessEvent.objects.using(DEFAULT_DB_ALIAS).filter(object_id="utilisation").exists()


def test_a_row_read_from_the_replica_is_saved_to_the_primary(replica, islington):
    with reports_database():
        location = Location.objects.get(pk=islington.pk)
        assert location._state.db == REPORTS
        location.name = "Angel"
        with CaptureQueriesContext(replica) as on_replica:
            location.save()
    assert _writes(on_replica) == []
    islington.refresh_from_db(using=DEFAULT_DB_ALIAS)
    assert islington.name == "Angel"


def test_a_row_from_the_replica_may_be_linked_to_a_row_from_the_primary(
    replica, amy, islington, sydney
):
    appointment = visit(amy, islington, at(day(0), 9))
    with reports_database():
        elsewhere = Location.objects.get(pk=sydney.pk)
    assert elsewhere._state.db == REPORTS
    appointment.location = elsewhere
    appointment.save(update_fields=["location"])
    assert Appointment.objects.using(DEFAULT_DB_ALIAS).get(pk=appointment.pk).location == sydney


def test_only_reads_inside_a_report_go_to_the_replica(replica):
    assert router.db_for_read(Patient) == DEFAULT_DB_ALIAS
    with reports_database():
        assert router.db_for_read(Patient) == REPORTS
        assert router.db_for_write(Patient) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Patient) == DEFAULT_DB_ALIAS


def test_the_replica_is_never_migrated() -> None:
    assert router.allow_migrate(REPORTS, "patients", model_name="patient") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "patients", model_name="patient") is True


def test_a_booking_checks_its_rules_on_the_primary_even_while_reports_read_the_replica(
    replica, amy, islington, front_desk
):
    """The rules are checked under the booking's lock, so never against a replica."""
    from appointments.services import appointment_book
    from tests.appointments.factories import AppointmentTypeFactory, works_every_day
    from tests.appointments.scheduling import at as local
    from tests.appointments.scheduling import day_ahead
    from tests.factories import PatientFactory

    works_every_day(amy, islington)
    starts_at = local(day_ahead(14), "10:00")
    with (
        reports_database(),
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        booked = appointment_book(
            patient=PatientFactory(),
            clinician=amy,
            location=islington,
            appointment_type=AppointmentTypeFactory(name="Follow-up check"),
            starts_at=starts_at,
            by=front_desk,
        )

    def checks(captured: CaptureQueriesContext) -> list[str]:
        return [q["sql"] for q in captured.captured_queries if "practicesettings" in q["sql"]]

    assert checks(on_replica) == []
    assert any("works_then" in sql for sql in checks(on_primary))
    assert (
        Appointment.objects.using(DEFAULT_DB_ALIAS)
        .filter(pk=booked.pk, starts_at=starts_at)
        .exists()
    )
