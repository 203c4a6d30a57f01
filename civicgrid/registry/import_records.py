"""Import kinds for work-area records: one kind per record type, `record:<code>`.

Administrators define a record type's fields without code, so its import template is built
from the definition: the subject column, the date, then one column per field. Values are
checked by the same `validate_values` as the forms and the API; subjects and referenced
people, places and organisations are resolved once per batch and must be in the importing
user's scope. Records are written with `record_create` (one audit row each).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from civicgrid.core import crypto
from civicgrid.core.imports import (
    CellError,
    Column,
    KindFamily,
    PreparedRow,
    RowError,
    clean_text,
    id_text,
    parse_date,
    register_family,
)

from . import services
from .choices import FieldType, SubjectKind
from .import_base import RegistryKind
from .models import (
    ID_PURPOSE,
    Building,
    Component,
    Household,
    Organisation,
    Person,
    PublicPlace,
    RecordType,
)
from .permissions import can_write

SUBJECT_HELP = {
    SubjectKind.PERSON: ("身份证号", "人员的身份证号"),
    SubjectKind.HOUSEHOLD: ("户号", "户号"),
    SubjectKind.BUILDING: ("楼栋地址", "楼栋的地址"),
    SubjectKind.PLACE: ("场所名称", "公共场所名称"),
    SubjectKind.ORGANISATION: ("单位名称或信用代码", "统一社会信用代码或单位名称"),
    SubjectKind.COMPONENT: ("部件编码", "16位部件编码"),
}


def _raw(value: Any) -> Any:
    """Record values keep dates and numbers as cells gave them; validate_values decides."""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return clean_text(value) if isinstance(value, str) else value


def _bool(value: Any) -> Any:
    return {"是": True, "否": False, "有": True, "无": False}.get(clean_text(value), value)


def _field_column(d: dict) -> Column:
    parser = _bool if d["type"] == FieldType.BOOL else _raw
    help_text = "、".join(d.get("choices", [])) or FieldType(d["type"]).label
    return Column(f"v_{d['name']}", d["label"], (d["name"],), d["required"], parser,
                  help=str(help_text))  # fmt: skip


class RecordKind(RegistryKind):
    """Base of the generated kinds; `record_type_id` and the columns come from the row."""

    record_type_id: int = 0
    subject_kind: str = ""
    field_defs: tuple[dict, ...] = ()
    update_existing = False

    def __init__(self, *, actor: Any = None) -> None:
        super().__init__(actor=actor)
        self.record_type = RecordType.objects.select_related("area").get(pk=self.record_type_id)

    def validate_row(self, row: dict[str, Any], number: int) -> tuple[dict[str, Any], list]:
        cleaned, errors = super().validate_row(row, number)
        values = {d["name"]: cleaned.get(f"v_{d['name']}") for d in self.field_defs}
        values = {k: v for k, v in values.items() if v not in (None, "")}
        try:
            cleaned["_values"] = services_validate(list(self.field_defs), values)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                name = key.split(".", 1)[-1]
                label = next((d["label"] for d in self.field_defs if d["name"] == name), name)
                if not any(e.column == label for e in errors):
                    errors.append(RowError(number, label, "bad_value", messages[0]))
        return cleaned, errors

    def validate_batch(self, rows: list[PreparedRow]) -> None:
        if not self.record_type.is_active or not self.record_type.area.is_active:
            for row in rows:
                self.refuse(row, "subject", "inactive", "该台账类型已停用")
            return
        subjects = find_subjects(self.subject_kind, {r.cleaned["subject"] for r in rows})
        refs = self._references(rows)
        for row in rows:
            subject = subjects.get(row.cleaned["subject"])
            if subject is None:
                self.refuse(row, "subject", "unknown_subject", f"未找到“{row.cleaned['subject']}”")
            elif subject is _AMBIGUOUS:
                self.refuse(row, "subject", "ambiguous", "对应多个对象，请改用编码或证件号")
            elif self.user is None or not can_write(self.scope, subject.unit_path):
                self.refuse(row, "subject", "no_permission", "该对象不在您的登记权限范围内")
            else:
                row.cleaned["_subject"] = subject
                self._check_references(row, refs)

    def _references(self, rows: list[PreparedRow]) -> set[tuple[str, int]]:
        """(type, id) pairs referenced by the batch that exist in the user's scope."""
        wanted: dict[str, set[int]] = {}
        for row in rows:
            for d in self.field_defs:
                value = row.cleaned["_values"].get(d["name"])
                if d["type"] in REFERENCE_MODELS and value is not None:
                    wanted.setdefault(d["type"], set()).add(value)
        found: set[tuple[str, int]] = set()
        for ftype, ids in wanted.items():
            for model in REFERENCE_MODELS[ftype]:
                pks = model.objects.for_scope(self.scope).filter(pk__in=ids)
                found |= {(ftype, pk) for pk in pks.values_list("pk", flat=True)}
        return found

    def _check_references(self, row: PreparedRow, refs: set[tuple[str, int]]) -> None:
        for d in self.field_defs:
            value = row.cleaned["_values"].get(d["name"])
            if (
                d["type"] in REFERENCE_MODELS
                and value is not None
                and (d["type"], value) not in refs
            ):
                self.refuse(row, f"v_{d['name']}", "unknown_reference", "对象不存在或无权查看")

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            services.record_create(
                user=self.user, record_type=self.record_type, subject=row.cleaned["_subject"],
                values=row.cleaned["_values"], occurred_on=row.cleaned.get("occurred_on"),
            )  # fmt: skip

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return None


def services_validate(defs: list[dict], values: dict[str, Any]) -> dict[str, Any]:
    from .fields import validate_values

    return validate_values(defs, values)


REFERENCE_MODELS: dict[str, tuple[type, ...]] = {
    FieldType.PERSON: (Person,),
    FieldType.PLACE: (Building, PublicPlace),
    FieldType.ORGANISATION: (Organisation,),
}
_AMBIGUOUS: Any = object()


def find_subjects(kind: str, texts: set[str]) -> dict[str, Any]:
    """Subjects by what an office writes for them, in one query; duplicates → _AMBIGUOUS."""
    texts = {t for t in texts if t}
    if kind == SubjectKind.PERSON:
        index = {crypto.blind_index(t, purpose=ID_PURPOSE): t for t in texts}
        return {index[p.id_number_bidx]: p for p in Person.objects.filter(id_number_bidx__in=index)}
    lookups = {
        SubjectKind.HOUSEHOLD: (Household, ("number",)),
        SubjectKind.BUILDING: (Building, ("address", "name")),
        SubjectKind.PLACE: (PublicPlace, ("name",)),
        SubjectKind.ORGANISATION: (Organisation, ("uscc", "name")),
        SubjectKind.COMPONENT: (Component, ("code",)),
    }
    model, fields = lookups[kind]
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__in": texts})
    found: dict[str, Any] = {}
    for obj in model.objects.filter(query):
        for field in fields:
            key = getattr(obj, field)
            if key in texts:
                found[key] = _AMBIGUOUS if key in found and found[key] != obj else obj
    return found


def _subject_parser(kind: str) -> Any:
    if kind == SubjectKind.PERSON:
        return _person_id
    return lambda value: clean_text(value)[:200]


def _person_id(value: Any) -> str:
    number = id_text(value)
    try:
        return services.identity_parse(id_number=number).number
    except ValidationError as exc:
        raise CellError("id_checksum", exc.messages[0]) from None


@lru_cache(maxsize=256)
def _build(code: str, pk: int, subject_kind: str, fields_key: str, name: str) -> type:
    import json

    defs = tuple(json.loads(fields_key))
    label, help_text = SUBJECT_HELP[subject_kind]
    columns = (
        Column("subject", label, ("对象", "登记对象"), True, _subject_parser(subject_kind),
               help=help_text),
        Column("occurred_on", "日期", ("登记日期", "发生日期", "记录日期"), False, parse_date,
               example="2024-05-06", help="不填为今天"),
        *(_field_column(d) for d in defs),
    )  # fmt: skip
    attrs = {"name": f"record:{code}", "label": f"台账·{name}", "columns": columns,
             "record_type_id": pk, "subject_kind": subject_kind, "field_defs": defs}  # fmt: skip
    return type(f"RecordKind_{code}", (RecordKind,), attrs)


def build_record_kind(code: str) -> type:
    import json

    rt = RecordType.objects.filter(code=code).first()
    if rt is None:
        raise LookupError(f"unknown record type {code!r}")
    return _build(rt.code, rt.pk, rt.subject_kind, json.dumps(rt.fields, sort_keys=True), rt.name)


def record_type_codes() -> Iterable[str]:
    return RecordType.objects.filter(is_active=True).values_list("code", flat=True)


register_family(KindFamily("record", build_record_kind, record_type_codes))
