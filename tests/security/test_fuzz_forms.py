"""Fuzzing: every form and every GET parameter of list and search views, with hostile input.

Forms are found by importing the project's form modules, so a new form is fuzzed without
anyone remembering to add it. Values include NUL bytes, huge strings, odd Unicode,
impossible dates and script probes: a form never raises, a view never answers 500, and a
probe comes back escaped.
"""

import datetime
import importlib
import importlib.util
import inspect
from collections.abc import Callable

import pytest
from django import forms
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import from_form

from appointments.models import Source
from appointments.online_services import manage_token
from treatments.models import Episode

from ..appointments.factories import AppointmentFactory, AppointmentTypeFactory, works_every_day
from ..factories import PatientFactory
from ..treatments.note_factories import episode_for, exercise_in_plan

FORM_MODULES = (
    "patients.forms",
    "patients.review_views",
    "patients.import_views",
    "appointments.forms",
    "appointments.online_forms",
    "appointments.exports",
    "treatments.forms.episodes",
    "treatments.forms.notes",
    "treatments.forms.plans",
    "clinic.admin",
    "clinic.two_factor",
    "clinic.views_audit",
    "clinic.reports.forms",
    "clinic.reports.views",
)

PROBE = "<script>alert(1)</script>"

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\x00" * 50,
        PROBE,
        '"><img src=x onerror=alert(1)>',
        "' OR '1'='1' --",
        '=HYPERLINK("http://evil")',
        "-1",
        "0",
        "²",
        "١٢",
        "1e309",
        "NaN",
        "-Infinity",
        "99999999999999999999999999",
        str(2**63),
        "2024-02-30",
        "0000-00-00",
        "9999-12-31",
        "0001-01-01",
        "31/12/99999",
        "1899-12-31",
        "25:61",
        "23:59:60",
        "𝕳𝖊𝖑𝖑𝖔 🦵",
        "\u202egnp.exe",
        "\ufeff\u200b",
        "Zoë Ångström",
        "any",
        "[]",
        "true",
    ]
)
HUGE = st.integers(min_value=1_000, max_value=10_000).map(lambda n: ("é" * n)[:n])
TEXT = st.text(max_size=40)


def _field_values(field: forms.Field) -> st.SearchStrategy:
    """Hostile values, plus the field's own choices so deeper checks are reached too."""
    options = [HOSTILE, HUGE, TEXT]
    choices = getattr(field, "choices", None)
    if isinstance(field, forms.ModelChoiceField):
        pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:5]]
        if pks:
            options.append(st.sampled_from(pks))
    elif choices:
        values = [str(value) for value, _ in choices if not isinstance(_, list | tuple)]
        if values:
            options.append(st.sampled_from(values))
    one = st.one_of(options)
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return st.lists(one, max_size=3)
    return one.map(lambda v: [v])


def _built_elsewhere(cls: type[forms.BaseForm]) -> bool:
    """Django's own user forms name ``auth.User``; the admin rebuilds them for ours."""
    model = getattr(getattr(cls, "_meta", None), "model", None)
    return model is not None and bool(model._meta.swapped)


def _discover_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            continue
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, forms.BaseForm)
                and cls.__module__ == name
                and not cls.__name__.endswith("Mixin")
                and cls.base_fields
                and not _built_elsewhere(cls)
            ):
                found.append(cls)
    return found


FORMS = _discover_forms()


def _init_kwargs(cls: type[forms.BaseForm], world: dict) -> dict:
    """Keyword-only arguments a form's constructor needs, by name."""
    providers: dict[str, Callable[[], object]] = {
        "episode": lambda: world["episode"],
        "episodes": lambda: Episode.objects.filter(pk=world["episode"].pk),
        "location": lambda: world["location"],
        "patient": lambda: world["patient"],
        "candidates": lambda: [world["patient"]],
        "user": lambda: world["manager"],
        "devices": lambda: [],
    }
    kwargs = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for parameter in inspect.signature(init).parameters.values():
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.name not in kwargs:
                assert parameter.name in providers, f"teach the fuzz suite to build {cls}"
                kwargs[parameter.name] = providers[parameter.name]()
    return kwargs


@pytest.fixture
def world(db, physio, manager) -> dict:
    patient = PatientFactory(first_name="Hannah", last_name="Wright")
    episode = episode_for(patient, physio)
    exercise_in_plan(episode, physio)
    appointment = AppointmentFactory(patient=patient, clinician=physio)
    works_every_day(physio, appointment.location)
    return {
        "patient": patient,
        "episode": episode,
        "location": appointment.location,
        "appointment": appointment,
        "manager": manager,
        "physio": physio,
    }


FUZZ = settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def test_the_fuzz_suite_found_the_project_forms() -> None:
    names = {cls.__name__ for cls in FORMS}
    assert {"PatientForm", "BookingForm", "NoteForm", "AssessmentForm", "DetailsForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
@FUZZ
@given(data=st.data())
def test_a_form_never_raises_on_hostile_input(form_class, data, world) -> None:
    kwargs = _init_kwargs(form_class, world)
    fields = form_class(**kwargs).fields
    values = MultiValueDict(
        {name: data.draw(_field_values(field), label=name) for name, field in fields.items()}
    )
    form = form_class(data=values, **kwargs)
    if form.is_valid():
        assert isinstance(form.cleaned_data, dict)
    rendered = str(form)
    assert PROBE not in rendered


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
@FUZZ
@given(data=st.data())
def test_a_form_never_raises_on_what_from_form_builds(form_class, data, world) -> None:
    kwargs = _init_kwargs(form_class, world)
    form = data.draw(
        from_form(form_class, form_kwargs=kwargs, **_choice_strategies(form_class(**kwargs)))
    )
    form.is_valid()


def _choice_strategies(form: forms.BaseForm) -> dict[str, st.SearchStrategy]:
    """``from_form`` knows Django's model choice fields by their exact class; ours subclass
    them (or list their choices by hand), so they get their own choices as strategies."""
    strategies = {}
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField) or (
            type(field) in (forms.ModelChoiceField, forms.ModelMultipleChoiceField)
            and not hasattr(field, "_choices")
        ):
            continue
        values = [str(getattr(value, "value", value)) for value, _ in field.choices]
        values = [value for value in values if value] or [""]
        if isinstance(field, forms.ModelMultipleChoiceField):
            strategies[name] = st.lists(
                st.sampled_from(values), min_size=int(field.required), unique=True
            )
        else:
            strategies[name] = st.sampled_from(values if field.required else ["", *values])
    return strategies


# --- GET parameters of list and search views ----------------------------------------------

PARAM_VALUES = st.one_of(HOSTILE, HUGE, TEXT)


def _online(world: dict) -> list:
    kind = AppointmentTypeFactory(name="Online follow-up", online_bookable=True)
    return [world["location"].pk, kind.pk]


def _manage_token(world: dict) -> list:
    """A signed link to an online booking (made once, however many examples run)."""
    if "token" not in world:
        appointment = AppointmentFactory(
            patient=world["patient"],
            clinician=world["physio"],
            location=world["location"],
            source=Source.ONLINE,
            starts_at=world["appointment"].starts_at + datetime.timedelta(days=1),
        )
        world["token"] = manage_token(appointment)
    return [world["token"]]


#: (URL name, role, URL arguments, GET parameters the view reads)
GET_VIEWS: list[tuple[str, str, Callable[[dict], list], tuple[str, ...]]] = [
    ("patients:list", "front_desk", lambda w: [], ("q", "status", "page")),
    ("patients:review_list", "front_desk", lambda w: [], ("page",)),
    ("appointments:day", "front_desk", lambda w: [], ("location", "date")),
    ("appointments:day_print", "front_desk", lambda w: [], ("location", "date")),
    ("appointments:week", "front_desk", lambda w: [], ("clinician", "date")),
    (
        "appointments:find",
        "front_desk",
        lambda w: [],
        ("appointment_type", "location", "clinician", "from_date", "weeks", "when"),
    ),
    ("appointments:patient_picker", "front_desk", lambda w: [], ("patient_q",)),
    (
        "appointments:create",
        "front_desk",
        lambda w: [],
        ("clinician", "location", "appointment_type", "patient", "date", "time"),
    ),
    (
        "appointments:series_create",
        "front_desk",
        lambda w: [],
        ("clinician", "location", "appointment_type", "patient", "date", "time"),
    ),
    ("appointments:waitlist_create", "front_desk", lambda w: [], ("patient", "location")),
    (
        "treatments:assessment_create",
        "physio",
        lambda w: [w["patient"].pk, w["episode"].pk],
        ("kind",),
    ),
    ("treatments:consent_create", "physio", lambda w: [w["patient"].pk], ("next",)),
    ("booking:times", "anonymous", _online, ("clinician", "start")),
    ("booking:details", "anonymous", _online, ("clinician", "any", "start")),
    ("booking:move", "anonymous", _manage_token, ("clinician", "start")),
    (
        "access_log",
        "manager",
        lambda w: [],
        ("patient", "user", "action", "outcome", "date_from", "date_to", "page"),
    ),
    (
        "access_log_csv",
        "manager",
        lambda w: [],
        ("patient", "user", "action", "outcome", "date_from", "date_to"),
    ),
    ("patients:history", "manager", lambda w: [w["patient"].pk], ("page",)),
    (
        "treatments:episode_history",
        "physio",
        lambda w: [w["patient"].pk, w["episode"].pk],
        ("page",),
    ),
    ("reports:index", "manager", lambda w: [], ("date_from", "date_to", "location", "clinician")),
    (
        "appointments:export_csv",
        "manager",
        lambda w: [],
        ("date_from", "date_to", "location", "clinician"),
    ),
]


def _client(role: str, world: dict, request) -> Client:
    if role == "anonymous":
        return Client()
    return request.getfixturevalue(f"{role}_client")


@pytest.mark.parametrize("name, role, args, params", GET_VIEWS, ids=[v[0] for v in GET_VIEWS])
@FUZZ
@given(data=st.data())
def test_get_parameters_never_cause_a_500(name, role, args, params, data, world, request) -> None:
    try:
        url = reverse(name, args=args(world))
    except NoReverseMatch:
        pytest.skip(f"{name} is not part of this build")
    query = {param: data.draw(st.lists(PARAM_VALUES, min_size=1, max_size=2)) for param in params}
    response = _client(role, world, request).get(url, query)
    assert response.status_code < 500, (url, query)
    if "html" in response.get("Content-Type", ""):
        assert PROBE not in response.content.decode(errors="replace")


@pytest.mark.parametrize("name, role, args, params", GET_VIEWS, ids=[v[0] for v in GET_VIEWS])
def test_a_script_probe_in_every_parameter_comes_back_escaped(
    name, role, args, params, world, request
) -> None:
    try:
        url = reverse(name, args=args(world))
    except NoReverseMatch:
        pytest.skip(f"{name} is not part of this build")
    response = _client(role, world, request).get(url, dict.fromkeys(params, PROBE))
    assert response.status_code < 500
    assert PROBE not in response.content.decode(errors="replace")


@pytest.mark.parametrize(
    "name, role, args, query",
    [
        ("appointments:create", "front_desk", lambda w: [], {"patient": "²"}),
        ("appointments:waitlist_create", "front_desk", lambda w: [], {"patient": "³"}),
        ("booking:times", "anonymous", _online, {"clinician": "²"}),
        ("appointments:export_csv", "manager", lambda w: [], {"location": "²"}),
    ],
    ids=["booking-form", "waitlist-form", "online-times", "appointment-export"],
)
def test_digits_that_are_not_ascii_are_not_taken_for_ids(
    name, role, args, query, world, request
) -> None:
    """ "²".isdigit() is true but int("²") fails: such a value is refused, never a 500."""
    try:
        url = reverse(name, args=args(world))
    except NoReverseMatch:
        pytest.skip(f"{name} is not part of this build")
    assert _client(role, world, request).get(url, query).status_code < 500
