"""Pagination for long lists: never count or sort more rows than a person could page
through."""

from django.core.paginator import Paginator

#: A list or search longer than this is cut there: it needs narrowing, not counting.
COUNT_CAP = 500


class CountedPaginator(Paginator):
    """A paginator that is told its count (known already), so it runs no COUNT query."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count


def capped_ids(queryset, *, cap: int = COUNT_CAP, ordered: bool = True) -> list:
    """The primary keys of at most ``cap + 1`` rows of ``queryset`` (one query), in its
    order, or in whatever order the database finds them first when ``ordered`` is False —
    the cheap way to learn "how many, up to the cap" and "which ones" together."""
    if not ordered:
        queryset = queryset.order_by()
    return list(queryset.values_list("pk", flat=True)[: cap + 1])
