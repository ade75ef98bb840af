"""Django settings for Rathaus, read from the environment (see the README's table)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from rathaus.env import (
    SettingError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_timezone,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(env_str("RATHAUS_DATA_DIR", str(PROJECT_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("RATHAUS_DEBUG", False)


def _secret_key() -> str:
    """The key from the environment, or one generated once into the data directory."""
    from_env = env_str("RATHAUS_SECRET_KEY", "")
    if from_env:
        if len(from_env) < 32:
            raise SettingError("RATHAUS_SECRET_KEY", "***", "at least 32 characters")
        return from_env
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Fernet keys for secrets stored in the database (core.crypto); derived from SECRET_KEY if unset.
ENCRYPTION_KEYS = env_list("RATHAUS_ENCRYPTION_KEYS", [])
for _key in ENCRYPTION_KEYS:
    try:
        assert len(base64.urlsafe_b64decode(_key.encode())) == 32
    except (ValueError, AssertionError):
        raise SettingError(
            "RATHAUS_ENCRYPTION_KEYS", "***", "Fernet keys (32 bytes, base64)"
        ) from None
ALLOWED_HOSTS = env_list("RATHAUS_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("RATHAUS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "rathaus.core",
    "rathaus.catalog",
    "rathaus.contacts",
    "rathaus.appointments",
    "rest_framework",
    "drf_spectacular",
    "rathaus.api",
    "rathaus.staffauth",
    "rathaus.demo",
]

MIDDLEWARE = [
    # Outermost and innermost, as django-prometheus wants; they count and time, change nothing.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "rathaus.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rathaus.core.security.PrivateResponseMiddleware",
    "rathaus.core.security.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rathaus.core.security.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "rathaus.core.middleware.TenantMiddleware",
    # After the tenant: a session not yet confirmed by a second factor reaches no staff page.
    "rathaus.staffauth.middleware.SecondFactorMiddleware",
    "rathaus.core.metrics.RequestMetricsMiddleware",
]

ROOT_URLCONF = "rathaus.urls"
WSGI_APPLICATION = "rathaus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rathaus.core.context_processors.tenancy",
            ],
        },
    }
]

_DEFAULT_DB = f"sqlite:///{DATA_DIR / 'rathaus.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            # An empty DATABASE_URL means the default (CI clears it to force SQLite).
            env_str("DATABASE_URL", "") or _DEFAULT_DB,
            conn_max_age=env_int("RATHAUS_DB_CONN_MAX_AGE", 0),
        )
    }
except ValueError as exc:  # unknown scheme or malformed URL
    raise SettingError(
        "DATABASE_URL", env_str("DATABASE_URL", ""), f"a database URL ({exc})"
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the worker and the web server share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file, not shared-cache memory, so concurrency tests see real SQLite locking.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# ALTCHA replay protection must hold across all web processes, so the cache lives in the
# database every process shares (its table is made by a core migration). Rate limits count in
# their own table (core.AttemptCount).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "rathaus_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"
# Two-factor login (rathaus.staffauth): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = env_str("RATHAUS_TOTP_ISSUER", "Rathaus")

# Login throttling: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("RATHAUS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("RATHAUS_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# What axes stores of a failed login: at most its column's 255 characters (a longer name is
# no user's, and would otherwise end the login page in a database error).
AXES_USERNAME_CALLABLE = "rathaus.core.clients.login_username"
# The address axes locks is the one the rate limits count (REMOTE_ADDR, or behind our proxy
# the entry it appended to X-Forwarded-For). Without this axes falls back to REMOTE_ADDR,
# which behind a proxy is the proxy: five wrong passwords would lock a user out for everyone.
AXES_CLIENT_IP_CALLABLE = "rathaus.core.clients.client_ip"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_timezone("RATHAUS_TIME_ZONE", "Europe/Berlin")

STATIC_URL = "static/"
# The image collects the static files at build time into its own directory (Dockerfile), so
# an upgrade brings its own files instead of finding the old ones in the data volume.
STATIC_ROOT = Path(env_str("RATHAUS_STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [("vendor", PROJECT_DIR / "node_modules")]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("RATHAUS_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
# A staff session ends after this long without a request, and after the lifetime in any case
# (core.security.SessionLimitsMiddleware); the cookie itself lasts no longer than that.
RATHAUS_SESSION_IDLE_MINUTES = env_int("RATHAUS_SESSION_IDLE_MINUTES", 30, minimum=1)
RATHAUS_SESSION_MAX_HOURS = env_int("RATHAUS_SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = RATHAUS_SESSION_MAX_HOURS * 3600
# Browser features the pages may use: the kiosk reads booking codes with its own camera.
PERMISSIONS_POLICY = env_str(
    "RATHAUS_PERMISSIONS_POLICY",
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
)
SECURE_HSTS_SECONDS = env_int("RATHAUS_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Preloading is the decision of whoever owns the registrable domain (the city, not the data
# centre that runs rathaus.example.de), so it is opt-in and its deploy check is silenced.
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0 and env_bool("RATHAUS_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Redirect plain HTTP to HTTPS (behind the proxy it already does; set it as a second line of
# defence). The probes ask the server directly over HTTP and must get their answer.
SECURE_SSL_REDIRECT = env_bool("RATHAUS_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a reverse proxy: TLS ends there, and the client's address is the last entry the
# proxy appended to X-Forwarded-For (rate limits, login lockout).
RATHAUS_BEHIND_PROXY = env_bool("RATHAUS_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if RATHAUS_BEHIND_PROXY else None
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from our own origin; htmx needs no inline script.
CONTENT_SECURITY_POLICY = env_str(
    "RATHAUS_CSP",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
)

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("RATHAUS_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = env_int("RATHAUS_SMTP_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("RATHAUS_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("RATHAUS_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("RATHAUS_SMTP_STARTTLS", False)
DEFAULT_FROM_EMAIL = env_str("RATHAUS_DEFAULT_FROM_EMAIL", "rathaus@localhost")
# The IMAP hosts a tenant admin may enter for the KC mailbox ("*.krz.de" allows subdomains);
# empty allows any host, as a single municipality's installation needs. A shared
# installation sets it, so the worker never connects where a tenant admin points it.
IMAP_ALLOWED_HOSTS = env_list("RATHAUS_IMAP_ALLOWED_HOSTS", [])
# Where citizens reach this installation; links in e-mails start with it.
RATHAUS_PUBLIC_URL = env_str("RATHAUS_PUBLIC_URL", "http://127.0.0.1:8000")

TASKS = {
    "default": {
        "BACKEND": env_choice(
            "RATHAUS_TASK_BACKEND",
            "django_tasks_db.DatabaseBackend",
            ("django_tasks_db.DatabaseBackend", "django_tasks.backends.immediate.ImmediateBackend"),
        )
    }
}

# `json`: one JSON object per line for a log collector, and a line per request (core.logs).
LOG_FORMAT = env_choice("RATHAUS_LOG_FORMAT", "text", ("text", "json"))
LOGGING: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "rathaus.core.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"}
        | ({"formatter": "json"} if LOG_FORMAT == "json" else {})
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("RATHAUS_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    },
}
if LOG_FORMAT == "json":
    # The development server's request lines would otherwise bypass the JSON handler.
    LOGGING["loggers"] = {"django.server": {"handlers": ["console"], "propagate": False}}
    MIDDLEWARE.insert(1, "rathaus.core.logs.RequestLogMiddleware")

# Operations (README): /healthz fails when no worker ran its timers for this long; /metrics
# answers these addresses, or anyone with the token.
RATHAUS_WORKER_STALE_SECONDS = env_int("RATHAUS_WORKER_STALE_SECONDS", 300, minimum=120)
RATHAUS_METRICS_ALLOWED_IPS = env_networks("RATHAUS_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
RATHAUS_METRICS_TOKEN = env_str("RATHAUS_METRICS_TOKEN", "")
if 0 < len(RATHAUS_METRICS_TOKEN) < 32:
    raise SettingError("RATHAUS_METRICS_TOKEN", "***", "at least 32 characters")

# Search: how many hits the desk shows, and the fuzzy threshold for typo tolerance.
RATHAUS_SEARCH_LIMIT = env_int("RATHAUS_SEARCH_LIMIT", 10, minimum=1)
# How long the log of accesses to personal data is kept (core.PersonalDataAccess).
RATHAUS_ACCESS_LOG_DAYS = env_int("RATHAUS_ACCESS_LOG_DAYS", 730, minimum=30)

# REST API (rathaus.api): token auth, scopes and error handling live on the API's base view.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rathaus.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rathaus API",
    "DESCRIPTION": "Services, contacts, cases and call records of one municipality. "
    "Authenticate with `Authorization: Bearer <token>`; each token is bound to one "
    "municipality and carries scopes per action.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
