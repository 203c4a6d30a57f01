"""The SQLite backend caches placeholder rewrites and otherwise behaves as Django's."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from civicgrid.core.db.sqlite3 import base

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backend only")

QUERIES = [
    "SELECT %s",
    "SELECT 1 WHERE %s LIKE '100%%'",
    "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s)",
    "SELECT '%%s' || %s",
    "SELECT 1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_rewrite_is_djangos(query):
    django_cursor = SQLiteCursorWrapper.__new__(SQLiteCursorWrapper)
    ours = base.CursorWrapper.__new__(base.CursorWrapper)
    expected = django_cursor.convert_query(query)
    assert ours.convert_query(query) == expected
    assert ours.convert_query(query) == expected  # from the cache the second time
    named = "SELECT %(a)s, %(b)s"
    assert ours.convert_query(named, param_names=["a", "b"]) == django_cursor.convert_query(
        named, param_names=["a", "b"]
    )


def test_long_queries_are_not_kept():
    base._qmark_cached.cache_clear()
    long_query = "SELECT 1 WHERE 1 IN (" + ", ".join(["%s"] * 5000) + ")"
    ours = base.CursorWrapper.__new__(base.CursorWrapper)
    assert ours.convert_query(long_query).count("?") == 5000
    ours.convert_query("SELECT %s")
    assert base._qmark_cached.cache_info().currsize == 1


@pytest.mark.django_db
def test_the_project_runs_on_it():
    assert type(connection.connection).__module__.startswith("sqlite3")
    assert connection.settings_dict["ENGINE"] == "civicgrid.core.db.sqlite3"
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.CursorWrapper)
        cursor.execute("SELECT %s, '50%%'", ["x"])
        assert cursor.fetchall() == [("x", "50%")]
