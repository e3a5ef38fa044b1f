"""Query budgets where PostgreSQL takes some statements together.

Django counts each round trip to the database as one query. On PostgreSQL some statements
travel with another: the signed-in person with the session (``clinic.sessions``), and the
access-log entry of a page that logs what it reads with that page's first query
(``clinic.audit.access_logged``). Elsewhere each statement is a query of its own.
"""

import pytest
from django.db import connection

from clinic.compiled_queries import several_statements_at_once

TOGETHER = several_statements_at_once(connection)
#: For a test about statements sent together, which only PostgreSQL takes.
together_only = pytest.mark.skipif(
    not TOGETHER, reason="statements go together only where the database takes them at once"
)
#: For a test about the database that takes one statement at a time (SQLite).
one_at_a_time_only = pytest.mark.skipif(TOGETHER, reason="about one statement at a time")


def statements(count: int, *, riding: int = 0) -> int:
    """The queries Django counts for ``count`` statements, ``riding`` of which go with
    another where the database takes several at once."""
    return count - riding if TOGETHER else count
