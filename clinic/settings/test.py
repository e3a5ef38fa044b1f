"""The test suite: PostgreSQL when DATABASE_URL is set, a temporary SQLite file otherwise."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import database_from_env, sqlite_database

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["*"]
DATABASES = {"default": database_from_env(sqlite_database(":memory:"))}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
DEMO_DATA_ALLOWED = True
WHITENOISE_USE_FINDERS = True

# A file, not memory, so that threads in the concurrency tests each get a real connection
# with SQLite's locking (in-memory shared-cache databases fail fast instead of waiting).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"clinic-test-{os.getpid()}.sqlite3")
    }
