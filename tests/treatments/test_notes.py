"""Visit notes: a draft for a visit, edited by its author only, signed for good, addenda after."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Status
from clinic.roles import Role
from tests.factories import PatientFactory, UserFactory
from treatments import services
from treatments.models import Addendum, VisitNote

from .note_factories import (
    assessment_with_red_flag,
    draft_note,
    episode_for,
    exercise_in_plan,
    visit_for,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def colleague(db):
    return UserFactory(
        username="colleague", first_name="Carl", last_name="Dunn", roles=[Role.PHYSIOTHERAPIST]
    )


@pytest.fixture
def colleague_client(colleague, client):
    client.force_login(colleague)
    return client


@pytest.fixture
def episode(patient, physio):
    return episode_for(patient, physio)


@pytest.fixture
def visit(patient, physio):
    return visit_for(patient, physio)


@pytest.fixture
def note(visit, episode, physio):
    return draft_note(visit, episode, physio, subjective="Stairs hurt less.", nprs=4)


def note_url(note: VisitNote, name: str = "note") -> str:
    return reverse(f"treatments:{name}", args=[note.episode.patient_id, note.pk])


def start_url(appointment) -> str:
    return reverse("treatments:note_for_appointment", args=[appointment.pk])


def soap(**fields) -> dict:
    return {
        "subjective": "Pain going downstairs.",
        "objective": "Step-down: knee valgus.",
        "assessment": "Improving.",
        "plan": "Progress hip strengthening.",
        "nprs": "3",
        "adherence": "most",
    } | fields


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- Starting a note ------------------------------------------------------------------------


def test_physio_starts_a_draft_for_todays_arrived_visit(physio_client, physio, visit, episode):
    clam_shells = exercise_in_plan(episode, physio)

    form_page = physio_client.get(start_url(visit))
    response = physio_client.post(
        start_url(visit), soap(episode=episode.pk, delivered=[clam_shells.pk]), follow=True
    )

    assert form_page.status_code == 200
    assert "Right anterior knee pain" in page_text(form_page)
    note = VisitNote.objects.get(appointment=visit)
    assert (note.author, note.episode, note.nprs, note.is_signed) == (physio, episode, 3, False)
    assert list(note.delivered.all()) == [clam_shells.intervention_ptr]
    assert "The draft note is saved." in page_text(response)
    assert "Draft by Priya Shah" in page_text(response)


def test_opening_the_note_link_again_goes_to_the_existing_note(physio_client, note):
    response = physio_client.get(start_url(note.appointment))

    assert response.status_code == 302
    assert response["Location"] == note_url(note)


def test_any_physiotherapist_may_write_the_note_for_a_colleagues_visit(
    colleague_client, colleague, visit, episode
):
    colleague_client.post(start_url(visit), soap(episode=episode.pk))

    assert VisitNote.objects.get(appointment=visit).author == colleague


def test_a_booked_visit_earlier_today_can_have_a_note(physio_client, patient, physio, episode):
    visit = visit_for(patient, physio, status=Status.BOOKED)

    response = physio_client.post(start_url(visit), soap(episode=episode.pk))

    assert response.status_code == 302
    assert VisitNote.objects.filter(appointment=visit).exists()


def test_a_future_appointment_cannot_have_a_note_yet(physio_client, patient, physio, episode):
    future = visit_for(patient, physio, ago=-3 * DAY, status=Status.BOOKED)

    response = physio_client.post(start_url(future), soap(episode=episode.pk), follow=True)

    assert "write its note on the day of the visit" in page_text(response)
    assert not VisitNote.objects.exists()


def test_a_cancelled_appointment_cannot_have_a_note(physio_client, patient, physio, episode):
    cancelled = visit_for(patient, physio, status=Status.CANCELLED)

    response = physio_client.get(start_url(cancelled), follow=True)

    assert "This appointment is cancelled: there is no visit to write a note for." in page_text(
        response
    )


def test_without_an_open_episode_the_physio_is_asked_to_open_one(physio_client, visit):
    response = physio_client.get(start_url(visit))
    posted = physio_client.post(start_url(visit), soap())

    assert "Hannah Wright has no open episode of care." in page_text(response)
    assert reverse("treatments:episode_create", args=[visit.patient_id]) in page_text(response)
    assert posted.status_code == 200
    assert not VisitNote.objects.exists()


def test_the_episode_must_be_one_of_this_patients_open_episodes(
    physio_client, physio, visit, episode
):
    other_episode = episode_for(PatientFactory(), physio)

    response = physio_client.post(start_url(visit), soap(episode=other_episode.pk))

    assert response.status_code == 200
    assert "Select a valid choice" in page_text(response)
    assert not VisitNote.objects.exists()


# --- Editing a draft ------------------------------------------------------------------------


def test_author_edits_their_draft(physio_client, note):
    response = physio_client.post(note_url(note), soap(plan="Add step-downs."), follow=True)

    note.refresh_from_db()
    assert note.plan == "Add step-downs."
    assert "The draft note is saved." in page_text(response)


def test_another_physiotherapist_sees_the_draft_read_only(colleague_client, note):
    response = colleague_client.get(note_url(note))

    assert response.status_code == 200
    assert "Draft by Priya Shah" in page_text(response)
    assert "Stairs hurt less." in page_text(response)
    assert response.context["form"] is None
    assert "Sign note" not in page_text(response)


def test_another_physiotherapist_cannot_edit_the_draft(colleague_client, note):
    response = colleague_client.post(note_url(note), soap(subjective="Changed."), follow=True)

    note.refresh_from_db()
    assert note.subjective == "Stairs hurt less."
    assert "Only the author can edit a draft note." in page_text(response)


def test_only_the_author_can_sign(colleague_client, note):
    response = colleague_client.post(note_url(note, "note_sign"), follow=True)

    note.refresh_from_db()
    assert not note.is_signed
    assert "Only the author can sign a note." in page_text(response)


def test_delivered_interventions_are_limited_to_the_episodes_plan(
    physio_client, physio, note, episode
):
    ours = exercise_in_plan(episode, physio)
    elsewhere = exercise_in_plan(episode_for(PatientFactory(), physio), physio, "Calf stretch")

    response = physio_client.post(
        note_url(note), soap(subjective="Changed.", delivered=[ours.pk, elsewhere.pk])
    )

    note.refresh_from_db()
    assert response.status_code == 200
    assert "Select a valid choice" in page_text(response)
    assert (note.subjective, note.delivered.count()) == ("Stairs hurt less.", 0)


def test_a_new_note_cannot_deliver_another_episodes_intervention(
    physio_client, physio, patient, visit, episode
):
    second = episode_for(patient, physio, "Left hip pain")
    other = exercise_in_plan(second, physio, "Calf stretch")

    response = physio_client.post(start_url(visit), soap(episode=episode.pk, delivered=[other.pk]))

    assert "Choose only interventions from the chosen episode" in page_text(response)
    assert not VisitNote.objects.exists()


# --- Signing --------------------------------------------------------------------------------


def test_signing_locks_the_note(physio_client, note):
    response = physio_client.post(note_url(note, "note_sign"), follow=True)

    note.refresh_from_db()
    assert note.is_signed and note.signed_by_id == note.author_id
    text = page_text(response)
    assert "Signed by Priya Shah at" in text
    assert note.content_hash in text
    assert response.context["form"] is None
    assert "Save draft" not in text
    assert "Add an addendum" in text


def test_editing_a_signed_note_changes_nothing_and_says_why(physio_client, physio, note):
    signed = services.note_sign(note=note, by=physio)

    response = physio_client.post(note_url(note), soap(subjective="Rewritten."), follow=True)

    note.refresh_from_db()
    assert note.subjective == "Stairs hurt less."
    assert (note.signed_at, note.content_hash) == (signed.signed_at, signed.content_hash)
    assert "A signed note cannot be changed; add an addendum instead." in page_text(response)


def test_content_hash_matches_the_note_after_signing(physio, note, episode):
    clam_shells = exercise_in_plan(episode, physio)
    services.note_save(note=note, by=physio, delivered=[clam_shells])

    signed = services.note_sign(note=note, by=physio)

    assert len(signed.content_hash) == 64
    assert signed.content_hash == VisitNote.objects.get(pk=note.pk).compute_hash()


def test_the_model_refuses_to_save_a_signed_note(physio, note):
    services.note_sign(note=note, by=physio)
    note.refresh_from_db()
    note.plan = "Changed behind the service's back."

    with pytest.raises(ValidationError, match="A signed note cannot be changed"):
        note.save()

    assert VisitNote.objects.get(pk=note.pk).plan == ""


def test_only_a_queryset_update_gets_past_the_lock_and_the_hash_then_shows_it(physio, note):
    """``VisitNote.objects.update`` skips ``save()``: no code may use it on notes. If anyone
    does, the stored content hash no longer matches the content, so the change is evident."""
    services.note_sign(note=note, by=physio)

    VisitNote.objects.filter(pk=note.pk).update(subjective="Tampered.")

    note.refresh_from_db()
    assert note.subjective == "Tampered."
    assert note.compute_hash() != note.content_hash


def test_a_red_flag_without_a_referral_decision_blocks_signing(
    physio_client, physio, note, episode
):
    assessment = assessment_with_red_flag(episode, physio)

    response = physio_client.post(note_url(note, "note_sign"), follow=True)

    note.refresh_from_db()
    assert not note.is_signed
    text = page_text(response)
    assert "The note is not signed." in text
    assert "positive red flag (knee giving way): record a referral decision before signing" in text
    assert "Signing is blocked:" in text
    assert assessment.get_absolute_url() in text


def test_recording_the_referral_decision_unblocks_signing(physio_client, physio, note, episode):
    assessment = assessment_with_red_flag(episode, physio)
    services.referral_decision_record(
        assessment=assessment, decision="gp", reason="Giving way: GP review.", by=physio
    )

    response = physio_client.post(note_url(note, "note_sign"), follow=True)

    note.refresh_from_db()
    assert note.is_signed
    assert "Signing is blocked" not in page_text(response)


# --- Addenda --------------------------------------------------------------------------------


def test_an_addendum_is_added_to_a_signed_note_with_author_and_time(
    colleague_client, colleague, physio, note
):
    services.note_sign(note=note, by=physio)

    response = colleague_client.post(
        note_url(note, "addendum_create"),
        {"text": "Phoned: swelling settled."},
        follow=True,
    )

    addendum = Addendum.objects.get(note=note)
    assert (addendum.author, addendum.text) == (colleague, "Phoned: swelling settled.")
    text = page_text(response)
    assert "The addendum is added and signed." in text
    assert "Added by Carl Dunn at" in text
    assert "Phoned: swelling settled." in text


def test_an_addendum_cannot_be_changed(physio, note):
    note = services.note_sign(note=note, by=physio)
    addendum = services.addendum_add(note=note, text="Correction: left knee.", by=physio)
    addendum.text = "Rewritten."

    with pytest.raises(ValidationError, match="cannot be changed"):
        addendum.save()

    assert Addendum.objects.get(pk=addendum.pk).text == "Correction: left knee."


def test_a_draft_takes_edits_not_addenda(physio_client, note):
    response = physio_client.post(
        note_url(note, "addendum_create"), {"text": "Too early."}, follow=True
    )

    assert "Edit the draft instead: addenda are for signed notes." in page_text(response)
    assert not Addendum.objects.exists()


def test_an_empty_addendum_is_refused(physio_client, physio, note):
    services.note_sign(note=note, by=physio)

    response = physio_client.post(note_url(note, "addendum_create"), {"text": ""}, follow=True)

    assert "Write the addendum's text" in page_text(response)
    assert not Addendum.objects.exists()


# --- Overdue drafts -------------------------------------------------------------------------


def test_unsigned_list_shows_only_drafts_older_than_a_day(
    physio_client, physio, colleague, patient, episode
):
    overdue = draft_note(visit_for(patient, physio, ago=2 * DAY), episode, physio)
    draft_note(visit_for(patient, physio, ago=datetime.timedelta(hours=3)), episode, physio)
    signed = draft_note(visit_for(patient, physio, ago=3 * DAY), episode, physio)
    services.note_sign(note=signed, by=physio)
    draft_note(visit_for(patient, colleague, ago=4 * DAY), episode, colleague)

    response = physio_client.get(reverse("treatments:notes_unsigned"))

    assert list(response.context["unsigned_notes"]) == [overdue]
    assert note_url(overdue) in page_text(response)


def test_unsigned_list_says_when_nothing_is_overdue(physio_client):
    response = physio_client.get(reverse("treatments:notes_unsigned"))

    assert "No overdue drafts." in page_text(response)


# --- Who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["front_desk_client", "manager_client", "outsider_client"])
def test_only_physiotherapists_reach_any_note_page(request, who, physio, note):
    client = request.getfixturevalue(who)
    services.note_sign(note=note, by=physio)
    urls = [
        ("get", start_url(note.appointment)),
        ("post", start_url(note.appointment)),
        ("get", note_url(note)),
        ("post", note_url(note)),
        ("post", note_url(note, "note_sign")),
        ("post", note_url(note, "addendum_create")),
        ("get", reverse("treatments:notes_unsigned")),
    ]

    codes = [getattr(client, method)(url, {"text": "x"}).status_code for method, url in urls]

    assert codes == [403] * len(urls)
    assert not Addendum.objects.exists()


def test_another_patients_note_id_is_not_found(physio_client, note):
    someone_else = PatientFactory()

    for name in ("note", "note_sign", "addendum_create"):
        url = reverse(f"treatments:{name}", args=[someone_else.pk, note.pk])
        response = physio_client.post(url) if name != "note" else physio_client.get(url)
        assert response.status_code == 404


def test_sign_and_addendum_take_post_only(physio_client, note):
    assert physio_client.get(note_url(note, "note_sign")).status_code == 405
    assert physio_client.get(note_url(note, "addendum_create")).status_code == 405


# --- Performance ----------------------------------------------------------------------------


def _queries_for_note_page(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_note_page_costs_the_same_queries_with_one_or_five_addenda(
    physio_client, physio, colleague, note, episode
):
    for name in ("Clam shells", "Calf stretch", "Sit to stand"):
        exercise = exercise_in_plan(episode, physio, name)
        note.delivered.add(exercise)
    note = services.note_sign(note=note, by=physio)
    services.addendum_add(note=note, text="First.", by=physio)
    url = note_url(note)
    one = _queries_for_note_page(physio_client, url)

    for number in range(4):
        services.addendum_add(
            note=note, text=f"More {number}.", by=colleague if number % 2 else physio
        )
    five = _queries_for_note_page(physio_client, url)

    assert one == five
    assert five <= 11
