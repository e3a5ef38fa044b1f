"""Outcome scores and clinical calculations, checked against hand-computed values."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatments.reference import FPI6_ITEMS, KUJALA_ITEMS
from treatments.scoring import (
    ChangeVerdict,
    PcsScore,
    asymmetry_percent,
    classify_change,
    dry_needling_precautions_from_alerts,
    fpi6_total,
    kujala_score,
    nprs_validate,
    orthoses_recommendation,
    pcs_score,
    referral_decision_validate,
    tsk11_score,
)

BEST = {item.key: item.options[0].key for item in KUJALA_ITEMS}
WORST = {item.key: item.options[-1].key for item in KUJALA_ITEMS}

IMPROVED = ChangeVerdict.IMPROVED
SAME = ChangeVerdict.NO_MEANINGFUL_CHANGE
WORSE = ChangeVerdict.WORSE


# Kujala


def test_kujala_best_answers_score_100():
    assert kujala_score(BEST) == 100


def test_kujala_worst_answers_score_0():
    assert kujala_score(WORST) == 0


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {
                "limp": "slight_or_periodical",  # 3
                "support": "full_support_without_pain",  # 5
                "walking": "more_than_2_km",  # 3
                "stairs": "slight_pain_descending",  # 8
                "squatting": "repeated_squatting_painful",  # 4
                "running": "pain_after_more_than_2_km",  # 8
                "jumping": "slight_difficulty",  # 7
                "prolonged_sitting": "pain_forces_knee_extension",  # 4
                "pain": "slight_and_occasional",  # 8
                "swelling": "none",  # 10
                "patellar_movements": "none",  # 10
                "thigh_atrophy": "slight",  # 3
                "flexion_deficiency": "none",  # 5
            },
            78,
        ),
        (
            {
                "limp": "none",  # 5
                "support": "painful",  # 3
                "walking": "1_to_2_km",  # 2
                "stairs": "pain_descending_and_ascending",  # 5
                "squatting": "painful_each_time",  # 3
                "running": "slight_pain_from_start",  # 6
                "jumping": "constant_pain",  # 2
                "prolonged_sitting": "constant_pain",  # 6
                "pain": "interferes_with_sleep",  # 6
                "swelling": "after_daily_activities",  # 6
                "patellar_movements": "occasionally_in_daily_activities",  # 4
                "thigh_atrophy": "none",  # 5
                "flexion_deficiency": "slight",  # 3
            },
            56,
        ),
        (
            {
                **WORST,
                "squatting": "possible_with_partial_weight_bearing",  # 2
                "running": "severe_pain",  # 3
                "prolonged_sitting": "pain_after_exercise",  # 8
                "pain": "occasionally_severe",  # 3
                "swelling": "every_evening",  # 4
                "patellar_movements": "one_documented_dislocation",  # 2
            },
            22,
        ),
        (
            {
                **BEST,
                "swelling": "after_severe_exertion",  # 8 of 10
                "patellar_movements": "occasionally_in_sports",  # 6 of 10
            },
            94,
        ),
    ],
    ids=["mild", "moderate", "severe", "near-full"],
)
def test_kujala_mixed_answers_score_the_hand_computed_total(answers, expected):
    assert kujala_score(answers) == expected


@pytest.mark.parametrize("item", KUJALA_ITEMS, ids=lambda item: item.key)
def test_kujala_each_item_contributes_its_maximum(item):
    assert kujala_score({**WORST, item.key: item.options[0].key}) == item.max_points
    assert kujala_score({**BEST, item.key: item.options[-1].key}) == 100 - item.max_points


def test_kujala_refuses_a_missing_item():
    answers = dict(BEST)
    del answers["jumping"]
    with pytest.raises(ValueError, match="jumping not answered"):
        kujala_score(answers)


def test_kujala_refuses_an_empty_form():
    with pytest.raises(ValueError, match="all 13 are required"):
        kujala_score({})


def test_kujala_refuses_an_unknown_option():
    with pytest.raises(ValueError, match="'stairs': unknown option 'sometimes'"):
        kujala_score({**BEST, "stairs": "sometimes"})


def test_kujala_refuses_an_option_of_another_item():
    with pytest.raises(ValueError, match="'limp': unknown option 'unlimited'"):
        kujala_score({**BEST, "limp": "unlimited"})


def test_kujala_refuses_an_unknown_item():
    with pytest.raises(ValueError, match="unknown item"):
        kujala_score({**BEST, "cycling": "none"})


@given(
    st.fixed_dictionaries(
        {item.key: st.sampled_from(item.options) for item in KUJALA_ITEMS},
    )
)
def test_kujala_any_valid_answers_score_the_sum_of_their_points_within_0_to_100(chosen):
    score = kujala_score({key: option.key for key, option in chosen.items()})
    assert 0 <= score <= 100
    assert score == sum(option.points for option in chosen.values())


# TSK-11


def test_tsk11_all_strongly_disagree_scores_11():
    assert tsk11_score(dict.fromkeys(range(1, 12), 1)) == 11


def test_tsk11_all_strongly_agree_scores_44():
    assert tsk11_score(dict.fromkeys(range(1, 12), 4)) == 44


def test_tsk11_mixed_answers_add_up_without_reverse_scoring():
    answers = {1: 2, 2: 3, 3: 1, 4: 4, 5: 2, 6: 2, 7: 3, 8: 1, 9: 4, 10: 2, 11: 3}
    assert tsk11_score(answers) == 27


@pytest.mark.parametrize("answer", [0, 5, -1])
def test_tsk11_refuses_an_answer_outside_1_to_4(answer):
    with pytest.raises(ValueError, match=f"TSK-11 item 3 is {answer}"):
        tsk11_score({**dict.fromkeys(range(1, 12), 2), 3: answer})


@pytest.mark.parametrize("answer", [2.5, "3", None, True])
def test_tsk11_refuses_an_answer_that_is_not_a_whole_number(answer):
    with pytest.raises(ValueError, match="whole number"):
        tsk11_score({**dict.fromkeys(range(1, 12), 2), 5: answer})


def test_tsk11_refuses_a_missing_item():
    answers = dict.fromkeys(range(1, 11), 2)
    with pytest.raises(ValueError, match=r"item\(s\) \[11\] not answered"):
        tsk11_score(answers)


def test_tsk11_refuses_an_item_number_beyond_11():
    with pytest.raises(ValueError, match=r"unknown item number\(s\) \[12\]"):
        tsk11_score({**dict.fromkeys(range(1, 12), 2), 12: 2})


@given(st.fixed_dictionaries({n: st.integers(1, 4) for n in range(1, 12)}))
def test_tsk11_any_valid_answers_score_within_11_to_44(answers):
    assert 11 <= tsk11_score(answers) <= 44


# PCS


def test_pcs_totals_and_subscales():
    answers = dict.fromkeys(range(1, 14), 0) | {1: 4, 6: 3, 8: 2, 9: 2, 12: 1, 13: 4}
    assert pcs_score(answers) == PcsScore(total=16, rumination=4, magnification=7, helplessness=5)


def test_pcs_bounds():
    assert pcs_score(dict.fromkeys(range(1, 14), 0)).total == 0
    assert pcs_score(dict.fromkeys(range(1, 14), 4)) == PcsScore(52, 16, 12, 24)


def test_pcs_refuses_an_answer_above_4():
    with pytest.raises(ValueError, match="PCS item 7 is 5"):
        pcs_score(dict.fromkeys(range(1, 14), 1) | {7: 5})


# NPRS


@pytest.mark.parametrize("value", [0, 5, 10])
def test_nprs_accepts_whole_numbers_from_0_to_10(value):
    assert nprs_validate(value) == value


def test_nprs_accepts_a_number_typed_as_text():
    assert nprs_validate(" 7 ") == 7


@pytest.mark.parametrize("value", [-1, 11, 100])
def test_nprs_refuses_ratings_outside_0_to_10(value):
    with pytest.raises(ValueError, match="between 0 and 10"):
        nprs_validate(value)


@pytest.mark.parametrize("value", [6.5, 3.0, "seven", "", None, True])
def test_nprs_refuses_anything_but_a_whole_number(value):
    with pytest.raises(ValueError, match="whole number"):
        nprs_validate(value)


# Change against baseline


@pytest.mark.parametrize(
    ("measure", "baseline", "current", "verdict", "change"),
    [
        ("kujala", 60, 70, IMPROVED, 10),  # exactly the MCID
        ("kujala", 60, 69, SAME, 9),
        ("kujala", 60, 50, WORSE, -10),
        ("kujala", 60, 51, SAME, -9),
        ("kujala", 0, 100, IMPROVED, 100),
        ("nprs", 7, 5, IMPROVED, -2),  # exactly the display threshold
        ("nprs", 7, 6, SAME, -1),  # below even the 1.16 of Piva 2009
        ("nprs", 3, 5, WORSE, 2),
        ("nprs", 3, 4, SAME, 1),
        ("nprs", 6.5, 4.5, IMPROVED, -2),
        ("nprs", 6.5, 4.6, SAME, -1.9),
        ("tsk11", 30, 26, IMPROVED, -4),  # exactly the threshold
        ("tsk11", 30, 27, SAME, -3),
        ("tsk11", 30, 34, WORSE, 4),
        ("tsk11", 30, 33, SAME, 3),
        ("tsk11", 30, 30, SAME, 0),
    ],
)
def test_classify_change_knows_direction_and_threshold(measure, baseline, current, verdict, change):
    result = classify_change(measure, baseline, current)
    assert result.verdict == verdict
    assert result.change == change


def test_classify_change_verdicts_read_as_words():
    assert classify_change("kujala", 50, 75).verdict == "improved"
    assert classify_change("kujala", 50, 55).verdict == "no meaningful change"
    assert classify_change("kujala", 75, 50).verdict == "worse"


def test_classify_change_counts_a_threshold_reached_through_decimals():
    # 7.3 − 5.3 is 1.9999999999999996 in binary floating point.
    assert classify_change("nprs", 7.3, 5.3) == (IMPROVED, -2.0)


def test_classify_change_refuses_an_unknown_measure():
    with pytest.raises(ValueError, match="Unknown measure 'koos'"):
        classify_change("koos", 50, 60)


@pytest.mark.parametrize(
    ("measure", "baseline", "current"),
    [("kujala", 50, 101), ("kujala", -1, 50), ("nprs", 11, 5), ("tsk11", 10, 20)],
)
def test_classify_change_refuses_scores_outside_the_measures_range(measure, baseline, current):
    with pytest.raises(ValueError, match="is outside"):
        classify_change(measure, baseline, current)


@pytest.mark.parametrize("score", [math.nan, None, "50", True])
def test_classify_change_refuses_a_score_that_is_not_a_number(score):
    with pytest.raises(ValueError, match="must be a number"):
        classify_change("kujala", 50, score)


@given(
    st.sampled_from(["kujala", "nprs", "tsk11"]).flatmap(
        lambda m: st.tuples(
            st.just(m),
            *[st.integers(*{"kujala": (0, 100), "nprs": (0, 10), "tsk11": (11, 44)}[m])] * 2,
        )
    )
)
def test_classify_change_reversed_in_time_gives_the_opposite_verdict(case):
    measure, baseline, current = case
    forward = classify_change(measure, baseline, current)
    backward = classify_change(measure, current, baseline)
    assert backward.change == -forward.change
    opposite = {IMPROVED: WORSE, WORSE: IMPROVED, SAME: SAME}
    assert backward.verdict == opposite[forward.verdict]


# Asymmetry


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (200, 160, 20.0),
        (160, 200, 20.0),
        (150, 150, 0.0),
        (100, 0, 100.0),
        (0, 42.5, 100.0),
        (12.5, 10, 20.0),
        (300, 200, 33.3),
        (30, 20, 33.3),
    ],
)
def test_asymmetry_is_the_difference_over_the_stronger_side(left, right, expected):
    assert asymmetry_percent(left, right) == expected


def test_asymmetry_of_two_zero_sides_is_unknown():
    assert asymmetry_percent(0, 0) is None


@pytest.mark.parametrize(("left", "right"), [(-1, 10), (10, -0.5)])
def test_asymmetry_refuses_negative_values(left, right):
    with pytest.raises(ValueError, match="cannot be negative"):
        asymmetry_percent(left, right)


@pytest.mark.parametrize("value", [math.nan, None, "200"])
def test_asymmetry_refuses_values_that_are_not_numbers(value):
    with pytest.raises(ValueError, match="must be a number"):
        asymmetry_percent(value, 100)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_asymmetry_is_symmetric_and_between_0_and_100(left, right):
    result = asymmetry_percent(left, right)
    assert result == asymmetry_percent(right, left)
    if result is not None:
        assert 0 <= result <= 100


# FPI-6


def test_fpi6_bounds():
    assert fpi6_total([2] * 6) == 12
    assert fpi6_total([-2] * 6) == -12
    assert fpi6_total([0] * 6) == 0


def test_fpi6_by_item_key():
    keys = [key for key, _label in FPI6_ITEMS]
    assert fpi6_total(dict(zip(keys, [1, 2, 0, -1, 2, 1], strict=True))) == 5


@pytest.mark.parametrize("score", [3, -3])
def test_fpi6_refuses_an_item_outside_minus_2_to_plus_2(score):
    with pytest.raises(ValueError, match="scores run from -2 to \\+2"):
        fpi6_total([0, 0, score, 0, 0, 0])


@pytest.mark.parametrize("scores", [[0] * 5, [0] * 7, []])
def test_fpi6_refuses_anything_but_six_scores(scores):
    with pytest.raises(ValueError, match="six item scores"):
        fpi6_total(scores)


def test_fpi6_refuses_a_missing_or_unknown_item_key():
    keys = [key for key, _label in FPI6_ITEMS]
    with pytest.raises(ValueError, match="exactly these items"):
        fpi6_total(dict.fromkeys(keys[:5], 0))
    with pytest.raises(ValueError, match="exactly these items"):
        fpi6_total(dict.fromkeys(keys, 0) | {"arch_height": 1})


def test_fpi6_refuses_fractional_scores():
    with pytest.raises(ValueError, match="whole number"):
        fpi6_total([0.5, 0, 0, 0, 0, 0])


# Orthoses immediate-effect test


@pytest.mark.parametrize(
    ("without", "with_inserts", "expected"),
    [(6, 4, "continue"), (6, 1, "continue"), (6, 5, "stop"), (6, 6, "stop"), (4, 6, "stop")],
)
def test_orthoses_continue_when_pain_drops_by_two_points(without, with_inserts, expected):
    assert orthoses_recommendation(without, with_inserts) == expected


def test_orthoses_with_a_custom_threshold():
    assert orthoses_recommendation(6, 5, threshold=1) == "continue"
    assert orthoses_recommendation(6, 4, threshold=3) == "stop"
    assert orthoses_recommendation(6, 3, threshold=3) == "continue"


def test_orthoses_refuse_a_pain_rating_outside_0_to_10():
    with pytest.raises(ValueError, match="between 0 and 10"):
        orthoses_recommendation(11, 4)


@pytest.mark.parametrize("threshold", [0, -2, 11])
def test_orthoses_refuse_a_threshold_that_is_not_1_to_10(threshold):
    with pytest.raises(ValueError, match="Threshold must be between 1 and 10"):
        orthoses_recommendation(6, 4, threshold=threshold)


# Dry needling precautions


def test_dry_needling_precautions_follow_the_patients_alerts():
    alerts = {
        "allergy_tape_adhesive": True,
        "allergy_latex": False,
        "allergy_metal": True,
        "anticoagulants_or_bleeding_disorder": False,
        "pregnancy": True,
        "needle_phobia": False,
    }
    assert dry_needling_precautions_from_alerts(alerts) == ["allergy_metal", "pregnancy"]


def test_dry_needling_precautions_all_alerts_set():
    alerts = dict.fromkeys(
        ["needle_phobia", "anticoagulants_or_bleeding_disorder", "allergy_metal", "pregnancy"],
        True,
    )
    assert dry_needling_precautions_from_alerts(alerts) == [
        "needle_phobia",
        "anticoagulants_or_bleeding_disorder",
        "allergy_metal",
        "pregnancy",
    ]


def test_dry_needling_precautions_none_without_alerts():
    assert dry_needling_precautions_from_alerts({}) == []


# Referral decision


@pytest.mark.parametrize("decision", ["gp", "emergency_department", "specialist"])
def test_a_referral_needs_no_reason(decision):
    referral_decision_validate(decision)


def test_deciding_not_to_refer_needs_a_reason():
    with pytest.raises(ValueError, match="reason for not referring"):
        referral_decision_validate("none", "   ")
    referral_decision_validate("none", "Swelling explained by a recent fall; reviewed by GP.")


def test_an_unknown_referral_decision_is_refused():
    with pytest.raises(ValueError, match="Unknown referral decision 'physio'"):
        referral_decision_validate("physio")
