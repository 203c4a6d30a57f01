"""Django's SQLite backend, remembering each query's placeholder conversion.

Django's SQLite cursor rewrites every query's `%s` placeholders to SQLite's `?` with a
regular expression on every execution. The hot paths send the same few statements again and
again, and for a case's 60-column INSERT that rewrite alone cost ~20 µs, more than some of
the statements take to run (docs/BENCHMARKS.md, "Intake vs a bare INSERT"). Converted
queries are kept in a bounded per-process cache; behaviour is otherwise Django's.

Settings name it as ENGINE `civicgrid.core.db.sqlite3` (civicgrid/settings.py maps a
`sqlite://` DATABASE_URL onto it).
"""

from __future__ import annotations

from functools import lru_cache

from django.db.backends.sqlite3 import base

QUERY_CACHE_SIZE = 1024  # queries
CACHED_QUERY_LENGTH = 16_384  # characters: long one-off queries (big IN lists) are not kept


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def _qmark_cached(query: str) -> str:
    return _qmark(query)


def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class CursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        return _qmark_cached(query) if len(query) <= CACHED_QUERY_LENGTH else _qmark(query)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=CursorWrapper)
