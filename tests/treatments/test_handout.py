import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from treatments import services
from treatments.handout import Handout, HandoutExercise, handout_build, handout_pdf, handout_text

from .plan_factories import episode_for, prescribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def episode(patient, physio):
    return episode_for(patient, physio)


def url(name: str, episode) -> str:
    return reverse(f"treatments:{name}", args=[episode.patient_id, episode.pk])


def test_handout_lists_active_exercises_with_dose_and_instructions(physio_client, physio, episode):
    prescribe(episode, physio, "Clam shells", sets=3, reps=15, load="red band")
    prescribe(episode, physio, "Wall sit", sets=4, reps=None, hold_seconds=30)
    stopped = prescribe(episode, physio, "Knee extension")
    services.intervention_stop(intervention=stopped, by=physio)

    response = physio_client.get(url("handout", episode))

    page = response.content.decode()
    assert "Home exercise programme for Hannah Wright" in page
    assert "prescribed by Priya Shah" in page
    assert timezone.localdate().strftime("%B %Y") in page
    assert "3 × 15, red band, 1× a day, 7 days a week" in page
    assert "4 sets, hold 30 s, 1× a day, 7 days a week" in page
    assert "Keeping your feet touching" in page  # the library's instructions
    assert "Knee extension" not in page
    assert "css/print-handout.css" in page


def test_handout_without_exercises_says_so(physio_client, episode):
    page = physio_client.get(url("handout", episode)).content.decode()

    assert "No exercises are prescribed at the moment." in page


def test_handout_pdf_is_a_pdf_download(physio_client, physio, episode):
    prescribe(episode, physio, "Clam shells")

    response = physio_client.get(url("handout_pdf", episode))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "hannah-wright" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1024
    assert b"Hannah Wright" in response.content  # the document title


def test_handout_text_holds_patient_clinician_date_and_each_exercise(physio, episode):
    prescribe(episode, physio, "Clam shells", sets=2, reps=10, progression="Add a band")

    text = handout_text(handout_build(episode, on=datetime.date(2026, 3, 2)))

    assert "Home exercise programme for Hannah Wright" in text
    assert "prescribed by Priya Shah · 02 March 2026" in text
    assert "1. Clam shells" in text
    assert "2 × 10, 1× a day, 7 days a week" in text
    assert "Progression: Add a band" in text


def test_handout_pdf_survives_markup_and_accents_in_names():
    handout = Handout(
        practice_name="Knee & Co <Physio>",
        patient_name="Zoë O'Brien-Łukasz",
        clinician="Sam <b>",
        issued_on=datetime.date(2026, 3, 2),
        exercises=(HandoutExercise("Clam <shells>", "3 × 10", "Lie & lift.", "", ""),),
    )

    assert handout_pdf(handout).startswith(b"%PDF")


def test_handout_is_emailed_as_pdf_when_the_patient_agreed_to_emails(
    physio_client, physio, patient, episode
):
    patient.email_reminders = True
    patient.save()
    prescribe(episode, physio, "Clam shells", sets=3, reps=15)

    response = physio_client.post(url("handout_email", episode), follow=True)

    assert "Sent the home exercise programme to hannah.wright@example.com." in (
        response.content.decode()
    )
    [message] = mail.outbox
    assert message.to == ["hannah.wright@example.com"]
    assert "home exercise programme" in message.subject
    assert "Clam shells" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Clam shells" in html
    [(filename, content, attachment_type)] = message.attachments
    assert filename.endswith(".pdf") and attachment_type == "application/pdf"
    assert content.startswith(b"%PDF")


def test_handout_is_not_emailed_without_the_patients_consent(physio_client, patient, episode):
    patient.email_reminders = False
    patient.save()

    response = physio_client.post(url("handout_email", episode), follow=True)

    assert "has not agreed to receive e-mails" in response.content.decode()
    assert mail.outbox == []


def test_handout_is_not_emailed_without_an_address(physio_client, patient, episode):
    patient.email_reminders = True
    patient.email = ""
    patient.save()

    response = physio_client.post(url("handout_email", episode), follow=True)

    assert "has no e-mail address on record" in response.content.decode()
    assert mail.outbox == []


def test_handout_page_explains_why_it_cannot_be_emailed(physio_client, episode):
    page = physio_client.get(url("handout", episode)).content.decode()

    assert "has not agreed to receive e-mails" in page
    assert url("handout_email", episode) not in page
