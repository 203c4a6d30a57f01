"""Typed field definitions that administrators write without code, and the validation of
values against them. Used by work-area record types and by special-group tag data.

A definition is a list of ``{"name", "label", "type", "required", "choices"?}``. Values are a
flat JSON object; a value is stored in its canonical form (dates as ISO text, numbers as
numbers, references as integer ids). Every refusal names the field and has a code.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.core.idnumbers import IdNumberError, normalise_phone

from .choices import FieldType

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 50
MAX_TEXT = 2000
MAX_CHOICES = 100
REFERENCE_TYPES = {FieldType.PERSON, FieldType.PLACE, FieldType.ORGANISATION}


def validate_definitions(defs: Any) -> list[dict]:
    """Check an administrator's field list; return it in canonical form."""
    if not isinstance(defs, list) or len(defs) > MAX_FIELDS:
        message = _("字段定义应为列表,最多 %(max)s 项") % {"max": MAX_FIELDS}
        raise ValidationError({"fields": [message]}, code="fields")
    out, seen = [], set()
    for i, d in enumerate(defs):
        n = {"n": i + 1}
        if not isinstance(d, dict):
            raise ValidationError({"fields": [_("第%(n)s个字段格式不正确") % n]}, code="fields")
        name, ftype = d.get("name"), d.get("type")
        if not isinstance(name, str) or not NAME_RE.match(name) or name in seen:
            raise ValidationError(
                {"fields": [_("第%(n)s个字段的名称须为小写字母开头的英文标识且不重复") % n]},
                code="fields",
            )
        if ftype not in FieldType.values:
            raise ValidationError({"fields": [_("第%(n)s个字段的类型未知") % n]}, code="fields")
        label = str(d.get("label") or name)[:100]
        item = {"name": name, "label": label, "type": ftype, "required": bool(d.get("required"))}
        if ftype == FieldType.CHOICE:
            choices = d.get("choices")
            if (
                not isinstance(choices, list)
                or not 0 < len(choices) <= MAX_CHOICES
                or not all(isinstance(c, str) and 0 < len(c) <= 100 for c in choices)
            ):
                message = _("第%(n)s个字段须给出选项列表") % n
                raise ValidationError({"fields": [message]}, code="fields")
            item["choices"] = choices
        seen.add(name)
        out.append(item)
    return out


def _text(value: Any, d: dict) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(_("应为文本"))
    text = str(value).strip()
    if _CONTROL.search(text):
        raise ValueError(_("不能包含控制字符"))
    if len(text) > MAX_TEXT:
        raise ValueError(_("不能超过 %(max)s 字") % {"max": MAX_TEXT})
    return text


def _number(value: Any, d: dict) -> int | float:
    if isinstance(value, bool):
        raise ValueError(_("应为数字"))
    if isinstance(value, str):
        value = value.strip()
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError as exc:
            raise ValueError(_("应为数字")) from exc
    if not isinstance(value, (int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValueError(_("应为数字"))
    if abs(value) > 1e12:
        raise ValueError(_("数值过大"))
    return value


def _date(value: Any, d: dict) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(_("应为日期(YYYY-MM-DD)"))
    try:
        parsed = dt.date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise ValueError(_("应为日期(YYYY-MM-DD)")) from exc
    if not dt.date(1880, 1, 1) <= parsed <= dt.date(2200, 1, 1):
        raise ValueError(_("日期超出范围"))
    return parsed.isoformat()


def _choice(value: Any, d: dict) -> str:
    if value not in d.get("choices", []):
        raise ValueError(_("不在可选范围内"))
    return value


def _bool(value: Any, d: dict) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("是", "true", "1", 1, "yes"):
        return True
    if value in ("否", "false", "0", 0, "no"):
        return False
    raise ValueError(_("应为 是/否"))


def _phone(value: Any, d: dict) -> str:
    try:
        return normalise_phone(value)
    except IdNumberError as exc:
        raise ValueError(exc.message) from exc


def _reference(value: Any, d: dict) -> int:
    if isinstance(value, bool):
        raise ValueError(_("应为编号"))
    try:
        pk = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(_("应为编号")) from exc
    if not 0 < pk < 2**63:
        raise ValueError(_("编号无效"))
    return pk


CONVERTERS: dict[str, Callable[[Any, dict], Any]] = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.CHOICE: _choice,
    FieldType.BOOL: _bool,
    FieldType.PHONE: _phone,
    FieldType.PERSON: _reference,
    FieldType.PLACE: _reference,
    FieldType.ORGANISATION: _reference,
}


def validate_values(
    defs: list[dict],
    values: Any,
    *,
    resolve: Callable[[str, int], bool] | None = None,
    field_prefix: str = "values",
) -> dict[str, Any]:
    """Values in canonical form, or a ValidationError keyed `<prefix>.<name>` per field.

    Unknown keys are refused (a typo must not silently lose data). `resolve(type, id)` says
    whether a referenced person/place/organisation exists *and is in the caller's scope*.
    """
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({field_prefix: [_("应为对象")]}, code="invalid_values")
    errors: dict[str, list[ValidationError]] = {}
    known = {d["name"] for d in defs}
    for key in values:
        if key not in known:
            errors[f"{field_prefix}.{str(key)[:40]}"] = [
                ValidationError(_("未定义的字段"), code="unknown_field")
            ]
    out: dict[str, Any] = {}
    for d in defs:
        key, raw = d["name"], values.get(d["name"])
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if d["required"]:
                errors[f"{field_prefix}.{key}"] = [
                    ValidationError(_("%(label)s:必填") % {"label": d["label"]}, code="required")
                ]
            continue
        try:
            value = CONVERTERS[d["type"]](raw, d)
            if (
                d["type"] in REFERENCE_TYPES
                and resolve is not None
                and not resolve(d["type"], value)
            ):
                raise ValueError(_("对象不存在或不在您的权限范围内"))
        except ValueError as exc:
            errors[f"{field_prefix}.{key}"] = [
                ValidationError(
                    _("%(label)s:%(error)s") % {"label": d["label"], "error": exc},
                    code="invalid_value",
                )
            ]
            continue
        out[key] = value
    if errors:
        raise ValidationError(errors)
    return out
