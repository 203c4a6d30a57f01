"""Per-process reference snapshots: reloaded when their counter moves, not otherwise."""

import pytest
from django.db import connection, transaction

from civicgrid.core.refcache import RefCache, mark_stale, refcache_bump, refversion_of

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


def test_another_process_bump_is_seen_at_the_next_request(loads, settings):
    settings.REFCACHE_RECHECK_SECONDS = 3600
    cache, calls = loads
    cache.get()
    _bump_elsewhere("test.refcache")
    assert cache.get() == 1  # counters are read once per request (or per recheck interval)
    mark_stale()  # a new request
    assert cache.get() == 2


def test_outside_requests_the_counters_are_reread_after_the_interval(loads, settings):
    settings.REFCACHE_RECHECK_SECONDS = 0
    cache, calls = loads
    cache.get()
    _bump_elsewhere("test.refcache")
    assert cache.get() == 2


def test_rolled_back_bump_does_not_leave_a_stale_snapshot(loads):
    cache, calls = loads
    cache.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        refcache_bump("test.refcache")
        assert cache.get() == 2  # loaded inside the transaction, labelled with its bump
        raise RuntimeError
    mark_stale()
    assert cache.get() == 3  # the counter went back: the in-transaction copy is not kept


def test_request_started_marks_the_counters_stale():
    from django.core.signals import request_started

    receivers = [r[1]() for r in request_started.receivers]
    assert mark_stale in receivers
