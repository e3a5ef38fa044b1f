from typing import NamedTuple

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.html import format_html

from clinic.pagination import COUNT_CAP

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


class _Found(NamedTuple):
    """What a search of the patient list found: how many rows it lists, and whether more
    than ``COUNT_CAP`` matched."""

    count: int
    more: bool


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    # Lean rows: a practice-wide search lists up to 25 patients, four columns each.
    list_display = ["patient", "date_of_birth", "phone", "status"]
    list_filter = [ArchivedFilter, "funding", "sex"]
    search_fields = ["search_name", "=phone", "email"]
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = ["created_at", "updated_at", "created_by", "archived_at", "archived_by"]
    actions = ["archive_selected", "restore_selected"]
    list_per_page = 25
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="patient", ordering="last_name")
    def patient(self, obj: Patient) -> str:
        return f"{obj.last_name}, {obj.first_name}"

    @admin.display(description="status", ordering="archived_at")
    def status(self, obj: Patient) -> str:
        return "Archived" if obj.archived_at else "Active"

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_ordering(self, request):
        """While searching, name order as expressions: the (at most ``COUNT_CAP``) matches
        are sorted by themselves instead of PostgreSQL walking the whole name index."""
        if request.GET.get("q"):
            return [Lower("last_name"), Lower("first_name"), "pk"]
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        """The registry's own search (trigram-indexed on PostgreSQL), cut at ``COUNT_CAP``
        matches. Their ids are read first, which counts them (``get_paginator`` takes the
        number, ``changelist_view`` says when the search needs narrowing); the list then
        orders and pages at most that many, with the search as its subquery (a list of 500
        ids as values costs more to send than searching again)."""
        if not search_term:
            return queryset, False
        found = queryset.search(search_term).order_by().values_list("pk", flat=True)
        ids = list(found[: COUNT_CAP + 1])
        request.patient_search = _Found(count=min(len(ids), COUNT_CAP), more=len(ids) > COUNT_CAP)
        return queryset.filter(pk__in=found[:COUNT_CAP]), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        found = getattr(request, "patient_search", None)
        if found is not None:
            paginator.count = found.count  # known from the search: no COUNT query
        return paginator

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        found = getattr(request, "patient_search", None)
        if changelist is not None and found is not None and found.more:
            self.message_user(
                request,
                f"More than {COUNT_CAP} patients match “{changelist.query}”: the list "
                f"shows {COUNT_CAP} of them. Type more of the name, or add a date of birth.",
                messages.WARNING,
            )
        return response

    def action_checkbox(self, obj):
        """The row's selection box, written directly (Django renders a form widget per row)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            obj,
        )

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
