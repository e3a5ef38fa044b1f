"""The clinical reference tables hold exactly the facts of the product's clinical reference."""

import pytest

from treatments import reference as ref

# Kujala AKPS as tabulated in the clinical reference: item key → (max, [option points]).
KUJALA_TABLE = {
    "limp": (5, [5, 3, 0]),
    "support": (5, [5, 3, 0]),
    "walking": (5, [5, 3, 2, 0]),
    "stairs": (10, [10, 8, 5, 0]),
    "squatting": (5, [5, 4, 3, 2, 0]),
    "running": (10, [10, 8, 6, 3, 0]),
    "jumping": (10, [10, 7, 2, 0]),
    "prolonged_sitting": (10, [10, 8, 6, 4, 0]),
    "pain": (10, [10, 8, 6, 3, 0]),
    "swelling": (10, [10, 8, 6, 4, 0]),
    "patellar_movements": (10, [10, 6, 4, 2, 0]),
    "thigh_atrophy": (5, [5, 3, 0]),
    "flexion_deficiency": (5, [5, 3, 0]),
}


def test_kujala_has_thirteen_items_in_the_published_order():
    assert [item.key for item in ref.KUJALA_ITEMS] == list(KUJALA_TABLE)
    assert [item.number for item in ref.KUJALA_ITEMS] == list(range(1, 14))


def test_kujala_item_maximums_add_up_to_100():
    assert sum(item.max_points for item in ref.KUJALA_ITEMS) == ref.KUJALA_MAX_TOTAL == 100


@pytest.mark.parametrize("item", ref.KUJALA_ITEMS, ids=lambda item: item.key)
def test_kujala_item_points_match_the_reference_table(item):
    expected_max, expected_points = KUJALA_TABLE[item.key]
    assert item.max_points == expected_max
    assert [option.points for option in item.options] == expected_points


@pytest.mark.parametrize("item", ref.KUJALA_ITEMS, ids=lambda item: item.key)
def test_kujala_options_have_unique_keys_and_labels(item):
    keys = [option.key for option in item.options]
    labels = [option.label for option in item.options]
    assert len(set(keys)) == len(keys)
    assert len(set(labels)) == len(labels)
    assert all(label for label in labels)


def test_kujala_options_read_as_key_label_points_tuples():
    limp = ref.KUJALA_ITEMS_BY_KEY["limp"]
    assert tuple(limp.options[1]) == ("slight_or_periodical", "Slight or periodical", 3)
    assert limp.option("constant").points == 0


def test_kujala_labels_follow_the_reference_wording():
    stairs = ref.KUJALA_ITEMS_BY_KEY["stairs"]
    assert [o.label for o in stairs.options] == [
        "No difficulty",
        "Slight pain when descending",
        "Pain both when descending and ascending",
        "Unable",
    ]
    assert ref.KUJALA_ITEMS_BY_KEY["prolonged_sitting"].label == (
        "Prolonged sitting with knees flexed"
    )
    assert ref.KUJALA_ITEMS_BY_KEY["patellar_movements"].label == (
        "Abnormal painful kneecap (patellar) movements"
    )


def test_a_kujala_item_whose_best_option_disagrees_with_its_maximum_is_refused():
    with pytest.raises(ValueError, match="best option scores 5"):
        ref.KujalaItem(1, "limp", "Limp", 10, (ref.KujalaOption("none", "None", 5),))


def test_tsk11_has_eleven_numbered_items_with_text():
    assert [item.number for item in ref.TSK11_ITEMS] == list(range(1, 12))
    assert all(item.text.endswith(".") for item in ref.TSK11_ITEMS)
    assert len({item.text for item in ref.TSK11_ITEMS}) == 11


def test_tsk11_answers_run_from_strongly_disagree_to_strongly_agree():
    assert ref.TSK11_ANSWERS[0] == (1, "Strongly disagree")
    assert ref.TSK11_ANSWERS[-1] == (4, "Strongly agree")
    assert [value for value, _label in ref.TSK11_ANSWERS] == [1, 2, 3, 4]
    assert (ref.TSK11_MIN_TOTAL, ref.TSK11_MAX_TOTAL) == (11, 44)


def test_important_change_thresholds_live_in_one_place():
    assert ref.KUJALA_MCID == 10
    assert ref.NPRS_IMPORTANT_CHANGE == 2
    assert ref.NPRS_MCID_PIVA_2009 == 1.16
    assert ref.TSK11_IMPORTANT_CHANGE == 4
    assert ref.KOOS_PF_IMPORTANT_CHANGE == 16.4


def test_change_rules_know_which_direction_is_better():
    assert ref.CHANGE_RULES[ref.Measure.KUJALA] == (True, 10, 0, 100)
    assert ref.CHANGE_RULES[ref.Measure.NPRS] == (False, 2, 0, 10)
    assert ref.CHANGE_RULES[ref.Measure.TSK11] == (False, 4, 11, 44)


def test_pcs_subscales_cover_each_item_once():
    items = sorted(n for numbers in ref.PCS_SUBSCALES.values() for n in numbers)
    assert items == list(range(1, ref.PCS_ITEM_COUNT + 1))
    assert ref.PCS_SUBSCALES["rumination"] == (8, 9, 10, 11)
    assert ref.PCS_SUBSCALES["magnification"] == (6, 7, 13)
    assert ref.PCS_SUBSCALES["helplessness"] == (1, 2, 3, 4, 5, 12)
    assert ref.PCS_MAX_TOTAL == ref.PCS_ITEM_COUNT * ref.PCS_ANSWER_MAX == 52
    assert ref.PCS_CLINICALLY_RELEVANT_TOTAL == 30


RED_FLAG_PHRASES = [
    "loss of function in the legs",
    "knee giving way",
    "significant swelling",
    "pain radiating down from the knee",
    "no improvement with exercise",
    "worsening symptoms",
    "hot, red, swollen joint with fever",
    "possible infection",
    "locked knee",
    "inability to weight-bear or move the knee",
    "suspected fracture, dislocation or tendon rupture",
    "large effusion soon after trauma",
    "haemarthrosis",
    "constant pain including at night or at rest",
    "unexplained weight loss",
    "painful hip rotation",
    "slipped capital femoral epiphysis",
    "locking / giving way",
    "osteochondritis dissecans",
]


@pytest.mark.parametrize("phrase", RED_FLAG_PHRASES)
def test_every_red_flag_of_the_reference_is_listed(phrase):
    assert any(phrase in label.lower() for _key, label in ref.RED_FLAGS)


def test_red_flags_are_fifteen_distinct_choices():
    keys = [key for key, _label in ref.RED_FLAGS]
    assert len(keys) == len(set(keys)) == 15


def test_child_and_adolescent_red_flags_are_marked():
    labels = dict(ref.RED_FLAGS)
    assert set(labels) >= ref.RED_FLAGS_CHILD_OR_ADOLESCENT
    assert {labels[key] for key in ref.RED_FLAGS_CHILD_OR_ADOLESCENT} == {
        "Child or adolescent: painful hip rotation (slipped capital femoral epiphysis)",
        "Child or adolescent: locking / giving way (osteochondritis dissecans)",
    }


def test_referral_decisions_and_the_one_that_needs_a_reason():
    assert [key for key, _label in ref.REFERRAL_DECISIONS] == [
        "gp",
        "emergency_department",
        "specialist",
        "none",
    ]
    assert {"none"} == ref.REFERRAL_DECISIONS_REQUIRING_REASON


SYMPTOM_PHRASES = [
    "dull ache",
    "pain on bending activities",
    "after sitting long with knees bent",
    "downstairs or downhill",
    "urge to straighten the leg when sitting",
    "tender to touch",
    "swelling",
    "popping or rubbing",
]


@pytest.mark.parametrize("phrase", SYMPTOM_PHRASES)
def test_every_symptom_of_the_checklist_is_listed(phrase):
    assert any(phrase in label.lower() for _key, label in ref.SYMPTOMS)


def test_symptom_checklist_has_eight_distinct_entries():
    assert len(dict(ref.SYMPTOMS)) == len(ref.SYMPTOMS) == 8


CONTRIBUTING_FACTOR_PHRASES = [
    "maltracking",
    "hip abductors / external rotators, quadriceps",
    "too much, too soon",
    "overpronation",
    "hip flexors / rectus femoris, hamstrings, calves",
    "direct blow",
    "fear of movement, catastrophising, anxiety, low mood",
    "poor sleep, stress",
    "worn cartilage, dislocation history, bow legs",
]


@pytest.mark.parametrize("phrase", CONTRIBUTING_FACTOR_PHRASES)
def test_every_contributing_factor_is_listed(phrase):
    assert any(phrase in label.lower() for _key, label in ref.CONTRIBUTING_FACTORS)


def test_contributing_factors_have_distinct_keys():
    assert len(dict(ref.CONTRIBUTING_FACTORS)) == len(ref.CONTRIBUTING_FACTORS) == 9


def test_aggravating_activities_are_the_loading_activities_of_the_reference():
    assert [key for key, _label in ref.AGGRAVATING_ACTIVITIES] == [
        "stairs_up",
        "stairs_down",
        "squatting",
        "kneeling",
        "running",
        "jumping",
        "cycling",
        "prolonged_sitting",
        "rising_from_chair",
    ]
    assert dict(ref.AGGRAVATING_ACTIVITIES)["rising_from_chair"] == "Rising from a chair"


CONSENSUS_TABLE = {
    "exercise": ("recommended", "pain short/medium/long term; function medium/long term"),
    "hip_and_knee_exercise": ("recommended", ""),
    "combined": ("recommended", "for adults"),
    "foot_orthoses": ("recommended", "short term"),
    "taping": ("uncertain", "cannot recommend for or against"),
    "bracing": ("uncertain", ""),
    "dry_needling": ("uncertain", ""),
    "soft_tissue": ("uncertain", ""),
    "movement_retraining": ("uncertain", ""),
    "blood_flow_restriction": ("uncertain", ""),
    "mobilisation": ("not recommended", ""),
    "electrophysical": ("not recommended", ""),
}


@pytest.mark.parametrize("kind", CONSENSUS_TABLE)
def test_evidence_verdicts_match_the_2018_consensus(kind):
    verdict, note = CONSENSUS_TABLE[kind]
    entry = ref.EVIDENCE[kind]
    assert entry.verdict == verdict
    assert entry.note == note


def test_evidence_keeps_the_consensus_wording_of_each_intervention():
    assert ref.EVIDENCE["hip_and_knee_exercise"].consensus_wording == (
        "hip + knee exercise, rather than knee alone"
    )
    assert ref.EVIDENCE["foot_orthoses"].consensus_wording == "prefabricated foot orthoses"
    assert ref.EVIDENCE["mobilisation"].consensus_wording == (
        "patellofemoral, knee or lumbar mobilisation in isolation"
    )
    assert ref.EVIDENCE["dry_needling"].consensus_wording == "dry needling / acupuncture"


def test_education_is_not_given_a_verdict_the_consensus_table_does_not_make():
    assert ref.EVIDENCE["education"].verdict == ref.Verdict.NOT_RATED == "not rated"
    assert set(ref.EVIDENCE) == {*CONSENSUS_TABLE, "education"}


def test_evidence_cites_the_consensus_statement():
    assert ref.EVIDENCE_CITATION == "Collins et al., Br J Sports Med 2018;52:1170–1178"


def test_intervention_kinds_are_read_from_the_evidence_table():
    assert [key for key, _label in ref.INTERVENTION_KINDS] == list(ref.EVIDENCE)
    assert dict(ref.INTERVENTION_KINDS)["foot_orthoses"] == "Prefabricated foot orthoses"


def test_dry_needling_precautions_name_the_patient_alert_they_come_from():
    assert {p.key: p.alert_field for p in ref.DRY_NEEDLING_PRECAUTIONS} == {
        "needle_phobia": "needle_phobia",
        "anticoagulants_or_bleeding_disorder": "anticoagulants_or_bleeding_disorder",
        "local_infection_or_skin_lesion": None,
        "allergy_metal": "allergy_metal",
        "pregnancy": "pregnancy",
    }


def test_dry_needling_alert_fields_exist_on_the_patient_record():
    from patients.models import Patient

    fields = {p.alert_field for p in ref.DRY_NEEDLING_PRECAUTIONS if p.alert_field}
    assert fields <= set(Patient.ALERT_FIELDS)


def test_icd10_codes_for_patellofemoral_pain_by_side():
    assert ref.ICD10_PFPS == {"right": "M22.2X1", "left": "M22.2X2", "unspecified": "M22.2X9"}
    assert ref.ICD10_PFPS_DISPLAY["M22.2X1"] == "Patellofemoral disorders, right knee"
    assert set(ref.ICD10_PFPS_DISPLAY) == set(ref.ICD10_PFPS.values())


def test_pain_rating_uses_loinc_72514_3():
    assert ref.LOINC_NPRS == "72514-3"
    assert ref.LOINC_SYSTEM == "http://loinc.org"


def test_questionnaire_scores_use_the_products_own_code_system():
    assert ref.OUTCOME_MEASURES_CODE_SYSTEM == (
        "https://physio-clinic.example/fhir/CodeSystem/outcome-measures"
    )
    assert ref.KUJALA_QUESTIONNAIRE_URL == (
        "https://physio-clinic.example/fhir/Questionnaire/kujala-akps"
    )
    assert ref.TSK11_QUESTIONNAIRE_URL == "https://physio-clinic.example/fhir/Questionnaire/tsk-11"
    assert ref.KUJALA_CODE != ref.TSK11_CODE


def test_fpi6_has_six_items_scored_minus_two_to_plus_two():
    assert len(dict(ref.FPI6_ITEMS)) == len(ref.FPI6_ITEMS) == 6
    assert (ref.FPI6_ITEM_MIN, ref.FPI6_ITEM_MAX) == (-2, 2)
    assert (ref.FPI6_TOTAL_MIN, ref.FPI6_TOTAL_MAX) == (-12, 12)
