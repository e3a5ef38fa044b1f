"""Session policy: an idle timeout, an absolute limit, and no session outliving its user.

Sign-in time and last activity are kept in the session itself. Every session key a user
signs in with is recorded (``UserSession``) so that deactivating them ends all of them,
whichever session engine stores them; on PostgreSQL that record also lets the session and
the person signed in with it be read in one round trip.
"""

import datetime
import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django_htmx.http import HttpResponseClientRedirect

from .auth_backends import READ_WITH_SESSION, signed_in_by_session
from .compiled_queries import KEY_PLACEHOLDER, CompiledRead, read_together
from .models import User, UserSession

SIGNED_IN_AT = "_signed_in_at"
LAST_ACTIVITY = "_last_activity"
# Last activity is written at most this often, not on every request.
ACTIVITY_RESOLUTION = 60


_session_read = CompiledRead(lambda key: Session.objects.filter(session_key=key), KEY_PLACEHOLDER)


class SessionStore(db.SessionStore):
    """Django's sessions in the database (``SESSION_ENGINE = "clinic.sessions"``), each
    read with SQL compiled once per worker: every signed-in request reads its session. Where
    the database takes several statements at once (PostgreSQL), the person the session was
    recorded for comes in the same round trip (``signed_in``; the backend still checks that
    the session names them)."""

    signed_in: User | None = None

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        together = read_together((_session_read, key), (signed_in_by_session, key))
        session, self.signed_in = together or (_session_read.get(key), None)
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            self.signed_in = None
            return None
        return session


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, handing the person read with the session to ``RoleBackend.get_user`` so
    that they are not read a second time."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _signed_in_person(request))


def _signed_in_person(request: HttpRequest):
    """Django's own answer (``django.contrib.auth.middleware.get_user``), with the person
    who came with the session at hand while it is worked out."""
    request.session.get(SESSION_KEY)  # loads the session (once), and with it the person
    token = READ_WITH_SESSION.set(getattr(request.session, "signed_in", None))
    try:
        return auth_middleware.get_user(request)
    finally:
        READ_WITH_SESSION.reset(token)


def session_record(user: User, session_key: str) -> None:
    UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


def user_sessions_end(user: User) -> int:
    """End every session ``user`` signed in with; returns how many were recorded."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    recorded = UserSession.objects.filter(user=user)
    keys = list(recorded.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    recorded.delete()
    return len(keys)


def session_started(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """``user_logged_in``: start both clocks and record the (new) session key."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_ACTIVITY] = now
    if request.session.session_key is None:
        request.session.save()
    session_record(user, request.session.session_key)
    oldest_alive = timezone.now() - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT)
    UserSession.objects.filter(user=user, created__lt=oldest_alive).delete()


def session_ended(sender, request: HttpRequest, user: User | None, **kwargs) -> None:
    """``user_logged_out``: the session is flushed, so its record goes too."""
    if request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


def sessions_end_on_deactivation(
    sender, instance: User, created: bool, update_fields=None, **kwargs
) -> None:
    """``post_save`` of a user: deactivated (in the admin site or anywhere) means signed out."""
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    user_sessions_end(instance)


def _expiry_message(request: HttpRequest) -> str | None:
    now = int(time.time())
    session = request.session
    idle = settings.SESSION_IDLE_TIMEOUT
    absolute = settings.SESSION_ABSOLUTE_TIMEOUT
    signed_in_at = session.setdefault(SIGNED_IN_AT, now)
    last_activity = session.get(LAST_ACTIVITY, now)
    if now - last_activity >= idle:
        return f"You were signed out after {idle // 60} minutes without activity."
    if now - signed_in_at >= absolute:
        hours = absolute / 3600
        length = f"{hours:g} hours" if hours >= 1 else f"{absolute // 60} minutes"
        return f"You were signed out: a sign-in lasts at most {length}. Please sign in again."
    if now - last_activity >= ACTIVITY_RESOLUTION or LAST_ACTIVITY not in session:
        session[LAST_ACTIVITY] = now
    return None


class SessionPolicyMiddleware:
    """Signs out after ``SESSION_IDLE_TIMEOUT`` idle seconds or ``SESSION_ABSOLUTE_TIMEOUT``
    seconds after sign-in. Public pages (``login_not_required``) are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key_before = request.session.session_key
        response = self.get_response(request)
        # A key cycled while signed in (password change, second factor) is recorded too.
        key_after = request.session.session_key
        if key_after and key_after != key_before and request.user.is_authenticated:
            session_record(request.user, key_after)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True) or not request.user.is_authenticated:
            return None
        message = _expiry_message(request)
        if message is None:
            return None
        logout(request)
        messages.info(request, message)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
        return redirect_to_login(request.get_full_path())
