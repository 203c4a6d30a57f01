"""The product settings plus one bench-only URL (a bare one-INSERT view) and the bench
database from BENCH_DATABASE_URL, so a benchmark never touches the development database."""

import os

import dj_database_url

from civicgrid.settings import *  # noqa: F403
from civicgrid.settings import BASE_DIR, db_engine, db_options

ROOT_URLCONF = "bench.casebench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'bench_cases.sqlite3'}")
_db = dj_database_url.parse(_url, conn_max_age=60)
_db["ENGINE"] = db_engine(_db["ENGINE"])
_db["OPTIONS"] = db_options(_db["ENGINE"])
DATABASES = {"default": _db}
# The product's default backend: an intake's task enqueue is one INSERT after commit, and the
# task itself runs in a worker (none runs during a benchmark), as in production.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOGGING = {"version": 1, "disable_existing_loggers": True}
