"""Login security: the page, the lockout after repeated failures, session expiry, and the
password validators that `user_create` applies."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts import services
from civicgrid.accounts.models import User
from civicgrid.core.models import AuditAction, AuditLog
from civicgrid.core.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "用户名或密码错误"
LOCKED = "账号已临时锁定"


@pytest.fixture
def login(client):
    def attempt(username: str, password: str):
        url = reverse("accounts:login")
        return client.post(url, {"username": username, "password": password})

    return attempt


def _audits(user: User, action: str) -> int:
    return AuditLog.objects.filter(
        object_type="accounts.user", object_id=str(user.pk), action=action
    ).count()


def test_login_page_renders(client):
    resp = client.get(reverse("accounts:login"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "登录" in html


def test_right_password_logs_in_and_is_audited(client, login):
    user = UserFactory()
    resp = login(user.username, PASSWORD)
    assert resp.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert _audits(user, AuditAction.LOGIN) == 1


def test_wrong_password_shows_message_and_counts(client, login):
    user = UserFactory()
    resp = login(user.username, "wrong-password")
    assert resp.status_code == 200 and WRONG in resp.content.decode()
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.failed_login_count == 1
    assert _audits(user, AuditAction.LOGIN_FAILED) == 1


def test_unknown_user_gets_the_same_message(login):
    resp = login("nobody", "whatever-password")
    assert resp.status_code == 200 and WRONG in resp.content.decode()


def test_success_resets_the_failure_count(login):
    user = UserFactory()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(user.username, "wrong-password")
    login(user.username, PASSWORD)
    user.refresh_from_db()
    assert user.failed_login_count == 0 and user.locked_until is None


def _lock(login, user: User):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert WRONG in login(user.username, "wrong-password").content.decode()
    return login(user.username, "wrong-password")


def test_lockout_after_max_failures(client, login):
    user = UserFactory()
    resp = _lock(login, user)
    assert LOCKED in resp.content.decode()
    user.refresh_from_db()
    assert user.is_locked()
    lock_minutes = (user.locked_until - timezone.now()).total_seconds() / 60
    assert settings.LOGIN_LOCKOUT_MINUTES - 1 < lock_minutes <= settings.LOGIN_LOCKOUT_MINUTES
    assert _audits(user, AuditAction.LOGIN_FAILED) == settings.LOGIN_MAX_FAILURES - 1
    assert _audits(user, AuditAction.LOCKOUT) == 1
    # Even the right password is refused while locked, with the lockout message.
    resp = login(user.username, PASSWORD)
    assert resp.status_code == 200 and LOCKED in resp.content.decode()
    assert "_auth_user_id" not in client.session
    assert _audits(user, AuditAction.LOGIN) == 0


def test_attempts_while_locked_do_not_extend_the_lock(login):
    user = UserFactory()
    _lock(login, user)
    user.refresh_from_db()
    until = user.locked_until
    login(user.username, "wrong-password")
    user.refresh_from_db()
    assert user.locked_until == until


def test_unlocks_after_the_lockout_time(client, login):
    user = UserFactory()
    _lock(login, user)
    later = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES - 1)
    with time_machine.travel(later, tick=False):
        assert LOCKED in login(user.username, PASSWORD).content.decode()
    later = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=5)
    with time_machine.travel(later, tick=False):
        resp = login(user.username, PASSWORD)
    assert resp.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.locked_until is None and user.failed_login_count == 0


def test_lockout_threshold_is_a_setting(settings, login):
    settings.LOGIN_MAX_FAILURES = 2
    user = UserFactory()
    login(user.username, "wrong-password")
    assert LOCKED in login(user.username, "wrong-password").content.decode()


def test_session_settings():
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_idle_session_expires(client, login):
    user = UserFactory()
    login(user.username, PASSWORD)
    me = "/api/v1/accounts/me"
    assert client.get(me).status_code == 200
    age = settings.SESSION_COOKIE_AGE
    with time_machine.travel(timezone.now() + timedelta(seconds=age - 60), tick=False):
        assert client.get(me).status_code == 200  # activity slides the expiry forward
    with time_machine.travel(timezone.now() + timedelta(seconds=2 * age - 120), tick=False):
        assert client.get(me).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=3 * age), tick=False):
        resp = client.get(me)
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"


def test_expired_session_redirects_pages_to_login(client, login):
    user = UserFactory()
    login(user.username, PASSWORD)
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later, tick=False):
        resp = client.get(reverse("grids:map"))
    assert resp.status_code == 302 and reverse("accounts:login") in resp["Location"]


@pytest.mark.parametrize(
    "password",
    ["short1!", "12345678901", "password123", "Password1234", "zhangwei2024", "qwertyuiop"],
)
def test_user_create_refuses_weak_passwords(password):
    with pytest.raises(ValidationError):
        services.user_create(username="zhangwei2024", password=password, name="张伟")
    assert not User.objects.filter(username="zhangwei2024").exists()
    assert not AuditLog.objects.filter(object_type="accounts.user").exists()


def test_user_create_accepts_a_strong_password():
    user = services.user_create(username="lisi", password="Grid-Hexia-2024!", name="李四")
    assert user.check_password("Grid-Hexia-2024!")
    assert AuditLog.objects.filter(object_type="accounts.user", object_id=str(user.pk)).exists()
