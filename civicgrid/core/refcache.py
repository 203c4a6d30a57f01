"""Per-process snapshots of reference data that nearly every request reads and almost
nobody writes: categories, the responsibility list, departments, grid types.

Why: a case intake read those rows from the database on every request, as full model rows,
and that ORM work was a third of the intake's CPU time (docs/BENCHMARKS.md, "Case intake").
A snapshot is loaded once per process and reused while its version is unchanged.

How it stays correct across processes: every change to the data bumps a counter row
(`core.RefVersion`, name → version) inside the changing transaction (`refcache_bump`, wired
to post_save/post_delete signals by the owning app). The counters are read with one raw
query, in requests at the first `get()` of a request once the last read is
`REFCACHE_REQUEST_RECHECK_SECONDS` old (1 s; `request_started` marks them due, as the grid
locator does with its version) and outside requests at most every `REFCACHE_RECHECK_SECONDS`;
a snapshot is reloaded when its counter moved. A bump also drops this process's copy at once:
a rolled-back change can leave the counter where it was, and without the local drop a snapshot
loaded inside the rolled-back transaction (tests do that all the time) would look current.

Why not at every request: the read was the one query of an API request that served no
purpose but this, ~50 µs of an intake's CPU on SQLite and ~160 µs on PostgreSQL, where each
statement costs a round trip (docs/BENCHMARKS.md, tenth session). The price: a change made in
*another* process (a revoked token, a disabled category) reaches this one up to a second
later. The process that made it sees it at once.

Snapshots are shared between threads: treat what `get()` returns as read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

from .fastsql import kept_cursor

T = TypeVar("T")
_monotonic = time.monotonic  # tests move it

_CACHES: dict[str, RefCache] = {}


class _Versions:
    """Every counter, read together (a handful of rows) and kept until marked stale."""

    values: dict[str, int] = {}
    check_at: float = 0.0  # monotonic time of the next read; 0 = read now
    read_at: float = float("-inf")  # monotonic time the last read started
    bumped_here: bool = False  # a bump in this process since the last request started


# What the counters' query reads: the RefVersion rows and, joined by UNION ALL, other apps'
# own counters (`refversion_source_add`), so one round trip per request reads them all.
_SOURCES: list[str] = ["SELECT name, version FROM core_refversion"]


def refversion_source_add(sql: str) -> None:
    """Read another app's version counter with these: `sql` selects (name, version) rows.
    Registered in the app's ready(); the grid locator's geo index version is one."""
    if sql not in _SOURCES:
        _SOURCES.append(sql)
        _Versions.check_at = 0.0


def refversion_of(name: str, *, read_since: float | None = None) -> int:
    """The counter `name` as last read; read again first when marked stale, when the recheck
    time passed, or when the last read started before `read_since` (monotonic time)."""
    now = _monotonic()
    if _Versions.check_at <= now or (read_since is not None and _Versions.read_at < read_since):
        with kept_cursor() as cursor:
            cursor.execute(" UNION ALL ".join(_SOURCES))
            _Versions.values = dict(cursor.fetchall())
        recheck = float(getattr(settings, "REFCACHE_RECHECK_SECONDS", 5))
        _Versions.check_at, _Versions.read_at = now + recheck, now
    return _Versions.values.get(name, 0)


def request_recheck_seconds() -> float:
    return float(getattr(settings, "REFCACHE_REQUEST_RECHECK_SECONDS", 1.0))


def mark_stale(**kwargs) -> None:
    """`request_started` receiver: the first `get()` of a request re-reads the counters when
    they were read `REFCACHE_REQUEST_RECHECK_SECONDS` ago or more, or when this process bumped
    one since the last request began: that bump's transaction may have rolled back, and a
    snapshot loaded inside it must not outlive it. (A request of another thread that starts
    while that transaction is still open takes the flag; then the rolled-back snapshot lasts
    until the next read, within the same second a change from another process may take.)"""
    if _Versions.bumped_here:
        _Versions.bumped_here = False
        _Versions.check_at = 0.0
        return
    _Versions.check_at = min(_Versions.check_at, _Versions.read_at + request_recheck_seconds())


def _reread_now() -> None:
    _Versions.check_at = 0.0


class RefCache(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T]):
        self.name = name
        self._load = load
        self._lock = threading.Lock()
        self._cached: tuple[int, T] | None = None
        _CACHES[name] = self

    def get(self) -> T:
        version = refversion_of(self.name)  # before loading: a newer load is never mislabelled
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        with self._lock:
            data = self._load()
            self._cached = (version, data)
        return data

    def drop(self) -> None:
        self._cached = None


def refcache_bump(name: str) -> None:
    """Mark the data `name` changed: other processes reload at their next read, this one now."""
    with kept_cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_refversion (name, version) VALUES (%s, 1) "
            "ON CONFLICT (name) DO UPDATE SET version = core_refversion.version + 1",
            [name],
        )
    _reread_now()
    _Versions.bumped_here = True
    cache = _CACHES.get(name)
    if cache is not None:
        cache.drop()


def refcache_drop_all() -> None:
    """Forget every snapshot in this process (tests, or after restoring a database)."""
    _reread_now()
    _Versions.bumped_here = False  # nothing is left to outlive its transaction
    for cache in _CACHES.values():
        cache.drop()
