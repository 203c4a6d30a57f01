"""The API's own fallback messages follow the request's language (Chinese by default)."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_endpoint_in_both_languages(client):
    zh = client.get("/api/v1/no-such-thing").json()
    en = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh["code"] == en["code"] == "not_found"
    assert zh["message"] == "接口不存在" and en["message"] == "No such API endpoint"


def test_unauthenticated_and_validation_messages_in_english(client, tree):
    res = client.get("/api/v1/cases", HTTP_ACCEPT_LANGUAGE="en")
    assert (
        res.status_code == 401 and res.json()["message"] == "Not signed in, or the token is invalid"
    )
    from civicgrid.accounts.choices import Role
    from civicgrid.core.testing.factories import user_with_role

    client.force_login(user_with_role(Role.OPERATOR, tree.street))
    res = client.get("/api/v1/cases?limit=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert res.status_code == 422 and res.json()["message"] == "Invalid request parameters"
