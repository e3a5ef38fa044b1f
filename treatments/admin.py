from django.contrib import admin
from django.http import HttpRequest

from .models import ClinicalSettings, Exercise


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    """Retire an exercise by unticking "active": prescriptions keep pointing at it."""

    list_display = ["name", "category", "body_region", "active"]
    list_filter = ["category", "body_region", "active"]
    search_fields = ["name", "instructions"]
    list_editable = ["active"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ClinicalSettings)
class ClinicalSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "review_after_weeks", "orthoses_pain_drop_threshold"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not ClinicalSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
