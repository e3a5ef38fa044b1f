"""The practice manager configures scheduling in the admin site; appointments stay read-only."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from appointments.models import (
    Appointment,
    AppointmentType,
    Closure,
    PracticeSettings,
    TimeOff,
    WorkingHours,
)
from clinic.models import User
from tests.clinic.test_admin import form_data
from tests.factories import UserFactory

from .factories import AppointmentFactory, AppointmentTypeFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


def _add(client: Client, model: str, **fields) -> object:
    url = reverse(f"admin:appointments_{model}_add")
    data = form_data(client.get(url)) | fields
    return client.post(url, data)


def test_manager_adds_an_appointment_type(manager_client, physio) -> None:
    response = _add(
        manager_client,
        "appointmenttype",
        name="Initial assessment",
        duration_minutes=60,
        buffer_after_minutes=15,
        price="75.00",
        colour="#1f77b4",
        clinicians=[physio.pk],
        new_patients_only="on",
        online_bookable="on",
        needs_room="on",
        active="on",
    )

    assert response.status_code == 302
    kind = AppointmentType.objects.get(name="Initial assessment")
    assert (kind.duration_minutes, kind.price, kind.new_patients_only) == (
        60,
        Decimal("75.00"),
        True,
    )
    assert list(kind.clinicians.all()) == [physio]


def test_an_appointment_type_shorter_than_five_minutes_is_refused(manager_client) -> None:
    response = _add(
        manager_client, "appointmenttype", name="Blink", duration_minutes=2, price="1.00"
    )

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 5." in response.content.decode()
    assert not AppointmentType.objects.filter(name="Blink").exists()


def test_an_appointment_type_longer_than_eight_hours_is_refused(manager_client) -> None:
    response = _add(
        manager_client, "appointmenttype", name="Marathon", duration_minutes=481, price="1.00"
    )

    assert response.status_code == 200
    assert (
        "An appointment type cannot last longer than 8 hours (480 minutes)."
        in response.content.decode()
    )
    assert not AppointmentType.objects.filter(name="Marathon").exists()


def test_manager_adds_working_hours(manager_client, physio, london) -> None:
    response = _add(
        manager_client,
        "workinghours",
        clinician=physio.pk,
        location=london.pk,
        weekday=2,
        start_time="09:00",
        end_time="17:30",
    )

    assert response.status_code == 302
    block = WorkingHours.objects.get(clinician=physio)
    assert (block.weekday, block.start_time, block.end_time) == (
        2,
        datetime.time(9, 0),
        datetime.time(17, 30),
    )


def test_overlapping_working_hours_are_refused(manager_client, physio, london) -> None:
    WorkingHoursFactory(clinician=physio, location=london, weekday=2)

    response = _add(
        manager_client,
        "workinghours",
        clinician=physio.pk,
        location=london.pk,
        weekday=2,
        start_time="12:00",
        end_time="13:00",
    )

    assert response.status_code == 200
    assert "This overlaps another block" in response.content.decode()
    assert WorkingHours.objects.count() == 1


def test_manager_adds_time_off(manager_client, physio) -> None:
    response = _add(
        manager_client,
        "timeoff",
        clinician=physio.pk,
        kind="training",
        starts_at_0="2026-06-01",
        starts_at_1="09:00",
        ends_at_0="2026-06-03",
        ends_at_1="17:00",
        note="Spinal manipulation course",
    )

    assert response.status_code == 302
    off = TimeOff.objects.get(clinician=physio)
    assert off.kind == "training"
    assert off.ends_at - off.starts_at == datetime.timedelta(days=2, hours=8)


def test_manager_adds_a_practice_wide_closure(manager_client) -> None:
    response = _add(
        manager_client,
        "closure",
        location="",
        starts_on="2026-12-25",
        ends_on="2026-12-26",
        reason="Christmas",
    )

    assert response.status_code == 302
    closure = Closure.objects.get()
    assert closure.location is None
    assert str(closure) == "All locations: Christmas 25 Dec 2026"


def test_manager_edits_the_practice_settings(manager_client) -> None:
    PracticeSettings.load()
    url = reverse("admin:appointments_practicesettings_change", args=[1])
    data = form_data(manager_client.get(url)) | {
        "new_patient_discount_percent": 33,
        "cancellation_notice_hours": 48,
    }

    response = manager_client.post(url, data)

    assert response.status_code == 302
    practice = PracticeSettings.load()
    assert (practice.new_patient_discount_percent, practice.cancellation_notice_hours) == (33, 48)
    assert PracticeSettings.objects.count() == 1


def test_front_desk_cannot_change_the_practice_settings(front_desk_client) -> None:
    PracticeSettings.load()
    url = reverse("admin:appointments_practicesettings_change", args=[1])

    response = front_desk_client.get(url)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture(params=["manager", "superuser"])
def admin_user_client(request) -> Client:
    client = Client()
    client.force_login(request.getfixturevalue(request.param))
    return client


def test_appointments_are_read_only_in_the_admin(admin_user_client) -> None:
    appointment = AppointmentFactory(notes="Left knee")
    change_url = reverse("admin:appointments_appointment_change", args=[appointment.pk])

    page = admin_user_client.get(change_url)
    data = form_data(page) | {"notes": "Changed in the admin"}
    post = admin_user_client.post(change_url, data)

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert post.status_code == 403
    appointment.refresh_from_db()
    assert appointment.notes == "Left knee"
    assert admin_user_client.get(reverse("admin:appointments_appointment_add")).status_code == 403


def test_nobody_can_delete_an_appointment_in_the_admin(admin_user_client) -> None:
    appointment = AppointmentFactory()
    changelist_url = reverse("admin:appointments_appointment_changelist")
    delete_url = reverse("admin:appointments_appointment_delete", args=[appointment.pk])

    changelist = admin_user_client.get(changelist_url)
    action_form = changelist.context["action_form"]

    assert action_form is None or "delete_selected" not in dict(
        action_form.fields["action"].choices
    )
    assert admin_user_client.post(delete_url, {"post": "yes"}).status_code == 403
    admin_user_client.post(
        changelist_url,
        {"action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes"},
    )
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_a_type_with_appointments_cannot_be_deleted_only_made_inactive(superuser) -> None:
    client = Client()
    client.force_login(superuser)
    used = AppointmentTypeFactory(name="Used")
    AppointmentFactory(appointment_type=used)

    response = client.post(
        reverse("admin:appointments_appointmenttype_delete", args=[used.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert AppointmentType.objects.filter(pk=used.pk).exists()
