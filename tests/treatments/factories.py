"""Clinical-record factories: episodes (with their plan), assessments and outcome measures."""

import datetime
from functools import cache

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from clinic.roles import Role
from tests.factories import PatientFactory, UserFactory
from treatments import reference
from treatments.models import (
    Assessment,
    Education,
    Episode,
    ObjectiveFinding,
    ObjectiveTest,
    OutcomeMeasure,
    TreatmentPlan,
    Unit,
)


class EpisodeFactory(DjangoModelFactory):
    """An open episode with its treatment plan, as ``services.episode_open`` leaves it."""

    class Meta:
        model = Episode
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(UserFactory, roles=[Role.PHYSIOTHERAPIST])
    created_by = factory.SelfAttribute("clinician")
    title = "Right anterior knee pain"
    side = "right"
    diagnosis = "Patellofemoral pain"
    icd10_code = "M22.2X1"

    @factory.post_generation
    def plan(self, create: bool, extracted, **kwargs) -> None:
        if create:
            TreatmentPlan.objects.get_or_create(episode=self)


def kujala_answers_totalling(total: int) -> dict[str, str]:
    """Kujala answers (item key → option key) whose score is exactly ``total``."""

    @cache
    def solve(index: int, remaining: int) -> tuple[str, ...] | None:
        if index == len(reference.KUJALA_ITEMS):
            return () if remaining == 0 else None
        item = reference.KUJALA_ITEMS[index]
        for option in item.options:
            if option.points <= remaining:
                rest = solve(index + 1, remaining - option.points)
                if rest is not None:
                    return (option.key, *rest)
        return None

    keys = solve(0, total)
    if keys is None:
        raise ValueError(f"No set of Kujala answers scores {total}.")
    return {item.key: key for item, key in zip(reference.KUJALA_ITEMS, keys, strict=True)}


BEST_KUJALA = {item.key: item.options[0].key for item in reference.KUJALA_ITEMS}


class AssessmentFactory(DjangoModelFactory):
    """An assessment; ``kujala=`` / ``tsk11=`` totals add scored questionnaires."""

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    episode = factory.SubFactory(EpisodeFactory)
    clinician = factory.SelfAttribute("episode.clinician")
    kind = Assessment.Kind.INITIAL
    assessed_on = factory.LazyFunction(timezone.localdate)

    @factory.post_generation
    def kujala(self, create: bool, extracted: int | None, **kwargs) -> None:
        if create and extracted is not None:
            OutcomeMeasure.objects.create(
                assessment=self,
                measure=OutcomeMeasure.Measure.KUJALA,
                answers=kujala_answers_totalling(extracted),
                total=extracted,
            )

    @factory.post_generation
    def tsk11(self, create: bool, extracted: int | None, **kwargs) -> None:
        if create and extracted is not None:
            answers = [1] * 11
            remaining = extracted - 11
            for index in range(11):
                step = min(3, remaining)
                answers[index] += step
                remaining -= step
            OutcomeMeasure.objects.create(
                assessment=self,
                measure=OutcomeMeasure.Measure.TSK11,
                answers={str(n): a for n, a in enumerate(answers, start=1)},
                total=extracted,
            )


class ObjectiveFindingFactory(DjangoModelFactory):
    class Meta:
        model = ObjectiveFinding

    assessment = factory.SubFactory(AssessmentFactory)
    test = ObjectiveTest.HIP_ABDUCTION_STRENGTH
    unit = Unit.NEWTON
    left_value = 160
    right_value = 200


class EducationFactory(DjangoModelFactory):
    """The simplest intervention, for tests that need one on a plan."""

    class Meta:
        model = Education

    plan = factory.LazyAttribute(lambda o: EpisodeFactory().plan)
    recorded_by = factory.SelfAttribute("plan.episode.clinician")
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))
    topics = factory.LazyFunction(lambda: ["load_management"])
