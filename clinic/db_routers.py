"""Practice reports read from a read replica when one is configured.

``REPORTS_DATABASE_URL`` adds a database alias, ``reports``: a replica of the primary that
carries the same data, a little behind. Inside ``reports_database()`` every read goes to it;
every write, wherever it is made, goes to the primary.
"""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

REPORTS = "reports"

_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


@contextlib.contextmanager
def reports_database() -> Iterator[None]:
    """Reads inside go to the ``reports`` database if there is one (the primary otherwise)."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reports_database_configured() -> bool:
    return REPORTS in connections


class ReportsReplicaRouter:
    def db_for_read(self, model: type[Model], **hints) -> str | None:
        if _reading_reports.get() and reports_database_configured():
            return REPORTS
        return None

    def db_for_write(self, model: type[Model], **hints) -> str:
        # Always the primary, also for a row read from the replica (which Django would
        # otherwise save back where it came from).
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool | None:
        """The replica holds the primary's rows, so a row from either may point at the other."""
        both = {DEFAULT_DB_ALIAS, REPORTS}
        if obj1._state.db in both and obj2._state.db in both:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        """Replication copies the schema; the replica is never migrated itself."""
        return False if db == REPORTS else None
