"""Queries compiled once per worker write and read exactly what the ORM would."""

import datetime
import threading
import zoneinfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.compiled_queries import (
    ID_PLACEHOLDER,
    INSTANT_PLACEHOLDER,
    SECOND_ID_PLACEHOLDER,
    CompiledInsert,
    CompiledRead,
    _numbered,
    _prepared,
    read_together,
)
from clinic.models import AccessEvent, Action, Outcome, StaffProfile, User
from tests.factories import UserFactory
from tests.queries import TOGETHER, one_at_a_time_only, together_only

pytestmark = pytest.mark.django_db


def _entry(user) -> dict:
    return {
        "user_id": user.pk,
        "username": user.username,
        "roles": "front_desk",
        "action": Action.VIEW,
        "object_type": "patients.patient",
        "object_id": "42",
        "patient_id": 42,
        "ip_address": "2001:db8::1",
        "user_agent": "Firefox «test»",
        "request_id": "0f8e6a52-0000-4000-8000-000000000000",
        "path": "/patients/42/",
    }


def _written(pk_above: int) -> AccessEvent:
    return AccessEvent.objects.filter(pk__gt=pk_above).get()


def test_a_compiled_insert_writes_the_row_the_orm_writes() -> None:
    user = UserFactory()
    before = AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = timezone.now()

    CompiledInsert(AccessEvent).insert(**_entry(user))
    written = _written(before)
    made = AccessEvent.objects.create(**_entry(user))
    made.refresh_from_db()

    for field in AccessEvent._meta.concrete_fields:
        if field.name not in ("id", "at"):
            assert getattr(written, field.attname) == getattr(made, field.attname), field.name
    assert written.outcome == Outcome.ALLOWED  # the model's default
    assert started <= written.at <= timezone.now()
    assert written.at.tzinfo is not None


@pytest.mark.django_db(transaction=True)
def test_a_compiled_insert_writes_from_another_thread_too() -> None:
    user = UserFactory()
    insert = CompiledInsert(AccessEvent)
    insert.insert(**_entry(user))

    def write() -> None:
        try:
            insert.insert(**{**_entry(user), "object_id": "43"})
        finally:
            connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()

    assert sorted(AccessEvent.objects.values_list("object_id", flat=True)) == ["42", "43"]
    assert (
        AccessEvent.objects.filter(at__gte=timezone.now() - datetime.timedelta(minutes=1)).count()
        == 2
    )


@pytest.mark.django_db(transaction=True)
def test_compiled_queries_follow_a_new_connection_to_their_database() -> None:
    """Settings overridden in tests (a reports replica, say) bring new connection objects:
    the compiled SQL must run on the connection in use, not the one it was compiled on."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()
    read = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    insert = CompiledInsert(AccessEvent)
    assert read.get(user.pk).pk == user.pk
    insert.insert(**_entry(user))
    previous = connections["default"]
    fresh = connections.create_connection("default")
    connections["default"] = fresh
    try:
        with CaptureQueriesContext(fresh) as captured:
            assert read.get(user.pk).pk == user.pk
            insert.insert(**_entry(user))
    finally:
        fresh.close()
        connections["default"] = previous

    assert len(captured) == 2
    assert AccessEvent.objects.count() == 2


@together_only
def test_reads_together_find_what_each_finds_alone(django_assert_num_queries) -> None:
    first, second = UserFactory(first_name="Ann"), UserFactory(first_name="Bo%b's")
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    by_name = CompiledRead(lambda name: User.objects.filter(first_name=name), "-")
    reads = [(by_pk, first.pk), (by_name, "nobody"), (by_name, "Bo%b's"), (by_pk, -1)]

    with django_assert_num_queries(1):
        found = read_together(*reads)

    found_pks = [getattr(instance, "pk", None) for instance in found]
    assert found_pks == [first.pk, None, second.pk, None]
    assert found[0].first_name == "Ann" and found[0].last_login == first.last_login
    assert found[2].first_name == "Bo%b's"


@one_at_a_time_only
def test_reads_together_are_left_to_the_caller_where_they_cannot_go_at_once(
    django_assert_num_queries,
) -> None:
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    user = UserFactory()

    with django_assert_num_queries(0):
        assert read_together((by_pk, user.pk), (by_pk, -1)) is None


def test_reads_together_refuse_a_second_row_as_get_does() -> None:
    UserFactory.create_batch(2, first_name="Twin")
    by_name = CompiledRead(lambda name: User.objects.filter(first_name=name), "-")

    with pytest.raises(User.MultipleObjectsReturned):
        by_name.get("Twin")
    if TOGETHER:
        with pytest.raises(User.MultipleObjectsReturned):
            read_together((by_name, "Twin"))


def test_a_compiled_read_must_use_its_value_exactly_once() -> None:
    everyone = CompiledRead(lambda value: User.objects.all(), ID_PLACEHOLDER)

    with pytest.raises(ValueError, match="use each value"):
        everyone.get(1)


def test_a_compiled_read_with_several_values_finds_every_row_the_orm_finds(
    django_assert_num_queries,
) -> None:
    people = [UserFactory(first_name=name, last_name="Sharp") for name in ("Cy", "Ann", "Bo")]
    StaffProfile.objects.create(user=people[0], display_name="Dr Cy Sharp")
    UserFactory(first_name="Dee", last_name="Other")

    def build(low, high):
        # The upper bound is used twice: the SQL takes it at both places.
        return (
            User.objects.select_related("staff_profile")
            .filter(pk__gte=low, pk__lte=high, id__lte=high, last_name="Sharp")
            .order_by("first_name")
        )

    read = CompiledRead(build, ID_PLACEHOLDER, SECOND_ID_PLACEHOLDER)
    low, high = min(p.pk for p in people), max(p.pk for p in people)
    read.all(low, high)  # compiled on first use

    with django_assert_num_queries(1):
        found = read.all(low, high)

    expected = list(build(low, high))
    assert [u.first_name for u in found] == ["Ann", "Bo", "Cy"] == [u.first_name for u in expected]
    assert [u.last_login for u in found] == [u.last_login for u in expected]
    cy = found[2]
    with django_assert_num_queries(0):
        assert str(cy) == "Dr Cy Sharp" and cy.staff_profile.user_id == cy.pk
    assert read.all(high + 1, high + 5) == []


def test_a_compiled_values_list_gives_the_orm_tuples_with_their_types() -> None:
    user = UserFactory(first_name="Ann", is_staff=True)
    fields = ("first_name", "is_staff", "date_joined")
    read = CompiledRead(lambda pk: User.objects.filter(pk=pk).values_list(*fields), ID_PLACEHOLDER)

    assert read.all(user.pk) == list(User.objects.filter(pk=user.pk).values_list(*fields))
    name, is_staff, joined = read.get(user.pk)
    assert (name, is_staff) == ("Ann", True)
    assert isinstance(joined, datetime.datetime) and joined.tzinfo is not None


def test_a_compiled_read_of_a_fixed_query_takes_no_values() -> None:
    UserFactory.create_batch(2)
    everyone = CompiledRead(lambda: User.objects.order_by("pk"))

    assert [u.pk for u in everyone.all()] == list(
        User.objects.order_by("pk").values_list("pk", flat=True)
    )
    with pytest.raises(TypeError, match="0 value"):
        everyone.all(1)


def test_an_integer_no_column_can_hold_finds_nothing_without_asking(
    django_assert_num_queries,
) -> None:
    UserFactory()
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    by_pk.get(1)

    with django_assert_num_queries(0):
        assert by_pk.get(2**63) is None
        assert by_pk.all(-(2**63) - 1) == []
        if TOGETHER:
            assert read_together((by_pk, 10**30)) is None
    assert list(User.objects.filter(pk=2**63)) == []  # as the ORM finds


def test_a_compiled_read_refuses_what_it_cannot_read_as_the_orm_would() -> None:
    with pytest.raises(ValueError, match="placeholder of its own"):
        CompiledRead(lambda a, b: User.objects.filter(pk=a, id=b), ID_PLACEHOLDER, ID_PLACEHOLDER)
    with pytest.raises(ValueError, match="nothing prefetched"):
        CompiledRead(
            lambda pk: User.objects.filter(pk=pk).prefetch_related("groups"), ID_PLACEHOLDER
        ).all(1)
    with pytest.raises(ValueError, match="nothing prefetched"):
        CompiledRead(lambda pk: User.objects.filter(pk=pk).values("pk"), ID_PLACEHOLDER).all(1)
    with pytest.raises(ValueError, match="use each value"):
        # The value is wrapped in wildcards, so the SQL never takes it as given.
        CompiledRead(lambda name: User.objects.filter(first_name__contains=name), "-").all("a")


def test_placeholders_are_numbered_for_prepare_and_literal_percent_signs_kept() -> None:
    sql = "SELECT 1 FROM t WHERE a = %s AND b LIKE '%%s%%' AND c = %s"

    assert _numbered(sql) == "SELECT 1 FROM t WHERE a = $1 AND b LIKE '%%s%%' AND c = $2"


@together_only
def test_a_read_is_prepared_once_per_connection() -> None:
    user = UserFactory(first_name="Bo%b's")
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    by_name = CompiledRead(lambda name: User.objects.filter(first_name=name), "-")

    with CaptureQueriesContext(connection) as captured:
        assert by_pk.get(user.pk) == user
        assert by_pk.get(user.pk) == user
        assert read_together((by_pk, user.pk), (by_name, "Bo%b's")) == [user, user]
        assert read_together((by_name, "nobody"), (by_name, "Bo%b's")) == [None, user]

    sent = [query["sql"] for query in captured]
    assert [sql.count("PREPARE ") for sql in sent] == [1, 0, 1, 0]
    assert [sql.count("EXECUTE ") for sql in sent] == [1, 1, 2, 2]


@together_only
def test_a_read_whose_prepared_statement_went_is_prepared_afresh() -> None:
    """Something that drops the session's prepared statements (a pooler's DEALLOCATE, say)
    fails the run that needed one; the next run prepares it again."""
    user = UserFactory()
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk), ID_PLACEHOLDER)
    assert by_pk.get(user.pk) == user
    with connection.cursor() as cursor:  # only this read's: the other tests' stay prepared
        cursor.execute(f"DEALLOCATE {_prepared[connection.connection][by_pk.number]}")

    with pytest.raises(DatabaseError), transaction.atomic():
        by_pk.get(user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert by_pk.get(user.pk) == user
        assert by_pk.get(user.pk) == user

    assert ["PREPARE " in query["sql"] for query in captured] == [True, False]


def test_a_read_by_an_instant_finds_what_the_orm_finds() -> None:
    """Instants go to the database as their field writes them (as text in UTC on SQLite),
    whichever time zone they are given in."""
    joined = [
        datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=datetime.UTC),
    ]
    users = [UserFactory(date_joined=instant) for instant in joined]
    since = CompiledRead(
        lambda pk, instant: User.objects.filter(pk__gte=pk, date_joined__gte=instant).order_by(
            "pk"
        ),
        ID_PLACEHOLDER,
        INSTANT_PLACEHOLDER,
    )
    london = zoneinfo.ZoneInfo("Europe/London")
    first = users[0].pk

    for instant in [*joined, joined[1].astimezone(london), joined[0] - datetime.timedelta(days=1)]:
        expected = list(User.objects.filter(pk__gte=first, date_joined__gte=instant).order_by("pk"))
        assert since.all(first, instant) == expected, instant
    assert since.all(first, joined[1].astimezone(london)) == users[1:]
