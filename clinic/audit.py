"""The access log of patient data: who read or changed what, when, from where.

Every view that shows or changes patient-identifiable or clinical data calls
``log_access`` once. Entries carry no patient data values — only ids, the action and the
outcome — and the table is append-only (on PostgreSQL the database refuses UPDATE and
DELETE; see migration 0003).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest

from .compiled_queries import CompiledInsert, several_statements_at_once
from .models import MAX_USER_AGENT, AccessEvent, Action, Outcome

__all__ = [
    "AccessEvent",
    "Action",
    "Outcome",
    "RequestIdMiddleware",
    "access_logged",
    "log_access",
]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; behind a proxy set TRUSTED_PROXY_HEADER (e.g. HTTP_X_REAL_IP)."""
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    value = (request.META.get(header) if header else None) or request.META.get("REMOTE_ADDR")
    return (value or "").split(",")[0].strip() or None


def request_id(request: HttpRequest) -> str:
    """One id per request, shared by its log entries (set by RequestIdMiddleware)."""
    if not getattr(request, "request_id", None):
        request.request_id = str(uuid.uuid4())
    return request.request_id


#: Every page of patient data writes an entry: its INSERT is compiled once per worker.
_entry = CompiledInsert(AccessEvent)


def log_access(
    request: HttpRequest, action: str, obj: models.Model | None = None, **details
) -> None:
    """Write one entry for this request's access to ``obj`` (or a described object:
    ``details`` as for ``_entry_values``)."""
    _entry.insert(**_entry_values(request, action, obj, **details))


@contextmanager
def access_logged(
    request: HttpRequest, action: str, obj: models.Model | None = None, **details
) -> Iterator[None]:
    """``log_access`` for a block that reads what it logs: the entry is written with the
    block's first query — in the same round trip and transaction where the database takes
    several statements at once (PostgreSQL), just before it elsewhere — or on leaving a
    block that made none. A block that fails before its first query writes no entry."""
    entry = _EntryWithFirstQuery(*_entry.prepared(**_entry_values(request, action, obj, **details)))
    with entry.connection.execute_wrapper(entry):
        yield
    if entry.pending:
        entry.write()


class _EntryWithFirstQuery:
    """An execute wrapper sending a prepared INSERT with the first query that follows."""

    def __init__(self, connection: BaseDatabaseWrapper, sql: str, params: list) -> None:
        self.connection, self.sql, self.params = connection, sql, params
        self.pending = True

    def write(self) -> None:
        self.pending = False
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)

    def __call__(self, execute, sql, params, many, context):
        if not self.pending:
            return execute(sql, params, many, context)
        # Only a single statement written with placeholders, on a cursor of the client's
        # (not a named one, which declares exactly one query), can follow the INSERT's.
        alone = many or not params or getattr(context["cursor"].cursor, "name", None)
        if alone or not several_statements_at_once(self.connection):
            self.write()
            return execute(sql, params, many, context)
        self.pending = False
        result = execute(f"{self.sql}; {sql}", [*self.params, *params], many, context)
        context["cursor"].nextset()  # on to the query's own rows
        return result


def _entry_values(
    request: HttpRequest,
    action: str,
    obj: models.Model | None = None,
    *,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = Outcome.ALLOWED,
) -> dict:
    """The entry's columns: who (the signed-in person, their roles), what (``obj``, or
    ``object_type`` and ``object_id``, and the patient concerned), how it went, and from
    where (address, browser, request id, path)."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if patient_id is None:
            patient_id = _patient_id_of(obj)
    return {
        # The id, not the (lazy) person: the row needs no more, and it is read only once.
        "user_id": user.pk if signed_in else None,
        "username": user.get_username() if signed_in else "",
        "roles": ",".join(role.value for role in user.roles) if signed_in else "",
        "action": action,
        "object_type": object_type[:60],
        "object_id": str(object_id or "")[:64],
        "patient_id": patient_id,
        "outcome": outcome,
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT],
        "request_id": request_id(request),
        "path": _loggable_path(request),
    }


def _loggable_path(request: HttpRequest) -> str:
    """The path without secret link tokens (manage links, calendar feeds): they are keys."""
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match else None
    path = request.path.replace(str(token), "[token]") if token else request.path
    return path[:300]


def _patient_id_of(obj: models.Model) -> int | None:
    from patients.models import Patient

    if isinstance(obj, Patient):
        return obj.pk
    for attribute in ("patient_id", "episode__patient_id"):
        if "__" in attribute:
            episode = getattr(obj, "episode", None)
            if episode is not None:
                return episode.patient_id
        elif getattr(obj, attribute, None) is not None:
            return getattr(obj, attribute)
    return None


class RequestIdMiddleware:
    """Gives each request an id (or keeps a trusted X-Request-ID) and echoes it back."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        try:
            request.request_id = str(uuid.UUID(incoming)) if incoming else str(uuid.uuid4())
        except ValueError:
            request.request_id = str(uuid.uuid4())
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
