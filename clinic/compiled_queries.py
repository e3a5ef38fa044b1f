"""Queries compiled by the ORM once and then run again and again with new values.

Every request reads its session and the signed-in person, every page of patient data
writes an access-log entry, and the booking pages read the same few small rows (the
service, who offers it, their working hours) on every request: queries that Django
compiles afresh each time, which costs several times as much as running them. A
:class:`CompiledRead` keeps the SQL the ORM wrote, with its column layout and value
converters, and builds the model instances exactly as a queryset would
(``django.db.models.query.ModelIterable``), or the tuples of a ``values_list()``; a
:class:`CompiledInsert` keeps the ORM's INSERT and prepares each value as ``Model.save()``
would. The SQL is still the ORM's own, for whichever database is configured.

On PostgreSQL a read is also prepared, once per connection (``PREPARE``, sent in the same
round trip as its first run): PostgreSQL then parses it once and, after a few runs, plans
it once, where otherwise it would do both on every request. Compiled reads look rows up by
key, or by key and a span of time, through an index on both; such plans do not depend on
the values (a search by text pattern, whose plan does, is not a compiled read).
"""

import datetime
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler
from django.utils.functional import cached_property

#: Stand in for the values while compiling: no real row carries these ids or this key.
ID_PLACEHOLDER = -7_654_321
SECOND_ID_PLACEHOLDER = -7_654_322
KEY_PLACEHOLDER = "compiled-read-placeholder"
#: An instant no row is looked up by (a second after midnight, 2 January of year 2).
INSTANT_PLACEHOLDER = datetime.datetime(2, 1, 2, 0, 0, 1, tzinfo=datetime.UTC)
SECOND_INSTANT_PLACEHOLDER = datetime.datetime(2, 1, 2, 0, 0, 2, tzinfo=datetime.UTC)
THIRD_INSTANT_PLACEHOLDER = datetime.datetime(2, 1, 2, 0, 0, 3, tzinfo=datetime.UTC)

_LARGEST_INTEGER = 2**63 - 1

_names = itertools.count(1)
#: Per database session (the driver's connection object): the name each read is prepared
#: under there, once it is.
_prepared: "weakref.WeakKeyDictionary[Any, dict[int, str]]" = weakref.WeakKeyDictionary()


def _beyond_any_column(values: tuple) -> bool:
    """Whether a value is an integer no database column holds: the ORM's lookups find no
    row for one without asking, and SQLite would refuse it."""
    return any(
        isinstance(value, int) and not -_LARGEST_INTEGER - 1 <= value <= _LARGEST_INTEGER
        for value in values
    )


@dataclass
class _Compiled:
    compiler: SQLCompiler
    sql: str
    params: list
    #: (index in ``params``, index of the value it takes) for each value the SQL uses.
    positions: list[tuple[int, int]]
    #: How each value is written for the database, by index (an instant: as its field
    #: writes it, e.g. as text in UTC on SQLite); a value missing here goes as it is.
    adapters: dict[int, Callable[[Any], Any]]
    converters: dict
    #: The model whose instances each row makes, or None for a ``values_list()``'s tuples.
    model: type[Model] | None
    columns: slice
    init_list: list[str]
    related: list
    annotations: dict[str, int]
    #: The SQL with PostgreSQL's numbered parameters ($1, $2…) for ``PREPARE``.
    numbered: str = ""

    def with_values(self, values: tuple) -> list:
        params = list(self.params)
        for position, which in self.positions:
            adapter = self.adapters.get(which)
            params[position] = values[which] if adapter is None else adapter(values[which])
        return params


class CompiledRead:
    """The rows of ``build(*values)``, the queryset compiled once per thread and database
    connection (a connection belongs to one thread, and settings overridden in tests bring
    new ones). ``placeholders`` are values of the same types as those looked up (integers,
    strings, aware instants), one per value ``build`` takes (none for a fixed query), that
    no row holds; the SQL must use each, and its shape must not depend on them (no lists
    of varying length), nor any value be worked out from them. A model
    queryset gives instances with their ``select_related`` rows and annotations; a
    ``values_list()`` gives tuples. ``for_write`` reads from the database the model is
    written to (the primary), as ``get_or_create()`` does, rather than one for reading."""

    def __init__(self, build: Callable[..., QuerySet], *placeholders: Any, for_write: bool = False):
        self.build = build
        self.placeholders = placeholders
        self.for_write = for_write
        self.number = next(_names)
        if len(set(self.placeholders)) != len(self.placeholders):
            raise ValueError("Each value needs a placeholder of its own.")
        self._local = threading.local()

    @cached_property
    def model(self) -> type[Model]:
        return self.build(*self.placeholders).model

    def alias(self) -> str:
        """The database this read goes to."""
        if self.for_write:
            return router.db_for_write(self.model)
        return router.db_for_read(self.model)

    def _compiled(self, alias: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("by_alias", {})
        connection = connections[alias]
        if alias not in cache or cache[alias].compiler.connection is not connection:
            cache[alias] = self._compile(connection)
        return cache[alias]

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self.build(*self.placeholders)
        if queryset._prefetch_related_lookups or queryset._iterable_class not in (
            ModelIterable,
            ValuesListIterable,
        ):
            raise ValueError("Only model rows or values_list() tuples, with nothing prefetched.")
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        adapters = {
            index: connection.ops.adapt_datetimefield_value
            for index, placeholder in enumerate(self.placeholders)
            if isinstance(placeholder, datetime.datetime)
        }
        which = {
            (adapters[index](placeholder) if index in adapters else placeholder): index
            for index, placeholder in enumerate(self.placeholders)
        }
        positions = [
            (position, which[value])
            for position, value in enumerate(params)
            if isinstance(value, int | str | datetime.datetime) and value in which
        ]
        if {index for _, index in positions} != set(which.values()):
            raise ValueError("The queryset must use each value as it is given.")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("Composite fields are not read here.")
        compiled = _Compiled(
            compiler=compiler,
            sql=sql,
            params=list(params),
            positions=positions,
            adapters=adapters,
            converters=compiler.get_converters(fields),
            model=None,
            columns=slice(0),
            init_list=[],
            related=[],
            annotations={},
            numbered=_numbered(sql),
        )
        info = compiler.klass_info
        if queryset._iterable_class is ModelIterable:
            first, last = info["select_fields"][0], info["select_fields"][-1] + 1
            compiled.model = info["model"]
            compiled.columns = slice(first, last)
            compiled.init_list = [
                column[0].target.attname for column in compiler.select[first:last]
            ]
            compiled.related = get_related_populators(info, compiler.select, connection.alias)
            compiled.annotations = dict(compiler.annotation_col_map)
        return compiled

    def _fetch(self, values: tuple) -> tuple[_Compiled, str, list]:
        if len(values) != len(self.placeholders):
            raise TypeError(f"{len(self.placeholders)} value(s) expected, {len(values)} given.")
        alias = self.alias()
        compiled = self._compiled(alias)
        if _beyond_any_column(values):
            return compiled, alias, []
        connection = compiled.compiler.connection
        with _run([(self, compiled, values)], connection) as cursor:
            return compiled, alias, cursor.fetchall()

    def all(self, *values: Any) -> list:
        """Every row ``build(*values)`` finds: instances, or tuples for a values_list()."""
        return list(self._rows(*self._fetch(values)))

    def get(self, *values: Any) -> Any:
        """The one row ``build(*values)`` finds, or None."""
        compiled, alias, rows = self._fetch(values)
        return self._one(compiled, alias, values, rows)

    def _one(self, compiled: _Compiled, alias: str, values: tuple, rows: list) -> Any:
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"{len(rows)} rows for {values!r}.")
        return next(self._rows(compiled, alias, rows), None)

    def _rows(self, compiled: _Compiled, alias: str, rows: list) -> Iterator:
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        if compiled.model is None:
            yield from map(tuple, rows)
            return
        for row in rows:
            instance = compiled.model.from_db(alias, compiled.init_list, row[compiled.columns])
            for populator in compiled.related:
                populator.populate(row, instance)
            for name, position in compiled.annotations.items():
                setattr(instance, name, row[position])
            yield instance


def prefetched(instance: Model, name: str, rows: list) -> None:
    """Hands ``instance`` the rows of its reverse foreign key ``name`` (the manager of the
    rows pointing at it), read elsewhere (by a :class:`CompiledRead`, say), as
    ``prefetch_related(name)`` hands them over
    (``django.db.models.query.prefetch_one_level``): ``instance.<name>.all()`` then gives
    them without a query."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[manager.field.remote_field.cache_name] = queryset


def several_statements_at_once(connection: BaseDatabaseWrapper) -> bool:
    """Whether ``connection`` takes several statements in one round trip: PostgreSQL with
    psycopg's client-side binding (Django's default), where they run as one transaction."""
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )


def read_together(*reads: tuple) -> list | None:
    """What each ``(read, *values)`` finds, as ``read.get(*values)`` would, in one round
    trip; None when they read from a database that cannot take them at once (or from
    several)."""
    aliases = {read.alias() for read, *_ in reads}
    connection = connections[aliases.pop()] if len(aliases) == 1 else None
    if connection is None or not several_statements_at_once(connection):
        return None
    if any(_beyond_any_column(tuple(values)) for _, *values in reads):
        return None
    compiled = [(read, read._compiled(connection.alias), tuple(values)) for read, *values in reads]
    found = []
    with _run(compiled, connection) as cursor:
        for index, (read, each, values) in enumerate(compiled):
            if index:
                cursor.nextset()
            found.append(read._one(each, connection.alias, values, cursor.fetchall()))
    return found


_PLACEHOLDER = re.compile(r"%[%s]")


def _numbered(sql: str) -> str:
    """``sql`` with its placeholders (``%s``) numbered as ``PREPARE`` takes them ($1, $2…);
    a literal percent sign stays written as the driver reads it (``%%``)."""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else f"${next(numbers)}", sql)


@contextmanager
def _run(reads: list[tuple], connection: BaseDatabaseWrapper) -> Iterator:
    """Runs each ``(read, compiled, values)`` in one round trip, and yields the cursor at the
    first read's rows (``nextset()`` moves to the next read's). Where the database takes
    several statements at once (PostgreSQL), each read runs as a prepared statement, prepared
    in the same round trip the first time it runs on the connection."""
    if not several_statements_at_once(connection):
        [(read, compiled, values)] = reads
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.with_values(values))
            yield cursor
        return
    with connection.cursor() as cursor:  # connects, so that the session below is current
        names = _prepared.setdefault(connection.connection, {})
        fresh: dict[int, tuple[str, _Compiled]] = {}
        for read, compiled, _ in reads:
            if read.number not in names and read.number not in fresh:
                # A name never used on any connection: whatever an earlier, failed run left
                # prepared cannot be in the way.
                fresh[read.number] = (f"clinic_read_{read.number}_{next(_attempts)}", compiled)
        statements = [f"PREPARE {name} AS {compiled.numbered}" for name, compiled in fresh.values()]
        params = []
        for read, compiled, values in reads:
            given = compiled.with_values(values)
            name = names[read.number] if read.number in names else fresh[read.number][0]
            statements.append(
                f"EXECUTE {name}({', '.join(['%s'] * len(given))})" if given else f"EXECUTE {name}"
            )
            params.extend(given)
        try:
            cursor.execute("; ".join(statements), params)
        except Exception:
            for read, _, _ in reads:  # prepared afresh the next time
                names.pop(read.number, None)
            raise
        names.update((number, name) for number, (name, _) in fresh.items())
        for _ in fresh:  # on past the PREPAREs' (empty) results
            cursor.nextset()
        yield cursor


_attempts = itertools.count(1)


class CompiledInsert:
    """Rows of ``model`` written one at a time with the INSERT the ORM wrote for it, kept
    per thread and database connection. Each value goes through its field's ``pre_save`` and
    ``get_db_prep_save``, as ``Model.save()`` does; nothing is read back and no signals
    are sent, so it suits rows that nobody reads at once and nothing listens for."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        meta = model._meta
        self.fields = [
            field
            for field in meta.local_concrete_fields
            if field is not meta.auto_field and not field.generated
        ]
        self._local = threading.local()

    def _compiled(self, alias: str) -> tuple[BaseDatabaseWrapper, str]:
        cache = self._local.__dict__.setdefault("by_alias", {})
        connection = connections[alias]
        if alias not in cache or cache[alias][0] is not connection:
            query = InsertQuery(self.model)
            query.insert_values(self.fields, [self.model()])
            compiler = query.get_compiler(connection=connection)
            [(sql, params)] = compiler.as_sql()
            if len(params) != len(self.fields):
                raise ValueError("Every field must be written as one plain value.")
            cache[alias] = (compiler.connection, sql)
        return cache[alias]

    def insert(self, **values: Any) -> None:
        """Write one row: ``values`` as for the model's constructor, defaults for the rest."""
        connection, sql, params = self.prepared(**values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def prepared(self, **values: Any) -> tuple[BaseDatabaseWrapper, str, list]:
        """The database, SQL and parameters that write one row (see :meth:`insert`)."""
        row = self.model(**values)
        connection, sql = self._compiled(router.db_for_write(self.model, instance=row))
        params = [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in self.fields
        ]
        return connection, sql, params
