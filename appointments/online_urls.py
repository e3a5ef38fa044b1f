"""The public booking pages, mounted at /book/."""

from .online import urlpatterns

app_name = "booking"

__all__ = ["app_name", "urlpatterns"]
