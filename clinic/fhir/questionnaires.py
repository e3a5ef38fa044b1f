"""The Kujala and TSK-11 Questionnaires, built from the item tables in ``treatments.reference``.

Answer codes are the product's own (no standard code system covers these scales); each
answer option carries its points as the ``ordinalValue`` extension.
"""

from treatments import reference

ORDINAL_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
KUJALA_ANSWERS_SYSTEM = f"{reference.PRODUCT_FHIR_BASE}/CodeSystem/kujala-akps-answers"
TSK11_ANSWERS_SYSTEM = f"{reference.PRODUCT_FHIR_BASE}/CodeSystem/tsk-11-answers"


def _id_of(canonical: str) -> str:
    return canonical.rsplit("/", 1)[-1]


def _answer_option(system: str, code: str, display: str, points: int) -> dict:
    return {
        "extension": [{"url": ORDINAL_VALUE_URL, "valueDecimal": points}],
        "valueCoding": {"system": system, "code": code, "display": display},
    }


def _questionnaire(canonical: str, name: str, title: str, code: str, display: str) -> dict:
    return {
        "resourceType": "Questionnaire",
        "id": _id_of(canonical),
        "url": canonical,
        "name": name,
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "code": [
            {"system": reference.OUTCOME_MEASURES_CODE_SYSTEM, "code": code, "display": display}
        ],
    }


def kujala_questionnaire() -> dict:
    questionnaire = _questionnaire(
        reference.KUJALA_QUESTIONNAIRE_URL,
        "KujalaAnteriorKneePainScale",
        "Kujala Anterior Knee Pain Scale (AKPS)",
        reference.KUJALA_CODE,
        reference.KUJALA_DISPLAY,
    )
    questionnaire["item"] = [
        {
            "linkId": item.key,
            "prefix": str(item.number),
            "text": item.label,
            "type": "choice",
            "required": True,
            "answerOption": [
                _answer_option(KUJALA_ANSWERS_SYSTEM, option.key, option.label, option.points)
                for option in item.options
            ],
        }
        for item in reference.KUJALA_ITEMS
    ]
    return questionnaire


def tsk11_questionnaire() -> dict:
    questionnaire = _questionnaire(
        reference.TSK11_QUESTIONNAIRE_URL,
        "TampaScaleOfKinesiophobia11",
        "Tampa Scale of Kinesiophobia (TSK-11)",
        reference.TSK11_CODE,
        reference.TSK11_DISPLAY,
    )
    questionnaire["item"] = [
        {
            "linkId": str(item.number),
            "prefix": str(item.number),
            "text": item.text,
            "type": "choice",
            "required": True,
            "answerOption": [
                _answer_option(TSK11_ANSWERS_SYSTEM, str(points), label, points)
                for points, label in reference.TSK11_ANSWERS
            ],
        }
        for item in reference.TSK11_ITEMS
    ]
    return questionnaire


def kujala_response_items(answers: dict[str, str]) -> list[dict]:
    """Answered Kujala items, in the scale's order, each answer as the option's coding."""
    items = []
    for item in reference.KUJALA_ITEMS:
        if item.key not in answers:
            continue
        option = item.option(answers[item.key])
        items.append(
            {
                "linkId": item.key,
                "text": item.label,
                "answer": [
                    {
                        "valueCoding": {
                            "system": KUJALA_ANSWERS_SYSTEM,
                            "code": option.key,
                            "display": option.label,
                        }
                    }
                ],
            }
        )
    return items


def tsk11_response_items(answers: dict[str, int]) -> list[dict]:
    """Answered TSK-11 items (answers are stored with the item number as a string key)."""
    labels = dict(reference.TSK11_ANSWERS)
    items = []
    for item in reference.TSK11_ITEMS:
        value = answers.get(str(item.number))
        if value is None:
            continue
        items.append(
            {
                "linkId": str(item.number),
                "text": item.text,
                "answer": [
                    {
                        "valueCoding": {
                            "system": TSK11_ANSWERS_SYSTEM,
                            "code": str(value),
                            "display": labels[int(value)],
                        }
                    }
                ],
            }
        )
    return items
