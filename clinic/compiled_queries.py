"""Queries compiled by the ORM once and then run again and again with new values.

Every request reads its session and the signed-in person, and every page of patient data
writes an access-log entry: small queries that Django compiles afresh each time, which
costs several times as much as running them. A :class:`CompiledRead` keeps the SQL the ORM
wrote, with its column layout and value converters, and builds the model instances exactly
as a queryset would (``django.db.models.query.ModelIterable``); a :class:`CompiledInsert`
keeps the ORM's INSERT and prepares each value as ``Model.save()`` would. The SQL is still
the ORM's own, for whichever database is configured.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler
from django.utils.functional import cached_property

#: Stand in for the value while compiling: no real row carries this id or this key.
ID_PLACEHOLDER = -7_654_321
KEY_PLACEHOLDER = "compiled-read-placeholder"


@dataclass
class _Compiled:
    compiler: SQLCompiler
    sql: str
    params: list
    position: int
    converters: dict
    model: type[Model]
    columns: slice
    init_list: list[str]
    related: list
    annotations: dict[str, int]

    def with_value(self, value: Any) -> list:
        params = list(self.params)
        params[self.position] = value
        return params


class CompiledRead:
    """At most one row of ``build(value)``, the queryset compiled once per thread and
    database connection (a connection belongs to one thread, and settings overridden in
    tests bring new ones). ``placeholder`` is a value of the same type as those looked up
    that no row holds."""

    def __init__(self, build: Callable[[Any], QuerySet], placeholder: Any = ID_PLACEHOLDER):
        self.build = build
        self.placeholder = placeholder
        self._local = threading.local()

    @cached_property
    def model(self) -> type[Model]:
        return self.build(self.placeholder).model

    def _compiled(self, alias: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("by_alias", {})
        connection = connections[alias]
        if alias not in cache or cache[alias].compiler.connection is not connection:
            compiler = self.build(self.placeholder).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            positions = [i for i, value in enumerate(params) if value == self.placeholder]
            if len(positions) != 1:
                raise ValueError("The queryset must use the value exactly once.")
            info = compiler.klass_info
            first, last = info["select_fields"][0], info["select_fields"][-1] + 1
            cache[alias] = _Compiled(
                compiler=compiler,
                sql=sql,
                params=list(params),
                position=positions[0],
                converters=compiler.get_converters(
                    [column[0] for column in compiler.select[: compiler.col_count]]
                ),
                model=info["model"],
                columns=slice(first, last),
                init_list=[column[0].target.attname for column in compiler.select[first:last]],
                related=get_related_populators(info, compiler.select, alias),
                annotations=dict(compiler.annotation_col_map),
            )
        return cache[alias]

    def get(self, value: Any) -> Model | None:
        """The instance ``build(value)`` finds, with its related rows, or None."""
        alias = router.db_for_read(self.model)
        compiled = self._compiled(alias)
        with compiled.compiler.connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.with_value(value))
            return self._instance(compiled, alias, value, cursor.fetchall())

    def _instance(self, compiled: _Compiled, alias: str, value: Any, rows: list) -> Model | None:
        if not rows:
            return None
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"{len(rows)} rows for {value!r}.")
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        row = next(iter(rows))
        instance = compiled.model.from_db(alias, compiled.init_list, row[compiled.columns])
        for populator in compiled.related:
            populator.populate(row, instance)
        for name, position in compiled.annotations.items():
            setattr(instance, name, row[position])
        return instance


def several_statements_at_once(connection: BaseDatabaseWrapper) -> bool:
    """Whether ``connection`` takes several statements in one round trip: PostgreSQL with
    psycopg's client-side binding (Django's default), where they run as one transaction."""
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )


def read_together(*reads: tuple[CompiledRead, Any]) -> list[Model | None] | None:
    """What each ``(read, value)`` finds, as ``read.get(value)`` would, in one round trip;
    None when they read from a database that cannot take them at once (or from several)."""
    aliases = {router.db_for_read(read.model) for read, _ in reads}
    connection = connections[aliases.pop()] if len(aliases) == 1 else None
    if connection is None or not several_statements_at_once(connection):
        return None
    compiled = [(read, read._compiled(connection.alias), value) for read, value in reads]
    sql = "; ".join(each.sql for _, each, _ in compiled)
    params = [param for _, each, value in compiled for param in each.with_value(value)]
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for index, (read, each, value) in enumerate(compiled):
            if index:
                cursor.nextset()
            found.append(read._instance(each, connection.alias, value, cursor.fetchall()))
    return found


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
