"""Account messages follow the request's language: the login refusal, the token page and its
revoke message, and service refusals (Chinese by default, English from the catalogue)."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from civicgrid.accounts import services
from civicgrid.core.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and never deactivates it."""
    before = translation.get_language()
    yield
    translation.activate(before) if before else translation.deactivate()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _login(client, password: str):
    user = UserFactory()
    return client.post(reverse("accounts:login"), {"username": user.username, "password": password})


def test_wrong_password_in_english(client):
    html = _login(english(client), "wrong-" + PASSWORD).content.decode()
    assert "Wrong username or password." in html
    assert "用户名或密码错误" not in html


def test_wrong_password_in_chinese_by_default(client):
    html = _login(client, "wrong-" + PASSWORD).content.decode()
    assert "用户名或密码错误" in html


def test_token_page_labels_and_revoke_message_in_english(client):
    user = UserFactory()
    client.force_login(user)
    html = english(client).get(reverse("accounts:tokens")).content.decode()
    assert "Token name" in html and "Valid for (days)" in html
    assert "令牌名称" not in html
    token, _raw = services.api_token_create(user=user, name="区级对接")
    page = client.post(reverse("accounts:token_revoke", args=[token.pk]), follow=True)
    assert "Token “区级对接” revoked" in page.content.decode()


def test_service_refusals_follow_the_active_language(tree):
    user = UserFactory()
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.role_assign(user=user, role="no-such-role", region=tree.grid_a)
    assert err.value.message_dict == {"role": ["Unknown role"]}
    with pytest.raises(ValidationError) as err:
        services.api_token_create(user=user, name=" ")
    assert err.value.message_dict == {"name": ["令牌名称必填,且不超过100个字符"]}
