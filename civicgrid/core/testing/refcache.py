"""Test helper: time passing for the per-process reference snapshots (core/refcache.py)."""

import time

from civicgrid.core import refcache


def refcache_later(monkeypatch, seconds: float) -> None:
    """From now on the snapshots' clock reads `seconds` later than the real one: a request
    after that sees what other processes changed (REFCACHE_REQUEST_RECHECK_SECONDS)."""
    monkeypatch.setattr(refcache, "_monotonic", lambda: time.monotonic() + seconds)
