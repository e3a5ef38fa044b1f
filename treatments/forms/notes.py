"""Forms for visit notes and their addenda."""

from collections.abc import Callable

from django import forms
from django.db.models import Q, QuerySet

from ..models import (
    DETAIL_ACCESSORS,
    Episode,
    Intervention,
    InterventionKind,
    VisitNote,
)

SOAP_FIELDS = ["subjective", "objective", "assessment", "plan", "nprs", "adherence"]

_DETAIL_SUMMARIES: dict[str, Callable[[Intervention], str]] = {
    InterventionKind.EXERCISE: lambda d: f"{d.exercise.name}, {d.dose}",
    InterventionKind.TAPING: lambda d: f"{d.get_tape_type_display()}, {d.technique}",
    InterventionKind.BRACING: lambda d: d.get_brace_type_display(),
    InterventionKind.FOOT_ORTHOSES: lambda d: d.get_construction_display(),
    InterventionKind.DRY_NEEDLING: lambda d: d.muscles,
    InterventionKind.MOVEMENT_RETRAINING: lambda d: f"{d.get_method_display()}: {d.cues}",
    InterventionKind.EDUCATION: lambda d: ", ".join(d.topics),
    InterventionKind.SOFT_TISSUE: lambda d: f"{d.technique}, {d.area}",
}


def interventions_with_details(queryset: QuerySet[Intervention]) -> QuerySet[Intervention]:
    """Interventions with their kind's own row joined in, so labels cost no extra queries."""
    return queryset.select_related(
        *DETAIL_ACCESSORS.values(), "exerciseprescription__exercise"
    ).order_by("started_on", "pk")


def intervention_label(intervention: Intervention) -> str:
    summary = _DETAIL_SUMMARIES[intervention.kind](intervention.detail())
    stopped = f" (stopped {intervention.stopped_on:%d %b %Y})" if intervention.stopped_on else ""
    return f"{intervention.get_kind_display()}: {summary}{stopped}"


class InterventionsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def _check_values(self, value):
        # An id the database cannot even hold (SQLite stops at 2**63 - 1) is simply invalid.
        for pk in value:
            text = str(pk)
            if not text.isascii() or not text.isdigit() or int(text) > 2**63 - 1:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text[:20]},
                )
        return super()._check_values(value)

    def label_from_instance(self, obj: Intervention) -> str:
        return intervention_label(obj)


def _soap_widgets() -> dict:
    return {
        name: forms.Textarea(attrs={"rows": 3})
        for name in ("subjective", "objective", "assessment", "plan")
    }


class _NoteFields(forms.ModelForm):
    delivered = InterventionsField(
        queryset=Intervention.objects.none(),
        required=False,
        label="Interventions delivered",
        help_text="From this episode's treatment plan.",
    )

    class Meta:
        model = VisitNote
        fields = SOAP_FIELDS
        widgets = _soap_widgets()
        help_texts = {"adherence": "How much of the home programme the patient reports doing."}


class NoteForm(_NoteFields):
    """The author's draft: SOAP, pain today, adherence and what was delivered."""

    def __init__(self, *args, episode: Episode, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        chosen = Q(pk__in=self.instance.delivered.all()) if self.instance.pk else Q(pk__in=[])
        offered = episode.plan.interventions.filter(Q(stopped_on__isnull=True) | chosen)
        self.fields["delivered"].queryset = interventions_with_details(offered)
        if self.instance.pk:
            self.fields["delivered"].initial = [i.pk for i in self.instance.delivered.all()]


class NoteStartForm(_NoteFields):
    """A new note: the episode of care it belongs to comes first."""

    episode = forms.ModelChoiceField(
        queryset=Episode.objects.none(),
        empty_label=None,
        help_text="One of the patient's open episodes of care.",
    )

    class Meta(_NoteFields.Meta):
        fields = ["episode", *SOAP_FIELDS]

    def __init__(self, *args, episodes: QuerySet[Episode], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes
        offered = Intervention.objects.filter(plan__episode__in=episodes, stopped_on__isnull=True)
        self.fields["delivered"].queryset = interventions_with_details(
            offered.select_related("plan")
        )
        self.fields["delivered"].help_text = "From the chosen episode's treatment plan."

    def clean(self) -> dict:
        cleaned = super().clean()
        episode = cleaned.get("episode")
        delivered = cleaned.get("delivered") or []
        if episode is not None and any(i.plan.episode_id != episode.pk for i in delivered):
            self.add_error("delivered", "Choose only interventions from the chosen episode's plan.")
        return cleaned


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Signed with your name and the time; it cannot be changed afterwards.",
    )
