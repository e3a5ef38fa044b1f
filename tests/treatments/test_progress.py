import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import PatientFactory, UserFactory
from treatments.models import ClinicalSettings, Episode

from .factories import AssessmentFactory, EducationFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def weeks_ago(weeks: int) -> datetime.date:
    return TODAY() - datetime.timedelta(weeks=weeks)


@pytest.fixture
def episode(patient, physio):
    return EpisodeFactory(patient=patient, clinician=physio)


def reassessed(episode: Episode, *, weeks: int, baseline: dict, current: dict) -> None:
    AssessmentFactory(episode=episode, assessed_on=weeks_ago(weeks), **baseline)
    AssessmentFactory(episode=episode, kind="reassessment", assessed_on=TODAY(), **current)


def change_rows(client, episode: Episode) -> dict[str, tuple[str, str]]:
    """Measure → (change, verdict) as the change-from-baseline table shows them."""
    page = client.get(episode.get_absolute_url()).content.decode()
    table = page.split('class="table table-sm w-auto change-table"', 1)[1].split("</table>")[0]
    rows = re.findall(
        r'<th scope="row">(.*?)</th>.*?<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>.*?'
        r'<span class="badge verdict[^"]*">(.*?)</span>',
        table,
        re.S,
    )
    return {label: (change, verdict) for label, change, verdict in rows}


def test_change_from_baseline_shows_each_measures_verdict(physio_client, episode):
    reassessed(
        episode,
        weeks=3,
        baseline={"kujala": 60, "nprs_worst": 4, "tsk11": 30},
        current={"kujala": 70, "nprs_worst": 6, "tsk11": 28},
    )

    rows = change_rows(physio_client, episode)
    assert rows["Kujala"] == ("+10", "improved")
    assert rows["Pain at worst (NPRS)"] == ("+2", "worse")
    assert rows["TSK-11"] == ("-2", "no meaningful change")


def test_a_kujala_gain_of_nine_is_no_meaningful_change(physio_client, episode):
    reassessed(episode, weeks=3, baseline={"kujala": 60}, current={"kujala": 69})

    assert change_rows(physio_client, episode)["Kujala"] == ("+9", "no meaningful change")


def test_worsening_pain_raises_an_alert(physio_client, episode):
    reassessed(episode, weeks=2, baseline={"nprs_worst": 3}, current={"nprs_worst": 6})

    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert "Worsening: Pain at worst (NPRS) worse than at the start." in page


def test_no_meaningful_improvement_after_six_weeks_raises_an_alert(physio_client, episode):
    reassessed(episode, weeks=6, baseline={"kujala": 60}, current={"kujala": 65})

    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert "No meaningful improvement after 6 weeks of treatment" in page


def test_improvement_within_six_weeks_raises_no_alert(physio_client, episode):
    reassessed(episode, weeks=6, baseline={"kujala": 60}, current={"kujala": 75})

    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert "No meaningful improvement" not in page
    assert "Worsening" not in page


def test_the_review_interval_follows_the_practice_setting(physio_client, episode):
    settings = ClinicalSettings.load()
    settings.review_after_weeks = 4
    settings.save()
    reassessed(episode, weeks=4, baseline={"kujala": 60}, current={"kujala": 61})

    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert "No meaningful improvement after 4 weeks of treatment" in page


def test_the_chart_is_an_accessible_svg_with_a_point_per_measurement(
    physio_client, physio, episode
):
    reassessed(
        episode,
        weeks=4,
        baseline={"kujala": 60, "nprs_worst": 7},
        current={"kujala": 75, "nprs_worst": 3},
    )
    EducationFactory(
        plan=episode.plan, recorded_by=physio, started_on=weeks_ago(3), stopped_on=weeks_ago(1)
    )
    url = reverse("treatments:episode_chart", args=[episode.patient_id, episode.pk])
    response = physio_client.get(url)

    svg = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "<title" in svg
    assert "<desc" in svg
    assert "Kujala: 60 on" in svg
    assert svg.count('class="chart-point"') == 4
    assert svg.count('class="mcid-band"') == 2
    assert svg.count('class="intervention-marker"') == 4  # start and stop, in both panels
    assert "Education and self-management started" in svg
    assert "style=" not in svg
    assert "<script" not in svg


def test_the_chart_escapes_what_clinicians_typed(physio_client, physio, patient):
    episode = EpisodeFactory(patient=patient, clinician=physio, title="<script>x</script>")
    url = reverse("treatments:episode_chart", args=[episode.patient_id, episode.pk])
    svg = physio_client.get(url).content.decode()

    assert "<script>" not in svg
    assert "No outcome measures recorded yet." in svg


def test_the_episode_page_shows_the_chart_and_its_data_table(physio_client, episode):
    reassessed(episode, weeks=2, baseline={"kujala": 55}, current={"kujala": 66})

    page = physio_client.get(episode.get_absolute_url()).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "<caption>Chart data</caption>" in page
    assert "style=" not in page


def test_patient_summary_shows_latest_kujala_and_pain(patient, physio):
    from treatments.selectors import patient_clinical_summary

    episode = EpisodeFactory(patient=patient, clinician=physio)
    reassessed(
        episode,
        weeks=2,
        baseline={"kujala": 55, "nprs_worst": 7},
        current={"kujala": 72, "nprs_worst": None},
    )

    (summary,) = patient_clinical_summary(patient)["clinical_episodes"]
    assert summary.latest_kujala == 72
    assert summary.latest_nprs == 7
    assert summary.latest_nprs_on == weeks_ago(2)
    assert not summary.has_red_flags


def test_episodes_needing_attention_lists_only_the_clinicians_troubled_open_episodes(physio):
    from treatments.selectors import episodes_needing_attention

    colleague = UserFactory(username="colleague", roles=["physiotherapist"])
    flagged = EpisodeFactory(clinician=physio, title="Flagged")
    AssessmentFactory(episode=flagged, red_flags=["locked_knee"])
    decided = EpisodeFactory(clinician=physio, title="Decided")
    AssessmentFactory(episode=decided, red_flags=["locked_knee"], referral_decision="gp")
    stuck = EpisodeFactory(clinician=physio, title="Stuck")
    reassessed(stuck, weeks=7, baseline={"kujala": 60}, current={"kujala": 62})
    fine = EpisodeFactory(clinician=physio, title="Fine")
    reassessed(fine, weeks=7, baseline={"kujala": 60}, current={"kujala": 80})
    someone_elses = EpisodeFactory(clinician=colleague, title="Someone else's")
    AssessmentFactory(episode=someone_elses, red_flags=["locked_knee"])

    attention = dict(episodes_needing_attention(physio))

    assert {e.title for e in attention} == {"Flagged", "Stuck"}
    assert "no referral decision recorded yet" in attention[flagged][0]
    assert "No meaningful improvement after 6 weeks" in attention[stuck][0]


@pytest.mark.parametrize("count", [2, 8])
def test_episodes_needing_attention_query_count_is_constant(
    physio, count, django_assert_max_num_queries
):
    from treatments.selectors import episodes_needing_attention

    ClinicalSettings.load()
    for _ in range(count):
        episode = EpisodeFactory(clinician=physio, patient=PatientFactory())
        reassessed(episode, weeks=7, baseline={"kujala": 60}, current={"kujala": 61, "tsk11": 20})

    with django_assert_max_num_queries(4):
        attention = episodes_needing_attention(physio)
    assert len(attention) == count
