"""Querysets compiled by the ORM once and then run again and again with a new value.

Every request reads the signed-in person: a join, an aggregate and a ``select_related``
that Django compiles afresh each time, which costs four times as much as running the query.
A :class:`CompiledRead` keeps the SQL the ORM wrote, with its column layout and value
converters, and builds the model instances exactly as a queryset would
(``django.db.models.query.ModelIterable``). The SQL is still the ORM's own, for whichever
database is configured.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
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


class CompiledRead:
    """At most one row of ``build(value)``, the queryset compiled once per thread and
    database (a database connection belongs to one thread). ``placeholder`` is a value of
    the same type as those looked up that no row holds."""

    def __init__(self, build: Callable[[Any], QuerySet], placeholder: Any = ID_PLACEHOLDER):
        self.build = build
        self.placeholder = placeholder
        self._local = threading.local()

    @cached_property
    def model(self) -> type[Model]:
        return self.build(self.placeholder).model

    def _compiled(self, alias: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("by_alias", {})
        if alias not in cache:
            compiler = self.build(self.placeholder).query.get_compiler(alias)
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
        params = list(compiled.params)
        params[compiled.position] = value
        with compiled.compiler.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
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
