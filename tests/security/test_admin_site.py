"""The admin site for practice maintenance: what a practice manager (staff, not superuser)
may maintain there, what can never be deleted, and large lists that stay fast."""

import pytest
from django.contrib import admin
from django.urls import reverse

from appointments.models import Appointment, WaitlistEntry
from patients.models import Patient
from tests.appointments.factories import AppointmentFactory
from tests.factories import PatientFactory, UserFactory
from tests.treatments.plan_factories import episode_for

MAINTAINED = [
    "clinic_user",
    "clinic_staffprofile",
    "clinic_location",
    "clinic_room",
    "appointments_appointmenttype",
    "appointments_workinghours",
    "appointments_timeoff",
    "appointments_closure",
    "appointments_practicesettings",
    "treatments_exercise",
    "treatments_clinicalsettings",
]
CLINICAL = [
    "treatments_episode",
    "treatments_assessment",
    "treatments_treatmentplan",
    "treatments_intervention",
    "treatments_dryneedlingconsent",
    "treatments_visitnote",
    "treatments_addendum",
]


def test_a_manager_is_staff_but_not_a_superuser(manager) -> None:
    assert manager.is_staff and not manager.is_superuser


@pytest.mark.parametrize("model", MAINTAINED)
def test_a_manager_lists_and_adds_what_the_practice_maintains(manager_client, model) -> None:
    assert manager_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    add = manager_client.get(reverse(f"admin:{model}_add"))
    # Singletons offer "add" only until their one row exists.
    assert add.status_code in {200, 403} if model.endswith("settings") else add.status_code == 200


@pytest.mark.parametrize("model", CLINICAL)
def test_a_manager_sees_no_clinical_record_in_the_admin(manager_client, model) -> None:
    assert manager_client.get(reverse(f"admin:{model}_changelist")).status_code == 403


@pytest.mark.parametrize("model", ["patients_patient", *CLINICAL])
def test_no_patient_or_clinical_record_can_be_deleted_in_the_admin(db, rf, model) -> None:
    """Not even by a superuser, who holds every permission."""
    model_admin = next(
        model_admin
        for registered, model_admin in admin.site._registry.items()
        if registered._meta.label_lower.replace(".", "_") == model
    )
    request = rf.get("/")
    request.user = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_deleting_a_patient_through_the_admin_url_is_refused(manager_client, patient) -> None:
    response = manager_client.post(
        reverse("admin:patients_patient_delete", args=[patient.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_an_edit_in_the_admin_is_recorded_in_the_patients_history(
    manager_client, manager, patient
) -> None:
    from tests.clinic.test_admin import form_data

    url = reverse("admin:patients_patient_change", args=[patient.pk])
    data = form_data(manager_client.get(url)) | {"postcode": "SW1A 1AA"}
    assert manager_client.post(url, data).status_code == 302
    latest = patient.history.latest()
    assert latest.history_user == manager
    assert latest.postcode == "SW1A 1AA"


@pytest.mark.parametrize("model", [Patient, Appointment, WaitlistEntry], ids=lambda m: m.__name__)
def test_large_lists_skip_the_full_count(model) -> None:
    model_admin = admin.site._registry[model]
    assert model_admin.show_full_result_count is False


@pytest.mark.parametrize("model", [Appointment, WaitlistEntry], ids=lambda m: m.__name__)
def test_lists_that_show_related_rows_select_them_in_one_query(model) -> None:
    assert admin.site._registry[model].list_select_related


def test_appointment_search_uses_the_registrys_search(manager_client) -> None:
    jose = AppointmentFactory(patient=PatientFactory(first_name="José", last_name="Núñez"))
    AppointmentFactory(patient=PatientFactory(first_name="Anna", last_name="Berg"))
    response = manager_client.get(reverse("admin:appointments_appointment_changelist") + "?q=nunez")
    assert [appointment.pk for appointment in response.context["cl"].result_list] == [jose.pk]


def test_the_appointment_list_keeps_its_query_count_as_it_grows(
    manager_client, django_assert_max_num_queries
) -> None:
    url = reverse("admin:appointments_appointment_changelist")
    AppointmentFactory.create_batch(3)
    manager_client.get(url)
    AppointmentFactory.create_batch(20)
    with django_assert_max_num_queries(12):
        assert manager_client.get(url).status_code == 200


def test_an_episode_is_not_in_the_admin_for_a_manager_even_by_id(manager_client, patient, physio):
    episode = episode_for(patient, physio)
    url = reverse("admin:treatments_episode_change", args=[episode.pk])
    assert manager_client.get(url).status_code == 403
