"""The scheduling pages: calendars, finding a time, booking, changing, series, waitlist and
the home page sections."""

import datetime
import re
from html import escape

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentStatusChange,
    OutboxMessage,
    PracticeSettings,
    Status,
    WaitlistEntry,
    Weekday,
)
from clinic.roles import Role
from patients.models import Patient
from tests.factories import LocationFactory, PatientFactory, RoomFactory, UserFactory
from tests.queries import statements

from .factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    WorkingHoursFactory,
    works_every_day,
)
from .scheduling import WaitlistEntryFactory, at, certify_dry_needling, day_ahead

pytestmark = pytest.mark.django_db

DAY = day_ahead(14, weekday=Weekday.TUESDAY)
MONDAY = DAY - datetime.timedelta(days=1)


def text(response) -> str:
    return response.content.decode()


def shows(response, message: str) -> bool:
    return escape(message) in text(response)


def appointment_card(response, appointment: Appointment) -> str:
    """The words on an appointment's block in a calendar grid."""
    found = re.search(
        rf'<a class="appt [^"]*" href="{appointment.get_absolute_url()}">(.*?)</a>',
        text(response),
        re.DOTALL,
    )
    assert found, "the appointment is not in the grid"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def day_url(location, day=DAY) -> str:
    return f"{reverse('appointments:day')}?location={location.pk}&date={day.isoformat()}"


# --- Day, week and print views ----------------------------------------------------------


def test_day_view_shows_a_column_per_clinician_working_that_day_with_their_appointments(
    front_desk_client, physio, colleague, clinic, patient, follow_up
) -> None:
    monday_only = UserFactory(first_name="Molly", last_name="Monday", roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=monday_only, location=clinic, weekday=Weekday.MONDAY)
    appointment = AppointmentFactory(
        patient=patient, clinician=physio, location=clinic, appointment_type=follow_up,
        starts_at=at(DAY, "10:00"),
    )  # fmt: skip

    response = front_desk_client.get(day_url(clinic))

    assert response.status_code == 200
    assert shows(response, f"Islington · {DAY:%A} {DAY.day} {DAY:%B %Y}")
    headers = re.findall(r'<th scope="col">([^<]+)', text(response))
    assert headers == ["Colin Baker", "Priya Shah"]
    assert appointment_card(response, appointment) == "10:00–10:45 Hannah Wright Follow-up Booked"


def test_free_cells_link_to_booking_with_the_clinician_place_and_time_filled_in(
    front_desk_client, physio, clinic
) -> None:
    response = front_desk_client.get(day_url(clinic))

    query = f"clinician={physio.pk}&location={clinic.pk}&date={DAY.isoformat()}&time=09%3A00"
    link = f"{reverse('appointments:create')}?{query}"
    assert escape(link) in text(response)
    assert shows(response, f"Book 09:00 on {DAY:%a %d %b} with Priya Shah")

    form = front_desk_client.get(link)
    assert form.status_code == 200
    assert f'<option value="{physio.pk}" selected>Priya Shah</option>' in text(form)
    assert f'value="{DAY.isoformat()}"' in text(form)
    assert 'value="09:00"' in text(form)


def test_cancelled_appointments_are_listed_below_the_grid_with_a_late_badge(
    front_desk_client, physio, clinic, patient
) -> None:
    AppointmentFactory(
        patient=patient, clinician=physio, location=clinic, starts_at=at(DAY, "10:00"),
        status=Status.CANCELLED, late_cancellation=True,
    )  # fmt: skip

    response = front_desk_client.get(day_url(clinic))

    assert shows(response, "10:00 Hannah Wright with Priya Shah")
    assert '<span class="badge text-bg-warning">late</span>' in text(response)
    assert '<a class="appt ' not in text(response)


def test_cancelled_appointments_show_the_locations_own_time(
    front_desk_client, physio, patient
) -> None:
    sydney = LocationFactory(name="Harbour", time_zone="Australia/Sydney")
    cancelled = AppointmentFactory(
        patient=patient, clinician=physio, location=sydney, starts_at=at(DAY, "09:30", sydney.zone),
        status=Status.CANCELLED,
    )  # fmt: skip

    response = front_desk_client.get(day_url(sydney))

    assert shows(response, "09:30 Hannah Wright with Priya Shah")
    assert f'href="{cancelled.get_absolute_url()}"' in text(response)


def test_an_htmx_request_gets_only_the_calendar(front_desk_client, physio, clinic, patient):
    AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                       starts_at=at(DAY, "10:00"))  # fmt: skip

    response = front_desk_client.get(day_url(clinic), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in text(response)
    assert "Hannah Wright" in text(response)


@pytest.mark.parametrize(
    "query",
    [
        "location=abc",
        "date=2026-13-45",
        "location=\x00&date=2026-01-01\x00",
        "location=999999",
        "date=9999-12-31",
        "date=0001-01-01",
    ],
    ids=["letters", "impossible-date", "nul-bytes", "unknown-location", "last-day", "first-day"],
)
@pytest.mark.parametrize("page", ["day", "day_print"])
def test_bad_calendar_parameters_show_today_with_a_message(
    page, query, front_desk_client, clinic
) -> None:
    response = front_desk_client.get(f"{reverse(f'appointments:{page}')}?{query}")

    assert response.status_code == 200
    assert shows(response, "That calendar could not be opened; showing today instead.")
    today = timezone.localdate()
    assert shows(response, f"Islington · {today:%A} {today.day} {today:%B %Y}")


def test_the_calendar_says_when_nobody_works_that_day(front_desk_client, london) -> None:
    response = front_desk_client.get(day_url(london))

    assert shows(response, f"Nobody works at Islington on {DAY:%A}s.")


def test_a_closure_is_shown_on_the_calendar(front_desk_client, clinic) -> None:
    from .scheduling import ClosureFactory

    ClosureFactory(location=None, starts_on=DAY, reason="Bank holiday")

    response = front_desk_client.get(day_url(clinic))

    assert shows(response, "Closed: Bank holiday")
    assert "free-slot" not in text(response)


def test_week_view_shows_a_clinicians_week_with_their_appointments(
    physio_client, physio, clinic, patient, follow_up
) -> None:
    elsewhere = LocationFactory(name="Hackney")
    tuesday = AppointmentFactory(
        patient=patient, clinician=physio, location=clinic, appointment_type=follow_up,
        starts_at=at(DAY, "10:00"),
    )  # fmt: skip
    friday = AppointmentFactory(
        clinician=physio, location=elsewhere, appointment_type=follow_up,
        starts_at=at(DAY + datetime.timedelta(days=3), "14:00"),
    )  # fmt: skip

    response = physio_client.get(
        f"{reverse('appointments:week')}?clinician={physio.pk}&date={DAY.isoformat()}"
    )

    monday = DAY - datetime.timedelta(days=1)
    assert response.status_code == 200
    assert shows(response, f"Priya Shah · week of {monday.day} {monday:%B %Y}")
    assert appointment_card(response, tuesday).startswith("10:00–10:45 Hannah Wright Follow-up")
    assert "Follow-up · Hackney" in appointment_card(response, friday)


@pytest.mark.parametrize(
    "day", [datetime.date(2026, 3, 29), datetime.date(2026, 10, 25)], ids=["forward", "back"]
)
def test_the_day_grid_keeps_to_the_wall_clock_on_the_days_the_clocks_change(
    day, front_desk_client, physio, clinic, follow_up
) -> None:
    appointment = AppointmentFactory(clinician=physio, location=clinic, appointment_type=follow_up,
                                     starts_at=at(day, "10:00"))  # fmt: skip

    response = front_desk_client.get(day_url(clinic, day))

    rows = re.findall(r"<tr>\s*<th[^>]*>([^<]*)</th>(.*?)</tr>", text(response), re.DOTALL)
    row = next(hour for hour, cells in rows if appointment.get_absolute_url() in cells)
    assert row == "10:00"
    assert appointment_card(response, appointment).startswith("10:00–10:45")
    assert shows(response, f"Book 11:00 on {day:%a %d %b} with Priya Shah")


def test_names_in_the_day_and_week_grids_are_escaped(front_desk_client, clinic) -> None:
    odd = UserFactory(first_name="<b>Ann</b>", last_name="O'Hara", roles=[Role.PHYSIOTHERAPIST])
    WorkingHoursFactory(clinician=odd, location=clinic, weekday=DAY.weekday())
    elsewhere = LocationFactory(name="Smith & <i>Jones</i>")
    AppointmentFactory(
        clinician=odd, location=clinic, starts_at=at(DAY, "10:00"),
        patient=PatientFactory(first_name="<script>alert(1)</script>", last_name="D'Arcy"),
        appointment_type=AppointmentTypeFactory(name="Knee & <u>hip</u>"),
    )  # fmt: skip
    AppointmentFactory(clinician=odd, location=elsewhere, starts_at=at(DAY, "15:00"))

    day = text(front_desk_client.get(day_url(clinic)))
    week = text(
        front_desk_client.get(
            f"{reverse('appointments:week')}?clinician={odd.pk}&date={DAY.isoformat()}"
        )
    )

    for page in (day, week):
        assert "<script>" not in page and "<b>Ann" not in page and "<u>" not in page
        assert escape("<script>alert(1)</script> D'Arcy") in page
        assert escape("Knee & <u>hip</u>") in page
    assert escape(f"Book 09:00 on {DAY:%a %d %b} with <b>Ann</b> O'Hara") in day
    assert escape("· Smith & <i>Jones</i>") in week and "<i>" not in week
    assert f">{escape('Smith & <i>Jones</i>')}</option>" in day and "<i>" not in day
    assert " selected>" + escape("<b>Ann</b> O'Hara") + "</option>" in week


@pytest.mark.parametrize(
    "query",
    ["clinician=abc", "date=2026-02-30", "clinician=\x00", "date=9999-12-31", "date=0001-01-01"],
)
def test_bad_week_parameters_show_this_week_with_a_message(query, physio_client, clinic) -> None:
    response = physio_client.get(f"{reverse('appointments:week')}?{query}")

    assert response.status_code == 200
    assert shows(response, "That week could not be opened; showing this week instead.")
    assert shows(response, "Priya Shah · week of")


def test_print_view_lists_the_day_per_clinician_with_patient_details(
    front_desk_client, physio, clinic, patient, follow_up
) -> None:
    AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                       appointment_type=follow_up, starts_at=at(DAY, "10:00"))  # fmt: skip

    response = front_desk_client.get(
        f"{reverse('appointments:day_print')}?location={clinic.pk}&date={DAY.isoformat()}"
    )

    assert response.status_code == 200
    row = re.search(r"<tr><td>10:00–10:45</td>(.*?)</tr>", text(response)).group(1)
    assert "Hannah Wright" in row
    assert "+447911123456" in row
    assert "Follow-up" in row
    assert "Booked" in row
    assert "Back to the calendar" in text(response)


def test_print_view_gives_each_appointments_room_or_a_dash(
    front_desk_client, physio, clinic, follow_up
) -> None:
    room = RoomFactory(location=clinic, name="Gym & pool")
    AppointmentFactory(clinician=physio, location=clinic, appointment_type=follow_up,
                       room=room, starts_at=at(DAY, "10:00"))  # fmt: skip
    AppointmentFactory(clinician=physio, location=clinic, appointment_type=follow_up,
                       starts_at=at(DAY, "11:00"))  # fmt: skip

    response = front_desk_client.get(
        f"{reverse('appointments:day_print')}?location={clinic.pk}&date={DAY.isoformat()}"
    )

    rows = re.findall(r"<tr><td>(\d\d:\d\d)–.*?</tr>", text(response))
    assert rows == ["10:00", "11:00"]
    assert "<td>Follow-up</td><td>Gym &amp; pool</td>" in text(response)
    assert "<td>Follow-up</td><td>—</td>" in text(response)


def _day_of_appointments(location, clinicians: int, per_clinician: int) -> None:
    short = AppointmentTypeFactory(name="Short", duration_minutes=30)
    other = LocationFactory(name="Hackney")
    for _ in range(clinicians):
        clinician = UserFactory(roles=[Role.PHYSIOTHERAPIST])
        WorkingHoursFactory(clinician=clinician, location=location, weekday=DAY.weekday())
        for slot in range(per_clinician):
            AppointmentFactory(
                clinician=clinician,
                location=location if slot % 3 else other,
                appointment_type=short,
                starts_at=at(DAY, "08:00") + datetime.timedelta(minutes=30 * slot),
                status=Status.CANCELLED if slot == 1 else Status.BOOKED,
            )


# The session, the person with their roles, the locations for the picker, the access-log
# INSERT, working hours, appointments, time off and closures; the week also reads the
# clinicians for its picker and the places seen only through an appointment. The same
# whatever the number of clinicians and appointments; on PostgreSQL the person comes with
# the session and the INSERT with the first read (tests/queries.py).
DAY_VIEW_QUERIES = statements(8, riding=2)
WEEK_VIEW_QUERIES = statements(10, riding=2)


@pytest.mark.parametrize(("clinicians", "per_clinician"), [(3, 4), (10, 12)])
def test_day_view_queries_do_not_grow_with_the_schedule(
    clinicians, per_clinician, front_desk_client, london, django_assert_num_queries
) -> None:
    _day_of_appointments(london, clinicians, per_clinician)

    with django_assert_num_queries(DAY_VIEW_QUERIES):
        response = front_desk_client.get(day_url(london))

    assert response.status_code == 200
    here = [slot for slot in range(per_clinician) if slot % 3 and slot != 1]
    assert text(response).count('<a class="appt ') == clinicians * len(here)


@pytest.mark.parametrize(("clinicians", "per_clinician"), [(3, 4), (10, 12)])
def test_week_view_queries_do_not_grow_with_the_schedule(
    clinicians, per_clinician, front_desk_client, london, django_assert_num_queries
) -> None:
    _day_of_appointments(london, clinicians, per_clinician)
    shown = UserFactory(first_name="Wanda", last_name="Week", roles=[Role.PHYSIOTHERAPIST])
    elsewhere = LocationFactory(name="Hackney")
    for index in range(per_clinician):
        WorkingHoursFactory(clinician=shown, location=london, weekday=index % 7,
                            start_time=datetime.time(8 + index // 7 * 6),
                            end_time=datetime.time(13 + index // 7 * 6))  # fmt: skip
        AppointmentFactory(
            clinician=shown,
            location=london if index % 2 else elsewhere,
            starts_at=at(MONDAY + datetime.timedelta(days=index % 7), "09:00")
            + datetime.timedelta(hours=index // 7 * 6),
        )

    with django_assert_num_queries(WEEK_VIEW_QUERIES):
        response = front_desk_client.get(
            f"{reverse('appointments:week')}?clinician={shown.pk}&date={DAY.isoformat()}"
        )

    assert response.status_code == 200
    assert text(response).count('<a class="appt ') == per_clinician


# --- Finding a free time ----------------------------------------------------------------


def find_url(location, kind, **params) -> str:
    query = f"appointment_type={kind.pk}&location={location.pk}&from_date={DAY.isoformat()}"
    for key, values in params.items():
        for value in values if isinstance(values, list) else [values]:
            query += f"&{key}={value}"
    return f"{reverse('appointments:find')}?{query}"


def test_find_lists_free_times_with_book_links(
    front_desk_client, physio, london, follow_up
) -> None:
    WorkingHoursFactory(clinician=physio, location=london, weekday=Weekday.TUESDAY,
                        start_time=datetime.time(9), end_time=datetime.time(10))  # fmt: skip

    response = front_desk_client.get(find_url(london, follow_up, weeks=1))

    assert response.status_code == 200
    assert shows(response, "2 free times")
    assert shows(response, f"{DAY:%a} {DAY.day} {DAY:%b %Y}, 09:00")
    assert shows(response, f"{DAY:%a} {DAY.day} {DAY:%b %Y}, 09:15")
    link = (
        f"{reverse('appointments:create')}?clinician={physio.pk}&location={london.pk}"
        f"&appointment_type={follow_up.pk}&date={DAY.isoformat()}&time=09:15"
    )
    assert link in text(response)


def test_find_looks_for_tuesday_evening_or_saturday(
    front_desk_client, physio, clinic, follow_up
) -> None:
    response = front_desk_client.get(
        find_url(
            clinic,
            follow_up,
            weeks=1,
            when=[f"{Weekday.TUESDAY}-evening", f"{Weekday.SATURDAY}-any"],
        )
    )

    found = re.findall(r"<td>(\w{3}) \d+ \w{3} \d{4}, (\d\d:\d\d)</td>", text(response))
    assert {day for day, _ in found} == {"Tue", "Sat"}
    tuesday = [time for day, time in found if day == "Tue"]
    saturday = [time for day, time in found if day == "Sat"]
    assert min(tuesday) == "17:00"
    assert max(tuesday) == "19:15"
    assert min(saturday) == "08:00"
    assert max(saturday) == "19:15"
    assert 'value="1-evening" id="when-1-evening" checked' in text(response)


def test_find_offers_dry_needling_only_with_a_certified_clinician(
    front_desk_client, physio, colleague, london, django_assert_num_queries
) -> None:
    works_every_day(physio, london)
    certify_dry_needling(physio, on=DAY - datetime.timedelta(days=100))
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    PracticeSettings.load()

    with django_assert_num_queries(FIND_QUERIES):
        response = front_desk_client.get(find_url(london, needling, weeks=1))

    names = re.findall(r"<td>\w{3} \d+ \w{3} \d{4}, \d\d:\d\d</td>\s*<td>([^<]+)</td>",
                       text(response))  # fmt: skip
    assert names
    assert set(names) == {"Priya Shah"}


def test_find_shows_a_box_for_every_day_and_time_ticked_as_asked(
    front_desk_client, london, follow_up
) -> None:
    response = front_desk_client.get(
        find_url(london, follow_up, weeks=1, when=[f"{Weekday.SUNDAY}-morning"])
    )

    boxes = re.findall(r'<input class="form-check-input" type="checkbox" name="when"[^>]*>',
                       text(response))  # fmt: skip
    assert len(boxes) == 7 * 4
    assert [box for box in boxes if " checked" in box] == [
        '<input class="form-check-input" type="checkbox" name="when" value="6-morning" '
        'id="when-6-morning" checked aria-label="Sunday: Morning (before 12:00)">'
    ]
    assert '<th scope="col">All day</th>' in text(response)


# Session, the person with their roles, type, location, the physiotherapists (the picker's
# options, which the finder narrows to those offering the type as it reads their working
# hours), the practice's rules, and one read of the appointments, time off and closures of
# the first four days, which hold sixty free times here: the same however full the diary.
FIND_QUERIES = statements(8, riding=1)


@pytest.mark.parametrize("per_day", [1, 12])
def test_find_queries_do_not_grow_with_the_schedule(
    per_day, front_desk_client, physio, colleague, london, follow_up, django_assert_num_queries
) -> None:
    PracticeSettings.load()
    for clinician in (physio, colleague):
        for slot in range(per_day):
            AppointmentFactory(
                clinician=clinician, location=london, appointment_type=follow_up,
                starts_at=at(DAY, "08:00") + datetime.timedelta(hours=slot),
            )  # fmt: skip

    with django_assert_num_queries(FIND_QUERIES):
        response = front_desk_client.get(find_url(london, follow_up, weeks=1))

    assert response.status_code == 200
    times = re.findall(r"<td>\w{3} \d+ \w{3} \d{4}, \d\d:\d\d</td>", text(response))
    assert times
    assert text(response).count(">Book</a>") == len(times)


def test_find_escapes_a_clinician_name_in_the_picker_and_the_free_times(
    front_desk_client, physio, london, follow_up
) -> None:
    physio.first_name = "<b>Ann</b>"
    physio.save()
    WorkingHoursFactory(clinician=physio, location=london, weekday=Weekday.TUESDAY,
                        start_time=datetime.time(9), end_time=datetime.time(10))  # fmt: skip

    response = front_desk_client.get(find_url(london, follow_up, weeks=1))

    assert "<b>Ann</b>" not in text(response)
    assert text(response).count("&lt;b&gt;Ann&lt;/b&gt;") == 3
    assert '<label for="id_weeks" class="form-label requiredField">' in text(response)


def test_find_says_so_when_nothing_is_free(front_desk_client, london, follow_up) -> None:
    response = front_desk_client.get(find_url(london, follow_up, weeks=1))

    assert shows(response, "No free time matches.")


@pytest.mark.parametrize(
    "bad", [{"weeks": "0"}, {"weeks": "abc"}, {"weeks": "\x00"}, {"from_date": "0001-01-01"}]
)
def test_find_with_bad_input_explains_instead_of_failing(
    bad, front_desk_client, london, follow_up
) -> None:
    url = find_url(london, follow_up, **{"weeks": 1} | bad)
    if "from_date" in bad:
        url = url.replace(f"from_date={DAY.isoformat()}&", "")

    response = front_desk_client.get(url)

    assert response.status_code == 200
    assert "free time" not in re.sub(r"<title>.*?</title>|<h1.*?</h1>", "", text(response))
    assert "invalid-feedback" in text(response)


# --- Booking ----------------------------------------------------------------------------


def booking_data(clinician, location, kind, start="10:00", **extra) -> dict:
    return {
        "appointment_type": kind.pk,
        "location": location.pk,
        "clinician": clinician.pk,
        "date": DAY.isoformat(),
        "time": start,
        **extra,
    }


def test_booking_an_existing_patient_opens_the_appointment_with_a_message(
    front_desk_client, physio, clinic, patient, follow_up
) -> None:
    response = front_desk_client.post(
        reverse("appointments:create"),
        booking_data(physio, clinic, follow_up, patient=patient.pk),
        follow=True,
    )

    appointment = Appointment.objects.get()
    assert response.redirect_chain == [(appointment.get_absolute_url(), 302)]
    assert shows(response, f"Booked: Hannah Wright with Priya Shah on {DAY:%a %d %b %Y} at 10:00.")
    assert (appointment.patient, appointment.clinician) == (patient, physio)


def test_booking_shows_the_new_patient_discount(
    front_desk_client, physio, clinic, patient, follow_up
) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"new_patient_discount_percent": 33})

    response = front_desk_client.post(
        reverse("appointments:create"),
        booking_data(physio, clinic, follow_up, patient=patient.pk),
        follow=True,
    )

    assert shows(response, "33% new-patient discount")
    assert "£40.20" in text(response)


def test_booking_registers_a_new_patient_on_the_spot(
    front_desk_client, physio, clinic, follow_up
) -> None:
    response = front_desk_client.post(
        reverse("appointments:create"),
        booking_data(
            physio,
            clinic,
            follow_up,
            new_first_name="Nina",
            new_last_name="Newman",
            new_date_of_birth="1990-04-01",
            new_phone="07912 345678",
            new_email="nina@example.com",
        ),
        follow=True,
    )

    nina = Patient.objects.get(last_name="Newman")
    assert Appointment.objects.get().patient == nina
    assert shows(response, "Booked: Nina Newman with Priya Shah")


def test_booking_without_a_patient_asks_for_one(
    front_desk_client, physio, clinic, follow_up
) -> None:
    response = front_desk_client.post(
        reverse("appointments:create"), booking_data(physio, clinic, follow_up)
    )

    assert response.status_code == 200
    assert shows(response, "Choose a patient, or register a new one.")
    assert not Appointment.objects.exists()


def test_a_clash_is_shown_on_the_form_and_nothing_is_created(
    front_desk_client, physio, clinic, follow_up
) -> None:
    AppointmentFactory(patient=PatientFactory(first_name="Olive", last_name="Other"),
                       clinician=physio, location=clinic, starts_at=at(DAY, "10:00"))  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:create"),
        booking_data(
            physio, clinic, follow_up, start="10:30",
            new_first_name="Nina", new_last_name="Newman", new_date_of_birth="1990-04-01",
        ),
    )  # fmt: skip

    assert response.status_code == 200
    assert shows(response, "This cannot be booked:")
    assert shows(response, "Priya Shah already has Olive Other from 10:00 to 10:45.")
    assert Appointment.objects.count() == 1
    assert not Patient.objects.filter(last_name="Newman").exists()


@pytest.mark.parametrize("day", ["9999-12-31", "1850-06-01"])
def test_booking_a_date_out_of_this_world_is_refused_with_a_message(
    day, front_desk_client, physio, clinic, patient, follow_up
) -> None:
    data = booking_data(physio, clinic, follow_up, start="23:50", patient=patient.pk)

    response = front_desk_client.post(reverse("appointments:create"), data | {"date": day})

    assert response.status_code == 200
    assert shows(response, "Choose a date between 1900 and 2199.")
    assert not Appointment.objects.exists()


def test_the_patient_picker_finds_patients_by_part_of_the_name(front_desk_client, patient) -> None:
    PatientFactory(first_name="Someone", last_name="Else")

    response = front_desk_client.get(reverse("appointments:patient_picker"), {"patient_q": "wri"})

    assert shows(response, "Choose Hannah Wright")
    assert "Someone Else" not in text(response)


# --- Changing an appointment ------------------------------------------------------------


@pytest.fixture
def booked(patient, physio, clinic, follow_up):
    return AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                              appointment_type=follow_up, starts_at=at(DAY, "10:00"))  # fmt: skip


def test_moving_an_appointment(front_desk_client, booked, physio) -> None:
    response = front_desk_client.post(
        reverse("appointments:move", args=[booked.pk]),
        {"clinician": physio.pk, "date": DAY.isoformat(), "time": "15:00"},
        follow=True,
    )

    assert shows(response, f"Moved to {DAY:%a %d %b %Y} at 15:00.")
    booked.refresh_from_db()
    assert booked.local_start == at(DAY, "15:00")
    assert shows(response, f"Moved from {DAY:%a %d %b %Y} 10:00")


def test_moving_onto_a_clash_shows_it_and_changes_nothing(
    front_desk_client, booked, physio, clinic
) -> None:
    AppointmentFactory(patient=PatientFactory(first_name="Olive", last_name="Other"),
                       clinician=physio, location=clinic, starts_at=at(DAY, "15:00"))  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:move", args=[booked.pk]),
        {"clinician": physio.pk, "date": DAY.isoformat(), "time": "15:15"},
    )

    assert response.status_code == 200
    assert shows(response, "Priya Shah already has Olive Other from 15:00 to 15:45.")
    booked.refresh_from_db()
    assert booked.local_start == at(DAY, "10:00")


def test_a_patient_cancelling_late_gets_a_late_cancellation_badge(
    front_desk_client, physio, clinic, patient
) -> None:
    soon = AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                              starts_at=timezone.now() + datetime.timedelta(hours=3))  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:cancel", args=[soon.pk]),
        {"cancelled_by": "patient", "reason": "Childcare fell through"},
        follow=True,
    )

    assert shows(response, "The appointment is cancelled. It was a late cancellation.")
    assert shows(response, "Late cancellation")
    assert shows(response, "by the patient on")
    assert shows(response, "Childcare fell through")
    soon.refresh_from_db()
    assert soon.status == Status.CANCELLED


def test_the_clinic_cancelling_is_never_late(front_desk_client, physio, clinic) -> None:
    soon = AppointmentFactory(clinician=physio, location=clinic,
                              starts_at=timezone.now() + datetime.timedelta(hours=3))  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:cancel", args=[soon.pk]),
        {"cancelled_by": "clinic", "reason": "Physio unwell"},
        follow=True,
    )

    assert shows(response, "The appointment is cancelled.")
    assert not shows(response, "Late cancellation")


def test_cancelling_without_a_reason_changes_nothing(front_desk_client, booked) -> None:
    response = front_desk_client.post(
        reverse("appointments:cancel", args=[booked.pk]), {"cancelled_by": "patient"}, follow=True
    )

    assert shows(response, "To cancel, say who cancelled and give a reason.")
    booked.refresh_from_db()
    assert booked.status == Status.BOOKED


@pytest.fixture
def today(patient, physio, clinic, follow_up):
    """Hannah's appointment with Priya, starting in an hour."""
    return AppointmentFactory(
        patient=patient, clinician=physio, location=clinic, appointment_type=follow_up,
        starts_at=timezone.now() + datetime.timedelta(hours=1),
    )  # fmt: skip


def test_marking_a_patient_arrived(front_desk_client, today, front_desk) -> None:
    response = front_desk_client.post(
        reverse("appointments:status", args=[today.pk]), {"to_status": "arrived"}, follow=True
    )

    assert shows(response, "Hannah Wright: arrived.")
    today.refresh_from_db()
    assert today.status == Status.ARRIVED
    assert today.status_changes.last().changed_by == front_desk
    assert "Mark completed" in text(response)


def test_marking_arrived_with_htmx_returns_the_updated_row(front_desk_client, today) -> None:
    response = front_desk_client.post(
        reverse("appointments:status", args=[today.pk]),
        {"to_status": "arrived"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert body.strip().startswith(f'<tr id="today-{today.pk}">')
    assert '<span class="badge status-badge status-arrived">Arrived</span>' in body
    assert ">Completed</button>" in body


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/", "/"),
        ("/\\evil.example/", "detail"),
        ("//evil.example/", "detail"),
        ("https://evil.example/", "detail"),
    ],
)
def test_after_a_status_change_only_a_page_of_this_site_is_opened(
    next_url, lands_on, front_desk_client, today
) -> None:
    response = front_desk_client.post(
        reverse("appointments:status", args=[today.pk]),
        {"to_status": "arrived", "next": next_url},
    )

    assert response.status_code == 302
    assert response["Location"] == (today.get_absolute_url() if lands_on == "detail" else "/")


def test_a_status_change_the_table_forbids_is_refused_with_a_message(
    front_desk_client, today
) -> None:
    response = front_desk_client.post(
        reverse("appointments:status", args=[today.pk]), {"to_status": "completed"}, follow=True
    )

    assert shows(response, "A booked appointment cannot become completed.")
    today.refresh_from_db()
    assert today.status == Status.BOOKED


def test_an_unknown_status_is_refused(front_desk_client, today) -> None:
    response = front_desk_client.post(
        reverse("appointments:status", args=[today.pk]), {"to_status": "teleported"}, follow=True
    )

    assert shows(response, "That status is not one an appointment can have.")
    assert AppointmentStatusChange.objects.filter(appointment=today).count() == 1


# --- Series -----------------------------------------------------------------------------


def series_data(clinician, location, kind, patient, action, **extra) -> dict:
    return booking_data(
        clinician, location, kind, patient=patient.pk, every_weeks=1, count=3, action=action,
        **extra,
    )  # fmt: skip


def test_previewing_then_booking_a_series(
    front_desk_client, physio, clinic, patient, follow_up
) -> None:
    url = reverse("appointments:series_create")

    preview = front_desk_client.post(
        url, series_data(physio, clinic, follow_up, patient, "preview")
    )

    assert shows(preview, "Preview: 3 of 3 free")
    assert not Appointment.objects.exists()

    booked = front_desk_client.post(
        url, series_data(physio, clinic, follow_up, patient, "book_all"), follow=True
    )

    assert shows(booked, "Booked 3 appointment(s) in the series.")
    assert shows(booked, "Part of a series")
    assert [a.local_start.date() for a in patient.appointments.all()] == [
        DAY + datetime.timedelta(weeks=i) for i in range(3)
    ]


def test_a_series_preview_shows_the_clash_and_books_the_free_ones(
    front_desk_client, physio, clinic, patient, follow_up
) -> None:
    AppointmentFactory(patient=PatientFactory(first_name="Olive", last_name="Other"),
                       clinician=physio, location=clinic,
                       starts_at=at(DAY + datetime.timedelta(weeks=1), "10:00"))  # fmt: skip
    url = reverse("appointments:series_create")

    preview = front_desk_client.post(
        url, series_data(physio, clinic, follow_up, patient, "preview")
    )

    assert shows(preview, "Preview: 2 of 3 free")
    assert shows(preview, "Clash: Priya Shah already has Olive Other from 10:00 to 10:45.")
    assert shows(preview, "Book the 2 free ones")

    front_desk_client.post(url, series_data(physio, clinic, follow_up, patient, "book_free"))

    assert patient.appointments.count() == 2


# --- Waitlist ---------------------------------------------------------------------------


def test_adding_a_patient_to_the_waitlist(
    front_desk_client, front_desk, patient, clinic, follow_up
) -> None:
    response = front_desk_client.post(
        reverse("appointments:waitlist_create"),
        {
            "patient": patient.pk,
            "appointment_type": follow_up.pk,
            "location": clinic.pk,
            "weekdays": [Weekday.TUESDAY, Weekday.SATURDAY],
            "times_of_day": ["evening"],
        },
        follow=True,
    )

    assert shows(response, "Hannah Wright is on the waitlist.")
    assert shows(response, "Tuesday, Saturday; evening")
    entry = WaitlistEntry.objects.get()
    assert (entry.created_by, entry.state) == (front_desk, WaitlistEntry.State.WAITING)


def test_the_waitlist_lists_waiting_and_offered_patients_only(front_desk_client, clinic) -> None:
    WaitlistEntryFactory(patient=PatientFactory(first_name="Wendy", last_name="Wait"),
                         location=clinic)  # fmt: skip
    WaitlistEntryFactory(patient=PatientFactory(first_name="Gone", last_name="Away"),
                         location=clinic, state="withdrawn")  # fmt: skip

    response = front_desk_client.get(reverse("appointments:waitlist"))

    assert "Wendy Wait" in text(response)
    assert "Gone Away" not in text(response)


def test_offering_a_cancelled_slot_to_a_waiting_patient(
    front_desk_client, physio, clinic, follow_up, django_capture_on_commit_callbacks
) -> None:
    cancelled = AppointmentFactory(clinician=physio, location=clinic, appointment_type=follow_up,
                                   starts_at=at(DAY, "18:00"), status=Status.CANCELLED)  # fmt: skip
    waiting = PatientFactory(first_name="Wendy", last_name="Wait", email="wendy@example.com")
    entry = WaitlistEntryFactory(patient=waiting, location=clinic, appointment_type=follow_up,
                                 times_of_day=["evening"])  # fmt: skip
    mail.outbox.clear()

    page = front_desk_client.get(cancelled.get_absolute_url())
    assert shows(page, "Waiting for a time like this")
    assert "Wendy Wait — Follow-up" in text(page)

    with django_capture_on_commit_callbacks(execute=True):
        response = front_desk_client.post(
            reverse("appointments:waitlist_offer", args=[cancelled.pk, entry.pk]), follow=True
        )

    assert shows(response, "The slot was offered to Wendy Wait by e-mail.")
    assert [m.to for m in mail.outbox] == [["wendy@example.com"]]
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.OFFERED


def test_offering_a_slot_that_does_not_suit_the_entry_is_refused(
    front_desk_client, physio, clinic, follow_up
) -> None:
    cancelled = AppointmentFactory(clinician=physio, location=clinic, appointment_type=follow_up,
                                   starts_at=at(DAY, "18:00"), status=Status.CANCELLED)  # fmt: skip
    entry = WaitlistEntryFactory(location=clinic, appointment_type=follow_up,
                                 times_of_day=["morning"])  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:waitlist_offer", args=[cancelled.pk, entry.pk]), follow=True
    )

    assert shows(response, "That waitlist entry does not match this slot.")
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING


def test_withdrawing_from_the_waitlist(front_desk_client, clinic) -> None:
    entry = WaitlistEntryFactory(patient=PatientFactory(first_name="Wendy", last_name="Wait"),
                                 location=clinic)  # fmt: skip

    response = front_desk_client.post(
        reverse("appointments:waitlist_withdraw", args=[entry.pk]), follow=True
    )

    assert shows(response, "Wendy Wait is off the waitlist.")
    assert shows(response, "Nobody is waiting.")
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WITHDRAWN


# --- Patient page and home page ---------------------------------------------------------


def test_the_patient_page_shows_appointments_and_attendance(
    front_desk_client, patient, physio, clinic, follow_up
) -> None:
    past = timezone.now() - datetime.timedelta(days=10)
    AppointmentFactory(patient=patient, clinician=physio, location=clinic, starts_at=past,
                       status=Status.NO_SHOW)  # fmt: skip
    AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                       starts_at=past + datetime.timedelta(days=2), status=Status.CANCELLED,
                       late_cancellation=True)  # fmt: skip
    AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                       appointment_type=AppointmentTypeFactory(name="Review"),
                       starts_at=at(DAY, "10:00"))  # fmt: skip

    response = front_desk_client.get(patient.get_absolute_url())

    upcoming, past_list = re.search(
        r"<h3 class=\"h6\">Upcoming</h3>(.*?)<h3 class=\"h6\">Past</h3>(.*?)</section>",
        text(response),
        re.DOTALL,
    ).groups()
    assert f"{DAY:%a} {DAY.day} {DAY:%b %Y}, 10:00</a> · Review with Priya Shah" in upcoming
    assert "No-show" in past_list
    assert "Cancelled" in past_list
    assert "1 no-show" in text(response)
    assert "1 late cancellation" in text(response)


def _today_at(hour: int) -> datetime.datetime:
    return datetime.datetime.combine(
        timezone.localdate(), datetime.time(hour), tzinfo=timezone.get_current_timezone()
    )


def test_front_desk_home_shows_todays_appointments_with_arrived_buttons_and_failed_e_mails(
    front_desk_client, physio, clinic, patient
) -> None:
    appointment = AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                                     starts_at=_today_at(12))  # fmt: skip
    AppointmentFactory(patient=PatientFactory(first_name="Tom", last_name="Morrow"),
                       clinician=physio, location=clinic,
                       starts_at=_today_at(12) + datetime.timedelta(days=1))  # fmt: skip
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.REMINDER, appointment=appointment, patient=patient,
        to="hannah.wright@example.com", subject="Reminder", body_text="...", dedupe_key="k1",
        state=OutboxMessage.State.FAILED, attempts=5, last_error="Mailbox unavailable",
    )  # fmt: skip

    response = front_desk_client.get("/")

    today = re.search(r'id="today-heading">(.*?)</section>', text(response), re.DOTALL).group(1)
    row = re.search(rf'<tr id="today-{appointment.pk}">(.*?)</tr>', text(response), re.DOTALL)
    assert row
    assert "Hannah Wright" in row.group(1)
    assert ">Arrived</button>" in row.group(1)
    assert "Tom Morrow" not in today
    assert shows(response, "E-mails that could not be sent")
    assert "Mailbox unavailable — tried 5 times" in text(response)


def test_physio_home_shows_only_their_own_day(
    physio_client, physio, colleague, clinic, patient
) -> None:
    AppointmentFactory(patient=patient, clinician=physio, location=clinic,
                       starts_at=_today_at(12))  # fmt: skip
    AppointmentFactory(patient=PatientFactory(first_name="Colin's", last_name="Patient"),
                       clinician=colleague, location=clinic, starts_at=_today_at(12))  # fmt: skip
    AppointmentFactory(patient=PatientFactory(first_name="Tom", last_name="Morrow"),
                       clinician=physio, location=clinic,
                       starts_at=_today_at(12) + datetime.timedelta(days=1))  # fmt: skip

    response = physio_client.get("/")

    your_day = re.search(r'id="my-day-heading">(.*?)</section>', text(response), re.DOTALL).group(1)
    assert "Hannah Wright" in your_day
    assert "Patient" not in your_day
    assert "Tom Morrow" not in your_day
    assert "Today&#x27;s appointments" not in text(response)
