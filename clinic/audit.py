"""The access log of patient data: who read or changed what, when, from where.

Every view that shows or changes patient-identifiable or clinical data calls
``log_access`` once. Entries carry no patient data values — only ids, the action and the
outcome — and the table is append-only (on PostgreSQL the database refuses UPDATE and
DELETE; see migration 0003).
"""

import uuid

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from .compiled_queries import CompiledInsert
from .models import MAX_USER_AGENT, AccessEvent, Action, Outcome

__all__ = ["AccessEvent", "Action", "Outcome", "RequestIdMiddleware", "log_access"]


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
    request: HttpRequest,
    action: str,
    obj: models.Model | None = None,
    *,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = Outcome.ALLOWED,
) -> None:
    """Write one entry for this request's access to ``obj`` (or a described object)."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if patient_id is None:
            patient_id = _patient_id_of(obj)
    _entry.insert(
        # The id, not the (lazy) person: the row needs no more, and it is read only once.
        user_id=user.pk if signed_in else None,
        username=user.get_username() if signed_in else "",
        roles=",".join(role.value for role in user.roles) if signed_in else "",
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id or "")[:64],
        patient_id=patient_id,
        outcome=outcome,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT],
        request_id=request_id(request),
        path=_loggable_path(request),
    )


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
