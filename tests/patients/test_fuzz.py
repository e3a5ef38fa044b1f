"""Whatever is typed or put in a URL, the registry answers with a page, never a server error."""

import datetime
from urllib.parse import quote_from_bytes

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from patients import services
from patients.forms import PatientForm
from patients.models import Patient

FUZZ = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Mn", "So"])),
    st.text(min_size=1, max_size=5).map(lambda s: s * 5_000),
    st.sampled_from(["\x00", "a\x00b", "😀" * 40, "\u202e" + "evil", "Zoë", "%", "_", "\\", "'"]),
)
NAME = st.one_of(
    st.text(alphabet=st.characters(categories=["L", "Mn"]), min_size=1, max_size=40), ODD_TEXT
)
DATE_TEXT = st.one_of(
    st.dates(min_value=datetime.date(1910, 1, 1), max_value=datetime.date(2025, 1, 1)).map(
        lambda d: d.strftime("%d/%m/%Y")
    ),
    st.dates(min_value=datetime.date(1, 1, 1)).map(lambda d: d.isoformat()),
    ODD_TEXT,
)
FORM_DATA = st.fixed_dictionaries(
    {
        "first_name": NAME,
        "last_name": NAME,
        "date_of_birth": DATE_TEXT,
        "privacy_notice_accepted_on": st.one_of(st.just(""), DATE_TEXT),
        "sex": st.one_of(st.sampled_from(["female", "male", "unknown"]), ODD_TEXT),
        "funding": st.one_of(st.sampled_from(["self_pay", "insurer"]), ODD_TEXT),
    },
    optional={
        name: st.one_of(st.just(""), ODD_TEXT)
        for name in (
            "preferred_name",
            "gender",
            "phone",
            "email",
            "address",
            "postcode",
            "emergency_contact_phone",
            "insurer",
            "other_alerts",
            "sms_reminders",
            "confirm_not_duplicate",
        )
    },
)


LETTERS = st.text(alphabet=st.characters(categories=["L", "Mn"]), min_size=1, max_size=40)
PLAUSIBLE = st.fixed_dictionaries(
    {
        "first_name": LETTERS,
        "last_name": LETTERS,
        "date_of_birth": st.dates(
            min_value=datetime.date(1910, 1, 1), max_value=datetime.date(2025, 1, 1)
        ).map(lambda d: d.strftime("%d/%m/%Y")),
        "sex": st.sampled_from(["female", "male", "intersex", "unknown"]),
        "funding": st.just("self_pay"),
        "phone": st.sampled_from(["", "07911 123456", "+44 20 7946 0000", "+33 1 42 68 53 00"]),
        "confirm_not_duplicate": st.just("on"),
    }
)


@pytest.mark.django_db
@FUZZ
@given(data=PLAUSIBLE)
def test_any_plausible_patient_is_registered_and_found_by_name(data: dict) -> None:
    form = PatientForm(data)
    assert form.is_valid(), form.errors
    patient = services.patient_register(patient=form.instance, by=None)
    assert patient in Patient.objects.search(data["first_name"])
    assert patient in Patient.objects.search(f"{data['last_name']} {data['date_of_birth']}")


@pytest.mark.django_db
@FUZZ
@given(data=FORM_DATA)
def test_patient_form_never_raises_and_what_it_accepts_can_be_saved(data: dict) -> None:
    form = PatientForm(data)
    if form.is_valid():
        before = Patient.objects.count()
        services.patient_register(patient=form.instance, by=None)
        assert Patient.objects.count() == before + 1
    else:
        assert form.errors


@FUZZ
@given(q=ODD_TEXT, status=ODD_TEXT, page=st.one_of(ODD_TEXT, st.integers().map(str)))
def test_patient_list_never_fails_whatever_the_query(front_desk_client, q, status, page) -> None:
    response = front_desk_client.get(
        reverse("patients:list"), {"q": q, "status": status, "page": page}
    )
    assert response.status_code == 200


@FUZZ
@given(raw=st.binary(max_size=300))
def test_patient_list_never_fails_on_a_mangled_query_string(front_desk_client, raw: bytes) -> None:
    url = (
        reverse("patients:list") + "?q=" + quote_from_bytes(raw) + "&page=" + quote_from_bytes(raw)
    )
    for headers in ({}, {"HX-Request": "true"}):
        assert front_desk_client.get(url, headers=headers).status_code == 200


@FUZZ
@given(data=FORM_DATA)
def test_registering_never_fails_whatever_is_posted(front_desk_client, data: dict) -> None:
    response = front_desk_client.post(reverse("patients:create"), data)
    assert response.status_code in {200, 302}
