"""The test suite: PostgreSQL when DATABASE_URL is set, a temporary SQLite file otherwise."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import database_from_env, sqlite_database

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["*"]
# REPORTS_DATABASE_URL is not read: the tests of the reports replica add their own "reports"
# alias, a mirror of this database (tests/reports/test_replica.py).
DATABASES = {"default": database_from_env(sqlite_database(":memory:"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # threads in the race tests close their own
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
DEMO_DATA_ALLOWED = True
WHITENOISE_USE_FINDERS = True

# Threads racing to book (tests marked "concurrency") need SQLite's real file locking;
# an in-memory shared-cache database refuses at once instead of waiting. Those tests run
# in a pass of their own with CLINIC_TEST_SQLITE_FILE=1 (see the Makefile); the main pass
# keeps the in-memory database, which the browser tests' live server shares safely.
SQLITE_FILE_DB = bool(os.environ.get("CLINIC_TEST_SQLITE_FILE"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and SQLITE_FILE_DB:
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"clinic-test-{os.getpid()}.sqlite3")
    }
