from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .forms import PatientAdminForm
from .models import Patient


class ArchivedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("archived", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "archived":
            return queryset.archived()
        return queryset


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email", "archived_at"]
    list_filter = [ArchivedFilter, "funding", "sex"]
    search_fields = ["search_name", "=phone", "email"]
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = ["created_at", "updated_at", "created_by", "archived_at", "archived_by"]
    actions = ["archive_selected", "restore_selected"]
    list_per_page = 50

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        """Use the registry's own search (trigram-indexed on PostgreSQL)."""
        if not search_term:
            return queryset, False
        return queryset.search(search_term), False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Archive selected patients", permissions=["archive"])
    def archive_selected(self, request, queryset) -> None:
        count = 0
        for patient in queryset.active():
            services.patient_archive(patient=patient, by=request.user)
            count += 1
        self.message_user(request, f"{count} patient(s) archived.", messages.SUCCESS)

    @admin.action(description="Restore selected patients", permissions=["archive"])
    def restore_selected(self, request, queryset) -> None:
        count = 0
        for patient in queryset.archived():
            try:
                services.patient_restore(patient=patient)
            except ValidationError:
                continue
            count += 1
        self.message_user(request, f"{count} patient(s) restored.", messages.SUCCESS)

    def has_archive_permission(self, request) -> bool:
        return request.user.has_perm("patients.archive_patient")
