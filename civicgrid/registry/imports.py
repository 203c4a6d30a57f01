"""Import kinds of the registry: people (实有人口) and households here; places,
organisations, components and work-area records in `import_places` / `import_records`.

People go through a bulk path, not `person_create` per row: a street's register has tens of
thousands of rows and the service's three queries and audit row per person would make a
million-row import take hours. The bulk path keeps the service's rules: the same
`identity_parse` / `phone_parse` validation, AES-GCM encryption and keyed blind index, the
UNIQUE index on the ID, write scope per unit grid, and one audit row per person created or
changed with what `person_create` / `person_update` would log (masked numbers, the changed
fields, tags added), appended for the whole batch at once by `audit_record_many`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from civicgrid.core import crypto
from civicgrid.core.audit import AuditEntry, audit_record_many, diff, snapshot
from civicgrid.core.imports import (
    CellError,
    Column,
    PreparedRow,
    RowError,
    choice,
    id_text,
    parse_date,
    register,
)
from civicgrid.core.imports.errors import DUPLICATE_IN_DB

from . import services
from .choices import TAG_SPECS, Relation, Residency
from .import_base import (
    BUILDING_COLUMN,
    NO_PLACE,
    ROOM_COLUMN,
    UNIT_COLUMN,
    PlacementMixin,
    RegistryKind,
    text,
)
from .models import ID_PURPOSE, PHONE_PURPOSE, Household, Person, PersonTag, Room
from .services._common import audit_change
from .services.people import PERSON_AUDIT

SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "男性": "M", "女性": "F"}
RESIDENCY = {
    "户籍人口": Residency.REGISTERED, "户籍": Residency.REGISTERED, "常住": Residency.REGISTERED,
    "常住人口": Residency.REGISTERED, "流动人口": Residency.FLOATING, "流动": Residency.FLOATING,
    "外来人口": Residency.FLOATING, "暂住": Residency.FLOATING, "境外人员": Residency.OVERSEAS,
    "境外": Residency.OVERSEAS, "境外人口": Residency.OVERSEAS,
}  # fmt: skip
RELATION = {
    **{str(label): value for value, label in Relation.choices},
    "本人": Relation.HEAD, "户主本人": Relation.HEAD, "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE, "妻子": Relation.SPOUSE, "丈夫": Relation.SPOUSE,
    "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD, "女儿": Relation.CHILD,
    "长子": Relation.CHILD, "长女": Relation.CHILD, "次子": Relation.CHILD,
    "次女": Relation.CHILD, "父亲": Relation.PARENT, "母亲": Relation.PARENT,
    "父": Relation.PARENT, "母": Relation.PARENT, "祖父": Relation.GRANDPARENT,
    "祖母": Relation.GRANDPARENT, "外祖父": Relation.GRANDPARENT,
    "外祖母": Relation.GRANDPARENT, "孙子": Relation.GRANDCHILD, "孙女": Relation.GRANDCHILD,
    "外孙": Relation.GRANDCHILD, "外孙女": Relation.GRANDCHILD, "兄": Relation.SIBLING,
    "弟": Relation.SIBLING, "姐": Relation.SIBLING, "妹": Relation.SIBLING,
}  # fmt: skip
TAG_BY_LABEL = {spec.label: kind for kind, spec in TAG_SPECS.items()}
_TAG_SPLIT = re.compile(r"[、,，;；/\s]+")
ERROR_COLUMNS = {"id_number": "身份证号", "birth_date": "出生日期", "sex": "性别",
                 "phone": "联系电话"}  # fmt: skip
PERSON_FIELDS = ("name", "sex", "birth_date", "residency", "ethnicity", "address",
                 "registered_address", "notes")  # fmt: skip


def parse_phone(value: Any) -> str:
    try:
        return services.phone_parse(id_text(value))
    except ValidationError as exc:
        raise CellError("phone_format", _first_message(exc)) from None


def parse_tags(value: Any) -> tuple[str, ...]:
    """`独居老人、低保` → kinds; a group with required fields of its own cannot be imported
    as a bare label (its fields would be missing), so it is refused with a clear reason."""
    kinds = []
    for label in (p for p in _TAG_SPLIT.split(text(200)(value)) if p):
        kind = TAG_BY_LABEL.get(label)
        if kind is None:
            allowed = "、".join(TAG_BY_LABEL)
            raise CellError("bad_choice", f"“{label}”不是人群类别（可选：{allowed}）")
        if any(f["required"] for f in TAG_SPECS[kind].fields):
            raise CellError("tag_needs_fields", f"“{label}”有必填的专项信息，请在人员页面逐人标记")
        kinds.append(kind)
    return tuple(dict.fromkeys(kinds))


def _first_message(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else str(exc)


def _first_code(exc: ValidationError) -> tuple[str, str]:
    """(field, code) of the first error of a service ValidationError."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        return field, errors[0].code or "invalid"
    return "", exc.error_list[0].code or "invalid"


@register
class PersonKind(PlacementMixin, RegistryKind):
    """实有人口: one row per person, keyed by the ID number (the same person twice in a file
    is refused; a person already registered is updated where the row says something)."""

    name = "person"
    label = "实有人口"
    columns = (
        Column("name", "姓名", ("居民姓名", "人员姓名", "姓 名"), True, text(50), example="王秀英"),
        Column("id_number", "身份证号", ("公民身份号码", "身份证号码", "证件号码", "身份证"), True,
               id_text, example="320803195803020021", help="18位，末位X大小写均可；请设为文本格式"),
        Column("sex", "性别", (), False, choice(SEX), example="女", help="可不填，按身份证号"),
        Column("birth_date", "出生日期", ("出生年月日", "出生年月"), False, parse_date,
               example="1958-03-02", help="可不填，按身份证号；填写时须与身份证号一致"),
        Column("phone", "联系电话", ("手机号码", "手机", "电话", "联系方式", "手机号"), False,
               parse_phone, example="13812345678"),
        Column("residency", "人口类别", ("人员类别", "人口类型", "户籍类别"), False,
               choice(RESIDENCY), example="户籍人口", help="户籍人口、流动人口、境外人员"),
        Column("ethnicity", "民族", (), False, text(20), example="汉族"),
        UNIT_COLUMN,
        BUILDING_COLUMN,
        ROOM_COLUMN,
        Column("address", "现住地址", ("居住地址", "现居住地址", "住址", "地址"), False, text(200),
               example="估衣街3号2单元501室"),
        Column("registered_address", "户籍地址", ("户籍地", "户籍所在地", "户口所在地"), False,
               text(200), example="江苏省淮安市淮安区河下街道"),
        Column("household", "户号", ("户编号", "户口本编号"), False, text(32), example="HX0001",
               help="同一户号的人归入同一户；户号不存在时自动建户"),
        Column("relation", "与户主关系", ("关系",), False, choice(RELATION), example="户主"),
        Column("tags", "人群标签", ("特殊人群", "重点人群", "标签"), False, parse_tags,
               example="独居老人", help="多个用顿号分隔；有必填专项信息的类别请在页面标记"),
        Column("notes", "备注", (), False, text(1000)),
    )  # fmt: skip
    instructions = (
        "同一身份证号只能出现一次；系统中已登记的人员会按本行更新，空白单元格不覆盖原有信息。",
        "网格编码、楼栋+房号、户号至少填写一项，用于确定所在的基础网格单元。",
    )

    def __init__(self, *, actor: Any = None) -> None:
        super().__init__(actor=actor)
        self.new_rooms: dict[tuple, Room] = {}
        self.new_households: dict[str, Household] = {}
        self.batch_bidx: dict[Hashable, str] = {}

    def key_column(self) -> str:
        return "身份证号"

    def validate_row(self, row: dict[str, Any], number: int) -> tuple[dict[str, Any], list]:
        cleaned, errors = super().validate_row(row, number)
        if cleaned.get("id_number") and not any(e.column in ERROR_COLUMNS.values() for e in errors):
            try:
                ident = services.identity_parse(
                    id_number=cleaned["id_number"], sex=cleaned.get("sex") or "",
                    birth_date=cleaned.get("birth_date"),
                    residency=cleaned.get("residency") or "",
                )  # fmt: skip
            except ValidationError as exc:
                field, code = _first_code(exc)
                column = ERROR_COLUMNS.get(field, "身份证号")
                errors.append(RowError(number, column, code, _first_message(exc)))
            else:
                cleaned.update(id_number=ident.number, sex=ident.sex, birth_date=ident.birth_date)
        return cleaned, errors

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return cleaned["id_number"]

    # --- per batch --------------------------------------------------------------------------
    def validate_batch(self, rows: list[PreparedRow]) -> None:
        self.load_units({r.cleaned.get("unit") for r in rows} - {None})
        self.load_places(rows)
        for row in rows:
            self._place(row)

    def _place(self, row: PreparedRow) -> None:
        unit, building = self.place_of(row)
        if row.errors:
            return
        household = self._household(row, unit)
        if row.errors:
            return
        if household is not None and unit is None:
            unit = household.unit
        if unit is None:
            self.refuse(row, "unit", NO_PLACE, "网格编码、楼栋房号、户号至少填写一项")
            return
        if self.check_writable(row, unit):
            row.cleaned["_unit"], row.cleaned["_building"] = unit, building
            row.cleaned["_household"] = household

    def _household(self, row: PreparedRow, unit: Any) -> Household | None:
        number = row.cleaned.get("household")
        if not number:
            return None
        found = self.households.get(number, [])
        if unit is not None:
            found = [h for h in found if h.unit_id == unit.pk] or found
        if len(found) > 1:
            self.refuse(
                row, "household", "ambiguous", f"户号“{number}”对应多户，请同时填写网格编码"
            )
            return None
        if found and unit is not None and found[0].unit_id != unit.pk:
            self.refuse(row, "household", "unit_mismatch", f"户号“{number}”不在所填网格单元内")
            return None
        return found[0] if found else None

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        index = {crypto.blind_index(str(k), purpose=ID_PURPOSE): k for k in keys}
        # Kept for this batch's inserts (_new), so each ID's HMAC is computed once.
        self.batch_bidx = {k: bidx for bidx, k in index.items()}
        people = Person.objects.filter(id_number_bidx__in=list(index))
        return {index[p.id_number_bidx]: p for p in people}

    def check_existing(self, row: PreparedRow) -> list[RowError]:
        person: Person = row.existing
        if self.user is not None and self.check_path(person.unit_path):
            return []
        message = "该证件号码已在其他网格登记，请联系所在网格核实"
        return [RowError(row.number, "身份证号", DUPLICATE_IN_DB, message)]

    def check_path(self, path: str) -> bool:
        from .permissions import can_write

        return can_write(self.scope, path)

    # --- writing ----------------------------------------------------------------------------
    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            row.cleaned["_room"] = self._room(row)
            row.cleaned["_household"] = self._ensure_household(row)
        created = [self._new(row) for row in rows if not row.is_update]
        Person.objects.bulk_create(created, batch_size=500)
        updated = [r for r in rows if r.is_update]
        before = {r.existing.pk: _audit_view(r.existing) for r in updated}
        self._update(updated)
        self._set_heads(rows, created)
        tags = self._tag(rows, created)
        audit_record_many(self._audit_entries(rows, created, before, tags), actor=self.user)

    def _audit_entries(
        self, rows: list[PreparedRow], created: list[Person], before: dict, tags: dict
    ) -> list[AuditEntry]:
        """One row per person, as the services log it; tags added ride along."""
        people, entries = iter(created), []
        for row in rows:
            person = row.existing if row.is_update else next(people)
            changes = self._audit_changes(row, person, before.get(person.pk))
            if person.pk in tags:
                changes["tags_added"] = tags[person.pk]
            if row.is_update and set(changes) == {"import", "row"}:
                continue  # nothing changed: person_update would not log either
            action = "change" if row.is_update else "create"
            entries.append(
                AuditEntry(action, "registry.person", str(person.pk), str(person), changes)
            )
        return entries

    def _audit_changes(self, row: PreparedRow, person: Person, before: dict | None) -> dict:
        """A new person's masked view, or the before/after of the fields the row changed."""
        source = {"import": self.name, "row": row.number}
        if before is not None:
            changed = diff(before, _audit_view(person))
            if not changed:
                return source
            old = {k: v[0] for k, v in changed.items()}
            return {"before": old, "after": {k: v[1] for k, v in changed.items()}, **source}
        c = row.cleaned
        after = {**snapshot(person, PERSON_AUDIT),
                 "id_number": crypto.mask_id_number(c["id_number"]),
                 "phone": crypto.mask_phone(c.get("phone") or "")}  # fmt: skip
        return {"after": after, **source}

    def _room(self, row: PreparedRow) -> Room | None:
        key = self.room_key(row, row.cleaned["_building"])
        if key is None:
            return None
        room = self.rooms.get(key) or self.new_rooms.get(key)
        if room is None:
            room = services.room_create(
                user=self.user, building=row.cleaned["_building"], entrance=key[1], number=key[2]
            )
            self.new_rooms[key] = room
        return room

    def _ensure_household(self, row: PreparedRow) -> Household | None:
        number = row.cleaned.get("household")
        if row.cleaned["_household"] is not None or not number:
            return row.cleaned["_household"]
        if number not in self.new_households:
            room = row.cleaned["_room"]
            self.new_households[number] = services.household_create(
                user=self.user, room=room, unit=None if room else row.cleaned["_unit"],
                number=number, address=row.cleaned.get("address") or "",
            )  # fmt: skip
        return self.new_households[number]

    def _new(self, row: PreparedRow) -> Person:
        c = row.cleaned
        room, household = c["_room"], c["_household"]
        unit = room.unit if room else c["_unit"]
        person = Person(
            name=c["name"], unit=unit, unit_path=unit.path, room=room, household=household,
            relation=c.get("relation") or "", residency=c.get("residency") or Residency.REGISTERED,
            ethnicity=c.get("ethnicity") or "", address=c.get("address") or "",
            registered_address=c.get("registered_address") or "", notes=c.get("notes") or "",
            sex=c["sex"], birth_date=c["birth_date"],
        )  # fmt: skip
        person.id_number_enc = crypto.encrypt(c["id_number"], purpose=ID_PURPOSE)
        person.id_number_bidx = self.batch_bidx.get(c["id_number"]) or crypto.blind_index(
            c["id_number"], purpose=ID_PURPOSE
        )
        phone = c.get("phone") or ""
        person.phone_enc = crypto.encrypt(phone, purpose=PHONE_PURPOSE)
        person.phone_bidx = services.phone_index(phone)
        return person

    def _update(self, rows: list[PreparedRow]) -> None:
        """Non-blank cells overwrite; blank cells keep what the register already holds."""
        fields: set[str] = set()
        for row in rows:
            person, c = row.existing, row.cleaned
            for name in PERSON_FIELDS:
                if c.get(name) not in (None, ""):
                    setattr(person, name, c[name])
                    fields.add(name)
            if c.get("relation"):
                person.relation = c["relation"]
                fields.add("relation")
            if c.get("phone"):
                person.phone_enc = crypto.encrypt(c["phone"], purpose=PHONE_PURPOSE)
                person.phone_bidx = services.phone_index(c["phone"])
                fields.update(("phone_enc", "phone_bidx"))
            fields.update(self._move(person, c))
        if rows and fields:
            now = timezone.now()
            for row in rows:
                row.existing.updated_at = now
            Person.objects.bulk_update([r.existing for r in rows], [*fields, "updated_at"])

    @staticmethod
    def _move(person: Person, c: dict[str, Any]) -> set[str]:
        room, household = c["_room"], c["_household"]
        given = bool(c.get("unit") or c.get("building") or c.get("room"))
        changed: set[str] = set()
        if household is not None and person.household_id != household.pk:
            person.household, changed = household, {"household"}
        if given or household is not None:
            unit = room.unit if room else c["_unit"]
            if room is not None:
                person.room = room
                changed.add("room")
            person.unit, person.unit_path = unit, unit.path
            changed.update(("unit", "unit_path"))
        return changed

    def _set_heads(self, rows: list[PreparedRow], created: list[Person]) -> None:
        people = iter(created)
        heads: dict[int, Person] = {}
        for row in rows:
            person = row.existing if row.is_update else next(people)
            household = row.cleaned["_household"]
            if household and row.cleaned.get("relation") == Relation.HEAD:
                heads.setdefault(household.pk, person)
        changed = []
        for household in {r.cleaned["_household"] for r in rows} - {None}:
            head = heads.get(household.pk)
            if head is not None and household.head_id is None:
                before = {"head": None}
                household.head = head
                changed.append(household)
                audit_change(household, before, {"head": head.pk}, self.user)
        if changed:
            Household.objects.bulk_update(changed, ["head"])

    def _tag(self, rows: list[PreparedRow], created: list[Person]) -> dict[int, list[str]]:
        """Add the tags the rows name and do not exist yet; {person id: kinds added}."""
        people = iter(created)
        wanted: list[tuple[Person, str]] = []
        for row in rows:
            person = row.existing if row.is_update else next(people)
            wanted += [(person, kind) for kind in row.cleaned.get("tags") or ()]
        if not wanted:
            return {}
        active = set(
            PersonTag.objects.active()
            .filter(person__in=[p for p, _k in wanted])
            .values_list("person_id", "kind")
        )
        today = timezone.localdate()
        tags = [
            PersonTag(person=p, kind=k, visit_every_days=TAG_SPECS[k].visit_every_days,
                      started_on=today, created_by=self.user)
            for p, k in dict.fromkeys(wanted) if (p.pk, k) not in active
        ]  # fmt: skip
        PersonTag.objects.bulk_create(tags)
        added: dict[int, list[str]] = {}
        for tag in tags:
            added.setdefault(tag.person_id, []).append(tag.kind)
        return added


@register
class HouseholdKind(PlacementMixin, RegistryKind):
    """户: keyed by 户号; an existing household is moved to the room or address given."""

    name = "household"
    label = "户"
    columns = (
        Column("household", "户号", ("户编号", "户口本编号"), True, text(32), example="HX0001"),
        UNIT_COLUMN,
        BUILDING_COLUMN,
        ROOM_COLUMN,
        Column("address", "地址", ("住址", "家庭住址", "现住地址"), False, text(200),
               example="估衣街3号2单元501室"),
    )  # fmt: skip

    def natural_key(self, cleaned: dict[str, Any]) -> Hashable | None:
        return cleaned["household"]

    def validate_batch(self, rows: list[PreparedRow]) -> None:
        self.load_units({r.cleaned.get("unit") for r in rows} - {None})
        self.load_places(rows)
        for row in rows:
            unit, building = self.place_of(row)
            if row.errors:
                continue
            if unit is None:
                self.refuse(row, "unit", NO_PLACE, "网格编码或楼栋房号至少填写一项")
            elif self.check_writable(row, unit):
                row.cleaned["_unit"], row.cleaned["_building"] = unit, building

    def lookup_existing(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        return {h.number: h for h in Household.objects.filter(number__in=list(keys))}

    def check_existing(self, row: PreparedRow) -> list[RowError]:
        if can_write_path(self, row.existing.unit_path):
            return []
        return [RowError(row.number, "户号", DUPLICATE_IN_DB, "该户号已在其他网格登记")]

    def apply_batch(self, rows: list[PreparedRow], actor: Any) -> None:
        for row in rows:
            c = row.cleaned
            room = self._room(row)
            if not row.is_update:
                services.household_create(
                    user=self.user, room=room, unit=None if room else c["_unit"],
                    number=c["household"], address=c.get("address") or "",
                )  # fmt: skip
            else:
                self._update(row.existing, room, c)

    def _room(self, row: PreparedRow) -> Room | None:
        key = self.room_key(row, row.cleaned["_building"])
        if key is None:
            return None
        room = self.rooms.get(key)
        if room is None:
            room = services.room_create(
                user=self.user, building=row.cleaned["_building"], entrance=key[1], number=key[2]
            )
            self.rooms[key] = room
        return room

    def _update(self, household: Household, room: Room | None, c: dict[str, Any]) -> None:
        before = {"room": household.room_id, "unit": household.unit_id,
                  "address": household.address}  # fmt: skip
        if room is not None:
            household.room = room
        unit = room.unit if room else c["_unit"]
        household.unit, household.unit_path = unit, unit.path
        if c.get("address"):
            household.address = c["address"]
        household.save()
        after = {"room": household.room_id, "unit": household.unit_id,
                 "address": household.address}  # fmt: skip
        audit_change(household, before, after, self.user)


def _audit_view(person: Person) -> dict[str, Any]:
    """A person as the audit log shows them (masked numbers), for before/after of an update."""
    return {**snapshot(person, PERSON_AUDIT), "id_number": person.id_number_masked,
            "phone": person.phone_masked}  # fmt: skip


def can_write_path(kind: RegistryKind, path: str) -> bool:
    from .permissions import can_write

    return kind.user is not None and can_write(kind.scope, path)


from . import import_places, import_records  # noqa: E402,F401  register the other kinds
