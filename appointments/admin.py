from django.contrib import admin

from patients.models import Patient

from .models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Closure,
    OutboxMessage,
    PracticeSettings,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PatientSearchMixin:
    """Search by patient through the registry's own search (trigram-indexed on PostgreSQL)."""

    search_fields = ["patient__search_name"]
    search_help_text = "A patient's name, date of birth, phone number or e-mail address."

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(patient__in=Patient.objects.search(search_term)), False


@admin.register(PracticeSettings)
class PracticeSettingsAdmin(NoDeleteMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not PracticeSettings.objects.exists()


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "duration_minutes",
        "buffer_after_minutes",
        "price",
        "needs_room",
        "new_patients_only",
        "online_bookable",
        "needs_dry_needling_certification",
        "active",
    ]
    list_filter = ["active", "online_bookable", "new_patients_only", "needs_room"]
    search_fields = ["name"]
    filter_horizontal = ["clinicians"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "clinicians":
            from clinic.models import User
            from clinic.roles import Role

            kwargs["queryset"] = User.objects.filter(
                groups__name=Role.PHYSIOTHERAPIST, is_active=True
            ).select_related("staff_profile")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Types with appointments are kept (set inactive); only unused ones may go.
        return super().has_delete_permission(request, obj) and (
            obj is None or not obj.appointments.exists()
        )


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = [
        "clinician",
        "location",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["location", "weekday"]
    list_select_related = ["clinician__staff_profile", "location"]
    search_fields = ["clinician__first_name", "clinician__last_name", "clinician__username"]
    autocomplete_fields = ["clinician", "location"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["clinician", "kind", "starts_at", "ends_at", "note"]
    list_filter = ["kind"]
    list_select_related = ["clinician__staff_profile"]
    search_fields = ["clinician__first_name", "clinician__last_name", "note"]
    autocomplete_fields = ["clinician"]
    date_hierarchy = "starts_at"


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["reason", "location", "starts_on", "ends_on"]
    list_filter = ["location"]
    list_select_related = ["location"]
    search_fields = ["reason"]


class StatusChangeInline(admin.TabularInline):
    model = AppointmentStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(PatientSearchMixin, NoDeleteMixin, admin.ModelAdmin):
    """Read-only: appointments are booked, moved and cancelled through the calendar so the
    clash rules, history and patient e-mails always apply."""

    list_display = [
        "starts_at",
        "patient",
        "clinician",
        "location",
        "appointment_type",
        "status",
        "source",
    ]
    list_filter = ["status", "source", "location"]
    list_select_related = ["patient", "clinician__staff_profile", "location", "appointment_type"]
    show_full_result_count = False
    date_hierarchy = "starts_at"
    inlines = [StatusChangeInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(PatientSearchMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ["patient", "appointment_type", "location", "clinician", "state", "created_at"]
    list_filter = ["state", "location"]
    list_select_related = ["patient", "appointment_type", "location", "clinician__staff_profile"]
    show_full_result_count = False
    autocomplete_fields = ["patient", "clinician"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "to", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject"]
    show_full_result_count = False
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
