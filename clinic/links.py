"""Paths reversed once while the practice runs, rather than once per page or per row."""

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_MARK = 987654321


def cached_reverse(viewname: str, *args: int) -> str:
    """``reverse(viewname, args=args)``, worked out once per URL configuration and script
    prefix (paths do not change while the practice runs)."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reverse(viewname, args, get_script_prefix(), urlconf)


@lru_cache(maxsize=512)
def _reverse(viewname: str, args: tuple, prefix: str, urlconf) -> str:
    return reverse(viewname, args=list(args), urlconf=urlconf)


def link_maker(viewname: str, *args: int) -> Callable[[int], str]:
    """``reverse(viewname, args=[*args, pk])`` for any integer ``pk``, from one cached
    reverse for a whole list of links: the pk slots into the reversed path."""
    head, tail = cached_reverse(viewname, *args, _MARK).rsplit(str(_MARK), 1)
    return lambda pk: f"{head}{int(pk)}{tail}"
