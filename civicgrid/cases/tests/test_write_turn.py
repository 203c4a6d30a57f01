"""SQLite's write turn (services/write_turn.py): writers of every thread and process queue on a
file lock, and WAL checkpoints run after the turn is given back, never inside it."""

import fcntl
import os

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.services import write_turn as wt

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def file_db(tmp_path, monkeypatch):
    """The turn is only taken for a database in a file (tests run in memory): point its
    name at a file; the statements still run on the test connection."""
    if connection.vendor != "sqlite":
        pytest.skip("the write turn is SQLite's")
    name = str(tmp_path / "db.sqlite3")
    monkeypatch.setitem(connection.settings_dict, "NAME", name)
    monkeypatch.setattr(wt, "_files", {})
    return name


def _lock_is_free(name: str) -> bool:
    fd = os.open(f"{name}.write-lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def test_checkpoints_run_every_few_turns_and_after_the_turn(file_db, monkeypatch):
    """The PRAGMAs go to the raw sqlite3 connection (not through Django's cursor), so they
    are watched with its trace callback; whether the lock is free is noted as each runs."""
    monkeypatch.setattr(wt, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(wt, "_turns", iter(range(1, 100)))
    connection.ensure_connection()
    seen = []

    def trace(sql: str) -> None:
        if sql.startswith("PRAGMA"):  # before the first turn there is no lock file yet
            made = os.path.exists(f"{file_db}.write-lock")
            seen.append((sql, _lock_is_free(file_db) if made else None))

    connection.connection.set_trace_callback(trace)
    try:
        for _ in range(4):
            with wt.write_turn():
                assert not _lock_is_free(file_db)  # held inside
                assert _autocheckpoint() == 0  # no checkpoint inside this turn's commit
            assert _autocheckpoint() == 1000  # back on for the connection's other writes
    finally:
        connection.connection.set_trace_callback(None)
    pragmas = [sql for sql, _ in seen if "wal_autocheckpoint =" in sql or "checkpoint(" in sql]
    assert pragmas.count("PRAGMA wal_autocheckpoint = 0") == 4
    assert pragmas.count("PRAGMA wal_autocheckpoint = 1000") == 4
    checkpoints = [free for sql, free in seen if sql == "PRAGMA wal_checkpoint(PASSIVE)"]
    assert checkpoints == [True, True]  # every second turn, with the lock given back


def test_an_error_inside_gives_the_turn_back(file_db):
    with pytest.raises(RuntimeError):
        with wt.write_turn():
            raise RuntimeError("boom")
    assert _lock_is_free(file_db)
    assert _autocheckpoint() == 1000  # the kept connection checkpoints its other writes


def test_a_broken_connection_does_not_hide_the_turns_error(file_db):
    with pytest.raises(RuntimeError, match="boom"):
        with wt.write_turn():
            connection.connection.close()  # the database went away mid-turn
            raise RuntimeError("boom")
    assert _lock_is_free(file_db)
    connection.close()  # Django's handle on the closed sqlite3 connection


def test_inside_an_outer_transaction_no_turn_is_taken(file_db):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, wt.write_turn():
            pass
    assert queries.captured_queries == []
    assert not os.path.exists(f"{file_db}.write-lock")
