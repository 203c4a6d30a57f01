"""Telling people: the in-app inbox (Notification rows) and an SMS gateway interface.

The SMS backend is `settings.CASES_SMS_BACKEND`, a dotted path to a class with
`send(phone, text)`. The default, `LogSmsBackend`, writes every message to the log, so a
deployment without a gateway still shows what would have been sent; an empty or broken
setting raises instead of dropping messages silently. Messages go out only after the
transaction that caused them commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from civicgrid.accounts.choices import Role
from civicgrid.accounts.models import User
from civicgrid.core.crypto import mask_phone

from .models import Case, Notification

log = logging.getLogger("civicgrid.sms")


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogSmsBackend:
    """Writes each message to the `civicgrid.sms` logger (number masked)."""

    def send(self, phone: str, text: str) -> None:
        log.info("短信 → %s:%s", mask_phone(phone), text)


@lru_cache(maxsize=4)
def _backend(path: str) -> SmsBackend:
    if not path:
        raise ImproperlyConfigured("CASES_SMS_BACKEND 未配置(默认应为日志后端)")
    try:
        return import_string(path)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"CASES_SMS_BACKEND 无法加载:{path}") from exc


def sms_backend() -> SmsBackend:
    return _backend(settings.CASES_SMS_BACKEND)


def sms_send(*, phone: str, text: str) -> None:
    """Send after commit; a number-less recipient is logged, not silently skipped."""
    backend = sms_backend()
    if not phone:
        log.warning("短信未发送(无手机号):%s", text)
        return
    transaction.on_commit(lambda: backend.send(phone, text))


def notify_users(
    *, users: Iterable[User], case: Case | None, verb: str, text: str, sms: bool = False
) -> int:
    """One inbox row per distinct user; optionally an SMS to each user's work phone."""
    unique = {u.pk: u for u in users if u is not None}
    Notification.objects.bulk_create(
        Notification(recipient_id=pk, case=case, verb=verb, text=text[:500]) for pk in unique
    )
    if sms:
        for user in unique.values():
            sms_send(phone=user.phone, text=text)
    return len(unique)


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def department_staff(department_id: int | None) -> list[User]:
    """Handlers of a department (its head included: every handler is told)."""
    if department_id is None:
        return []
    return list(
        User.objects.filter(
            is_active=True,
            assignments__department_id=department_id,
            assignments__role__in=[Role.HANDLER, Role.FUNCTIONAL_WORKER],
        ).distinct()
    )


def region_staff(path: str, roles: Iterable[str]) -> list[User]:
    """Users holding one of `roles` in the region at `path` or any region above it."""
    if not path:
        return []
    return list(
        User.objects.filter(
            is_active=True,
            assignments__role__in=list(roles),
            assignments__region__path__in=_ancestor_paths(path),
        ).distinct()
    )


def centre_operators(case: Case) -> list[User]:
    if case.path:
        return region_staff(case.path, [Role.OPERATOR])
    return list(
        User.objects.filter(
            Q(assignments__role=Role.OPERATOR) & Q(assignments__region__parent__isnull=True),
            is_active=True,
        ).distinct()
    )


def grid_staff(path: str) -> list[User]:
    """Leader, instructor and full-time worker of the grid containing `path`."""
    roles = [Role.GRID_LEADER, Role.GRID_INSTRUCTOR, Role.GRID_WORKER]
    if not path:
        return []
    return list(
        User.objects.filter(
            is_active=True,
            assignments__role__in=roles,
            assignments__region__path__in=_ancestor_paths(path),
        ).distinct()
    )


def case_handlers(case: Case) -> list[User]:
    if case.department_id is not None:
        return department_staff(case.department_id)
    if case.assigned_path:
        return region_staff(
            case.assigned_path,
            [Role.GRID_LEADER, Role.GRID_INSTRUCTOR, Role.GRID_WORKER, Role.OPERATOR],
        )
    return centre_operators(case)


def notify_reporter(*, case: Case, verb: str, text: str) -> None:
    """In-app for a registered reporter; SMS for a contact number given without an account
    (hotline callers)."""
    if case.reporter_id is not None:
        notify_users(users=[case.reporter], case=case, verb=verb, text=text)
    elif case.reporter_phone_enc:
        from .services.intake import reporter_phone

        sms_send(phone=reporter_phone(case), text=text)


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
