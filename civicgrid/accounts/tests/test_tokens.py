"""Personal API tokens through the API: shown once, stored hashed, refused when dead."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken, hash_token
from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import UserFactory, api_client

pytestmark = pytest.mark.django_db

API = "/api/v1/accounts"
SHAPE = {"code", "message", "details"}


def _create(client, name="脚本", days=30):
    data = json.dumps({"name": name, "days": days})
    return client.post(f"{API}/tokens", data, content_type="application/json")


def _me(client=None, **headers):
    return (client or api_client()).get(f"{API}/me", headers=headers)


def _assert_401(resp):
    assert resp.status_code == 401
    body = resp.json()
    assert set(body) == SHAPE and body["code"] == "unauthorized"


def test_create_shows_raw_once_and_stores_only_the_hash():
    user = UserFactory()
    client = api_client(user)
    resp = _create(client)
    assert resp.status_code == 201
    body = resp.json()
    raw = body["token"]
    assert raw.startswith("cg_") and len(raw) > 40
    token = ApiToken.objects.get(pk=body["id"])
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash
    assert token.prefix == raw[:10]
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert raw not in stored
    listed = client.get(f"{API}/tokens").json()
    assert listed["count"] == 1 and "token" not in listed["items"][0]
    assert raw not in json.dumps(listed)
    audit = AuditLog.objects.filter(object_type="accounts.apitoken", object_id=str(token.pk))
    assert audit.count() == 1 and raw not in json.dumps(audit.get().changes)


@pytest.mark.parametrize("header", ["bearer", "x-api-token"])
def test_token_authenticates(header):
    user = UserFactory(name="令牌用户")
    raw = _create(api_client(user)).json()["token"]
    headers = {"Authorization": f"Bearer {raw}"} if header == "bearer" else {"X-API-Token": raw}
    resp = _me(**headers)
    assert resp.status_code == 200 and resp.json()["username"] == user.username
    assert ApiToken.objects.get(user=user).last_used_at is not None


def test_token_writes_are_audited_as_the_token_user(tree):
    admin = UserFactory(is_superuser=True)
    _, raw = services.api_token_create(user=admin, name="同步")
    data = {"grid_code": "32080300100100", "role": "leader", "user_id": UserFactory().pk}
    resp = api_client().post(
        "/api/v1/posts", json.dumps(data), content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )  # fmt: skip
    assert resp.status_code == 201
    row = AuditLog.objects.filter(object_type="grids.gridpost").get()
    assert row.actor_id == admin.pk and row.actor_label == admin.username


def test_revoked_token_is_401():
    user = UserFactory()
    client = api_client(user)
    body = _create(client).json()
    assert client.delete(f"{API}/tokens/{body['id']}").status_code == 204
    _assert_401(_me(Authorization=f"Bearer {body['token']}"))
    _assert_401(_me(**{"X-API-Token": body["token"]}))
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None


def test_expired_token_is_401():
    user = UserFactory()
    body = _create(api_client(user), days=1).json()
    assert _me(Authorization=f"Bearer {body['token']}").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        _assert_401(_me(Authorization=f"Bearer {body['token']}"))


def test_token_of_inactive_user_is_401():
    user = UserFactory()
    _, raw = services.api_token_create(user=user, name="x")
    user.is_active = False
    user.save()
    _assert_401(_me(Authorization=f"Bearer {raw}"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer cg_" + "A" * 43},
        {"Authorization": "Bearer " + "cg_" + "x" * 500},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer <script>alert(1)</script>"},
        {"X-API-Token": "garbage"},
        {"X-API-Token": ""},
    ],
)
def test_missing_or_garbage_token_is_401(headers):
    _assert_401(_me(**headers))


def test_other_users_token_id_is_404():
    owner, other = UserFactory(), UserFactory()
    body = _create(api_client(owner)).json()
    resp = api_client(other).delete(f"{API}/tokens/{body['id']}")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is None
    assert api_client(other).get(f"{API}/tokens").json()["count"] == 0


def test_a_token_cannot_mint_tokens():
    user = UserFactory()
    _, raw = services.api_token_create(user=user, name="x")
    resp = api_client().post(
        f"{API}/tokens", json.dumps({"name": "new"}), content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )  # fmt: skip
    _assert_401(resp)
    assert ApiToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    "data", [{"name": ""}, {"name": "x" * 101}, {"name": "x", "days": 0}, {"days": 5}]
)
def test_create_refuses_bad_input(data):
    user = UserFactory()
    resp = api_client(user).post(f"{API}/tokens", json.dumps(data), content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "validation_error"
    assert not ApiToken.objects.exists()


def test_me_lists_assignments(tree):
    from civicgrid.core.testing.factories import user_with_role

    user = user_with_role("operator", tree.street)
    body = api_client(user).get(f"{API}/me").json()
    assert body["assignments"] == [
        {"role": "operator", "region_code": "320803001", "department_id": None}
    ]
