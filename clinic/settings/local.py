"""Development on a laptop: the embedded SQLite database and verbose errors."""

from .base import *  # noqa: F403
from .base import BASE_DIR, databases_from_env, env, sqlite_database

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="local-development-only-not-secret")
DATABASES = databases_from_env(sqlite_database(BASE_DIR / "db.sqlite3"))
DEMO_DATA_ALLOWED = True
WHITENOISE_USE_FINDERS = True
