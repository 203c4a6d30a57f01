"""Every write about users, roles, tokens and login state."""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.audit import audit_record
from civicgrid.core.models import AuditAction

from . import tokencache
from .choices import DEPARTMENT_ROLES, GRID_ROLES, Role
from .models import ApiToken, RoleAssignment, User, hash_token


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    name: str = "",
    phone: str = "",
    is_superuser: bool = False,
    validate: bool = True,
) -> User:
    """Create a user; the password goes through the configured validators unless told not to
    (the demo seeder uses one known password for every demo account)."""
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已存在")})
    user = User(
        username=username, name=name, phone=phone, is_superuser=is_superuser, is_staff=is_superuser
    )
    if password:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(action=AuditAction.CREATE, obj=user, changes={"username": username, "name": name})
    return user


@transaction.atomic
def role_assign(*, user: User, role: str, region, department=None) -> RoleAssignment:
    """Give `user` a role in `region`; checks the role fits the region level and department."""
    if role not in Role.values:
        raise ValidationError({"role": _("未知角色")})
    if role in DEPARTMENT_ROLES and department is None:
        raise ValidationError({"department": _("该角色必须指定部门")})
    if role in GRID_ROLES and region.level != "grid":
        raise ValidationError({"region": _("网格岗位只能分配到网格")})
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, region=region, department=department
    )
    if created:
        audit_record(
            action=AuditAction.CREATE,
            obj=assignment,
            changes={
                "user": user.pk,
                "role": role,
                "region": region.pk,
                "department": getattr(department, "pk", None),
            },
        )
    user.__dict__.pop("_civicgrid_scope", None)
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment) -> None:
    audit_record(
        action=AuditAction.DELETE,
        obj=assignment,
        changes={"user": assignment.user_id, "role": assignment.role},
    )
    assignment.delete()


def login_failed(*, user: User) -> bool:
    """Count a failure atomically; lock when the limit is reached. Returns True if now locked."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
        count = User.objects.values_list("failed_login_count", flat=True).get(pk=user.pk)
        locked = count >= settings.LOGIN_MAX_FAILURES
        if locked:
            until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_login_count=0)
        audit_record(
            action=AuditAction.LOCKOUT if locked else AuditAction.LOGIN_FAILED,
            obj=user,
            actor=user,
            changes={"failures": count},
        )
    return locked


@transaction.atomic
def user_unlock(*, user: User) -> None:
    """An administrator lifts a lockout early (the user called the help desk); audited."""
    updated = User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
    if updated:
        audit_record(action=AuditAction.CHANGE, obj=user, changes={"unlocked": True})


def login_succeeded(*, user: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        audit_record(action=AuditAction.LOGIN, obj=user, actor=user)


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Make a token; the raw value is returned once and only its hash is stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("令牌名称必填,且不超过100个字符")})
    raw = settings.API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:10],
        token_hash=hash_token(raw),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit_record(action=AuditAction.TOKEN, obj=token, changes={"created": token.prefix})
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        tokencache.on_auth_change()  # a queryset update sends no signal
        audit_record(action=AuditAction.TOKEN, obj=token, changes={"revoked": token.prefix})


# The user of a live token in one statement, when this process does not remember it yet.
_TOKEN_USER_SQL = """
SELECT u.*, t.id AS token_pk, t.expires_at AS token_expires_at,
       t.last_used_at AS token_last_used_at
FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id
WHERE t.token_hash = %s AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > %s) AND u.is_active
"""
TOKEN_TOUCH_EVERY = timedelta(minutes=5)


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user of a usable (not revoked, not expired) token, else None. Marks the
    token used at most every 5 minutes, so reads do not turn into writes. A token this
    process has seen since the last change to users, tokens or roles costs no query
    (accounts/tokencache.py)."""
    if not raw or not raw.startswith(settings.API_TOKEN_PREFIX) or len(raw) > 200:
        return None
    now, token_hash = timezone.now(), hash_token(raw)
    entry = tokencache.token_entry_get(token_hash)
    if entry is None:
        return _token_user_load(token_hash, now)
    if entry.expires_at is not None and entry.expires_at <= now:
        return None
    if entry.last_used_at is None or entry.last_used_at < now - TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=entry.token_pk).update(last_used_at=now)
        entry.last_used_at = now
    return tokencache.entry_user(entry)


def _token_user_load(token_hash: str, now) -> User | None:
    params = [token_hash, connection.ops.adapt_datetimefield_value(now)]
    user = next(iter(User.objects.raw(_TOKEN_USER_SQL, params)), None)
    if user is None:
        return None
    last_used = _aware(user.token_last_used_at)
    if last_used is None or last_used < now - TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=user.token_pk).update(last_used_at=now)
        last_used = now
    tokencache.token_entry_put(
        token_hash, user, token_pk=user.token_pk, expires_at=_aware(user.token_expires_at),
        last_used_at=last_used,
    )  # fmt: skip
    return user


def _aware(value):
    """A raw-SQL datetime as Django's field would give it: SQLite hands back naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value
