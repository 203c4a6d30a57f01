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


def test_checkpoints_run_every_few_turns_and_after_the_turn(file_db, monkeypatch):
    monkeypatch.setattr(wt, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(wt, "_turns", iter(range(1, 100)))
    seen_free = []
    real_cursor = connection.cursor

    def watching_cursor(*args, **kwargs):
        if os.path.exists(f"{file_db}.write-lock"):
            seen_free.append(_lock_is_free(file_db))
        return real_cursor(*args, **kwargs)

    with CaptureQueriesContext(connection) as queries:
        for _ in range(4):
            with wt.write_turn():
                assert not _lock_is_free(file_db)  # held inside
    sql = [q["sql"] for q in queries]
    assert sql.count("PRAGMA wal_autocheckpoint = 0") == 4
    assert sql.count("PRAGMA wal_autocheckpoint = 1000") == 4  # back on for other writes
    assert sql.count("PRAGMA wal_checkpoint(PASSIVE)") == 2
    monkeypatch.setattr(connection, "cursor", watching_cursor)
    monkeypatch.setattr(wt, "_turns", iter([2]))
    with wt.write_turn():
        pass
    assert seen_free[-1] is True  # the checkpoint's cursor was opened with the lock free


def test_an_error_inside_gives_the_turn_back(file_db):
    with pytest.raises(RuntimeError):
        with wt.write_turn():
            raise RuntimeError("boom")
    assert _lock_is_free(file_db)


def test_inside_an_outer_transaction_no_turn_is_taken(file_db):
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries, wt.write_turn():
            pass
    assert queries.captured_queries == []
    assert not os.path.exists(f"{file_db}.write-lock")
