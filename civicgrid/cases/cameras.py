"""Cameras (看, J5): the registry of surveillance points, their device keys, and events raised
from a camera — by an operator on its page or by an analytics system through the API.

A camera event is an ordinary case (source `camera`) at the camera's position and unit grid,
with the snapshot as its first photo; it is located, deduplicated and routed like any report.
Device keys are shown once and stored as a SHA-256 only (like personal API tokens).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import scope_of
from civicgrid.core.audit import audit_record
from civicgrid.core.models import AuditAction

from .choices import AttachmentKind, Source
from .models import Camera, Category, hash_device_key
from .permissions import CENTRE_ROLES, CaseNotFound
from .services.intake import Reported, case_report_with_photos, place
from .workflow import CaseConflict

KEY_PREFIX = "cgcam_"


class DeviceKeyRevoked(PermissionDenied):
    """The key belongs to a camera that has been switched off (HTTP 403)."""


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _check_point(lat: float, lng: float) -> None:
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lat, lng))
    if not ok or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"lat": ["经纬度超出范围"]}, code="position")


def camera_create(
    *, code: str, name: str, lat: float, lng: float, address: str = "", actor=None
) -> tuple[Camera, str]:
    """Register a camera, located to its unit grid; returns (camera, raw device key)."""
    code, name = (code or "").strip()[:30], (name or "").strip()[:100]
    if not code or not name:
        raise ValidationError({"code": ["请填写编号和名称"]}, code="required")
    _check_point(lat, lng)
    spot = place(lat=lat, lng=lng)
    raw = _new_key()
    with transaction.atomic():
        camera = Camera.objects.create(
            code=code, name=name, lat=lat, lng=lng, address=(address or "")[:200],
            unit=spot.unit, path=spot.path, key_hash=hash_device_key(raw), key_prefix=raw[:10],
        )  # fmt: skip
        audit_record(action=AuditAction.CREATE, obj=camera, actor=actor,
                     changes={"code": code, "path": spot.path})  # fmt: skip
    return camera, raw


class KeyChanged(CaseConflict):
    """The key was rotated (or the camera switched off) by someone else since the page was
    drawn: nothing changed, HTTP 409."""

    def __init__(self, message: str = "该设备密钥已被他人更换,请刷新后再试"):
        super().__init__(message)


def camera_key_rotate(*, camera: Camera, actor=None, expected_prefix: str | None = None) -> str:
    """A new device key; the old one stops working at once (the next request looks the key up
    by its hash, nothing is cached). Also re-enables the camera. Returns the raw key, which
    is never stored: the caller shows it once.

    Compare-and-set on the key hash the caller loaded, so two operators pressing "rotate" at
    the same time do not both believe their key is the live one: the second gets KeyChanged.
    `expected_prefix` is the prefix the caller's page showed (checked against the row too)."""
    if expected_prefix is not None and expected_prefix != camera.key_prefix:
        raise KeyChanged()
    raw = _new_key()
    with transaction.atomic():
        rows = Camera.objects.filter(pk=camera.pk, key_hash=camera.key_hash).update(
            key_hash=hash_device_key(raw), key_prefix=raw[:10], is_active=True,
            updated_at=timezone.now(),
        )  # fmt: skip
        if rows != 1:
            raise KeyChanged()
        audit_record(action=AuditAction.TOKEN, obj=camera, actor=actor,
                     changes={"rotated": [camera.key_prefix, raw[:10]]})  # fmt: skip
    camera.key_hash, camera.key_prefix, camera.is_active = hash_device_key(raw), raw[:10], True
    return raw


def camera_revoke(*, camera: Camera, actor=None, expected_prefix: str | None = None) -> None:
    """Switch a camera off: its key is refused (403) until rotated. Compare-and-set on the
    key and the "on" state the caller saw: a camera someone else switched off or re-keyed
    since the page was drawn raises KeyChanged and nothing is written."""
    if expected_prefix is not None and expected_prefix != camera.key_prefix:
        raise KeyChanged(OFF_CHANGED)
    with transaction.atomic():
        rows = Camera.objects.filter(pk=camera.pk, key_hash=camera.key_hash, is_active=True).update(
            is_active=False, updated_at=timezone.now()
        )
        if rows != 1:
            raise KeyChanged(OFF_CHANGED)
        audit_record(action=AuditAction.TOKEN, obj=camera, actor=actor,
                     changes={"revoked": camera.key_prefix})  # fmt: skip
    camera.is_active = False


OFF_CHANGED = "该监控点位已被他人停用或更换密钥,请刷新后再试"


def camera_authenticate(*, raw: str) -> Camera | None:
    """The camera whose device key is `raw`; None for an unknown key; DeviceKeyRevoked for a
    camera that has been switched off."""
    if not raw or len(raw) > 200:
        return None
    camera = Camera.objects.select_related("unit").filter(key_hash=hash_device_key(raw)).first()
    if camera is None:
        return None
    if not camera.is_active:
        raise DeviceKeyRevoked("该监控设备已停用,密钥无效")
    return camera


# --- events ------------------------------------------------------------------------------------


def _title(category: Category, camera: Camera) -> str:
    return f"{category.name}(监控 {camera.code})"[:100]


def camera_event_report(
    *,
    camera: Camera,
    category: Category,
    snapshot=None,
    description: str = "",
    idempotency_key: str = "",
    actor=None,
    now: dt.datetime | None = None,
) -> Reported:
    """One event seen on `camera`. `actor` is the operator who raised it (None: the device).
    Keys are namespaced per camera, so two devices cannot collide on the same key."""
    key = (idempotency_key or "").strip()
    key = f"cam{camera.pk}:{key}"[:64] if key else ""
    reported = case_report_with_photos(
        files=[snapshot] if snapshot is not None else [],
        photo_kind=AttachmentKind.SNAPSHOT,
        source=Source.CAMERA,
        title=_title(category, camera),
        description=description,
        category=category,
        lat=camera.lat,
        lng=camera.lng,
        address=camera.address or camera.name,
        unit=camera.unit,
        actor=actor,
        idempotency_key=key,
        camera=camera,
        now=now,
    )
    if reported.created:
        Camera.objects.filter(pk=camera.pk).update(last_event_at=reported.case.created_at)
    return reported


# --- reads -------------------------------------------------------------------------------------


def camera_list(*, user):
    return Camera.objects.for_scope(scope_of(user)).select_related("unit")


def camera_get(*, user, pk: int) -> Camera:
    camera = camera_list(user=user).filter(pk=pk).first()
    if camera is None:
        raise CaseNotFound("监控点位不存在或不在您的权限范围内")
    return camera


# Who may see and rotate device keys: system administrators and command-centre operators of a
# region covering the camera (J5: the operator hands the new key to the analytics vendor).
KEY_ROLES = frozenset({Role.ADMIN, Role.OPERATOR})


def camera_key_list(*, user):
    """Cameras whose keys `user` may manage: under a region where they are administrator or
    operator (superusers: all, including cameras placed nowhere)."""
    scope = scope_of(user)
    if scope.is_global:
        return Camera.objects.select_related("unit")
    paths = {path for role, path, _ in scope.assignments if role in KEY_ROLES and path}
    if not paths:
        return Camera.objects.none()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return Camera.objects.filter(q).exclude(path="").select_related("unit")


def may_manage_keys(user) -> bool:
    scope = scope_of(user)
    return scope.is_global or bool(scope.roles & KEY_ROLES)


def camera_key_get(*, user, pk: int) -> Camera:
    camera = camera_key_list(user=user).filter(pk=pk).first()
    if camera is None:
        raise CaseNotFound("监控点位不存在或不在您的权限范围内")
    return camera


def may_raise_events(user, camera: Camera) -> bool:
    """Operators of a region covering the camera (and superusers) raise events from it."""
    scope = scope_of(user)
    if scope.is_global:
        return True
    return any(
        role in CENTRE_ROLES and path and camera.path.startswith(path)
        for role, path, _ in scope.assignments
    )
