"""The clinical record in the admin site: superusers look, nothing is deleted, signed stays."""

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from tests.clinic.test_admin import form_data
from tests.factories import UserFactory
from treatments import services
from treatments.models import (
    Addendum,
    Assessment,
    DryNeedlingConsent,
    Episode,
    Intervention,
    TreatmentPlan,
    VisitNote,
)

from .note_factories import (
    assessment_with_red_flag,
    draft_note,
    episode_for,
    exercise_in_plan,
    visit_for,
)

pytestmark = pytest.mark.django_db

CLINICAL_MODELS = [
    Episode,
    Assessment,
    TreatmentPlan,
    Intervention,
    DryNeedlingConsent,
    VisitNote,
    Addendum,
]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def episode(patient, physio):
    return episode_for(patient, physio)


@pytest.fixture
def signed_note(patient, physio, episode):
    note = draft_note(visit_for(patient, physio), episode, physio, plan="Hip strengthening.")
    note = services.note_sign(note=note, by=physio)
    services.addendum_add(note=note, text="Left knee, not right.", by=physio)
    return note


def admin_url(obj, action: str = "change") -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=[obj.pk])


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_the_whole_clinical_record_is_registered():
    assert all(site.is_registered(model) for model in CLINICAL_MODELS)


def test_superuser_sees_every_clinical_list(admin_client, physio, episode, signed_note):
    exercise_in_plan(episode, physio)
    assessment_with_red_flag(episode, physio)

    codes = [admin_client.get(changelist_url(model)).status_code for model in CLINICAL_MODELS]

    assert codes == [200] * len(CLINICAL_MODELS)


def test_signed_note_is_shown_read_only(admin_client, signed_note):
    response = admin_client.get(admin_url(signed_note))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    assert "Hip strengthening." in response.content.decode()
    assert "Left knee, not right." in response.content.decode()
    assert 'name="_save"' not in response.content.decode()


def test_posting_a_change_to_a_signed_note_changes_nothing(admin_client, signed_note):
    before = VisitNote.objects.get(pk=signed_note.pk)

    response = admin_client.post(
        admin_url(signed_note), {"plan": "Rewritten in the admin.", "subjective": "New."}
    )

    after = VisitNote.objects.get(pk=signed_note.pk)
    assert response.status_code == 403
    assert (after.plan, after.subjective, after.content_hash) == (
        before.plan,
        before.subjective,
        before.content_hash,
    )


def test_a_draft_is_not_edited_in_the_admin_either(admin_client, patient, physio, episode):
    note = draft_note(visit_for(patient, physio), episode, physio, plan="Draft plan.")

    response = admin_client.post(admin_url(note), {"plan": "Someone else's words."})

    assert response.status_code == 403
    assert VisitNote.objects.get(pk=note.pk).plan == "Draft plan."


def test_notes_and_addenda_cannot_be_deleted(admin_client, signed_note):
    addendum = signed_note.addenda.get()

    codes = [
        admin_client.get(admin_url(signed_note, "delete")).status_code,
        admin_client.post(admin_url(signed_note, "delete"), {"post": "yes"}).status_code,
        admin_client.post(admin_url(addendum, "delete"), {"post": "yes"}).status_code,
    ]

    assert codes == [403, 403, 403]
    assert VisitNote.objects.filter(pk=signed_note.pk).exists()
    assert Addendum.objects.filter(pk=addendum.pk).exists()


def test_an_addendum_cannot_be_changed_in_the_admin(admin_client, signed_note):
    addendum = signed_note.addenda.get()

    response = admin_client.post(admin_url(addendum), {"text": "Rewritten."})

    assert response.status_code == 403
    assert Addendum.objects.get(pk=addendum.pk).text == "Left knee, not right."


def test_no_clinical_list_offers_bulk_delete(admin_client, signed_note):
    pages = [admin_client.get(changelist_url(model)).content.decode() for model in CLINICAL_MODELS]

    assert not [page for page in pages if 'value="delete_selected"' in page]


def test_episodes_and_assessments_cannot_be_deleted(admin_client, physio, episode):
    assessment = assessment_with_red_flag(episode, physio)

    codes = [
        admin_client.post(admin_url(episode, "delete"), {"post": "yes"}).status_code,
        admin_client.post(admin_url(assessment, "delete"), {"post": "yes"}).status_code,
    ]

    assert codes == [403, 403]
    assert Episode.objects.filter(pk=episode.pk).exists()
    assert Assessment.objects.filter(pk=assessment.pk).exists()


def test_superuser_corrects_an_episode_title(admin_client, episode):
    url = admin_url(episode)
    data = form_data(admin_client.get(url)) | {"title": "Left anterior knee pain"}

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert Episode.objects.get(pk=episode.pk).title == "Left anterior knee pain"


def test_the_manager_sees_no_clinical_model(manager_client, signed_note):
    codes = [manager_client.get(changelist_url(model)).status_code for model in CLINICAL_MODELS]

    assert codes == [403] * len(CLINICAL_MODELS)
    assert manager_client.get(admin_url(signed_note)).status_code == 403
