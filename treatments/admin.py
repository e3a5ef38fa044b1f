from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Addendum,
    Assessment,
    ClinicalSettings,
    DryNeedlingConsent,
    Episode,
    Exercise,
    Goal,
    Intervention,
    ObjectiveFinding,
    OutcomeMeasure,
    TreatmentPlan,
    VisitNote,
)


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


# --- The clinical record ---------------------------------------------------------------------
# Superusers only (managers hold no clinical permission). Nothing clinical is deleted here,
# and signed notes and addenda are shown but never changed.


class ClinicalRecordAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyClinicalAdmin(ClinicalRecordAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ClinicalInline(admin.TabularInline):
    extra = 0
    can_delete = False


class ReadOnlyInline(ClinicalInline):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Episode)
class EpisodeAdmin(ClinicalRecordAdmin):
    list_display = ["title", "patient", "clinician", "body_region", "side", "status", "created_at"]
    list_filter = ["status", "body_region", "discharge_outcome"]
    search_fields = [
        "title",
        "diagnosis",
        "icd10_code",
        "patient__search_name",
        "patient__last_name",
    ]
    list_select_related = ["patient", "clinician__staff_profile"]
    raw_id_fields = ["patient", "clinician", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    date_hierarchy = "created_at"


class ObjectiveFindingInline(ClinicalInline):
    model = ObjectiveFinding


class OutcomeMeasureInline(ReadOnlyInline):
    """Totals are scored from the answers by the product; they are not typed in here."""

    model = OutcomeMeasure
    fields = readonly_fields = ["measure", "total", "answers"]


@admin.register(Assessment)
class AssessmentAdmin(ClinicalRecordAdmin):
    list_display = [
        "__str__",
        "patient",
        "episode",
        "clinician",
        "red_flag_list",
        "referral_decision",
    ]
    list_filter = ["kind", "referral_decision", "assessed_on"]
    search_fields = ["episode__title", "episode__patient__search_name", "clinical_impression"]
    list_select_related = ["episode__patient", "clinician__staff_profile"]
    raw_id_fields = ["episode", "clinician"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ObjectiveFindingInline, OutcomeMeasureInline]

    @admin.display(description="patient", ordering="episode__patient__last_name")
    def patient(self, obj: Assessment) -> str:
        return obj.episode.patient.full_name

    @admin.display(description="red flags")
    def red_flag_list(self, obj: Assessment) -> str:
        return ", ".join(obj.red_flag_labels()) or "—"


class GoalInline(ClinicalInline):
    model = Goal


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ClinicalRecordAdmin):
    list_display = ["__str__", "planned_frequency", "planned_sessions", "updated_at"]
    search_fields = ["episode__title", "episode__patient__search_name"]
    list_select_related = ["episode__patient"]
    raw_id_fields = ["episode"]
    inlines = [GoalInline]


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyClinicalAdmin):
    """A list to find things in; interventions are recorded through their safety checks."""

    list_display = ["kind", "patient", "started_on", "stopped_on", "recorded_by"]
    list_filter = ["kind", "started_on"]
    search_fields = ["plan__episode__patient__search_name", "plan__episode__title", "notes"]
    list_select_related = ["plan__episode__patient", "recorded_by__staff_profile"]
    date_hierarchy = "started_on"

    @admin.display(description="patient", ordering="plan__episode__patient__last_name")
    def patient(self, obj: Intervention) -> str:
        return obj.plan.episode.patient.full_name


@admin.register(DryNeedlingConsent)
class DryNeedlingConsentAdmin(ClinicalRecordAdmin):
    list_display = ["patient", "consented_on", "method", "withdrawn_on", "recorded_by"]
    list_filter = ["method", "consented_on"]
    search_fields = ["patient__search_name", "patient__last_name"]
    list_select_related = ["patient", "recorded_by__staff_profile"]
    raw_id_fields = ["patient", "recorded_by"]
    readonly_fields = ["created_at"]


class AddendumInline(ReadOnlyInline):
    model = Addendum
    fields = readonly_fields = ["signed_at", "author", "text", "content_hash"]


class SignedListFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "signed"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Signed"), ("no", "Draft")]

    def queryset(self, request: HttpRequest, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(signed_at__isnull=self.value() == "no")
        return queryset


@admin.register(VisitNote)
class VisitNoteAdmin(ReadOnlyClinicalAdmin):
    """Read-only: a draft is edited only by its author in the product, a signed note never."""

    list_display = ["visit", "patient", "author", "status", "signed_at"]
    list_filter = [SignedListFilter, "adherence", "signed_at"]
    search_fields = ["episode__patient__search_name", "episode__title", "author__last_name"]
    list_select_related = ["appointment", "episode__patient", "author__staff_profile"]
    readonly_fields = [field.name for field in VisitNote._meta.fields] + ["delivered"]
    inlines = [AddendumInline]

    @admin.display(description="visit", ordering="appointment__starts_at")
    def visit(self, obj: VisitNote):
        return obj.appointment.starts_at

    @admin.display(description="patient", ordering="episode__patient__last_name")
    def patient(self, obj: VisitNote) -> str:
        return obj.episode.patient.full_name

    @admin.display(description="status")
    def status(self, obj: VisitNote) -> str:
        return "Signed" if obj.is_signed else "Draft"


@admin.register(Addendum)
class AddendumAdmin(ReadOnlyClinicalAdmin):
    list_display = ["__str__", "patient", "author", "signed_at"]
    list_filter = ["signed_at"]
    search_fields = ["note__episode__patient__search_name", "text"]
    list_select_related = ["note__episode__patient", "author__staff_profile"]
    readonly_fields = ["note", "author", "text", "signed_at", "content_hash"]

    @admin.display(description="patient", ordering="note__episode__patient__last_name")
    def patient(self, obj: Addendum) -> str:
        return obj.note.episode.patient.full_name
