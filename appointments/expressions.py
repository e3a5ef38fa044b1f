"""Query expressions the appointment constraints need in SQL every database runs itself."""

import datetime

from django.db.models import BooleanField, Func


class EndsWithin(Func):
    """True when ``end <= start + limit``.

    Django's own datetime arithmetic compiles on SQLite to a Python function it registers
    on its connection; a CHECK constraint calling it would make every other SQLite client
    (the sqlite3 shell, restoring a dump) fail on write. SQLite's julianday() reads both
    times at the same millisecond precision, so a length of exactly ``limit`` passes.
    """

    output_field = BooleanField()
    arity = 2

    def __init__(self, start: str, end: str, *, limit: datetime.timedelta) -> None:
        super().__init__(start, end)
        self.limit = limit

    def _compiled(self, compiler, connection) -> tuple[str, str, list]:
        (start, start_params), (end, end_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return start, end, [*end_params, *start_params]

    @property
    def _seconds(self) -> int:
        return int(self.limit.total_seconds())

    def as_sql(self, compiler, connection, **extra_context) -> tuple[str, list]:
        # PostgreSQL: timestamptz + interval counts elapsed time, so DST days are no exception.
        start, end, params = self._compiled(compiler, connection)
        return f"({end} <= {start} + interval '{self._seconds} seconds')", params

    def as_sqlite(self, compiler, connection, **extra_context) -> tuple[str, list]:
        start, end, params = self._compiled(compiler, connection)
        return f"(julianday({end}) <= julianday({start}, '+{self._seconds} seconds'))", params
