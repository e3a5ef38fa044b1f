"""Front desk: online registrations to review, and merging one into an existing patient.

Reviewing and merging need ``patients.archive_patient`` (front desk and practice managers),
because a merge archives the online record; physiotherapists are refused.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from clinic.audit import Action, log_access

from .merge import merge_candidates, patient_mark_reviewed, patient_merge
from .models import Patient

PERMISSION = "patients.archive_patient"


def _registration(pk: int) -> Patient:
    return get_object_or_404(Patient.objects.active().filter(needs_review=True), pk=pk)


class MergeForm(forms.Form):
    action = forms.ChoiceField(choices=[("merge", "Merge"), ("keep", "Keep as a new patient")])
    into = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        label="The existing patient this person is",
        empty_label=None,
    )

    def __init__(self, *args, candidates: list[Patient], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        field.queryset = Patient.objects.filter(pk__in=[p.pk for p in candidates])
        field.label_from_instance = lambda p: f"{p.full_name}, born {p.date_of_birth:%d/%m/%Y}"

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("action") == "merge" and not cleaned.get("into"):
            self.add_error("into", "Choose the existing patient to merge into.")
        return cleaned


@permission_required(PERMISSION, raise_exception=True)
def review_list(request: HttpRequest) -> HttpResponse:
    registrations = (
        Patient.objects.active()
        .filter(needs_review=True)
        .order_by("created_at")
        .prefetch_related("appointments")
    )
    rows = [{"patient": p, "candidates": merge_candidates(p)} for p in registrations[:100]]
    log_access(request, Action.LIST, object_type="patients.patient")
    return render(request, "patients/review_list.html", {"rows": rows})


@permission_required(PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    duplicate = _registration(pk)
    candidates = merge_candidates(duplicate)
    form = MergeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        into = form.cleaned_data["into"]
        if form.cleaned_data["action"] == "keep":
            log_access(request, Action.UPDATE, duplicate)
        else:
            log_access(request, Action.MERGE, duplicate, patient_id=into.pk)
        try:
            if form.cleaned_data["action"] == "keep":
                patient_mark_reviewed(patient=duplicate, by=request.user)
                messages.success(request, f"{duplicate.full_name} is kept as a new patient.")
                return redirect("patients:review_list")
            patient_merge(duplicate=duplicate, into=into, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"The online registration is merged into {into.full_name}'s record and archived.",
            )
            return redirect(into)
    else:
        log_access(request, Action.VIEW, duplicate)
    return render(
        request,
        "patients/review_merge.html",
        {"duplicate": duplicate, "candidates": candidates, "form": form},
    )


urlpatterns = [
    path("review/", review_list, name="review_list"),
    path("<int:pk>/merge/", merge, name="merge"),
]
