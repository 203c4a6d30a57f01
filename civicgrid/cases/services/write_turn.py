"""SQLite only: intake transactions take turns on a file lock before BEGIN IMMEDIATE.

Why: SQLite has one writer at a time, and a writer that finds the database locked waits in
SQLite's busy handler, which *sleeps* (1, 2, 5, 10 … up to 100 ms between tries) instead of
being woken when the lock is free. With 16 concurrent intakes the write lock sat idle while
waiters slept, and intake throughput was a third of what the CPU allowed
(docs/BENCHMARKS.md). A blocking `flock` on a file next to the database wakes the next
waiter as soon as the holder is done, across threads (a threading lock in front) and across
worker processes (the file lock). Other writes keep using the busy handler; they are
single statements and rarely collide.

WAL checkpoints run after the turn, not inside it. SQLite checkpoints from the connection
whose commit pushed the WAL past 1000 pages, inside that COMMIT, and a checkpoint syncs the
files to disk: an intake that happened to trigger one held the turn through the fsyncs while
every other intake of every process waited (the box went ~14 % idle under 16 clients,
docs/BENCHMARKS.md). So an intake's connection turns automatic checkpoints off for its
commit (and back on after it, since connections are kept between requests), and every
CHECKPOINT_EVERY intakes of a process one runs a PASSIVE checkpoint (the kind the automatic
one is: it never blocks writers or readers) after giving the turn back. Other writes keep
SQLite's automatic checkpoints.

Not used inside an outer transaction: its BEGIN has already taken SQLite's lock, and
waiting for the file lock then could deadlock with a process that holds the file lock and
waits for SQLite's. PostgreSQL writers never need it (row locks wake waiters directly).
"""

from __future__ import annotations

import fcntl
import itertools
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_thread_lock = threading.Lock()
_files: dict[str, int] = {}
# Intakes of a process between checkpoints (~25-40 WAL pages each, so the WAL stays under
# ~16 MB): a checkpoint copies each changed page once however often it changed, and every 25
# intakes it cost 290 µs per intake (mostly its fsync), every 100 180 µs (docs/BENCHMARKS.md).
CHECKPOINT_EVERY = 100
AUTOCHECKPOINT_PAGES = 1000  # SQLite's default, restored for the connection's other writes
_turns = itertools.count(1)


@contextmanager
def write_turn() -> Iterator[None]:
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):  # in-memory (tests)
        yield
        return
    connection.ensure_connection()
    raw = connection.connection  # the sqlite3 connection: see _pragma
    _pragma(raw, "wal_autocheckpoint = 0")  # this connection: see above
    try:
        with _thread_lock:
            fd = _lock_file(name)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    except BaseException:
        _checkpoints_back_on(raw, quiet=True)  # the turn's own error is the one to see
        raise
    _checkpoints_back_on(raw)
    if next(_turns) % CHECKPOINT_EVERY == 0:
        _pragma(raw, "wal_checkpoint(PASSIVE)")


def _checkpoints_back_on(raw, *, quiet: bool = False) -> None:
    """Automatic checkpoints on again for the connection's other writes, also after a turn
    that failed (the connection is kept for the next request). After a failure the
    connection may itself be broken: then its error is not allowed to hide the turn's."""
    try:
        _pragma(raw, f"wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    except sqlite3.Error:
        if not quiet:
            raise


def _pragma(raw, text: str) -> None:
    """A PRAGMA on the raw sqlite3 connection. Through Django's cursor each of the two per
    turn cost ~20 µs, most of it the wrapper's (logging, error mapping, placeholder
    rewriting), for a statement that only sets a number on the connection."""
    raw.execute(f"PRAGMA {text}").close()


def _lock_file(name: str) -> int:
    """One open file per database per process (called under the thread lock)."""
    fd = _files.get(name)
    if fd is None:
        fd = _files[name] = os.open(f"{name}.write-lock", os.O_RDWR | os.O_CREAT, 0o600)
    return fd
