"""Links for long lists, reversed once per list rather than once per row."""

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_MARK = 987654321


def link_maker(viewname: str, *args: int) -> Callable[[int], str]:
    """``reverse(viewname, args=[*args, pk])`` for any integer ``pk``, with one
    ``reverse()`` for a whole page of links (and for every page after it, the URL
    configuration and prefix being the same): the pk slots into the reversed path."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    head, tail = _around_the_pk(viewname, tuple(args), get_script_prefix(), urlconf)
    return lambda pk: f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=256)
def _around_the_pk(viewname: str, args: tuple, prefix: str, urlconf) -> tuple[str, str]:
    head, tail = reverse(viewname, args=[*args, _MARK], urlconf=urlconf).rsplit(str(_MARK), 1)
    return head, tail
