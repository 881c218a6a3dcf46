"""crmbridge settings, read from the environment with django-environ.

Every variable is optional. Unset, crmbridge runs on the embedded defaults: a SQLite file under
var/, django-q2's ORM broker and (in the demo) the emulated Salesforce org. Development-only values
(an insecure SECRET_KEY, permissive ALLOWED_HOSTS, plain-HTTP cookies) apply only when DEBUG is on.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from crmbridge import exports

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)  # SQLite files, the emulated org, demo password

env = environ.Env()
# `make demo` writes .env (scripts/demo_env.py) so that manage.py commands in any shell use the
# demo's settings; what the shell sets wins. CRMBRIDGE_ENV_FILE= (empty) reads none.
ENV_FILE = env("CRMBRIDGE_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = env("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not SECRET_KEY or not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "With DEBUG off, set SECRET_KEY and ALLOWED_HOSTS (production), or run `make demo` "
            "once: it writes .env with the demo's settings."
        )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys for secrets at rest, newest first (crmbridge/crypto.py); required without DEBUG.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

INSTALLED_APPS = [
    "crmbridge.apps.CrmbridgeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "simple_history",
    "import_export",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crmbridge",
    "accounts",
    "activities",
    "classification",
    "integrations.outbox",
    "integrations.sync",
    "integrations.dialer",
    "integrations.addressbooks",
    "integrations.capture",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: NUL in query parameters, oversized bodies are 400s.
    "crmbridge.boundary.InputBoundaryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): did this session type its two-factor code?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "crmbridge.urls"
WSGI_APPLICATION = "crmbridge.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crmbridge.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 cluster write to one file: WAL plus IMMEDIATE
    # transactions turn "database is locked" errors into short waits.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "admin:login"

# --- Security: strict unless DEBUG; `manage.py check --deploy` passes with production settings.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Login rate limiting (django-axes): 5 failures lock the username+IP pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

# Two-factor authentication for staff (django-otp, TOTP; crmbridge/two_factor.py): the name
# authenticator apps show, and the secret of a device never shown in the admin.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="crmbridge")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- E-mail (error e-mails of integrations); console unless EMAIL_URL is set.
# email_url() returns EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, ... as settings names.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crmbridge <crmbridge@localhost>")

# --- Background work: django-q2, ORM broker by default, Redis when REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default=None)
Q_CLUSTER = {
    "name": "crmbridge",
    "workers": env.int("Q_WORKERS", default=2),
    # A task may run this long; retry must be longer so a running task is never handed out twice.
    "timeout": 600,
    "retry": 660,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Salesforce. An Admin connects the org on the Salesforce connection page; every variable
# set here wins over what the page stored (twelve-factor deployments configure it all here).
# SALESFORCE_AUTH_FLOW: web_server | jwt_bearer | client_credentials | password (legacy; also
# implied by SALESFORCE_USERNAME / SALESFORCE_INSTANCE_URL alone). SALESFORCE_EMULATOR: an
# emulated org reached in this process (the demo), whatever the flow.
_private_key_file = env("SALESFORCE_PRIVATE_KEY_FILE", default=None)
SALESFORCE = {
    "EMULATOR": env("SALESFORCE_EMULATOR", default=None),
    "AUTH_FLOW": env("SALESFORCE_AUTH_FLOW", default=None),
    "LOGIN_URL": env("SALESFORCE_LOGIN_URL", default=None),
    "CONSUMER_KEY": env("SALESFORCE_CONSUMER_KEY", default=None),
    "CONSUMER_SECRET": env("SALESFORCE_CONSUMER_SECRET", default=None),
    "PRIVATE_KEY": env("SALESFORCE_PRIVATE_KEY", default=None)
    or (Path(_private_key_file).read_text() if _private_key_file else None),
    "API_VERSION": env("SALESFORCE_API_VERSION", default=None),
    "INSTANCE_URL": env("SALESFORCE_INSTANCE_URL", default=None),
    "USERNAME": env("SALESFORCE_USERNAME", default=None),
    "PASSWORD": env("SALESFORCE_PASSWORD", default=None),
    "SECURITY_TOKEN": env("SALESFORCE_SECURITY_TOKEN", default=None),
    "DOMAIN": env("SALESFORCE_DOMAIN", default=None),
}
# A first pull (or a full one) of an object holding at least this many records reads it with a
# Bulk API 2.0 query job instead of REST query pages; incremental pulls always use REST.
SYNC_BULK_THRESHOLD = env.int("SYNC_BULK_THRESHOLD", default=50_000)

# --- CSV/spreadsheet exports (django-import-export, every resource): a cell that would start a
# formula ("=HYPERLINK(...)", "+cmd|...", "@SUM(...)") is exported as text, quoted
# (crmbridge/exports.py: the library alone strips one "=" and nothing else).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_FORMATS = exports.FORMATS
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True

# --- Size limits (README "Limits"): bigger requests are a 400 before any view reads them.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "crmbridge.boundary.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Token first: its WWW-Authenticate header makes anonymous calls a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # Sessions only as the control panel lets them in (two-factor authentication).
        "crmbridge.two_factor.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Not a rate limit: refuses NUL query parameters and oversized bodies (crmbridge/boundary.py).
    "DEFAULT_THROTTLE_CLASSES": ["crmbridge.boundary.InputBoundaryCheck"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "crmbridge.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "crmbridge API",
    "DESCRIPTION": "Sales activity in, clean Salesforce out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two models have a "kind" choice set; name each enum in the schema after what it is.
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "activities.models.Activity.Kind",
        "SyncRunKindEnum": "integrations.sync.models.SyncRun.Kind",
        "MatchStatusEnum": "activities.models.Activity.MatchStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"client_errors": {"()": "crmbridge.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
    },
}
