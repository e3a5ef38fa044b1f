import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment
from clinic.audit import AccessEvent, Action
from clinic.db_routers import REPORTS, reports_database
from clinic.models import StaffProfile

from .conftest import MONDAY, SUNDAY

INDEX = reverse("reports:index")
WEEK = {"date_from": MONDAY.isoformat(), "date_to": SUNDAY.isoformat()}


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_manager_sees_every_report_as_a_chart_and_a_table(manager_client):
    response = manager_client.get(INDEX)
    assert response.status_code == 200
    page = response.content.decode()
    for slug in (
        "appointments-per-clinician",
        "utilisation",
        "cancellations",
        "new-patients",
        "outcomes",
        "interventions",
    ):
        assert f'id="{slug}"' in page
        assert reverse("reports:csv", args=[slug]) in page
    assert page.count("<svg") == 6
    assert page.count("<table") == 6


def test_the_page_defaults_to_the_last_twelve_weeks(manager_client):
    response = manager_client.get(INDEX)
    filters = response.context["filters"]
    assert (filters["date_to"] - filters["date_from"]).days == 11 * 7 + filters["date_to"].weekday()
    assert filters["date_from"].weekday() == 0
    assert filters["location"] is None


def test_viewing_aggregate_reports_writes_no_access_log_entry(manager_client):
    manager_client.get(INDEX)
    assert not AccessEvent.objects.exists()


def test_the_page_shows_the_known_no_show_rate(manager_client, no_show_week):
    response = manager_client.get(INDEX, WEEK)
    [cancellations] = [
        r for r in response.context["reports"] if r["report"].slug == "cancellations"
    ]
    assert cancellations["footer"] == ["All weeks", "8", "2", "1", "2", "25.0", "12.5", "25.0"]
    ET.fromstring(cancellations["chart"])


def test_without_a_reports_database_the_reports_read_from_the_primary(manager_client, no_show_week):
    assert REPORTS not in connections
    with reports_database():
        assert router.db_for_read(Appointment) == DEFAULT_DB_ALIAS
    with CaptureQueriesContext(connection) as captured:
        response = manager_client.get(INDEX, WEEK)
    assert '"appointments_appointment"' in " ".join(q["sql"] for q in captured.captured_queries)
    [cancellations] = [
        r for r in response.context["reports"] if r["report"].slug == "cancellations"
    ]
    assert cancellations["footer"] == ["All weeks", "8", "2", "1", "2", "25.0", "12.5", "25.0"]


def test_the_utilisation_csv_has_the_tables_figures_and_is_logged(manager_client, utilisation_week):
    response = manager_client.get(reverse("reports:csv", args=["utilisation"]), WEEK)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert _csv(response) == [
        ["Clinician", "Available (hours)", "Booked (hours)", "Utilisation (%)"],
        ["Amy Adams", "8.0", "6.0", "75.0"],
        ["All clinicians", "8.0", "6.0", "75.0"],
    ]
    event = AccessEvent.objects.get()
    assert (event.action, event.object_type, event.object_id) == (
        Action.EXPORT,
        "report",
        "utilisation",
    )
    assert event.patient_id is None


def test_the_csv_neutralises_spreadsheet_formulas(manager_client, no_show_week, amy):
    StaffProfile.objects.filter(user=amy).update(display_name='=HYPERLINK("http://x","y")')
    response = manager_client.get(reverse("reports:csv", args=["appointments-per-clinician"]), WEEK)
    header, first_week, _total = _csv(response)
    assert header == ["Week of", '\'=HYPERLINK("http://x","y")', "Total"]
    assert first_week == [MONDAY.isoformat(), "4", "4"]


def test_the_no_show_csv_keeps_negative_free_numbers_as_numbers(manager_client, no_show_week):
    response = manager_client.get(reverse("reports:csv", args=["cancellations"]), WEEK)
    rows = _csv(response)
    assert rows[1] == [MONDAY.isoformat(), "8", "2", "1", "2", "25.0", "12.5", "25.0"]


def test_filters_by_location_and_dates(manager_client, two_weeks, sydney):
    url = reverse("reports:csv", args=["appointments-per-clinician"])
    whole = _csv(manager_client.get(url, {"date_from": "2025-03-03", "date_to": "2025-03-16"}))
    assert whole[-1] == ["All weeks", "4", "2", "6"]
    second_week = _csv(
        manager_client.get(url, {"date_from": "2025-03-10", "date_to": "2025-03-16"})
    )
    assert second_week[-1] == ["All weeks", "1", "2", "3"]
    elsewhere = _csv(manager_client.get(url, {**WEEK, "location": sydney.pk}))
    assert elsewhere == [["Week of", "Total"], [MONDAY.isoformat(), "0"], ["All weeks", "0"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2025-03-09", "date_to": "2025-03-03"}, "on or after the start date"),
        ({"date_from": "not a date"}, "Enter a valid date"),
        ({"date_from": "2020-01-01", "date_to": "2025-01-01"}, "at most two years"),
        ({"location": "999999"}, "Select a valid choice"),
        ({"location": "'; drop table"}, "Select a valid choice"),
        ({"date_from": "1066-10-14"}, "Choose a date between"),
    ],
)
def test_bad_filters_give_a_message_and_the_default_reports(manager_client, query, message):
    response = manager_client.get(INDEX, query)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(message in text for text in shown), shown
    assert any("last 12 weeks" in text for text in shown)
    assert response.content.decode().count("<svg") == 6


def test_a_csv_with_bad_filters_goes_back_to_the_reports_with_a_message(manager_client):
    url = reverse("reports:csv", args=["utilisation"])
    response = manager_client.get(url, {"date_to": "2025-13-45"}, follow=True)
    assert response.redirect_chain == [(INDEX, 302)]
    assert "Enter a valid date" in response.content.decode()
    assert not AccessEvent.objects.exists()


def test_an_unknown_report_is_not_found(manager_client):
    response = manager_client.get(reverse("reports:csv", args=["patients"]))
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["front_desk_client", "physio_client", "outsider_client"])
@pytest.mark.parametrize("url", [INDEX, reverse("reports:csv", args=["utilisation"])])
def test_only_practice_managers_may_open_reports(request, who, url):
    assert request.getfixturevalue(who).get(url).status_code == 403


@pytest.mark.parametrize("url", [INDEX, reverse("reports:csv", args=["utilisation"])])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_managers_find_reports_in_the_menu_and_others_do_not(manager_client, physio_client):
    assert f'href="{INDEX}"' in manager_client.get(reverse("home")).content.decode()
    assert f'href="{INDEX}"' not in physio_client.get(reverse("home")).content.decode()


def test_the_outcomes_csv_keeps_a_negative_pain_change_a_number(
    manager_client, discharged_episodes
):
    response = manager_client.get(reverse("reports:csv", args=["outcomes"]), WEEK)
    rows = dict(_csv(response)[1:])
    assert rows["Share improved beyond the Kujala MCID (%)"] == "33.3"
    assert rows["Mean change in pain at worst (NPRS points; below 0 is less pain)"] == "-1.0"
    assert rows["Mean sessions per episode (visit notes)"] == "2.0"


def test_text_that_starts_like_a_formula_is_quoted_in_the_csv(manager_client, no_show_week, amy):
    StaffProfile.objects.filter(user=amy).update(display_name="-2+3 Amy")
    response = manager_client.get(reverse("reports:csv", args=["utilisation"]), WEEK)
    assert _csv(response)[1][0] == "'-2+3 Amy"
