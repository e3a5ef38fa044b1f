"""Queries compiled once per worker write and read exactly what the ORM would."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from clinic.compiled_queries import CompiledInsert
from clinic.models import AccessEvent, Action, Outcome
from tests.factories import UserFactory

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

    from clinic.compiled_queries import CompiledRead
    from clinic.models import User

    user = UserFactory()
    read = CompiledRead(lambda pk: User.objects.filter(pk=pk))
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


def test_reads_together_find_what_each_finds_alone(django_assert_num_queries) -> None:
    from clinic.compiled_queries import CompiledRead, read_together
    from clinic.models import User
    from tests.queries import TOGETHER

    first, second = UserFactory(first_name="Ann"), UserFactory(first_name="Bo%b's")
    by_pk = CompiledRead(lambda pk: User.objects.filter(pk=pk))
    by_name = CompiledRead(lambda name: User.objects.filter(first_name=name), placeholder="-")
    reads = [(by_pk, first.pk), (by_name, "nobody"), (by_name, "Bo%b's"), (by_pk, -1)]

    with django_assert_num_queries(1 if TOGETHER else 0):
        found = read_together(*reads)

    if not TOGETHER:  # the caller reads its own way (SQLite takes one statement at a time)
        assert found is None
        return
    found_pks = [getattr(instance, "pk", None) for instance in found]
    assert found_pks == [first.pk, None, second.pk, None]
    assert found[0].first_name == "Ann" and found[0].last_login == first.last_login
    assert found[2].first_name == "Bo%b's"


def test_reads_together_refuse_a_second_row_as_get_does() -> None:
    from clinic.compiled_queries import CompiledRead, read_together
    from clinic.models import User
    from tests.queries import TOGETHER

    UserFactory(first_name="Twin"), UserFactory(first_name="Twin")
    by_name = CompiledRead(lambda name: User.objects.filter(first_name=name), placeholder="-")

    with pytest.raises(User.MultipleObjectsReturned):
        by_name.get("Twin")
    if TOGETHER:
        with pytest.raises(User.MultipleObjectsReturned):
            read_together((by_name, "Twin"))
