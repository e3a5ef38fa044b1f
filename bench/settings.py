"""Settings for ``make bench``: the local settings served as in production (DEBUG off),
plus the peer the benchmark compares against — the Django admin's default patient list
(``bench/urls.py``). Never used to serve a practice."""

from clinic.settings.local import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
# The benchmark signs its users in once and then keeps them busy for minutes on end.
SESSION_IDLE_TIMEOUT = 60 * 60
# Confirmation e-mails are rendered and "sent" in memory: the benchmark measures the
# practice's own work, not a mail server's.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
