"""DIX settings: one env-driven file. Every variable read here is listed in the README.

The zero-set-up default is SQLite plus an embedded (filesystem) broker under `DIX_DATA_DIR`;
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis for production and CI.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.conf.locale import LANG_INFO

from config.env import (
    JSON_LOG_FORMATTER,
    env_bool,
    env_email,
    env_int,
    env_list,
    env_networks,
    env_str,
)

# Lets Django's generic classes (ModelAdmin[...]) be subscripted at run time, as typed.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DIX_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated once and kept in the data dir (demo default)."""
    configured = env_str("DIX_SECRET_KEY", "")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DIX_DEBUG", False)
ALLOWED_HOSTS = env_list("DIX_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DIX_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "intel.admin_site.DixAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "intel",
    "notices",
    "access",
    "seizures",
    "webhooks",
    "mail",
    "exchange",
    "operations",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the path: `/api/v1/profiles` is served as `/api/v1/profiles/`.
    "core.slashes.OptionalSlashMiddleware",
    # The request being served, for audit events' client address and justification.
    "intel.audit.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that costs: an unchanged inbox poll is answered here with 304.
    "notices.inbox.InboxNotModifiedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The portal's language: the language cookie, else the browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # `request.user.is_verified()`: whether this session passed its second factor.
    "django_otp.middleware.OTPMiddleware",
    # The signed-in member's saved language over the browser's (portal/language.py).
    "portal.language.MemberLanguageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A sign-in page's locked attempt answered 429 (intel/auth_limits.py).
    "intel.auth_limits.LockedOutMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'dix.sqlite3'}"),
        conn_max_age=env_int("DIX_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler share one file: WAL lets readers run beside the writer, and
    # IMMEDIATE transactions queue writers instead of failing them with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory: tests start real worker processes that must share the database.
    # One per process, so that concurrent test runs on one machine do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "intel.Member"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
# Every password check (sign-in pages, TAXII Basic) behind the failed-authentication limiter.
AUTHENTICATION_BACKENDS = ["intel.auth_limits.LimitedModelBackend"]

LANGUAGE_CODE = "en"
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
# Dates the portal's readers cannot misread (portal/formats/).
FORMAT_MODULE_PATH = ["portal.formats"]
# The portal's languages: English, in which its strings are written, and every compiled
# catalogue in portal/locale/, so adding a language is adding its catalogue (docs/portal.md).
LANGUAGES = [
    ("en", "English"),
    *(
        (found.parents[1].name, LANG_INFO[found.parents[1].name]["name_local"].capitalize())
        for found in sorted(LOCALE_PATHS[0].glob("*/LC_MESSAGES/django.mo"))
        if found.parents[1].name in LANG_INFO
    ),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(env_str("DIX_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env_str("REDIS_URL", "")
# `auth_limits` holds the failed-authentication counters and locks (intel/auth_limits.py): the
# same store as `default`, under its own name so that tests can give each test a fresh one.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
        "auth_limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
    }
else:
    # A file cache is shared by every process on the machine, so per-member throttling holds
    # across the web server's workers without any server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        },
        "auth_limits": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache-auth"),
        },
    }

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("DIX_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        # Poll the queue folder often: the first webhook attempt waits on it.
        "polling_interval": 0.1,
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Workers log through LOGGING above (JSON lines), not through Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Beat and every worker (on its own timer, config/celery.py) run the delivery sweep this often.
DIX_WEBHOOK_SWEEP_SECONDS = env_int("DIX_WEBHOOK_SWEEP_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "intel.tasks.heartbeat", "schedule": 30.0},
    # The outbox sweep: re-queues due retries and deliveries whose message or worker was lost.
    "deliveries-sweep": {
        "task": "notices.tasks.sweep_deliveries",
        "schedule": float(DIX_WEBHOOK_SWEEP_SECONDS),
    },
    # Records the end of expired access grants (audit, cache counter); reads stop honouring
    # a grant at its expiry whether or not this has run.
    "grants-expiry": {"task": "intel.tasks.end_expired_grants", "schedule": 60.0},
    # Reminds audience organisations that have not acknowledged a notice past its `respond_by`.
    "notice-reminders": {"task": "notices.tasks.send_reminders", "schedule": 300.0},
    # Deletes what is past its retention period (never the audit trail), once a day.
    "retention": {"task": "intel.retention.run", "schedule": 24 * 3600.0},
    # E-mails due now (each commit that writes some also asks a worker at once).
    "mail-send-due": {"task": "mail.tasks.send_due", "schedule": 30.0},
}
# Task modules that are not an app's `tasks.py`.
CELERY_IMPORTS = ("operations.retention",)

# --- Retention (operations/retention.py): days to keep, 0 = for ever; audit events are kept always
DIX_RETENTION_DELIVERIES_DAYS = env_int("DIX_RETENTION_DELIVERIES_DAYS", 90)
DIX_RETENTION_TOKENS_DAYS = env_int("DIX_RETENTION_TOKENS_DAYS", 365)
DIX_RETENTION_ACCESS_DAYS = env_int("DIX_RETENTION_ACCESS_DAYS", 730)

# --- Webhooks -----------------------------------------------------------------------------
# Loopback targets and plain HTTP, for tests and the demo only: never in production.
DIX_WEBHOOK_ALLOW_LOOPBACK = env_bool("DIX_WEBHOOK_ALLOW_LOOPBACK", False)
DIX_WEBHOOK_CONCURRENCY = env_int("DIX_WEBHOOK_CONCURRENCY", 100, minimum=1)
DIX_WEBHOOK_PER_ENDPOINT = env_int("DIX_WEBHOOK_PER_ENDPOINT", 4, minimum=1)
DIX_WEBHOOK_CONNECT_TIMEOUT = env_int("DIX_WEBHOOK_CONNECT_TIMEOUT", 5, minimum=1)
DIX_WEBHOOK_TIMEOUT = env_int("DIX_WEBHOOK_TIMEOUT", 15, minimum=1)
DIX_WEBHOOK_BATCH_SIZE = env_int("DIX_WEBHOOK_BATCH_SIZE", 500, minimum=1)
# A live worker renews its leases every third of this; a killed worker's deliveries are due
# again once it has passed.
DIX_WEBHOOK_LEASE_SECONDS = env_int("DIX_WEBHOOK_LEASE_SECONDS", 20, minimum=3)
# Requests unanswered after 0.1 s that a worker process lets run beyond
# DIX_WEBHOOK_CONCURRENCY: endpoints that hang until the timeout hold these, not the turns of
# everyone else's requests.
DIX_WEBHOOK_SLOW_LANE = env_int("DIX_WEBHOOK_SLOW_LANE", 1000, minimum=0)
# /healthz?deep: workers (each runs the delivery sweep on its own timer) and beat (its
# heartbeat task) silent for longer than this are reported.
DIX_SILENT_SECONDS = env_int("DIX_SILENT_SECONDS", 90, minimum=10)
DIX_WEBHOOK_ROTATION_OVERLAP_HOURS = env_int("DIX_WEBHOOK_ROTATION_OVERLAP_HOURS", 24)
DIX_WEBHOOK_DISABLE_AFTER_HOURS = env_int("DIX_WEBHOOK_DISABLE_AFTER_HOURS", 72)
# Seconds to wait after each failed attempt (±20 % jitter): about three days in all.
DIX_WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env_list(
        "DIX_WEBHOOK_RETRY_SCHEDULE",
        ["5", "300", "1800", "7200", "18000", "36000", "50400", "72000", "86400"],
    )
]
# Signing secrets are encrypted at rest with a key derived from this (default: SECRET_KEY).
DIX_ENCRYPTION_KEY = env_str("DIX_ENCRYPTION_KEY", "") or SECRET_KEY

# --- E-mail (mail/, docs/email.md) ----------------------------------------------------------
# Where the workers send e-mail: SMTP in production (`smtp://user:pass@host:587?tls=true`);
# by default files in DIX_DATA_DIR/mail/ (one per batch sent), so the demo shows what would be sent.
_EMAIL = env_email("DIX_EMAIL_URL", f"file://{DATA_DIR / 'mail'}")
EMAIL_BACKEND = str(_EMAIL["EMAIL_BACKEND"])
EMAIL_HOST = str(_EMAIL.get("EMAIL_HOST", "localhost"))
EMAIL_PORT = int(_EMAIL.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = str(_EMAIL.get("EMAIL_HOST_USER", ""))
EMAIL_HOST_PASSWORD = str(_EMAIL.get("EMAIL_HOST_PASSWORD", ""))
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = int(_EMAIL.get("EMAIL_TIMEOUT", 30))
if "EMAIL_FILE_PATH" in _EMAIL:
    EMAIL_FILE_PATH = str(_EMAIL["EMAIL_FILE_PATH"])
DEFAULT_FROM_EMAIL = env_str("DIX_EMAIL_FROM", "DIX <dix@example.org>")
# The daily digest goes out at this hour (UTC).
DIX_EMAIL_DIGEST_HOUR = env_int("DIX_EMAIL_DIGEST_HOUR", 7, minimum=0, maximum=23)
# Seconds a worker holds the e-mails it is sending before another may take them.
DIX_EMAIL_LEASE_SECONDS = env_int("DIX_EMAIL_LEASE_SECONDS", 120, minimum=10)
# Seconds to wait after each failed attempt; after the last the e-mail is marked failed.
DIX_EMAIL_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env_list("DIX_EMAIL_RETRY_SCHEDULE", ["60", "300", "1800", "7200", "21600"])
]
CELERY_BEAT_SCHEDULE["mail-digest"] = {
    "task": "mail.tasks.send_digests",
    "schedule": crontab(hour=DIX_EMAIL_DIGEST_HOUR, minute=0),
}
# The audit trail (docs/audit.md): an unknown `detail` key is refused (raises) rather than
# left out and logged; a member with this many refused reads within the window is listed by
# `GET /api/v1/audit/suspicious/`.
DIX_AUDIT_STRICT_DETAIL = env_bool("DIX_AUDIT_STRICT_DETAIL", DEBUG)
DIX_AUDIT_SUSPICIOUS_REFUSALS = env_int("DIX_AUDIT_SUSPICIOUS_REFUSALS", 10, minimum=1)
DIX_AUDIT_SUSPICIOUS_MINUTES = env_int("DIX_AUDIT_SUSPICIOUS_MINUTES", 60, minimum=1)

# --- Authentication (intel/auth_limits.py) ---------------------------------------------------
# After this many failed authentications within one window (seconds), the client address or
# the account named is locked for a window: 429, right credentials or not.
DIX_AUTH_FAILURE_LIMIT = env_int("DIX_AUTH_FAILURE_LIMIT", 10, minimum=1)
DIX_AUTH_FAILURE_WINDOW = env_int("DIX_AUTH_FAILURE_WINDOW", 900, minimum=1)
# Reverse proxies whose X-Forwarded-For is believed (audit trail, failure limits). Empty: the
# peer address is the client's, and clients behind a proxy all share the proxy's address.
# `unix` among them trusts the peer of a Unix socket (`DIX_BIND=unix:…`), which has no
# address: without it, the clients behind that socket share one address, "unknown".
DIX_TRUSTED_PROXIES = env_networks("DIX_TRUSTED_PROXIES", [], keywords=("unix",))
DIX_TRUSTED_UNIX_SOCKET = "unix" in [p.lower() for p in env_list("DIX_TRUSTED_PROXIES", [])]

# --- API ----------------------------------------------------------------------------------
DIX_THROTTLE_RATE = env_str("DIX_THROTTLE_RATE", "1200/min")
DIX_ATTACHMENT_MAX_BYTES = env_int("DIX_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DIX_PAGE_SIZE = env_int("DIX_PAGE_SIZE", 50)
# Network-wide seizure figures suppress a cell of fewer reports than this (docs/seizures.md).
DIX_STATS_MIN_CELL = env_int("DIX_STATS_MIN_CELL", 3)
# STIX export (docs/stix.md): where this DIX is reached (the extension definition's schema
# URL), and the uuid5 namespace of its STIX ids (set once, before the first export).
DIX_PUBLIC_URL = env_str("DIX_PUBLIC_URL", "")
DIX_STIX_NAMESPACE = env_str("DIX_STIX_NAMESPACE", "")
# Requests carry attachments; the multipart parser must let a too-large file reach our
# validation so that the client gets a 400 naming the field, not a bare 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "intel.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["intel.api.permissions.IsNetworkMember"],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.MemberRateThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": DIX_PAGE_SIZE,
    "DEFAULT_SCHEMA_CLASS": "core.schema.DixAutoSchema",
    "EXCEPTION_HANDLER": "core.problems.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON only: an endpoint that takes a file declares its own parsers, so that the schema
    # offers each body in the one form the endpoint reads and anything else answers 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DIX — Device Intelligence Exchange API",
    "DESCRIPTION": (
        "Judicial and law-enforcement desks share contraband device profiles and alert "
        "notices. Authenticate with `Authorization: Bearer <token>`. Errors are "
        "`application/problem+json` (RFC 9457). What a member may not see answers 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.describe_enums",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TlpEnum": "intel.models.tlp.TLP",
        "OrganisationKindEnum": "intel.models.network.OrganisationKind",
        "IdentifierKindEnum": "intel.models.children.IdentifierKind",
        "SalesChannelKindEnum": "intel.models.children.SalesChannelKind",
        "AttachmentKindEnum": "intel.models.profiles.AttachmentKind",
        "DeviceClassEnum": "intel.models.profiles.DeviceClass",
        "AudienceScopeEnum": "notices.models.AudienceScope",
        "EventTypeEnum": "core.events.EventType",
        "NoticeTypeEnum": "notices.models.NoticeType",
        "GrantScopeEnum": "intel.models.access.GrantScope",
        "EmailEventTypeEnum": "mail.models.MAILED_EVENTS",
        "EmailDeliveryEnum": "mail.models.Delivery",
        "DetectionMethodEnum": "intel.models.children.DetectionMethod",
    },
}

# --- Logging: one JSON object per line ----------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": JSON_LOG_FORMATTER},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": env_str("DIX_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "celery": {"level": env_str("DIX_LOG_LEVEL", "INFO")},
        # Each run of a periodic task (the delivery sweep runs every few seconds) is logged as
        # received, sent and succeeded; at WARNING only failed tasks are, so the log shows what
        # happened rather than the clock.
        **{
            name: {"level": env_str("DIX_TASK_LOG_LEVEL", "WARNING")}
            for name in ("celery.worker.strategy", "celery.app.trace", "celery.beat")
        },
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The demo (`make run`): the sign-in page lists the demo personas and how they sign in.
DIX_DEMO = env_bool("DIX_DEMO", False)
# Session and CSRF cookies travel over HTTPS only, except in the demo and in debug mode, which
# serve plain HTTP on this machine.
SESSION_COOKIE_SECURE = env_bool("DIX_SECURE_COOKIES", not (DIX_DEMO or DEBUG))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The portal's session ends when the browser closes, and after 8 idle hours at most.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 8 * 3600
# Where members reach the portal (the links of `invite_member`), and how long a link lasts.
DIX_PORTAL_URL = env_str("DIX_PUBLIC_URL", "") or "http://127.0.0.1:8000"
DIX_INVITE_DAYS = env_int("DIX_INVITE_DAYS", 3, minimum=1)
# The issuer shown in authenticator apps next to a member's TOTP entry.
OTP_TOTP_ISSUER = env_str("DIX_OTP_ISSUER", "DIX")
