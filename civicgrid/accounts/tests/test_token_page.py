import pytest
from django.urls import reverse

from civicgrid.accounts.models import ApiToken, hash_token
from civicgrid.core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_required(client):
    assert client.get(reverse("accounts:tokens")).status_code == 302


def test_create_shows_raw_once_and_stores_hash(client):
    user = UserFactory()
    client.force_login(user)
    resp = client.post(reverse("accounts:tokens"), {"name": "区级对接", "days": 30})
    raw = resp.context["raw"]
    assert resp.status_code == 200 and raw in resp.content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash
    again = client.get(reverse("accounts:tokens")).content.decode()
    assert raw not in again and token.prefix in again
    api = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.json()["username"] == user.username


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "days": 30},
        {"name": "x" * 101, "days": 30},
        {"name": "a", "days": 0},
        {"name": "a", "days": "abc"},
        {},
    ],
)
def test_bad_input_is_refused_with_a_message(client, data):
    client.force_login(UserFactory())
    resp = client.post(reverse("accounts:tokens"), data)
    assert resp.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_own_token_only(client):
    owner, other = UserFactory(), UserFactory()
    client.force_login(owner)
    client.post(reverse("accounts:tokens"), {"name": "t", "days": 30})
    token = ApiToken.objects.get()
    client.force_login(other)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
