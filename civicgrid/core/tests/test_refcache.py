"""Per-process reference snapshots: reloaded when their counter moves, not otherwise."""

import pytest
from django.db import connection, transaction

from civicgrid.core import refcache
from civicgrid.core.refcache import (
    RefCache,
    mark_stale,
    refcache_bump,
    refcache_drop_all,
    refversion_of,
)

# `mark_stale` is what `request_started` calls (core/apps.py). Sending the signal itself
# would also run Django's close_old_connections, which closes the test's connection.

pytestmark = pytest.mark.django_db


@pytest.fixture
def loads():
    calls = []

    def load():
        calls.append(1)
        return len(calls)

    return RefCache("test.refcache", load), calls


def _bump_elsewhere(name: str) -> None:
    """What another process's bump looks like from here: the counter moves, nothing local."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_refversion (name, version) VALUES (%s, 100) "
            "ON CONFLICT (name) DO UPDATE SET version = core_refversion.version + 100",
            [name],
        )


def test_snapshot_is_reused_while_the_counter_stands(loads):
    cache, calls = loads
    assert cache.get() == 1 and cache.get() == 1
    mark_stale()  # a new request
    assert cache.get() == 1 and len(calls) == 1


def test_a_bump_here_reloads_at_once(loads):
    cache, calls = loads
    cache.get()
    refcache_bump("test.refcache")
    assert cache.get() == 2 and refversion_of("test.refcache") == 1


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock refcache reads, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    refcache_drop_all()
    return now


def test_another_process_bump_is_seen_at_the_next_request_a_second_on(loads, settings, clock):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    cache, calls = loads
    cache.get()
    _bump_elsewhere("test.refcache")
    assert cache.get() == 1
    clock[0] += 0.9
    mark_stale()  # a new request, within a second of the last read: no query
    assert cache.get() == 1
    clock[0] += 0.1
    mark_stale()  # a request a second after the read
    assert cache.get() == 2


def test_with_no_request_recheck_every_request_reads(loads, settings, clock):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    settings.REFCACHE_REQUEST_RECHECK_SECONDS = 0
    cache, calls = loads
    cache.get()
    _bump_elsewhere("test.refcache")
    mark_stale()
    assert cache.get() == 2


def test_no_query_within_the_request_recheck(loads, settings, clock, django_assert_num_queries):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    cache, calls = loads
    cache.get()
    with django_assert_num_queries(0):
        for _ in range(5):
            clock[0] += 0.1
            mark_stale()
            assert cache.get() == 1
    clock[0] += 0.5
    mark_stale()
    with django_assert_num_queries(1):
        assert cache.get() == 1


def test_outside_requests_the_counters_are_reread_after_the_interval(loads, settings):
    settings.REFCACHE_RECHECK_SECONDS = 0
    cache, calls = loads
    cache.get()
    _bump_elsewhere("test.refcache")
    assert cache.get() == 2


def test_rolled_back_bump_does_not_leave_a_stale_snapshot(loads, settings, clock):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    cache, calls = loads
    cache.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        refcache_bump("test.refcache")
        assert cache.get() == 2  # loaded inside the transaction, labelled with its bump
        raise RuntimeError
    mark_stale()  # the next request, at once: a bump here forces the read
    assert cache.get() == 3  # the counter went back: the in-transaction copy is not kept


def test_request_started_marks_the_counters_stale():
    from django.core.signals import request_started

    receivers = [r[1]() for r in request_started.receivers]
    assert mark_stale in receivers
