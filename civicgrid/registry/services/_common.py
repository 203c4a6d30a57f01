"""Helpers shared by the registry services: coded errors, audit snapshots, coordinates."""

from __future__ import annotations

import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from civicgrid.core.audit import audit_record, diff, snapshot
from civicgrid.core.idnumbers import IdNumberError
from civicgrid.grids.models import Region


def field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def coded(field: str, exc: IdNumberError) -> ValidationError:
    return field_error(field, exc.message, exc.code)


def require_unit(unit: Region | None) -> Region:
    if unit is None:
        raise field_error("unit", "请选择基础网格单元", "required")
    if unit.level != "unit":
        raise field_error("unit", "只能登记到基础网格单元", "invalid_unit")
    return unit


def check_coords(lat: float | None, lng: float | None) -> None:
    """Both or neither; finite; on the globe. Phones sometimes send 0,0 for "no fix"."""
    if lat is None and lng is None:
        return
    if lat is None or lng is None:
        raise field_error("lat", "经纬度须同时填写", "invalid_coordinates")
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise field_error("lat", "经纬度超出范围", "invalid_coordinates")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(field: str, value: str) -> None:
    """Control characters (NUL above all, which PostgreSQL refuses) are refused up front."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise field_error(field, "不能包含控制字符", "invalid_text")


def clean_model(obj: models.Model, exclude: list[str] | None = None) -> None:
    """Model field validation (lengths, choices) without the unique/constraint queries, which
    the services check themselves with clearer messages."""
    for f in obj._meta.concrete_fields:
        if isinstance(f, (models.CharField, models.TextField)):
            check_text(f.name, getattr(obj, f.attname))
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def audit_create(obj: models.Model, fields: tuple[str, ...], user: Any, **extra: Any) -> None:
    after = {**snapshot(obj, fields), **extra}
    audit_record(action="create", obj=obj, changes={"after": after}, actor=user)


def audit_change(
    obj: models.Model, before: dict[str, Any], after: dict[str, Any], user: Any
) -> None:
    changed = diff(before, after)
    if changed:
        audit_record(
            action="change",
            obj=obj,
            changes={"before": {k: v[0] for k, v in changed.items()},
                     "after": {k: v[1] for k, v in changed.items()}},
            actor=user,
        )  # fmt: skip


def apply_changes(obj: models.Model, changes: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise field_error(sorted(unknown)[0], "该字段不可修改", "not_editable")
    for key, value in changes.items():
        setattr(obj, key, value)
