"""Query budgets of the key pages: exactly this many queries, whatever the amount of data.

Each page is requested with a little data and with several times more; both must cost
the same number of queries (the budgets count the signed-in session, the person and their
roles, and the access-log INSERT every patient-data page writes; on PostgreSQL the person
comes with the session, and the INSERT with the page's first read: ``tests/queries.py``). The
calendar, free-time and booking pages have theirs beside their own tests in
tests/appointments/.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Status
from tests.appointments.factories import AppointmentFactory
from tests.factories import PatientFactory
from tests.queries import statements
from tests.treatments.factories import AssessmentFactory
from tests.treatments.note_factories import draft_note, visit_for
from tests.treatments.plan_factories import episode_for
from treatments import services
from treatments.models import Assessment, ClinicalSettings

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30

#: The session, the person with their staff profile and roles, the matching rows (at most
#: 501, as plain values), and the access-log INSERT.
SEARCH_QUERIES = statements(4, riding=2)
#: The session, the person, the patient, the access log, their attendance counts, upcoming
#: and past appointments.
PATIENT_PAGE_QUERIES = statements(7, riding=2)
#: A physiotherapist also sees the episodes and their latest scores.
PATIENT_PAGE_PHYSIO_QUERIES = statements(9, riding=2)
#: The episode page and its chart: the session, the person, the patient, the episode, the
#: access log, the assessments and their outcome measures, the clinical settings (when to
#: review), the interventions, and for the page its visit notes; the same however many
#: visits and assessments.
EPISODE_PAGE_QUERIES = statements(10, riding=2)
EPISODE_CHART_QUERIES = statements(9, riding=2)
#: Session, person with profile and roles, their device (two-factor), the ids of the matches
#: (which also count them), one page of rows. No menu of every model is built for it.
ADMIN_SEARCH_QUERIES = statements(5, riding=1)


def _registry(size: int) -> None:
    for n in range(size):
        PatientFactory(
            first_name=f"Ann{n:02d}",
            last_name="Smith",
            date_of_birth=datetime.date(1980, 1, 1 + n % 28),
            phone=f"+4479111234{n:02d}",
        )


@pytest.mark.parametrize("size", [SMALL, LARGE])
@pytest.mark.parametrize("query", ["smi", "Ann01 Smith", "02/01/1980", "07911 123401"])
def test_patient_search_as_you_type(
    front_desk_client, django_assert_num_queries, size: int, query: str
) -> None:
    _registry(size)
    with django_assert_num_queries(SEARCH_QUERIES):
        response = front_desk_client.get(
            reverse("patients:list"), {"q": query}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    assert "Smith, Ann01" in response.content.decode()


def _appointments(patient, size: int) -> None:
    now = timezone.now()
    for n in range(size):
        AppointmentFactory(
            patient=patient,
            starts_at=now + datetime.timedelta(days=n + 1, hours=n % 5),
        )
        AppointmentFactory(
            patient=patient,
            starts_at=now - datetime.timedelta(days=n + 1, hours=n % 5),
            status=Status.COMPLETED,
        )


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_patient_page(front_desk_client, patient, django_assert_num_queries, size) -> None:
    _appointments(patient, size)
    with django_assert_num_queries(PATIENT_PAGE_QUERIES):
        response = front_desk_client.get(patient.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["past_lines"]) == min(size, 20)


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_patient_page_for_a_physiotherapist(
    physio_client, physio, patient, django_assert_num_queries, size
) -> None:
    _appointments(patient, size)
    for _ in range(size // 3):
        episode_for(patient, physio)
    with django_assert_num_queries(PATIENT_PAGE_PHYSIO_QUERIES):
        response = physio_client.get(patient.get_absolute_url())
    assert response.status_code == 200


def _episode(patient, physio, visits: int):
    """An episode with ``visits`` signed notes and a scored assessment for every three."""
    ClinicalSettings.load()
    episode = episode_for(patient, physio)
    for n in range(visits // 3):
        AssessmentFactory(
            episode=episode,
            kind=Assessment.Kind.REASSESSMENT if n else Assessment.Kind.INITIAL,
            assessed_on=timezone.localdate() - datetime.timedelta(days=visits - 3 * n),
            kujala=60 + n,
            tsk11=30 - n,
        )
    for n in range(visits):
        visit = visit_for(patient, physio, ago=datetime.timedelta(days=n + 1))
        note = draft_note(visit, episode, physio, subjective="Stairs easier.", nprs=5)
        services.note_sign(note=note, by=physio)
    return episode


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_episode_page_with_its_visits(
    physio_client, physio, patient, django_assert_num_queries, size
) -> None:
    episode = _episode(patient, physio, size)
    with django_assert_num_queries(EPISODE_PAGE_QUERIES):
        response = physio_client.get(episode.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["notes"]) == size
    assert len(response.context["assessments"]) == size // 3
    # Each assessment shows its Kujala total, from the outcome measures read with it.
    assert f'<span class="kujala-total">{60 + size // 3 - 1}</span>/100' in response.text


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_episode_chart(physio_client, physio, patient, django_assert_num_queries, size) -> None:
    episode = _episode(patient, physio, size)
    with django_assert_num_queries(EPISODE_CHART_QUERIES):
        response = physio_client.get(
            reverse("treatments:episode_chart", args=[patient.pk, episode.pk])
        )
    assert response.status_code == 200
    assert response.content.startswith(b"<svg")


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_admin_patient_search(manager_client, django_assert_num_queries, size) -> None:
    _registry(size)
    url = reverse("admin:patients_patient_changelist")
    with django_assert_num_queries(ADMIN_SEARCH_QUERIES):
        response = manager_client.get(url, {"q": "smith"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == size
