"""The patient search as you type, its SQL written by the ORM once per shape.

Building a search's queryset and having the ORM write its SQL took longer than the
database took to run it. That SQL depends only on the search's shape: which patients
(active, archived or all) and which lookup each word uses (a name part, a date of birth, a
phone number, an e-mail address), plus, on SQLite, whether the full-text table serves it.
So it is written once per shape, per thread and database connection, with a stand-in for
each word's value; each search then puts its own values in, prepared as the ORM's lookups
prepare them (``tests/patients/test_search.py`` checks the two give the same SQL and
values).
"""

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from .models import SQLITE_SEARCH, Patient, search_words, sqlite_phrases, term_lookup


def _text_stand_in(index: int) -> str:
    """A word's stand-in: letters and digits only, so that escaping leaves it as it is."""
    return f"qzx{index}stand{index}inxzq"


def _date_stand_in(index: int) -> datetime.date:
    return datetime.date(1001 + index, 1, 1)


_PHRASES_STAND_IN = "qzxphrasesxzq"


@dataclass
class Statement:
    """A search's SQL and values, and what the database's values need to become Python's."""

    connection: BaseDatabaseWrapper
    sql: str
    params: list
    converters: dict
    compiler: object

    @classmethod
    def of(cls, queryset: QuerySet) -> "Statement":
        """The SQL the ORM writes for ``queryset`` (a ``values_list()``)."""
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        return cls(compiler.connection, sql, list(params), _converters(compiler), compiler)


def _converters(compiler) -> dict:
    return compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])


@dataclass
class _Shape:
    connection: BaseDatabaseWrapper
    sql: str
    params: list
    #: (index in ``params``, index of the word, how its value goes in)
    slots: list[tuple[int, int, str]]
    #: index in ``params`` of the full-text query (SQLite), or None
    phrases_at: int | None
    converters: dict
    compiler: object


class CompiledSearch:
    """``base(which).search(query).order_by().values_list(*columns)``, its SQL written
    once per shape."""

    def __init__(self, base: Callable[[str], QuerySet], columns: tuple[str, ...]) -> None:
        self.base = base
        self.columns = columns
        self._local = threading.local()

    def statement(self, which: str, query: str) -> Statement:
        words = search_words(query)
        lookups = [term_lookup(word) for word in words]
        alias = router.db_for_read(Patient)
        connection = connections[alias]
        phrases = sqlite_phrases(words) if connection.vendor == "sqlite" else ""
        key = (alias, which, tuple(name for name, _ in lookups), bool(phrases))
        cache = self._local.__dict__.setdefault("shapes", {})
        shape = cache.get(key)
        if shape is None or shape.connection is not connection:
            shape = cache[key] = self._write(connection, which, [n for n, _ in lookups], phrases)
        params = list(shape.params)
        operations = connection.ops
        for position, index, how in shape.slots:
            value = lookups[index][1]
            if how == "date":
                params[position] = operations.adapt_datefield_value(value)
            else:
                escaped = operations.prep_for_like_query(value)
                params[position] = params[position].replace(_text_stand_in(index), escaped)
        if shape.phrases_at is not None:
            params[shape.phrases_at] = phrases
        return Statement(connection, shape.sql, params, shape.converters, shape.compiler)

    def _write(
        self, connection: BaseDatabaseWrapper, which: str, names: list[str], phrases: str
    ) -> _Shape:
        queryset = self.base(which)
        stand_ins = []
        for index, name in enumerate(names):
            dated = name == "date_of_birth"
            stand_ins.append(_date_stand_in(index) if dated else _text_stand_in(index))
            queryset = queryset.filter(**{name: stand_ins[-1]})
        if phrases:
            queryset = queryset.filter(pk__in=RawSQL(SQLITE_SEARCH, [_PHRASES_STAND_IN]))
        queryset = queryset.order_by().values_list(*self.columns)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots, phrases_at = [], None
        dates = {connection.ops.adapt_datefield_value(d): i for i, d in enumerate(stand_ins)}
        for position, param in enumerate(params):
            if param == _PHRASES_STAND_IN:
                phrases_at = position
                continue
            if isinstance(param, str | datetime.date) and param in dates:
                slots.append((position, dates[param], "date"))
                continue
            for index, stand_in in enumerate(stand_ins):
                if isinstance(param, str) and isinstance(stand_in, str) and stand_in in param:
                    slots.append((position, index, "text"))
        if sorted(index for _, index, _ in slots) != list(range(len(names))):
            raise ValueError("Each word's value must appear once in the search's SQL.")
        return _Shape(
            connection=connection,
            sql=sql,
            params=list(params),
            slots=slots,
            phrases_at=phrases_at,
            converters=_converters(compiler),
            compiler=compiler,
        )
