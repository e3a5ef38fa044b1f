"""The home-exercise programme a patient takes home: as a page, a PDF and an e-mail.

``handout_build`` reads the episode's active exercise prescriptions once; the page, the
PDF and the e-mail all show the same blocks from ``handout_blocks``.
"""

import datetime
import io
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate

from .models import Episode, ExercisePrescription

SAFETY_ADVICE = (
    "Some discomfort while exercising is fine if it settles within a day. Stop any exercise "
    "that makes your pain clearly worse and tell your physiotherapist at your next visit."
)


@dataclass(frozen=True)
class HandoutExercise:
    name: str
    dose: str
    instructions: str
    progression: str
    notes: str


@dataclass(frozen=True)
class Handout:
    practice_name: str
    patient_name: str
    clinician: str
    issued_on: datetime.date
    exercises: tuple[HandoutExercise, ...]

    @property
    def title(self) -> str:
        return f"Home exercise programme for {self.patient_name}"

    @property
    def filename(self) -> str:
        return f"home-exercises-{slugify(self.patient_name)}-{self.issued_on:%Y-%m-%d}.pdf"


BlockKind = Literal["title", "meta", "heading", "dose", "text", "note", "advice"]


def active_prescriptions(episode: Episode):
    return (
        ExercisePrescription.objects.filter(plan=episode.plan, stopped_on__isnull=True)
        .select_related("exercise")
        .order_by("exercise__category", "exercise__name", "pk")
    )


def handout_build(episode: Episode, on: datetime.date | None = None) -> Handout:
    return Handout(
        practice_name=settings.PRACTICE_NAME,
        patient_name=episode.patient.full_name,
        clinician=str(episode.clinician),
        issued_on=on or timezone.localdate(),
        exercises=tuple(
            HandoutExercise(
                name=item.exercise.name,
                dose=item.dose,
                instructions=item.exercise.instructions,
                progression=item.progression,
                notes=item.notes,
            )
            for item in active_prescriptions(episode)
        ),
    )


def handout_blocks(handout: Handout) -> list[tuple[BlockKind, str]]:
    """The programme as a list of (kind, text) blocks, in reading order."""
    blocks: list[tuple[BlockKind, str]] = [
        ("title", handout.title),
        (
            "meta",
            f"{handout.practice_name} · prescribed by {handout.clinician} · "
            f"{handout.issued_on:%d %B %Y}",
        ),
    ]
    if not handout.exercises:
        blocks.append(("text", "No exercises are prescribed at the moment."))
    for number, exercise in enumerate(handout.exercises, start=1):
        blocks.append(("heading", f"{number}. {exercise.name}"))
        blocks.append(("dose", exercise.dose))
        blocks.append(("text", exercise.instructions))
        if exercise.progression:
            blocks.append(("note", f"Progression: {exercise.progression}"))
        if exercise.notes:
            blocks.append(("note", exercise.notes))
    blocks.append(("advice", SAFETY_ADVICE))
    return blocks


def handout_text(handout: Handout) -> str:
    return "\n\n".join(text for _kind, text in handout_blocks(handout)) + "\n"


def _styles() -> dict[BlockKind, ParagraphStyle]:
    sample = getSampleStyleSheet()
    body = sample["BodyText"]
    return {
        "title": sample["Title"],
        "meta": ParagraphStyle("meta", parent=body, textColor="#555555", spaceAfter=6 * mm),
        "heading": ParagraphStyle("heading", parent=sample["Heading2"], spaceBefore=4 * mm),
        "dose": ParagraphStyle("dose", parent=body, fontName="Helvetica-Bold"),
        "text": body,
        "note": ParagraphStyle("note", parent=body, fontName="Helvetica-Oblique"),
        "advice": ParagraphStyle(
            "advice",
            parent=body,
            spaceBefore=8 * mm,
            borderPadding=3 * mm,
            borderWidth=0.5,
            borderColor="#999999",
        ),
    }


def handout_pdf(handout: Handout) -> bytes:
    """An A4 PDF of the programme; each exercise is kept together on one page."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=handout.title,
        author=handout.practice_name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    styles = _styles()
    parts: list = []
    for kind, text in handout_blocks(handout):
        paragraph = Paragraph(escape(text), styles[kind])
        if kind == "heading":
            parts.append([paragraph])
        elif kind in {"dose", "text", "note"} and parts and isinstance(parts[-1], list):
            parts[-1].append(paragraph)
        else:
            parts.append(paragraph)
    story = [KeepTogether(part) if isinstance(part, list) else part for part in parts]
    document.build(story)
    return buffer.getvalue()
