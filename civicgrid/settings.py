"""civicgrid settings, read from the environment.

Defaults are safe for production (DEBUG off, no hosts allowed, secure cookies when DEBUG is
off); `make run` sets DEBUG=1 for the local demo. A development SECRET_KEY is generated once
into `.secret_key` (git-ignored) so that no secret is ever committed.
"""

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# Database triggers that make the audit log append-only. Test runs leave them out because
# Django's test flush deletes every row; the audit tests install them explicitly.
AUDIT_DB_TRIGGERS = env_bool("AUDIT_DB_TRIGGERS", "pytest" not in sys.modules)
# Independent audit hash chains (core/audit.py): audited writes about objects that hash to
# different chains never wait for each other. Changing it later is safe (old rows keep theirs).
AUDIT_CHAINS = int(os.environ.get("AUDIT_CHAINS", "16"))
SECRET_KEY = _secret_key()


def _derived_key(label: bytes) -> str:
    """A 32-byte key derived from SECRET_KEY with HKDF-SHA256; `label` keeps keys distinct."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return hkdf.derive(SECRET_KEY.encode()).hex()


# --- personal data (civicgrid/core/crypto.py) ----------------------------------------------
# FIELD_ENCRYPTION_KEY: AES-256-GCM key for ID and phone numbers (64 hex chars or base64 of 32
# bytes). FIELD_ENCRYPTION_OLD_KEYS: comma-separated retired keys, still accepted for reading
# (each ciphertext names its key id). BLIND_INDEX_KEY: HMAC key of the search/uniqueness index;
# changing it means recomputing every index. Unset, both are derived from SECRET_KEY (HKDF,
# distinct labels) — fine for the demo; production sets them and keeps them apart from it.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY") or _derived_key(
    b"civicgrid field encryption v1"
)
FIELD_ENCRYPTION_OLD_KEYS = env_list("FIELD_ENCRYPTION_OLD_KEYS")
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY") or _derived_key(b"civicgrid blind index v1")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "civicgrid.core",
    "civicgrid.accounts",
    "civicgrid.grids",
    "civicgrid.registry",
    "civicgrid.cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "civicgrid.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "civicgrid.core.middleware.CurrentUserMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "civicgrid" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "civicgrid.core.context_processors.site",
                "civicgrid.accounts.context_processors.nav",
                "civicgrid.cases.context_processors.inbox",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# Connections are kept between requests (CONN_MAX_AGE seconds) on both engines. SQLite used
# to reopen its file on every request: that parses the whole schema (~1 ms) and throws away
# the connection's compiled statements, which a case intake then compiled again (a dozen);
# keeping them doubled the throughput of a one-INSERT view and of the intake API alike
# (docs/BENCHMARKS.md). runserver and the test live server close a thread's connections
# when the thread ends.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'civicgrid.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
SQLITE_ENGINE = "civicgrid.core.db.sqlite3"  # Django's, caching its placeholder rewrites


def db_engine(engine: str) -> str:
    """The backend we run for an engine dj_database_url names (also the benchmarks')."""
    return SQLITE_ENGINE if engine == "django.db.backends.sqlite3" else engine


def db_options(engine: str) -> dict:
    """Connection options per engine (also used by the benchmarks' settings)."""
    if engine in ("django.db.backends.sqlite3", SQLITE_ENGINE):
        # WAL lets readers run beside the single writer; IMMEDIATE transactions take the
        # write lock up front so that two writers queue on the busy timeout instead of
        # failing mid-transaction.
        return {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    if engine == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
        # Server-side parameters and psycopg's automatic prepared statements (after 5 runs of
        # the same SQL in a connection): the hot paths repeat a few statements on every
        # request, and re-planning them was half of PostgreSQL's CPU per case intake
        # (docs/BENCHMARKS.md). Set DB_PREPARED_STATEMENTS=0 behind a transaction-pooling
        # PgBouncer.
        return {"server_side_binding": True, "prepare_threshold": 5}
    return {}


DATABASES["default"]["ENGINE"] = db_engine(DATABASES["default"]["ENGINE"])
DATABASES["default"]["OPTIONS"] = {
    **DATABASES["default"].get("OPTIONS", {}),
    **db_options(DATABASES["default"]["ENGINE"]),
}
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    (BASE_DIR / "var").mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Reference data (categories, routing, departments, API tokens and roles, grid boundaries) is
# kept per process (civicgrid/core/refcache.py). A change made in another worker process is
# seen there within this many seconds; the process that made it sees it at once.
REFCACHE_REQUEST_RECHECK_SECONDS = float(os.environ.get("REFCACHE_REQUEST_RECHECK_SECONDS", "1"))

# --- tasks ----------------------------------------------------------------------------------
TASK_BACKEND = os.environ.get("TASK_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "rq": "django_tasks_rq.RQBackend",
        }[TASK_BACKEND],
    }
}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
if TASK_BACKEND == "rq":
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}

# --- auth and sessions ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["civicgrid.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # sliding expiry: idle sessions end, active ones continue
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "civicgrid" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "civicgrid" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"

# --- maps -----------------------------------------------------------------------------------
# Tile URL template for Leaflet, e.g. an intranet Tianditu mirror. Empty: plain background,
# boundaries still drawn. TILE_CRS tells the front end whether tiles are GCJ-02 shifted.
TILE_URL = os.environ.get("TILE_URL", "")
TILE_ATTRIBUTION = os.environ.get("TILE_ATTRIBUTION", "")
TILE_CRS = os.environ.get("TILE_CRS", "wgs84")  # wgs84 | gcj02
# Boundary validation tolerance in square metres of overlap/gap that is ignored.
GRID_BOUNDARY_TOLERANCE_M2 = float(os.environ.get("GRID_BOUNDARY_TOLERANCE_M2", "1.0"))

# --- working time and the case loop ---------------------------------------------------------
# Working hours (local time) for deadlines in work hours / work days (civicgrid/core/worktime.py).
WORK_HOURS = (("08:30", "12:00"), ("13:30", "17:30"))
WORKTIME_CACHE_SECONDS = float(os.environ.get("WORKTIME_CACHE_SECONDS", "30"))
# Traffic light: yellow from this share of a step's limit; red card (督办) at this share.
CASES_WARN_SHARE = 0.8
CASES_RED_CARD_SHARE = float(os.environ.get("CASES_RED_CARD_SHARE", "1.5"))
CASES_REOPEN_DAYS = 7
# Verification passed closes the case at once (J4); False leaves closing to the centre.
CASES_AUTO_CLOSE_ON_VERIFY = env_bool("CASES_AUTO_CLOSE_ON_VERIFY", True)
# Whether the grid worker who handled a small thing on the spot may verify it himself.
CASES_ON_SPOT_SELF_VERIFY = env_bool("CASES_ON_SPOT_SELF_VERIFY", False)
# Area class of a case from the type of its grid (per-area-class limits, DESIGN.md §3).
CASES_AREA_CLASS_BY_GRID_TYPE = {"business": "A", "building": "A", "residential": "B"}
# Dotted path of `f(unsaved case) -> list[dedup.Match]` run at intake to flag suspected duplicates
# (civicgrid/cases/dedup.py: same or related category, per-category radius and time window,
# jieba word similarity). Set to "" to switch duplicate detection off.
CASES_DUPLICATE_FINDER = os.environ.get(
    "CASES_DUPLICATE_FINDER", "civicgrid.cases.dedup.duplicates_find"
)
# Cosine similarity of jieba tokens at or above which two nearby reports count as one problem.
CASES_DUPLICATE_MIN_SIMILARITY = float(os.environ.get("CASES_DUPLICATE_MIN_SIMILARITY", "0.3"))
# Concurrent intakes in one process share a write transaction (cases/services/intake_write.py).
CASES_INTAKE_GROUP_COMMIT = env_bool("CASES_INTAKE_GROUP_COMMIT", True)
# Photo uploads (civicgrid/cases/attachments.py): bytes per file, files per upload, pixels per
# image (decompression-bomb guard), and the long side of the stored copies.
CASE_UPLOAD_MAX_BYTES = int(os.environ.get("CASE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
CASE_UPLOAD_MAX_FILES = int(os.environ.get("CASE_UPLOAD_MAX_FILES", "9"))
CASE_UPLOAD_MAX_PIXELS = int(os.environ.get("CASE_UPLOAD_MAX_PIXELS", str(100_000_000)))
CASE_IMAGE_SIZES = {"file": 2560, "medium": 1280, "thumb": 320}
# Production: let the web server send attachment files after the permission check
# (nginx X-Accel-Redirect to this internal prefix). Empty: Django streams them itself.
CASE_MEDIA_ACCEL_PREFIX = os.environ.get("CASE_MEDIA_ACCEL_PREFIX", "")
# SMS gateway; the default writes every message to the log (never a silent no-op).
CASES_SMS_BACKEND = os.environ.get("CASES_SMS_BACKEND", "civicgrid.cases.notify.LogSmsBackend")
SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", "60"))

# --- API ------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
API_TOKEN_PREFIX = "cg_"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "civicgrid.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
