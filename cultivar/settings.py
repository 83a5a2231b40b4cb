"""Cultivar settings: environment-driven, with embedded defaults.

Embedded (no variables set): SQLite file under var/, Celery tasks run eagerly, the embedded
search index under var/search. Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL
(Redis), SEARCH_BACKEND=elasticsearch + ELASTICSEARCH_URL, DJANGO_SECRET_KEY and
DJANGO_DEBUG=0.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CULTIVAR_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file, search index and uploads live here


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


DEV_SECRET_KEY = "cultivar-development-only-not-secret"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", True)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "web",  # before graphene_django: its graphene/graphiql.html (assets served locally) wins
    "django_filters",
    "graphene_django",
    "registry",
    "importers",
    "search",
    "api_graphql",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cultivar.urls"
WSGI_APPLICATION = "cultivar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "web.context_processors.navigation",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cultivar.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets every request read while an import writes; a writer waits up to SQLITE_BUSY_TIMEOUT seconds
    # for another (the default 5 s turned a long import into "database is locked" errors).
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = float(os.environ.get("SQLITE_BUSY_TIMEOUT", "30"))
elif (DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
      and os.environ.get("POSTGRES_JIT", "off") == "off"):
    # PostgreSQL's JIT compiles every plan whose estimated cost passes jit_above_cost, 0.3-0.5 s a time
    # on these machines: longer than most of our statements run. 1M firms: national funnel 612 -> 294 ms,
    # a 10,000-row import 12.6-14.8 -> 9.7-11.6 s with it off (bench/analytics.py, docs/analytics.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL: a single write through the API (ServiceMutation) binds its statements server-side and
# prepares each on its second use in the connection, so its ~35 short statements stop being planned
# afresh every write (registry.services.writes.prepared_statements). Turn off behind a pooler that
# cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
PREPARED_SINGLE_WRITES = env_bool("PREPARED_SINGLE_WRITES", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # the pages are written in Chinese; locale/en has the English
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves static files in every mode; with finders it reads them straight from the apps,
# so the embedded set-up needs no collectstatic (production may still run it: then STATIC_ROOT is used).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# Sign-in throttling (web/throttle.py): this many failures per username + IP lock the pair for the window.
WEB_LOGIN_MAX_FAILURES = int(os.environ.get("WEB_LOGIN_MAX_FAILURES", "5"))
WEB_LOGIN_WINDOW_SECONDS = int(os.environ.get("WEB_LOGIN_WINDOW_SECONDS", "900"))
# Passwords a user sets (the one-time set-password link of `grant_role`, `grant_role --password-stdin`,
# changepassword) are checked by these; the link dies after PASSWORD_RESET_TIMEOUT or once it is used.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = int(os.environ.get("SET_PASSWORD_LINK_SECONDS", str(3 * 24 * 3600)))

# Upload and import limits (named in the errors users see).
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(200 * 1024 * 1024)))
# Readers refuse a file past these before parsing it (importers/readers.py); a job stops after the timeout,
# and the reaper ends a running job whose heartbeat is older than the stale limit (docs/importers.md).
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", "500"))
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", "20000000"))
IMPORT_MAX_INFLATED_BYTES = int(os.environ.get("IMPORT_MAX_INFLATED_BYTES", str(200 * 1024 * 1024)))
IMPORT_TIMEOUT_SECONDS = int(os.environ.get("IMPORT_TIMEOUT_SECONDS", "3600"))
IMPORT_HEARTBEAT_STALE_SECONDS = int(os.environ.get("IMPORT_HEARTBEAT_STALE_SECONDS", "600"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Exports come in pages of this many rows (?page=2 ...), never silently cut (importers/exports.py).
EXPORT_PAGE_ROWS = int(os.environ.get("EXPORT_PAGE_ROWS", "100000"))

# Celery: eager unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ROUTES = {"search.tasks.*": {"queue": "search"}}
CELERY_BEAT_SCHEDULE = {
    "expire-lapsed-recognitions": {
        "task": "registry.tasks.expire_lapsed_recognitions",
        "schedule": 60 * 60 * 24,
    },
    "reap-stalled-imports": {
        "task": "importers.tasks.reap_stalled_imports",
        "schedule": 5 * 60,
    },
    "rebuild-candidate-ranks": {
        "task": "registry.tasks.rebuild_candidate_ranks",
        "schedule": crontab(hour=0, minute=5),  # soon after midnight: until then candidates are judged live
    },
    "replay-search-outbox": {
        "task": "search.tasks.replay_outbox",
        "schedule": 60,  # firms whose index update failed are searchable again within a minute of search's return
    },
    "check-search-index": {
        "task": "search.tasks.check_index",
        "schedule": crontab(hour=3, minute=30),  # what no failure reported: lost documents, left-behind ones
    },
}

# Analytics: a write touching more firms than this (a big import) does not refresh the precomputed
# tables inline; it marks them stale (analytics compute live meanwhile) and rebuilds them after commit.
ANALYTICS_INLINE_REFRESH_MAX_FIRMS = int(os.environ.get("ANALYTICS_INLINE_REFRESH_MAX_FIRMS", "20000"))

# Django's cache: per-process memory embedded; CACHE_URL (redis://host:port/db) shares it between processes
# in production: remembered analytics answers (registry/cache.py), sign-in throttling, search locks.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
          if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Funnel, transitions and target progress answers are remembered this long per data version (0: off).
ANALYTICS_CACHE_SECONDS = int(os.environ.get("ANALYTICS_CACHE_SECONDS", "300"))

# Search.
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "embedded")
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "cultivar")
SEARCH_EMBEDDED_PATH = Path(os.environ.get("SEARCH_EMBEDDED_PATH", VAR_DIR / "search"))

# GraphQL.
GRAPHENE = {
    "SCHEMA": "api_graphql.schema.schema",
    "ATOMIC_MUTATIONS": True,
}
GRAPHQL_MAX_DEPTH = int(os.environ.get("GRAPHQL_MAX_DEPTH", "10"))
GRAPHQL_MAX_ALIASES = int(os.environ.get("GRAPHQL_MAX_ALIASES", "15"))
GRAPHQL_MAX_PAGE_SIZE = int(os.environ.get("GRAPHQL_MAX_PAGE_SIZE", "100"))
GRAPHQL_MAX_COST = int(os.environ.get("GRAPHQL_MAX_COST", "50000"))
# Checked before/while parsing and in one linear walk (api_graphql/core/limits.py); a refusal names its setting.
GRAPHQL_MAX_DOCUMENT_BYTES = int(os.environ.get("GRAPHQL_MAX_DOCUMENT_BYTES", str(100 * 1024)))
GRAPHQL_MAX_TOKENS = int(os.environ.get("GRAPHQL_MAX_TOKENS", "2000"))
GRAPHQL_MAX_OPERATIONS = int(os.environ.get("GRAPHQL_MAX_OPERATIONS", "20"))
GRAPHQL_MAX_INTROSPECTION = int(os.environ.get("GRAPHQL_MAX_INTROSPECTION", "3"))  # __schema/__type fields
GRAPHQL_MAX_INTROSPECTION_DEPTH = int(os.environ.get("GRAPHQL_MAX_INTROSPECTION_DEPTH", "15"))
GRAPHQL_MAX_INTROSPECTION_LISTS = int(os.environ.get("GRAPHQL_MAX_INTROSPECTION_LISTS", "3"))  # types{fields{args}}
GRAPHQL_MAX_REPEATED_FIELDS = int(os.environ.get("GRAPHQL_MAX_REPEATED_FIELDS", "20"))
# Verified API tokens are remembered this long per process (0: off); the revocation delay for other processes.
API_TOKEN_CACHE_SECONDS = float(os.environ.get("API_TOKEN_CACHE_SECONDS", "30"))

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
