import importlib

import pytest
from django.apps import apps
from django.contrib import admin

from treatments.exercise_library import EXERCISES, SEED_EXERCISE_NAMES
from treatments.models import BodyRegion, ClinicalSettings, Exercise, ExerciseCategory

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("treatments.migrations.0002_exercise_library")


def test_library_holds_the_four_seed_exercises_and_at_least_twenty_more():
    names = set(Exercise.objects.values_list("name", flat=True))

    assert set(SEED_EXERCISE_NAMES) <= names
    assert len(names - set(SEED_EXERCISE_NAMES)) >= 20


def test_library_covers_every_category():
    categories = set(Exercise.objects.values_list("category", flat=True))

    assert categories == set(ExerciseCategory.values)


def test_every_library_exercise_has_plain_instructions_and_known_choices():
    for item in EXERCISES:
        sentences = [part for part in item.instructions.split(". ") if part.strip()]
        assert 2 <= len(sentences) <= 4, item.name
        assert item.category in ExerciseCategory.values, item.name
        assert item.body_region in BodyRegion.values, item.name
    assert len({item.name for item in EXERCISES}) == len(EXERCISES)


def test_seeding_again_keeps_a_practices_own_changes():
    Exercise.objects.filter(name="Clam shells").update(instructions="Our own words.", active=False)

    seed_migration.seed_library(apps, None)

    clams = Exercise.objects.get(name="Clam shells")
    assert (clams.instructions, clams.active) == ("Our own words.", False)
    assert Exercise.objects.count() == len(EXERCISES)


def test_managers_maintain_the_library_but_never_delete_exercises(rf, manager):
    model_admin = admin.site._registry[Exercise]
    request = rf.get("/")
    request.user = manager

    assert model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert "category" in model_admin.list_filter and "active" in model_admin.list_filter


def test_clinical_settings_is_a_single_row_that_cannot_be_deleted(rf, manager):
    model_admin = admin.site._registry[ClinicalSettings]
    request = rf.get("/")
    request.user = manager
    ClinicalSettings.load()

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_manager_searches_the_library_in_the_admin_site(manager_client):
    response = manager_client.get("/admin/treatments/exercise/?q=calf")

    assert response.status_code == 200
    assert "Standing calf stretch" in response.content.decode()
