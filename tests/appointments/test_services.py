"""The scheduling services: booking rules, clashes, moves, cancellations, statuses, series
and the waitlist."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments import services
from appointments.models import (
    TRANSITIONS,
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
    CancelledBy,
    OutboxMessage,
    PracticeSettings,
    Status,
    WaitlistEntry,
    Weekday,
)
from tests.factories import LocationFactory, PatientFactory, RoomFactory

from .factories import AppointmentFactory, AppointmentTypeFactory
from .scheduling import (
    LONDON,
    ClosureFactory,
    TimeOffFactory,
    WaitlistEntryFactory,
    at,
    book,
    certify_dry_needling,
    day_ahead,
)

pytestmark = pytest.mark.django_db

DAY = day_ahead(14, weekday=Weekday.TUESDAY)


def _book(patient, clinician, location, kind, starts_at, **kwargs) -> Appointment:
    return book(
        patient=patient,
        clinician=clinician,
        location=location,
        appointment_type=kind,
        starts_at=starts_at,
        **kwargs,
    )


def _refused(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# --- Booking ----------------------------------------------------------------------------


def test_booking_creates_the_appointment_with_a_price_snapshot_and_history(
    patient, physio, front_desk, clinic, follow_up
) -> None:
    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"), by=front_desk)

    follow_up.price = Decimal("99.00")
    follow_up.save()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert appointment.ends_at - appointment.starts_at == datetime.timedelta(minutes=45)
    assert appointment.price == Decimal("60.00")
    assert appointment.booked_by == front_desk
    change = appointment.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by) == ("", "booked", front_desk)


def test_the_first_booking_of_a_new_practice_sets_up_its_settings(
    patient, physio, clinic, follow_up
) -> None:
    assert not PracticeSettings.objects.exists()

    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    assert (
        appointment.discount_percent == PracticeSettings.objects.get().new_patient_discount_percent
    )
    assert "24 hours' notice" in OutboxMessage.objects.get(appointment=appointment).body_text


def test_new_patient_discount_applies_to_the_first_appointment_only(
    patient, physio, clinic, follow_up
) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"new_patient_discount_percent": 33})

    first = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))
    second = _book(
        patient, physio, clinic, follow_up, at(DAY + datetime.timedelta(days=7), "10:00")
    )

    assert first.discount_percent == 33
    assert first.price_due == Decimal("40.20")
    assert second.discount_percent == 0
    assert second.price_due == Decimal("60.00")


def test_a_cancelled_first_appointment_does_not_use_up_the_new_patient_discount(
    patient, physio, clinic, follow_up
) -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"new_patient_discount_percent": 33})
    first = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))
    services.appointment_cancel(
        appointment=first, cancelled_by=CancelledBy.PATIENT, reason="Feeling better", by=None
    )

    again = _book(patient, physio, clinic, follow_up, at(DAY, "11:00"))

    assert again.discount_percent == 33


@pytest.mark.parametrize(
    ("clash", "message"),
    [
        ("clinician", "Priya Shah already has Olive Other from 10:00 to 10:45."),
        ("room", "Room A is taken by Colin Baker from 10:00 to 10:45."),
        (
            "patient",
            "Hannah Wright already has an appointment with Colin Baker at Islington "
            "from 10:00 to 10:45.",
        ),
    ],
)
def test_every_kind_of_clash_is_refused_with_a_message_naming_it(
    clash, message, patient, physio, colleague, clinic, follow_up
) -> None:
    room = RoomFactory(location=clinic, name="Room A")
    other_patient = PatientFactory(first_name="Olive", last_name="Other")
    existing = {
        "clinician": dict(patient=other_patient, clinician=physio),
        "room": dict(patient=other_patient, clinician=colleague, room=room),
        "patient": dict(patient=patient, clinician=colleague),
    }[clash]
    kwargs = {"room": existing.pop("room")} if "room" in existing else {}
    _book(existing["patient"], existing["clinician"], clinic, follow_up, at(DAY, "10:00"), **kwargs)

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, "10:15"), room=room)

    assert message in excinfo.value.messages
    assert Appointment.objects.count() == 1


def test_a_booking_longer_than_eight_hours_is_refused_by_the_database_with_a_message(
    patient, physio, clinic
) -> None:
    # A type the database holds can last 8 hours at most; this copy was changed in memory
    # only, so nothing before the database's own check stops the nine-hour booking.
    marathon = AppointmentTypeFactory(name="Marathon", duration_minutes=60)
    marathon.duration_minutes = 9 * 60

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, marathon, at(DAY, "09:00"))

    assert excinfo.value.messages == ["An appointment cannot last longer than 8 hours."]
    assert not Appointment.objects.exists()
    assert not AppointmentStatusChange.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_back_to_back_appointments_for_one_clinician_room_and_patient_are_allowed(
    patient, physio, clinic, follow_up
) -> None:
    room = RoomFactory(location=clinic, name="Room A")
    _book(patient, physio, clinic, follow_up, at(DAY, "10:00"), room=room)

    _book(patient, physio, clinic, follow_up, at(DAY, "10:45"), room=room)
    _book(patient, physio, clinic, follow_up, at(DAY, "09:15"), room=room)

    assert Appointment.objects.filter(room=room).count() == 3


@pytest.mark.parametrize("start", ["07:30", "19:30"])
def test_booking_outside_working_hours_is_refused(
    start, patient, physio, clinic, follow_up
) -> None:
    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, start))

    assert f"Priya Shah does not work at Islington at {start} on Tuesday." in _refused(excinfo)
    assert not Appointment.objects.exists()


def test_booking_during_time_off_is_refused(patient, physio, clinic, follow_up) -> None:
    TimeOffFactory(clinician=physio, starts_at=at(DAY, "09:00"), ends_at=at(DAY, "13:00"))

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, "12:30"))

    assert "Priya Shah is away then (leave)." in _refused(excinfo)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("practice_wide", [False, True], ids=["location", "practice-wide"])
def test_booking_on_a_closure_is_refused(practice_wide, patient, physio, clinic, follow_up) -> None:
    ClosureFactory(location=None if practice_wide else clinic, starts_on=DAY, reason="Bank holiday")

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    assert f"Islington is closed on {DAY:%d %b %Y} (Bank holiday)." in _refused(excinfo)
    assert not Appointment.objects.exists()


def test_a_closure_at_another_location_does_not_stop_booking(
    patient, physio, clinic, follow_up
) -> None:
    ClosureFactory(location=LocationFactory(name="Hackney"), starts_on=DAY)

    assert _book(patient, physio, clinic, follow_up, at(DAY, "10:00")).pk


def test_booking_an_archived_patient_is_refused(patient, physio, clinic, follow_up) -> None:
    patient.archived_at = timezone.now()
    patient.save()

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    assert "Hannah Wright is archived; restore the record before booking." in _refused(excinfo)
    assert not Appointment.objects.exists()


def test_a_new_patients_only_type_is_refused_for_a_returning_patient(
    patient, physio, clinic, follow_up
) -> None:
    assessment = AppointmentTypeFactory(name="Initial assessment", new_patients_only=True)
    _book(patient, physio, clinic, assessment, at(DAY, "09:00"))

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, assessment, at(DAY, "11:00"))

    assert (
        "Initial assessment is for new patients only; Hannah Wright has been seen before."
        in _refused(excinfo)
    )
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "certification",
    ["none", "expired", "not_yet_valid"],
)
def test_dry_needling_is_refused_for_a_clinician_without_a_current_certification(
    certification, patient, physio, clinic
) -> None:
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    if certification == "expired":
        certify_dry_needling(
            physio, on=DAY - datetime.timedelta(days=800), expires=DAY - datetime.timedelta(days=1)
        )
    elif certification == "not_yet_valid":
        certify_dry_needling(physio, on=DAY + datetime.timedelta(days=1))

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, needling, at(DAY, "10:00"))

    assert "Dry needling needs a clinician with a current dry-needling certification" in (
        _refused(excinfo)
    )
    assert not Appointment.objects.exists()


def test_dry_needling_is_booked_with_a_certified_clinician(patient, physio, clinic) -> None:
    needling = AppointmentTypeFactory(name="Dry needling", needs_dry_needling_certification=True)
    certify_dry_needling(physio, on=DAY - datetime.timedelta(days=30), expires=DAY)

    assert _book(patient, physio, clinic, needling, at(DAY, "10:00")).pk


@pytest.mark.parametrize("problem", ["inactive", "elsewhere"])
def test_a_room_that_is_inactive_or_at_another_location_is_refused(
    problem, patient, physio, clinic, follow_up
) -> None:
    if problem == "inactive":
        room = RoomFactory(location=clinic, name="Old gym", active=False)
    else:
        room = RoomFactory(location=LocationFactory(name="Hackney"), name="Old gym")

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, follow_up, at(DAY, "10:00"), room=room)

    assert "Old gym is not an active room at Islington." in _refused(excinfo)
    assert not Appointment.objects.exists()


def test_a_free_room_is_chosen_when_none_is_given(patient, physio, colleague, clinic) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", needs_room=True)
    room_a = RoomFactory(location=clinic, name="Room A")
    room_b = RoomFactory(location=clinic, name="Room B")
    RoomFactory(location=clinic, name="Room 0 closed", active=False)

    first = _book(PatientFactory(), colleague, clinic, treatment, at(DAY, "10:00"))
    second = _book(patient, physio, clinic, treatment, at(DAY, "10:00"))

    assert (first.room, second.room) == (room_a, room_b)


def test_booking_is_refused_when_every_room_is_taken(patient, physio, colleague, clinic) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", needs_room=True)
    RoomFactory(location=clinic, name="Room A")
    _book(PatientFactory(), colleague, clinic, treatment, at(DAY, "10:00"))

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, treatment, at(DAY, "10:30"))

    assert "No room is free at Islington from 10:30 to 11:15." in _refused(excinfo)
    assert Appointment.objects.count() == 1


def test_a_booking_that_breaks_every_rule_at_once_names_each_in_order(
    patient, physio, colleague, clinic
) -> None:
    assessment = AppointmentTypeFactory(name="Assessment", new_patients_only=True, needs_room=True)
    assessment.clinicians.add(colleague)
    room = RoomFactory(location=clinic, name="Room A")
    AppointmentFactory(patient=patient, clinician=colleague, location=clinic,
                       appointment_type=assessment, starts_at=at(DAY, "12:00"))  # fmt: skip
    AppointmentFactory(patient=PatientFactory(first_name="Olive", last_name="Other"),
                       clinician=physio, location=clinic, appointment_type=assessment, room=room,
                       starts_at=at(DAY, "07:30"))  # fmt: skip
    TimeOffFactory(clinician=physio, starts_at=at(DAY, "07:00"), ends_at=at(DAY, "09:00"))
    ClosureFactory(location=clinic, starts_on=DAY, reason="Bank holiday")

    with pytest.raises(services.BookingError) as excinfo:
        _book(patient, physio, clinic, assessment, at(DAY, "07:30"))

    assert excinfo.value.messages == [
        "Priya Shah does not offer Assessment.",
        "Assessment is for new patients only; Hannah Wright has been seen before.",
        "No room is free at Islington from 07:30 to 08:15.",
        "Priya Shah does not work at Islington at 07:30 on Tuesday.",
        "Priya Shah is away then (leave).",
        f"Islington is closed on {DAY:%d %b %Y} (Bank holiday).",
        "Priya Shah already has Olive Other from 07:30 to 08:15.",
    ]
    assert Appointment.objects.count() == 2


def test_a_type_offered_by_named_clinicians_is_booked_with_one_of_them(
    patient, physio, colleague, clinic, follow_up
) -> None:
    follow_up.clinicians.add(physio, colleague)

    assert _book(patient, physio, clinic, follow_up, at(DAY, "10:00")).pk


@pytest.mark.parametrize(
    ("start", "booked"),
    [("08:00", True), ("19:15", True), ("07:45", False), ("19:30", False)],
    ids=["starts-as-the-day-starts", "ends-as-the-day-ends", "starts-early", "ends-late"],
)
def test_a_booking_must_lie_wholly_inside_the_working_hours(
    start, booked, patient, physio, clinic, follow_up
) -> None:
    if booked:
        assert _book(patient, physio, clinic, follow_up, at(DAY, start)).pk
    else:
        with pytest.raises(services.BookingError) as excinfo:
            _book(patient, physio, clinic, follow_up, at(DAY, start))
        assert excinfo.value.messages == [
            f"Priya Shah does not work at Islington at {start} on Tuesday."
        ]


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "booked"),
    [(0, 0, True), (1, None, False), (None, -1, False), (None, 0, True)],
    ids=["from-and-until-that-day", "from-the-next-day", "until-the-day-before", "until-that-day"],
)
def test_working_hours_count_only_between_their_dates(
    valid_from, valid_until, booked, patient, colleague, clinic, follow_up
) -> None:
    def day(offset: int | None) -> datetime.date | None:
        return None if offset is None else DAY + datetime.timedelta(days=offset)

    colleague.working_hours.update(valid_from=day(valid_from), valid_until=day(valid_until))

    if booked:
        assert _book(patient, colleague, clinic, follow_up, at(DAY, "10:00")).pk
    else:
        with pytest.raises(services.BookingError) as excinfo:
            _book(patient, colleague, clinic, follow_up, at(DAY, "10:00"))
        assert excinfo.value.messages == [
            "Colin Baker does not work at Islington at 10:00 on Tuesday."
        ]


def test_time_off_and_closures_on_other_days_do_not_stop_booking(
    patient, physio, clinic, follow_up
) -> None:
    TimeOffFactory(clinician=physio, starts_at=at(DAY, "08:00"), ends_at=at(DAY, "10:00"))
    ClosureFactory(location=clinic, starts_on=DAY + datetime.timedelta(days=1))

    assert _book(patient, physio, clinic, follow_up, at(DAY, "10:00")).pk


def test_the_first_free_room_by_name_is_chosen_past_taken_and_inactive_rooms(
    patient, physio, colleague, clinic
) -> None:
    treatment = AppointmentTypeFactory(name="Treatment", needs_room=True)
    room_b = RoomFactory(location=clinic, name="Room B")
    RoomFactory(location=clinic, name="Room A")
    RoomFactory(location=clinic, name="Room 0", active=False)
    RoomFactory(location=LocationFactory(name="Hackney"), name="Room 00")
    _book(PatientFactory(), colleague, clinic, treatment, at(DAY, "09:30"))

    booked = _book(patient, physio, clinic, treatment, at(DAY, "10:00"))

    assert (booked.room.name, booked.room.location) == ("Room B", clinic)
    booked.refresh_from_db()
    assert booked.room == room_b


# --- Moving -----------------------------------------------------------------------------


def test_moving_changes_the_times_and_records_where_it_was(
    patient, physio, front_desk, clinic, follow_up
) -> None:
    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    services.appointment_move(appointment=appointment, starts_at=at(DAY, "15:00"), by=front_desk)

    appointment.refresh_from_db()
    assert appointment.local_start == at(DAY, "15:00")
    assert appointment.local_end == at(DAY, "15:45")
    last = appointment.status_changes.last()
    assert last.changed_by == front_desk
    assert last.note == f"Moved from {DAY:%a %d %b %Y} 10:00"


def test_moving_a_new_patients_first_appointment_keeps_it_for_new_patients(
    patient, physio, clinic
) -> None:
    assessment = AppointmentTypeFactory(name="Assessment", new_patients_only=True)
    appointment = _book(patient, physio, clinic, assessment, at(DAY, "10:00"))

    services.appointment_move(appointment=appointment, starts_at=at(DAY, "10:30"), by=None)

    appointment.refresh_from_db()
    assert appointment.local_start == at(DAY, "10:30")


def test_moving_onto_a_clash_is_refused_and_changes_nothing(
    patient, physio, clinic, follow_up
) -> None:
    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))
    _book(PatientFactory(first_name="Olive", last_name="Other"), physio, clinic, follow_up,
          at(DAY, "15:00"))  # fmt: skip

    with pytest.raises(services.BookingError) as excinfo:
        services.appointment_move(appointment=appointment, starts_at=at(DAY, "15:30"), by=None)

    assert "Priya Shah already has Olive Other from 15:00 to 15:45." in _refused(excinfo)
    appointment.refresh_from_db()
    assert appointment.local_start == at(DAY, "10:00")
    assert appointment.status_changes.count() == 1


def test_moving_within_its_own_time_is_not_a_clash_with_itself(
    patient, physio, clinic, follow_up
) -> None:
    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    moved = services.appointment_move(appointment=appointment, starts_at=at(DAY, "10:15"), by=None)

    assert moved.local_start == at(DAY, "10:15")


def test_a_cancelled_appointment_cannot_be_moved(patient, physio, clinic, follow_up) -> None:
    appointment = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))
    services.appointment_cancel(
        appointment=appointment, cancelled_by=CancelledBy.CLINIC, reason="Staff ill", by=None
    )
    appointment.refresh_from_db()

    with pytest.raises(services.BookingError) as excinfo:
        services.appointment_move(appointment=appointment, starts_at=at(DAY, "11:00"), by=None)

    assert "Only a booked appointment can be moved; this one is cancelled." in _refused(excinfo)


# --- Cancelling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cancelled_by", "reason", "message"),
    [
        ("", "Unwell", "Say who cancelled: the patient or the clinic."),
        ("somebody", "Unwell", "Say who cancelled: the patient or the clinic."),
        (CancelledBy.PATIENT, "   ", "Give a reason for the cancellation."),
    ],
)
def test_cancelling_needs_who_and_a_reason(cancelled_by, reason, message) -> None:
    appointment = AppointmentFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.appointment_cancel(
            appointment=appointment, cancelled_by=cancelled_by, reason=reason, by=None
        )

    assert excinfo.value.messages == [message]
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


@pytest.mark.parametrize(
    ("cancelled_by", "hours_ahead", "late"),
    [
        (CancelledBy.PATIENT, 5, True),
        (CancelledBy.PATIENT, 23, True),
        (CancelledBy.PATIENT, 25, False),
        (CancelledBy.CLINIC, 5, False),
    ],
)
def test_a_patient_cancelling_inside_the_notice_window_is_a_late_cancellation(
    cancelled_by, hours_ahead, late, front_desk
) -> None:
    now = timezone.now()
    appointment = AppointmentFactory(starts_at=now + datetime.timedelta(hours=hours_ahead))

    cancelled = services.appointment_cancel(
        appointment=appointment, cancelled_by=cancelled_by, reason="Car broke down",
        by=front_desk, now=now,
    )  # fmt: skip

    assert cancelled.status == Status.CANCELLED
    assert cancelled.late_cancellation is late
    assert cancelled.cancelled_by == cancelled_by
    assert cancelled.cancellation_reason == "Car broke down"
    change = cancelled.status_changes.last()
    assert (change.from_status, change.to_status) == ("booked", "cancelled")
    assert (change.changed_by, change.note) == (front_desk, "Car broke down")


def test_the_notice_window_comes_from_the_practice_settings() -> None:
    PracticeSettings.objects.update_or_create(pk=1, defaults={"cancellation_notice_hours": 48})
    now = timezone.now()
    appointment = AppointmentFactory(starts_at=now + datetime.timedelta(hours=30))

    cancelled = services.appointment_cancel(
        appointment=appointment, cancelled_by=CancelledBy.PATIENT, reason="Away", by=None, now=now
    )

    assert cancelled.late_cancellation is True


# --- Status changes ---------------------------------------------------------------------

SETTABLE = [s for s in Status.values if s != Status.CANCELLED]
ALLOWED = [(a, b) for a in Status.values for b in SETTABLE if b in TRANSITIONS[a]]
DISALLOWED = [(a, b) for a in Status.values for b in SETTABLE if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_every_allowed_status_change_works_and_is_recorded_with_who(
    from_status, to_status, front_desk
) -> None:
    appointment = AppointmentFactory(
        status=from_status, starts_at=timezone.now() + datetime.timedelta(hours=1)
    )

    services.appointment_set_status(appointment=appointment, to_status=to_status, by=front_desk)

    appointment.refresh_from_db()
    assert appointment.status == to_status
    change = appointment.status_changes.last()
    assert (change.from_status, change.to_status, change.changed_by) == (
        from_status,
        to_status,
        front_desk,
    )


@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED)
def test_every_disallowed_status_change_is_refused(from_status, to_status, front_desk) -> None:
    appointment = AppointmentFactory(
        status=from_status, starts_at=timezone.now() + datetime.timedelta(hours=1)
    )

    with pytest.raises(ValidationError):
        services.appointment_set_status(appointment=appointment, to_status=to_status, by=front_desk)

    appointment.refresh_from_db()
    assert appointment.status == from_status
    assert appointment.status_changes.count() == 1


@pytest.mark.parametrize("from_status", Status.values)
def test_cancelling_is_allowed_only_where_the_transition_table_says(from_status) -> None:
    appointment = AppointmentFactory(status=from_status)

    if Status.CANCELLED in TRANSITIONS[from_status]:
        services.appointment_cancel(
            appointment=appointment, cancelled_by=CancelledBy.CLINIC, reason="Closed", by=None
        )
        appointment.refresh_from_db()
        assert appointment.status == Status.CANCELLED
    else:
        with pytest.raises(ValidationError):
            services.appointment_cancel(
                appointment=appointment, cancelled_by=CancelledBy.CLINIC, reason="Closed", by=None
            )
        appointment.refresh_from_db()
        assert appointment.status == from_status


def test_cancelled_cannot_be_set_as_a_plain_status() -> None:
    appointment = AppointmentFactory(starts_at=timezone.now() + datetime.timedelta(hours=1))

    with pytest.raises(ValidationError) as excinfo:
        services.appointment_set_status(
            appointment=appointment, to_status=Status.CANCELLED, by=None
        )

    assert excinfo.value.messages == ["Use cancel to cancel an appointment, with a reason."]


def test_arrival_cannot_be_recorded_days_before_the_appointment() -> None:
    appointment = AppointmentFactory(starts_at=timezone.now() + datetime.timedelta(days=2))

    with pytest.raises(ValidationError) as excinfo:
        services.appointment_set_status(appointment=appointment, to_status=Status.ARRIVED, by=None)

    assert excinfo.value.messages == ["That can only be recorded on the day of the appointment."]


def test_undoing_a_no_show_is_refused_when_the_time_was_booked_meanwhile(physio) -> None:
    starts_at = timezone.now() + datetime.timedelta(hours=1)
    missed = AppointmentFactory(clinician=physio, starts_at=starts_at, status=Status.NO_SHOW)
    AppointmentFactory(
        clinician=physio,
        starts_at=starts_at,
        patient=PatientFactory(first_name="Olive", last_name="Other"),
    )

    with pytest.raises(services.BookingError) as excinfo:
        services.appointment_set_status(appointment=missed, to_status=Status.BOOKED, by=None)

    assert "Priya Shah already has Olive Other" in _refused(excinfo)
    missed.refresh_from_db()
    assert missed.status == Status.NO_SHOW


# --- Series -----------------------------------------------------------------------------


def test_series_dates_keep_the_local_time_across_the_clocks_going_forward(london) -> None:
    first = datetime.datetime(2026, 3, 22, 10, 0, tzinfo=LONDON)

    starts = services.series_dates(first=first, location=london, every_weeks=1, count=3)

    assert [s.astimezone(LONDON).strftime("%d %H:%M") for s in starts] == [
        "22 10:00",
        "29 10:00",
        "05 10:00",
    ]
    assert [s.astimezone(datetime.UTC).hour for s in starts] == [10, 9, 9]


def test_series_dates_until_an_end_date_every_two_weeks(london) -> None:
    first = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)

    starts = services.series_dates(
        first=first, location=london, every_weeks=2, until=datetime.date(2026, 4, 13)
    )

    assert [s.date() for s in starts] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 16),
        datetime.date(2026, 3, 30),
        datetime.date(2026, 4, 13),
    ]


@pytest.mark.parametrize(
    "limits", [{}, {"count": 3, "until": datetime.date(2026, 5, 1)}], ids=["neither", "both"]
)
def test_series_dates_need_either_a_count_or_an_end_date(limits, london) -> None:
    first = datetime.datetime(2026, 3, 22, 10, 0, tzinfo=LONDON)

    with pytest.raises(ValidationError) as excinfo:
        services.series_dates(first=first, location=london, every_weeks=1, **limits)

    assert excinfo.value.messages == ["Give either a number of appointments or an end date."]


@pytest.fixture
def weekly(patient, physio, clinic, follow_up):
    request = services.BookingRequest(patient, physio, clinic, follow_up, at(DAY, "10:00"))
    starts = services.series_dates(first=at(DAY, "10:00"), location=clinic, every_weeks=1, count=4)
    return request, starts


def _take_third_week(physio, clinic, follow_up) -> None:
    _book(PatientFactory(first_name="Olive", last_name="Other"), physio, clinic, follow_up,
          at(DAY + datetime.timedelta(weeks=2), "10:30"))  # fmt: skip


def test_series_preview_marks_the_clashing_occurrences(weekly, physio, clinic, follow_up) -> None:
    _take_third_week(physio, clinic, follow_up)
    request, starts = weekly

    preview = services.series_preview(request=request, starts=starts)

    assert [o.free for o in preview] == [True, True, False, True]
    assert "Priya Shah already has Olive Other from 10:30 to 11:15." in preview[2].problems


def test_booking_a_series_with_one_clash_books_none_of_it(
    weekly, patient, physio, clinic, follow_up
) -> None:
    _take_third_week(physio, clinic, follow_up)
    request, starts = weekly

    with pytest.raises(ValidationError):
        services.series_book(
            request=request, starts=starts, every_weeks=1, by=None, free_only=False
        )

    assert not patient.appointments.exists()
    assert not AppointmentSeries.objects.exists()


def test_booking_only_the_free_occurrences_of_a_series(
    weekly, patient, physio, clinic, follow_up
) -> None:
    _take_third_week(physio, clinic, follow_up)
    request, starts = weekly

    series, booked = services.series_book(
        request=request, starts=starts, every_weeks=1, by=None, free_only=True
    )

    assert len(booked) == 3
    assert [a.local_start.date() for a in patient.appointments.all()] == [
        DAY,
        DAY + datetime.timedelta(weeks=1),
        DAY + datetime.timedelta(weeks=3),
    ]
    assert all(a.series == series for a in booked)


def test_cancelling_this_and_the_following_leaves_earlier_and_attended_ones(
    weekly, patient
) -> None:
    request, starts = weekly
    _, booked = services.series_book(
        request=request, starts=starts, every_weeks=1, by=None, free_only=False
    )
    Appointment.objects.filter(pk=booked[3].pk).update(status=Status.ARRIVED)

    cancelled = services.series_cancel_following(
        appointment=booked[1], cancelled_by=CancelledBy.CLINIC, reason="Course ended", by=None
    )

    assert [a.pk for a in cancelled] == [booked[1].pk, booked[2].pk]
    statuses = list(patient.appointments.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["booked", "cancelled", "cancelled", "arrived"]


def test_cancelling_the_following_needs_a_series(patient, physio, clinic, follow_up) -> None:
    single = _book(patient, physio, clinic, follow_up, at(DAY, "10:00"))

    with pytest.raises(ValidationError) as excinfo:
        services.series_cancel_following(
            appointment=single, cancelled_by=CancelledBy.CLINIC, reason="x", by=None
        )

    assert excinfo.value.messages == ["This appointment is not part of a series."]


# --- Waitlist ---------------------------------------------------------------------------


@pytest.fixture
def freed(physio, clinic, follow_up):
    """A cancelled Tuesday 18:00 appointment with Priya at Islington."""
    appointment = AppointmentFactory(
        clinician=physio, location=clinic, appointment_type=follow_up, starts_at=at(DAY, "18:00")
    )
    return services.appointment_cancel(
        appointment=appointment, cancelled_by=CancelledBy.PATIENT, reason="Away", by=None
    )


@pytest.mark.parametrize(
    ("preferences", "matches"),
    [
        ({}, True),
        ({"clinician": "physio"}, True),
        ({"clinician": "colleague"}, False),
        ({"location": "elsewhere"}, False),
        ({"weekdays": [Weekday.TUESDAY, Weekday.SATURDAY]}, True),
        ({"weekdays": [Weekday.MONDAY]}, False),
        ({"times_of_day": ["evening"]}, True),
        ({"times_of_day": ["morning", "afternoon"]}, False),
        ({"earliest_date": DAY, "latest_date": DAY}, True),
        ({"earliest_date": DAY + datetime.timedelta(days=1)}, False),
        ({"latest_date": DAY - datetime.timedelta(days=1)}, False),
        ({"long_type": True}, False),
    ],
)
def test_waitlist_matches_honour_the_patients_preferences(
    preferences, matches, freed, physio, colleague, clinic, follow_up
) -> None:
    fields = dict(preferences)
    who = fields.pop("clinician", None)
    where = fields.pop("location", None)
    kind = follow_up
    if fields.pop("long_type", False):
        kind = AppointmentTypeFactory(name="Long session", duration_minutes=90)
    entry = WaitlistEntryFactory(
        location=LocationFactory(name="Hackney") if where else clinic,
        clinician={"physio": physio, "colleague": colleague, None: None}[who],
        appointment_type=kind,
        **fields,
    )

    assert (entry in services.waitlist_matches(freed)) is matches


def test_entries_no_longer_waiting_are_not_matched(freed, clinic, follow_up) -> None:
    WaitlistEntryFactory(location=clinic, appointment_type=follow_up, state="withdrawn")

    assert services.waitlist_matches(freed) == []


def test_offering_a_freed_slot_e_mails_the_waiting_patient(
    freed, clinic, follow_up, front_desk, django_capture_on_commit_callbacks
) -> None:
    waiting = PatientFactory(first_name="Wendy", last_name="Wait", email="wendy@example.com")
    entry = WaitlistEntryFactory(patient=waiting, location=clinic, appointment_type=follow_up)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.waitlist_offer(entry=entry, appointment=freed, by=front_desk)

    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.OFFERED
    assert entry.offered_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wendy@example.com"]
    assert "An earlier appointment is free" in mail.outbox[0].subject
    assert "Hannah" not in mail.outbox[0].body


def test_offering_to_a_patient_without_e_mail_is_refused(
    freed, clinic, follow_up, django_capture_on_commit_callbacks
) -> None:
    waiting = PatientFactory(first_name="Wendy", last_name="Wait", email="")
    entry = WaitlistEntryFactory(patient=waiting, location=clinic, appointment_type=follow_up)
    mail.outbox.clear()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as excinfo,
    ):
        services.waitlist_offer(entry=entry, appointment=freed, by=None)

    assert excinfo.value.messages == ["Wendy Wait has no e-mail address; phone them instead."]
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING
    assert mail.outbox == []


def test_only_a_cancelled_appointments_slot_can_be_offered(clinic, follow_up) -> None:
    booked = AppointmentFactory(location=clinic, appointment_type=follow_up)
    entry = WaitlistEntryFactory(location=clinic, appointment_type=follow_up)

    with pytest.raises(ValidationError):
        services.waitlist_offer(entry=entry, appointment=booked, by=None)

    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING
    assert not AppointmentStatusChange.objects.filter(note__icontains="offer").exists()
