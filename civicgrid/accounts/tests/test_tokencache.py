"""The per-process token memory (accounts/tokencache.py): a known token costs no query, and
every change that matters is seen at the very next request from this process, and within
REFCACHE_REQUEST_RECHECK_SECONDS from another."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken, RoleAssignment
from civicgrid.core.models import RefVersion
from civicgrid.core.refcache import refcache_drop_all
from civicgrid.core.testing.factories import UserFactory, api_client, user_with_role
from civicgrid.core.testing.refcache import refcache_later

pytestmark = pytest.mark.django_db

ME = "/api/v1/accounts/me"


def _me(raw: str):
    return api_client().get(ME, headers={"Authorization": f"Bearer {raw}"})


def _token_queries(raw: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert _me(raw).status_code == 200
    return [q["sql"] for q in queries if "accounts_apitoken" in q["sql"]]


def _other_process_changed_auth() -> None:
    """What a bump committed by another process looks like here: the counter moved, and
    this process's memory was not told."""
    RefVersion.objects.update_or_create(name="accounts.auth", defaults={"version": 10_000})


def test_a_known_token_costs_no_token_query():
    _, raw = services.api_token_create(user=UserFactory(), name="x")
    assert _token_queries(raw)  # first use: looked up (and marked used)
    assert _token_queries(raw) == []


def test_revoking_a_remembered_token_refuses_it_at_once():
    token, raw = services.api_token_create(user=UserFactory(), name="x")
    assert _me(raw).status_code == 200
    services.api_token_revoke(token=token)
    assert _me(raw).status_code == 401


def test_deactivating_a_remembered_user_refuses_the_token():
    user = UserFactory()
    _, raw = services.api_token_create(user=user, name="x")
    assert _me(raw).status_code == 200
    user.is_active = False
    user.save()
    assert _me(raw).status_code == 401


def test_a_new_role_shows_in_the_scope_at_the_next_request(tree):
    user = user_with_role("operator", tree.street)
    _, raw = services.api_token_create(user=user, name="x")
    assert len(_me(raw).json()["assignments"]) == 1
    services.role_assign(user=user, role="leader", region=tree.district)
    assert len(_me(raw).json()["assignments"]) == 2
    RoleAssignment.objects.filter(user=user, role="leader").delete()
    assert len(_me(raw).json()["assignments"]) == 1


def test_a_change_made_by_another_process_is_seen_within_a_second(monkeypatch):
    user = UserFactory()
    token, raw = services.api_token_create(user=user, name="x")
    assert _me(raw).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal here
    _other_process_changed_auth()
    assert _me(raw).status_code == 200  # counters read less than a second ago
    refcache_later(monkeypatch, 1.0)
    assert _me(raw).status_code == 401


def test_a_remembered_token_still_expires_on_time():
    _, raw = services.api_token_create(user=UserFactory(), name="x", days=1)
    assert _me(raw).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert _me(raw).status_code == 401


def test_last_used_is_still_written_at_most_every_five_minutes():
    token, raw = services.api_token_create(user=UserFactory(), name="x")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _me(raw)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        _me(raw)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        _me(raw)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(minutes=6)


def test_each_request_gets_its_own_user_object():
    user = UserFactory(name="令牌用户")
    _, raw = services.api_token_create(user=user, name="x")
    refcache_drop_all()
    from civicgrid.accounts.services import api_token_authenticate

    first, second = api_token_authenticate(raw=raw), api_token_authenticate(raw=raw)
    assert first == second and first is not second
    first.name = "改过"
    assert api_token_authenticate(raw=raw).name == "令牌用户"
