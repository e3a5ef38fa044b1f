"""Settings shared by every environment; each value can come from the environment."""

import datetime
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "clinic.admin_site.PracticeAdminConfig",  # django.contrib.admin, as the practice's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "simple_history",
    "clinic",
    "patients",
    "appointments",
    "treatments",
]

MIDDLEWARE = [
    "clinic.audit.RequestIdMiddleware",
    "appointments.notifications.DeliverAfterResponse",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "clinic.sessions.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.sessions.SessionPolicyMiddleware",
    "clinic.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.practice",
            ],
        },
    },
]


def sqlite_database(path: Path | str) -> dict:
    """The embedded database: WAL journal and IMMEDIATE transactions so writers queue;
    each worker keeps its connection (opening one per request costs more than most pages)."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def database_from_url(variable: str) -> dict:
    """The database in the URL held by the environment variable ``variable``."""
    database = env.db_url(variable)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite_database(database["NAME"])
    database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    database["CONN_HEALTH_CHECKS"] = True
    return database


def database_from_env(default: dict | None) -> dict:
    """PostgreSQL (psycopg 3) whenever DATABASE_URL is set, otherwise ``default``."""
    if env.str("DATABASE_URL", default=""):
        return database_from_url("DATABASE_URL")
    if default is None:
        raise environ.ImproperlyConfigured("Set the DATABASE_URL environment variable.")
    return default


def databases_from_env(default: dict | None) -> dict[str, dict]:
    """``default``, and ``reports`` (a read replica for the practice reports, see
    clinic/db_routers.py) when REPORTS_DATABASE_URL is set."""
    databases = {"default": database_from_env(default)}
    if env.str("REPORTS_DATABASE_URL", default=""):
        databases["reports"] = database_from_url("REPORTS_DATABASE_URL")
    return databases


DATABASE_ROUTERS = ["clinic.db_routers.ReportsReplicaRouter"]


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinic.User"

# Axes refuses sign-in attempts while a username is locked out from an address; then
# Django's model backend signs people in, with permissions read from the role table
# (clinic/auth_backends.py) rather than queried on every request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "clinic.auth_backends.RoleBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "clinic.audit.client_ip"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Sending holds the outbox row's lock, so a slow mail server must not hold it for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clinic <clinic@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Rate limits for online booking are counted here: use a shared cache (for example
# redis://127.0.0.1:6379/1) when several app servers run.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
RATELIMIT_USE_CACHE = "default"

# Behind a reverse proxy: the request header (as Django names it, e.g. HTTP_X_REAL_IP) that
# carries the client's address. The access log, lockouts and booking rate limits read it.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
if TRUSTED_PROXY_HEADER:
    RATELIMIT_IP_META_KEY = TRUSTED_PROXY_HEADER

PRACTICE_NAME = env.str("PRACTICE_NAME", default="Kneecap Physiotherapy")
PHONE_REGION = env.str("PHONE_REGION", default="GB")
ADMIN_URL = env.str("ADMIN_URL", default="admin/")

SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "clinic.sessions"  # the database, read with SQL compiled once per worker
# Signed out after this many seconds without activity, and this long after signing in
# (clinic/sessions.py).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=15 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int(
    "SESSION_ABSOLUTE_TIMEOUT", default=env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
# Authenticator apps show this name beside the six-digit code.
OTP_TOTP_ISSUER = PRACTICE_NAME
CSRF_COOKIE_HTTPONLY = False

# Browser security in every environment: no inline script or style anywhere (static files
# only), no framing, no third-party origins. Production adds HSTS and secure cookies.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# seed_demo refuses to run unless this is True (local and test settings only).
DEMO_DATA_ALLOWED = False
