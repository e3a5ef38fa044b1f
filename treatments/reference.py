"""Clinical facts for anterior knee pain care: one source of truth for each.

Values follow the product's clinical reference (shared/domain/clinical-reference.md).
Choice lists are ``(key, label)`` pairs, ready for a model field's ``choices``.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

Choices = tuple[tuple[str, str], ...]


# Kujala Anterior Knee Pain Scale (AKPS): Kujala 1993 values as tabulated in
# J Orthop 2023;42:54-62. Other circulating versions differ in a few points.


class KujalaOption(NamedTuple):
    key: str
    label: str
    points: int


@dataclass(frozen=True)
class KujalaItem:
    number: int
    key: str
    label: str
    max_points: int
    options: tuple[KujalaOption, ...]

    def __post_init__(self) -> None:
        best = max(option.points for option in self.options)
        if best != self.max_points:
            raise ValueError(f"Kujala item {self.key!r}: best option scores {best}, not max.")

    def option(self, key: str) -> KujalaOption:
        for candidate in self.options:
            if candidate.key == key:
                return candidate
        raise KeyError(key)


def _options(*options: tuple[str, str, int]) -> tuple[KujalaOption, ...]:
    return tuple(KujalaOption(*option) for option in options)


KUJALA_ITEMS: tuple[KujalaItem, ...] = (
    KujalaItem(
        1,
        "limp",
        "Limp",
        5,
        _options(
            ("none", "None", 5),
            ("slight_or_periodical", "Slight or periodical", 3),
            ("constant", "Constant", 0),
        ),
    ),
    KujalaItem(
        2,
        "support",
        "Support",
        5,
        _options(
            ("full_support_without_pain", "Full support without pain", 5),
            ("painful", "Painful", 3),
            ("weight_bearing_impossible", "Weight-bearing impossible", 0),
        ),
    ),
    KujalaItem(
        3,
        "walking",
        "Walking",
        5,
        _options(
            ("unlimited", "Unlimited", 5),
            ("more_than_2_km", "More than 2 km", 3),
            ("1_to_2_km", "1–2 km", 2),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        4,
        "stairs",
        "Stairs",
        10,
        _options(
            ("no_difficulty", "No difficulty", 10),
            ("slight_pain_descending", "Slight pain when descending", 8),
            ("pain_descending_and_ascending", "Pain both when descending and ascending", 5),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        5,
        "squatting",
        "Squatting",
        5,
        _options(
            ("no_difficulty", "No difficulty", 5),
            ("repeated_squatting_painful", "Repeated squatting painful", 4),
            ("painful_each_time", "Painful each time", 3),
            ("possible_with_partial_weight_bearing", "Possible with partial weight bearing", 2),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        6,
        "running",
        "Running",
        10,
        _options(
            ("no_difficulty", "No difficulty", 10),
            ("pain_after_more_than_2_km", "Pain after more than 2 km", 8),
            ("slight_pain_from_start", "Slight pain from start", 6),
            ("severe_pain", "Severe pain", 3),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        7,
        "jumping",
        "Jumping",
        10,
        _options(
            ("no_difficulty", "No difficulty", 10),
            ("slight_difficulty", "Slight difficulty", 7),
            ("constant_pain", "Constant pain", 2),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        8,
        "prolonged_sitting",
        "Prolonged sitting with knees flexed",
        10,
        _options(
            ("no_difficulty", "No difficulty", 10),
            ("pain_after_exercise", "Pain after exercise", 8),
            ("constant_pain", "Constant pain", 6),
            ("pain_forces_knee_extension", "Pain forces to extend knees temporarily", 4),
            ("unable", "Unable", 0),
        ),
    ),
    KujalaItem(
        9,
        "pain",
        "Pain",
        10,
        _options(
            ("none", "None", 10),
            ("slight_and_occasional", "Slight and occasional", 8),
            ("interferes_with_sleep", "Interferes with sleep", 6),
            ("occasionally_severe", "Occasionally severe", 3),
            ("constant_and_severe", "Constant and severe", 0),
        ),
    ),
    KujalaItem(
        10,
        "swelling",
        "Swelling",
        10,
        _options(
            ("none", "None", 10),
            ("after_severe_exertion", "After severe exertion", 8),
            ("after_daily_activities", "After daily activities", 6),
            ("every_evening", "Every evening", 4),
            ("constant", "Constant", 0),
        ),
    ),
    KujalaItem(
        11,
        "patellar_movements",
        "Abnormal painful kneecap (patellar) movements",
        10,
        _options(
            ("none", "None", 10),
            ("occasionally_in_sports", "Occasionally in sports activities", 6),
            ("occasionally_in_daily_activities", "Occasionally in daily activities", 4),
            ("one_documented_dislocation", "At least one documented dislocation", 2),
            ("more_than_2_dislocations", "More than 2 dislocations", 0),
        ),
    ),
    KujalaItem(
        12,
        "thigh_atrophy",
        "Atrophy of thigh",
        5,
        _options(
            ("none", "None", 5),
            ("slight", "Slight", 3),
            ("severe", "Severe", 0),
        ),
    ),
    KujalaItem(
        13,
        "flexion_deficiency",
        "Flexion deficiency",
        5,
        _options(
            ("none", "None", 5),
            ("slight", "Slight", 3),
            ("severe", "Severe", 0),
        ),
    ),
)
KUJALA_ITEMS_BY_KEY: dict[str, KujalaItem] = {item.key: item for item in KUJALA_ITEMS}
KUJALA_MIN_TOTAL = 0
KUJALA_MAX_TOTAL = 100

if sum(item.max_points for item in KUJALA_ITEMS) != KUJALA_MAX_TOTAL:
    raise AssertionError("Kujala item maximums must add up to 100.")


# Tampa Scale of Kinesiophobia, short form (TSK-11): higher = more fear of movement,
# no reverse-scored items. Item texts are the product's own paraphrases of its themes.


class Tsk11Item(NamedTuple):
    number: int
    text: str


TSK11_ITEMS: tuple[Tsk11Item, ...] = (
    Tsk11Item(1, "I worry that exercising could injure me."),
    Tsk11Item(2, "If I tried to push through the pain, it would get worse."),
    Tsk11Item(3, "My body is telling me something is seriously wrong."),
    Tsk11Item(4, "Other people do not take my condition seriously enough."),
    Tsk11Item(5, "My injury has left my body vulnerable for good."),
    Tsk11Item(6, "When it hurts, it means I have damaged my body."),
    Tsk11Item(7, "Avoiding movements I do not need is the safest way to keep my pain down."),
    Tsk11Item(8, "Pain this strong must mean something harmful is happening in my body."),
    Tsk11Item(9, "Pain tells me when to stop exercising so that I do not hurt myself."),
    Tsk11Item(10, "I cannot do everything other people do because I get injured too easily."),
    Tsk11Item(11, "No one should have to exercise while they are in pain."),
)
TSK11_ANSWERS: tuple[tuple[int, str], ...] = (
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Agree"),
    (4, "Strongly agree"),
)
TSK11_ANSWER_MIN = 1
TSK11_ANSWER_MAX = 4
TSK11_MIN_TOTAL = 11
TSK11_MAX_TOTAL = 44


# Pain Catastrophizing Scale (PCS): 13 items scored 0-4, total 0-52.

PCS_ITEM_COUNT = 13
PCS_ANSWER_MIN = 0
PCS_ANSWER_MAX = 4
PCS_MAX_TOTAL = 52
PCS_SUBSCALES: dict[str, tuple[int, ...]] = {
    "rumination": (8, 9, 10, 11),
    "magnification": (6, 7, 13),
    "helplessness": (1, 2, 3, 4, 5, 12),
}
# Commonly used cut-off, not a validated one: a default that callers may override.
PCS_CLINICALLY_RELEVANT_TOTAL = 30


# Numeric pain rating scale (NPRS), 0-10.

NPRS_MIN = 0
NPRS_MAX = 10


# Important change per measure; a change equal to the threshold counts as meaningful.

KUJALA_MCID = 10  # Crossley 2004
NPRS_MCID_PIVA_2009 = 1.16  # a decrease of 1.16 points in PFPS (Piva 2009)
NPRS_IMPORTANT_CHANGE = 2  # what the product shows as clinically important
TSK11_IMPORTANT_CHANGE = 4
KOOS_PF_IMPORTANT_CHANGE = 16.4  # Crossley 2018


class Measure(StrEnum):
    KUJALA = "kujala"
    NPRS = "nprs"
    TSK11 = "tsk11"


class ChangeRule(NamedTuple):
    higher_is_better: bool
    important_change: float
    lowest: float
    highest: float


CHANGE_RULES: dict[Measure, ChangeRule] = {
    Measure.KUJALA: ChangeRule(True, KUJALA_MCID, KUJALA_MIN_TOTAL, KUJALA_MAX_TOTAL),
    Measure.NPRS: ChangeRule(False, NPRS_IMPORTANT_CHANGE, NPRS_MIN, NPRS_MAX),
    Measure.TSK11: ChangeRule(False, TSK11_IMPORTANT_CHANGE, TSK11_MIN_TOTAL, TSK11_MAX_TOTAL),
}


# Red flags: any positive one needs a documented referral decision.

RED_FLAGS: Choices = (
    ("loss_of_leg_function", "Loss of function in the legs"),
    ("knee_giving_way", "Knee giving way"),
    ("significant_swelling", "Significant swelling"),
    ("pain_radiating_down", "Pain radiating down from the knee"),
    ("no_improvement_with_exercise", "No improvement with exercise"),
    ("worsening_symptoms", "Worsening symptoms"),
    ("hot_red_swollen_joint_with_fever", "Hot, red, swollen joint with fever (possible infection)"),
    ("locked_knee", "Locked knee"),
    ("unable_to_weight_bear_or_move", "Inability to weight-bear or move the knee"),
    (
        "suspected_fracture_dislocation_or_rupture",
        "Suspected fracture, dislocation or tendon rupture",
    ),
    ("haemarthrosis", "Large effusion soon after trauma (haemarthrosis)"),
    ("constant_or_night_pain", "Constant pain including at night or at rest"),
    ("unexplained_weight_loss", "Unexplained weight loss"),
    (
        "child_painful_hip_rotation",
        "Child or adolescent: painful hip rotation (slipped capital femoral epiphysis)",
    ),
    (
        "child_locking_or_giving_way",
        "Child or adolescent: locking / giving way (osteochondritis dissecans)",
    ),
)
RED_FLAGS_CHILD_OR_ADOLESCENT = frozenset(
    {"child_painful_hip_rotation", "child_locking_or_giving_way"}
)

REFERRAL_DECISIONS: Choices = (
    ("gp", "Refer to GP"),
    ("emergency_department", "Refer to emergency department"),
    ("specialist", "Refer to specialist"),
    ("none", "No referral (reason required)"),
)
REFERRAL_DECISIONS_REQUIRING_REASON = frozenset({"none"})


# Presentation checklists.

SYMPTOMS: Choices = (
    ("dull_ache_around_kneecap", "Dull ache at the front of, around or behind the kneecap"),
    ("pain_on_bending", "Pain on bending activities"),
    ("pain_after_prolonged_sitting", "Pain after sitting long with knees bent"),
    ("worse_downstairs_or_downhill", "Worse going downstairs or downhill"),
    ("urge_to_straighten_leg", "Urge to straighten the leg when sitting"),
    ("tender_to_touch", "Tender to touch"),
    ("swelling", "Swelling"),
    ("popping_or_rubbing", "Popping or rubbing"),
)

CONTRIBUTING_FACTORS: Choices = (
    ("maltracking", "Kneecap maltracking / movement dysfunction"),
    (
        "muscle_weakness",
        "Muscle weakness or imbalance (hip abductors / external rotators, quadriceps)",
    ),
    ("load_error", "Overuse / load error (too much, too soon, or too little activity)"),
    ("overpronation", "Foot posture: overpronation"),
    ("tight_muscles", "Tight muscles (hip flexors / rectus femoris, hamstrings, calves)"),
    ("injury", "Injury (direct blow, swelling after injury)"),
    (
        "psychological",
        "Psychological factors (fear of movement, catastrophising, anxiety, low mood)",
    ),
    ("lifestyle", "Lifestyle (poor sleep, stress)"),
    ("structural", "Structural (worn cartilage, dislocation history, bow legs / alignment)"),
)

AGGRAVATING_ACTIVITIES: Choices = (
    ("stairs_up", "Stairs up"),
    ("stairs_down", "Stairs down"),
    ("squatting", "Squatting"),
    ("kneeling", "Kneeling"),
    ("running", "Running"),
    ("jumping", "Jumping"),
    ("cycling", "Cycling"),
    ("prolonged_sitting", "Prolonged sitting"),
    ("rising_from_chair", "Rising from a chair"),
)


# Evidence: the 2018 International Patellofemoral Pain consensus.

EVIDENCE_CITATION = "Collins et al., Br J Sports Med 2018;52:1170–1178"


class Verdict(StrEnum):
    RECOMMENDED = "recommended"
    UNCERTAIN = "uncertain"
    NOT_RECOMMENDED = "not recommended"
    NOT_RATED = "not rated"


class EvidenceEntry(NamedTuple):
    label: str
    consensus_wording: str
    verdict: Verdict
    note: str


EVIDENCE: dict[str, EvidenceEntry] = {
    "exercise": EvidenceEntry(
        "Exercise therapy",
        "exercise therapy",
        Verdict.RECOMMENDED,
        "pain short/medium/long term; function medium/long term",
    ),
    "hip_and_knee_exercise": EvidenceEntry(
        "Hip and knee exercise",
        "hip + knee exercise, rather than knee alone",
        Verdict.RECOMMENDED,
        "",
    ),
    "combined": EvidenceEntry(
        "Combined interventions",
        "combined interventions (exercise plus orthoses/taping etc.)",
        Verdict.RECOMMENDED,
        "for adults",
    ),
    "foot_orthoses": EvidenceEntry(
        "Prefabricated foot orthoses",
        "prefabricated foot orthoses",
        Verdict.RECOMMENDED,
        "short term",
    ),
    "taping": EvidenceEntry(
        "Patellar taping",
        "patellar taping",
        Verdict.UNCERTAIN,
        "cannot recommend for or against",
    ),
    "bracing": EvidenceEntry(
        "Patellar / knee bracing", "patellar / knee bracing", Verdict.UNCERTAIN, ""
    ),
    "dry_needling": EvidenceEntry(
        "Dry needling", "dry needling / acupuncture", Verdict.UNCERTAIN, ""
    ),
    "soft_tissue": EvidenceEntry(
        "Manual soft-tissue techniques", "manual soft-tissue techniques", Verdict.UNCERTAIN, ""
    ),
    "movement_retraining": EvidenceEntry(
        "Gait / movement retraining", "gait / movement retraining", Verdict.UNCERTAIN, ""
    ),
    "blood_flow_restriction": EvidenceEntry(
        "Blood-flow restriction training",
        "blood-flow restriction training",
        Verdict.UNCERTAIN,
        "",
    ),
    "mobilisation": EvidenceEntry(
        "Mobilisation in isolation",
        "patellofemoral, knee or lumbar mobilisation in isolation",
        Verdict.NOT_RECOMMENDED,
        "",
    ),
    "electrophysical": EvidenceEntry(
        "Electrophysical agents", "electrophysical agents", Verdict.NOT_RECOMMENDED, ""
    ),
    "education": EvidenceEntry(
        "Education / self-management",
        "",
        Verdict.NOT_RATED,
        "not rated in the consensus table",
    ),
}
INTERVENTION_KINDS: Choices = tuple((kind, entry.label) for kind, entry in EVIDENCE.items())


# Dry needling precautions; ``alert_field`` names the patient's medical alert, if any.


class Precaution(NamedTuple):
    key: str
    label: str
    alert_field: str | None


DRY_NEEDLING_PRECAUTIONS: tuple[Precaution, ...] = (
    Precaution("needle_phobia", "Needle phobia", "needle_phobia"),
    Precaution(
        "anticoagulants_or_bleeding_disorder",
        "Anticoagulants or bleeding disorder",
        "anticoagulants_or_bleeding_disorder",
    ),
    Precaution("local_infection_or_skin_lesion", "Local infection or skin lesion", None),
    Precaution("allergy_metal", "Metal allergy", "allergy_metal"),
    Precaution("pregnancy", "Pregnancy", "pregnancy"),
)


# Foot Posture Index (FPI-6): six items scored -2..+2, total -12..+12.

FPI6_ITEMS: Choices = (
    ("talar_head_palpation", "Talar head palpation"),
    ("malleolar_curvature", "Supra- and infra-lateral malleolar curvature"),
    ("calcaneal_position", "Calcaneal frontal plane position"),
    ("talonavicular_prominence", "Prominence in the region of the talonavicular joint"),
    ("medial_arch_congruence", "Congruence of the medial longitudinal arch"),
    ("forefoot_abduction", "Abduction / adduction of the forefoot on the rearfoot"),
)
FPI6_ITEM_MIN = -2
FPI6_ITEM_MAX = 2
FPI6_TOTAL_MIN = -12
FPI6_TOTAL_MAX = 12


# Codes for interoperability (FHIR export). The SNOMED CT concept for PFPS is unverified
# and therefore belongs in configuration, not here.

ICD10_CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_PFPS: dict[str, str] = {
    "right": "M22.2X1",
    "left": "M22.2X2",
    "unspecified": "M22.2X9",
}
ICD10_PFPS_DISPLAY: dict[str, str] = {
    "M22.2X1": "Patellofemoral disorders, right knee",
    "M22.2X2": "Patellofemoral disorders, left knee",
    "M22.2X9": "Patellofemoral disorders, unspecified knee",
}

LOINC_SYSTEM = "http://loinc.org"
LOINC_NPRS = "72514-3"
LOINC_NPRS_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

# No LOINC code exists for these scores: the product owns the code system and Questionnaires.
PRODUCT_FHIR_BASE = "https://physio-clinic.example/fhir"
OUTCOME_MEASURES_CODE_SYSTEM = f"{PRODUCT_FHIR_BASE}/CodeSystem/outcome-measures"
KUJALA_CODE = "kujala-akps"
KUJALA_DISPLAY = "Kujala Anterior Knee Pain Scale total score"
TSK11_CODE = "tsk-11"
TSK11_DISPLAY = "Tampa Scale of Kinesiophobia (TSK-11) total score"
KUJALA_QUESTIONNAIRE_URL = f"{PRODUCT_FHIR_BASE}/Questionnaire/kujala-akps"
TSK11_QUESTIONNAIRE_URL = f"{PRODUCT_FHIR_BASE}/Questionnaire/tsk-11"
