"""The test suite: PostgreSQL when DATABASE_URL is set, in-memory SQLite otherwise."""

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
