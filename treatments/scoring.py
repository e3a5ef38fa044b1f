"""Outcome scores and clinical calculations: pure functions that raise ValueError on bad input."""

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Literal, NamedTuple

from treatments.reference import (
    CHANGE_RULES,
    DRY_NEEDLING_PRECAUTIONS,
    FPI6_ITEM_MAX,
    FPI6_ITEM_MIN,
    FPI6_ITEMS,
    KUJALA_ITEMS,
    KUJALA_ITEMS_BY_KEY,
    NPRS_IMPORTANT_CHANGE,
    NPRS_MAX,
    NPRS_MIN,
    PCS_ANSWER_MAX,
    PCS_ANSWER_MIN,
    PCS_ITEM_COUNT,
    PCS_SUBSCALES,
    REFERRAL_DECISIONS,
    REFERRAL_DECISIONS_REQUIRING_REASON,
    TSK11_ANSWER_MAX,
    TSK11_ANSWER_MIN,
    TSK11_ITEMS,
    Measure,
)


def _whole_number(value: object, what: str) -> int:
    """An int, refusing bools and floats so a slip such as ``True`` or ``2.5`` is not scored."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}.")
    return value


def _numbered_answers(
    answers: Mapping[int, int], *, count: int, lowest: int, highest: int, scale: str
) -> dict[int, int]:
    expected = set(range(1, count + 1))
    unknown = sorted(set(answers) - expected, key=str)
    if unknown:
        raise ValueError(f"{scale}: unknown item number(s) {unknown}; items are 1–{count}.")
    missing = sorted(expected - set(answers))
    if missing:
        raise ValueError(f"{scale}: item(s) {missing} not answered; all {count} are required.")
    checked = {}
    for number, answer in answers.items():
        value = _whole_number(answer, f"{scale} item {number}")
        if not lowest <= value <= highest:
            raise ValueError(
                f"{scale} item {number} is {value}; answers run from {lowest} to {highest}."
            )
        checked[number] = value
    return checked


def kujala_score(answers: Mapping[str, str]) -> int:
    """Kujala AKPS total (0–100, higher is better) from item key → option key."""
    unknown = sorted(set(answers) - set(KUJALA_ITEMS_BY_KEY))
    if unknown:
        raise ValueError(f"Kujala: unknown item(s) {', '.join(map(repr, unknown))}.")
    missing = [item.key for item in KUJALA_ITEMS if item.key not in answers]
    if missing:
        raise ValueError(f"Kujala: item(s) {', '.join(missing)} not answered; all 13 are required.")
    total = 0
    for item in KUJALA_ITEMS:
        choice = answers[item.key]
        try:
            total += item.option(choice).points
        except KeyError:
            valid = ", ".join(option.key for option in item.options)
            raise ValueError(
                f"Kujala item {item.key!r}: unknown option {choice!r}; choose one of {valid}."
            ) from None
    return total


def tsk11_score(answers: Mapping[int, int]) -> int:
    """TSK-11 total (11–44, higher = more fear of movement) from item number → answer 1–4."""
    checked = _numbered_answers(
        answers,
        count=len(TSK11_ITEMS),
        lowest=TSK11_ANSWER_MIN,
        highest=TSK11_ANSWER_MAX,
        scale="TSK-11",
    )
    return sum(checked.values())


class PcsScore(NamedTuple):
    total: int
    rumination: int
    magnification: int
    helplessness: int


def pcs_score(answers: Mapping[int, int]) -> PcsScore:
    """Pain Catastrophizing Scale total (0–52) and its three subscales."""
    checked = _numbered_answers(
        answers,
        count=PCS_ITEM_COUNT,
        lowest=PCS_ANSWER_MIN,
        highest=PCS_ANSWER_MAX,
        scale="PCS",
    )
    subscale = {name: sum(checked[n] for n in items) for name, items in PCS_SUBSCALES.items()}
    return PcsScore(total=sum(checked.values()), **subscale)


def nprs_validate(value: object) -> int:
    """A 0–10 pain rating as an int; accepts whole-number ints or digit strings."""
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"Pain rating must be a whole number 0–10, not {value!r}.") from None
    rating = _whole_number(value, "Pain rating")
    if not NPRS_MIN <= rating <= NPRS_MAX:
        raise ValueError(f"Pain rating must be between {NPRS_MIN} and {NPRS_MAX}, not {rating}.")
    return rating


class ChangeVerdict(StrEnum):
    IMPROVED = "improved"
    NO_MEANINGFUL_CHANGE = "no meaningful change"
    WORSE = "worse"


class ChangeClassification(NamedTuple):
    verdict: ChangeVerdict
    change: float  # current − baseline, rounded to two decimals


def classify_change(measure: str, baseline: float, current: float) -> ChangeClassification:
    """Whether a score moved by at least the measure's important change, and which way.

    The verdict is taken on the rounded change, so the figure shown always agrees with it.
    """
    try:
        rule = CHANGE_RULES[Measure(measure)]
    except ValueError:
        known = ", ".join(m.value for m in Measure)
        raise ValueError(f"Unknown measure {measure!r}; known measures: {known}.") from None
    for name, score in (("baseline", baseline), ("current", current)):
        if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
            raise ValueError(f"{measure} {name} score must be a number, not {score!r}.")
        if not rule.lowest <= score <= rule.highest:
            raise ValueError(
                f"{measure} {name} score {score} is outside {rule.lowest}–{rule.highest}."
            )
    change = round(current - baseline, 2)
    if abs(change) < rule.important_change:
        verdict = ChangeVerdict.NO_MEANINGFUL_CHANGE
    elif (change > 0) == rule.higher_is_better:
        verdict = ChangeVerdict.IMPROVED
    else:
        verdict = ChangeVerdict.WORSE
    return ChangeClassification(verdict, change)


def asymmetry_percent(left: float, right: float) -> float | None:
    """Side-to-side difference as a share of the stronger side: |L − R| / max(L, R) × 100.

    Rounded to one decimal; None when both sides are zero (nothing to compare).
    Works for any unit (N, kg, cm) as long as both sides use the same one.
    """
    for side, value in (("left", left), ("right", right)):
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ValueError(f"The {side} value must be a number, not {value!r}.")
        if value < 0:
            raise ValueError(f"The {side} value cannot be negative ({value}).")
    stronger = max(left, right)
    if stronger == 0:
        return None
    return round(abs(left - right) / stronger * 100, 1)


def fpi6_total(items: Mapping[str, int] | Sequence[int]) -> int:
    """Foot Posture Index total (−12…+12) from six item scores of −2…+2.

    Takes item key → score, or the six scores in FPI6_ITEMS order.
    """
    keys = [key for key, _label in FPI6_ITEMS]
    if isinstance(items, Mapping):
        if set(items) != set(keys):
            raise ValueError(f"FPI-6 needs exactly these items: {', '.join(keys)}.")
        scores = [items[key] for key in keys]
    else:
        scores = list(items)
        if len(scores) != len(keys):
            raise ValueError(f"FPI-6 needs six item scores, not {len(scores)}.")
    for key, score in zip(keys, scores, strict=True):
        value = _whole_number(score, f"FPI-6 item {key!r}")
        if not FPI6_ITEM_MIN <= value <= FPI6_ITEM_MAX:
            raise ValueError(
                f"FPI-6 item {key!r} is {value}; scores run from {FPI6_ITEM_MIN} to "
                f"+{FPI6_ITEM_MAX}."
            )
    return sum(scores)


OrthosesRecommendation = Literal["continue", "stop"]


def orthoses_recommendation(
    pain_without: int, pain_with: int, threshold: int = NPRS_IMPORTANT_CHANGE
) -> OrthosesRecommendation:
    """Immediate-effect test: repeat a painful activity without and with the inserts.

    Continue when pain drops at once by at least ``threshold`` NPRS points; otherwise the
    inserts are unlikely to help longer term.
    """
    without = nprs_validate(pain_without)
    with_inserts = nprs_validate(pain_with)
    threshold = _whole_number(threshold, "Threshold")
    if not 1 <= threshold <= NPRS_MAX:
        raise ValueError(f"Threshold must be between 1 and {NPRS_MAX} points, not {threshold}.")
    return "continue" if without - with_inserts >= threshold else "stop"


def dry_needling_precautions_from_alerts(alerts: Mapping[str, bool]) -> list[str]:
    """Precaution keys raised by a patient's medical alerts (field name → set or not).

    Precautions without a patient alert (local infection or skin lesion) are never returned:
    the clinician checks them at the visit.
    """
    return [
        precaution.key
        for precaution in DRY_NEEDLING_PRECAUTIONS
        if precaution.alert_field is not None and alerts.get(precaution.alert_field)
    ]


def referral_decision_validate(decision: str, reason: str = "") -> None:
    """A referral decision must be a known one; deciding not to refer needs a reason."""
    known = [key for key, _label in REFERRAL_DECISIONS]
    if decision not in known:
        raise ValueError(f"Unknown referral decision {decision!r}; choose one of {known}.")
    if decision in REFERRAL_DECISIONS_REQUIRING_REASON and not reason.strip():
        raise ValueError("Give a reason for not referring the patient on.")
