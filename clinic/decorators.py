"""View decorators for access that a single permission does not express."""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def practice_manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Practice managers only; anyone else signed in gets 403 (sign-in is the middleware's)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_practice_manager):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
