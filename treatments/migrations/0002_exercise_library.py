"""Seed the exercise library; exercises a practice already has are left as they are."""

from django.db import migrations

from treatments.exercise_library import EXERCISES


def seed_library(apps, schema_editor):
    Exercise = apps.get_model("treatments", "Exercise")
    for item in EXERCISES:
        Exercise.objects.get_or_create(
            name=item.name,
            defaults={
                "category": item.category,
                "body_region": item.body_region,
                "instructions": item.instructions,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(seed_library, migrations.RunPython.noop)]
