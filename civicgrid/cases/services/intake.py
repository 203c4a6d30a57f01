"""Creating cases (every source), locating, routing, and attachments.

Intake pages, the camera endpoint, the hotline form and Open311 all call `case_report`; they
validate their own input format and upload content, this module owns the rules of a case.

Why the intake is shaped this way (docs/BENCHMARKS.md, "Case intake"): every read —
locating, routing, the duplicate scan — happens before the write transaction opens (on
PostgreSQL the duplicate scan is part of the batch's one read, made just before its write,
services/intake_write.py), and reference data (categories, the responsibility list,
departments, grid types) comes from per-process snapshots (cases/refdata.py). The one
transaction then holds only the number, the case, its timeline rows, the duplicate links,
the task row and the audit append: on SQLite that is the time the single write lock is
held, on PostgreSQL the time the audit chain's head row stays locked, and one commit per
intake instead of three.
Intakes that reach that transaction at the same moment in one process share it (group
commit, services/intake_write.py).

A repeated submission (the same idempotency key) is found *after* the fact: the partial
unique indexes refuse its write, or its input no longer passes, and only then is the first
case looked up and answered. Looking first cost every intake a statement — on PostgreSQL
~0.2 ms of CPU, a tenth of what separated the intake from its target — to spare the rare
replay a little work. A refused replay leaves a gap in the day's numbers on PostgreSQL
(sequences are not rolled back), as any failed write there always could.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from civicgrid.accounts.scope import scope_of
from civicgrid.core import crypto
from civicgrid.core.audit import Who
from civicgrid.core.fastsql import model_new, rows_fetch
from civicgrid.core.idnumbers import IdNumberError, normalise_phone
from civicgrid.grids.choices import Level
from civicgrid.grids.locator import locate
from civicgrid.grids.models import Department, Region

from .. import refdata
from ..attachments import (
    PreparedImage,
    attachment_files,
    attachment_store,
    files_delete,
    image_prepare,
    images_prepare,
)
from ..choices import Action, AreaClass, AttachmentKind, Source, Status, Step
from ..dedup import comparable, token_text
from ..models import Attachment, Camera, Case, CaseEvent, Category
from ..permissions import is_grid_staff
from ._core import authorize, clock_fields, move, required_text
from .intake_write import PendingCase, case_write

PHONE_PURPOSE = "case.reporter_phone"
NO_DEPARTMENT = "无责任部门"
OUTSIDE = "不在管辖范围内"
NO_POSITION = "未提供位置"


@dataclass(frozen=True)
class Reported:
    case: Case
    created: bool


@dataclass(frozen=True)
class Placement:
    """Where a case belongs. The Region row itself is loaded only when someone needs it
    (on-the-spot handling, relocation): intake needs its id, path and area class only."""

    unit_id: int | None
    path: str
    located: bool
    reason: str
    area_class: str

    @cached_property
    def unit(self) -> Region | None:
        if self.unit_id is None:
            return None
        return Region.objects.select_related("parent").get(pk=self.unit_id)


# --- phones, routing ---------------------------------------------------------------------------


def reporter_phone(case: Case) -> str:
    return crypto.decrypt(case.reporter_phone_enc, purpose=PHONE_PURPOSE)


def phone_index(phone: str) -> str:
    return crypto.blind_index(phone, purpose=PHONE_PURPOSE) if phone else ""


def route_for(category: Category | None, path: str) -> tuple[Department | None, str]:
    """The responsible department from the responsibility list: the rule of the most
    specific region covering `path` wins (a minor-class rule over a major-class rule of the
    same region), then the category's default department; none → (None, "无责任部门")."""
    if category is None:
        return None, "未分类"
    ref = refdata.reference.get()
    dept_id = _rule_department(ref, category, path) or category.default_department_id
    dept = ref.departments.get(dept_id) if dept_id else None
    return (dept, "") if dept is not None else (None, NO_DEPARTMENT)


def _rule_department(ref: refdata.Reference, category: Category, path: str) -> int | None:
    """Department id of the best matching active rule (from the per-process snapshot: this
    runs on every intake and usually matches nothing)."""
    rules = ref.rules.get(category.pk, []) + ref.rules.get(category.parent_id, [])
    matching = [r for r in rules if path and path.startswith(r[0])]
    if not matching:
        return None
    return max(matching, key=lambda r: (len(r[0]), r[1] == category.pk))[2]


def area_class_of(unit: Region | None) -> str:
    grid = unit.parent if unit is not None else None
    return _area_class(getattr(grid, "grid_type", ""))


def _area_class(grid_type: str | None) -> str:
    mapping = getattr(settings, "CASES_AREA_CLASS_BY_GRID_TYPE", {})
    return mapping.get(grid_type or "", AreaClass.B)


def place(*, lat: float | None, lng: float | None, unit: Region | None = None) -> Placement:
    """Which unit grid a case belongs to; outside the managed area it is kept, flagged.
    A located point costs no query of its own: the index holds active unit grids, and the
    grid's type (for the area class) comes from the per-process snapshot."""
    if unit is None and lat is not None and lng is not None:
        found = locate(lat, lng)
        if found is None:
            return Placement(None, "", False, OUTSIDE, AreaClass.B)
        grid_type = refdata.grid_type_of(found.unit_id)
        return Placement(found.unit_id, found.path, True, "", _area_class(grid_type))
    if unit is None:
        return Placement(None, "", False, NO_POSITION, AreaClass.B)
    if unit.level != Level.UNIT:
        raise ValidationError({"unit": ["应选择基础网格单元"]}, code="unit")
    spot = Placement(unit.pk, unit.path, True, "", area_class_of(unit))
    spot.__dict__["unit"] = unit  # already loaded: seed the cached_property
    return spot


def _check_point(lat, lng) -> None:
    if (lat is None) != (lng is None):
        raise ValidationError({"lat": ["经纬度须同时提供"]}, code="position")
    if lat is None:
        return
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lat, lng))
    if not ok or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"lat": ["经纬度超出范围"]}, code="position")


def _check_category(category: Category | None) -> None:
    if category is not None and (not category.is_minor or not category.is_active):
        raise ValidationError({"category": ["请选择启用的小类"]}, code="category")


def _phone(value: str) -> str:
    if not value:
        return ""
    try:
        return normalise_phone(value)
    except IdNumberError as exc:
        raise ValidationError({"reporter_phone": [str(exc)]}, code="phone") from exc


# --- report ----------------------------------------------------------------------------------


def case_of_submission(*, reporter, source: str, key: str) -> Case | None:
    """The case an earlier submission with this idempotency key made (the reporter's, or
    the source's for reports without a reporter), asked for once a submission was refused
    or failed validation: nearly every intake never asks. The id first, as a bare id costs
    far less than a full Case row."""
    if not key:
        return None
    if reporter is not None:
        sql, params = _BY_KEY_SQL + "reporter_id = %s", [key, reporter.pk]
    else:
        sql, params = _BY_KEY_SQL + "reporter_id IS NULL AND source = %s", [key, source]
    rows = rows_fetch(sql + " LIMIT 1", params)
    return Case.objects.get(pk=rows[0][0]) if rows else None


# The literal `NOT (idempotency_key = '')` repeats the partial unique indexes' condition: with
# a bound parameter alone neither SQLite nor a PostgreSQL generic (prepared) plan can prove
# the row is in the partial index, and they scanned every case of the reporter (SQLite) or
# the whole table (PostgreSQL) instead — an intake slowing down as cases accumulate.
_BY_KEY_SQL = (
    "SELECT id FROM cases_case WHERE idempotency_key = %s AND NOT (idempotency_key = '') AND "
)


def case_report(
    *,
    source: str,
    title: str,
    description: str = "",
    category: Category | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    unit: Region | None = None,
    reporter=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    idempotency_key: str = "",
    actor=None,
    handled_on_spot: bool = False,
    handle_note: str = "",
    camera: Camera | None = None,
    now: dt.datetime | None = None,
) -> Reported:
    """Create a case from any source. The same (reporter or source, idempotency key) returns
    the first case instead of a second one (J1: pressing submit twice), even when the
    repeated input would no longer pass (its category since disabled). `actor` is who typed
    it in (an operator for the hotline), default the reporter. `handled_on_spot` is the grid
    worker's "小事不出网格": reported and handled in one step, still to be verified.
    `camera` links a case raised from a surveillance point. An anonymous report keeps its
    reporter (so they can follow it) but stores no name or phone and shows no name."""
    if source not in Source.values:
        raise ValidationError({"source": ["来源无效"]}, code="source")
    key = (idempotency_key or "").strip()[:64]
    actor = actor if actor is not None else reporter
    try:
        title = required_text(title, "title", "请填写标题", max_len=100)
        _check_point(lat, lng)
        _check_category(category)
        spot = place(lat=lat, lng=lng, unit=unit)
        if handled_on_spot:
            _check_on_spot(actor, spot, handle_note)
        phone = "" if anonymous else _phone(reporter_phone)
        case = _build(locals(), spot, phone, key, now or timezone.now())
        matches = _duplicate_matches(case)
        case.duplicate_suspected = bool(matches)
        case_write(PendingCase(case, actor, handled_on_spot, matches, Who.of(actor)))
    except (ValidationError, PermissionDenied, IntegrityError):
        found = case_of_submission(reporter=reporter, source=source, key=key)  # a replay?
        if found is None:
            raise
        return Reported(found, False)
    return Reported(case, True)


def _check_on_spot(actor, spot: Placement, note: str) -> None:
    required_text(note, "handle_note", "请填写处置情况")
    if actor is None or not spot.located or not is_grid_staff(scope_of(actor), spot.path):
        raise PermissionDenied("只有本网格的网格员可以就地处置")


def _build(args: dict, spot: Placement, phone: str, key: str, now: dt.datetime) -> Case:
    """The unsaved case with everything but its number: routing and the words for duplicate
    detection are worked out here, outside the write transaction."""
    category, title = args["category"], args["title"]
    description = (args["description"] or "").strip()
    dept, why = route_for(category, spot.path)
    case = model_new(
        Case,
        source=args["source"],
        category=category,
        title=title,
        description=description,
        text_tokens=token_text(title, description),
        lat=args["lat"],
        lng=args["lng"],
        address=(args["address"] or "").strip()[:200],
        unit_id=spot.unit_id,
        path=spot.path,
        located=spot.located,
        locate_reason=spot.reason,
        area_class=spot.area_class,
        suggested_department=dept,
        routing_reason=why,
        reporter=args["reporter"],
        reporter_name="" if args["anonymous"] else (args["reporter_name"] or "").strip()[:50],
        reporter_phone_enc=crypto.encrypt(phone, purpose=PHONE_PURPOSE),
        reporter_phone_bidx=phone_index(phone),
        anonymous=bool(args["anonymous"]),
        idempotency_key=key,
        camera=args["camera"],
        created_at=now,
        updated_at=now,
    )
    if args["handled_on_spot"]:
        _handled_on_spot(case, spot, args["actor"], args["handle_note"], now)
    return case


def _handled_on_spot(case: Case, spot: Placement, actor, note: str, now: dt.datetime) -> None:
    grid = spot.unit.parent
    case.unit = spot.unit
    case.status, case.handled_on_spot, case.on_spot_handler = Status.HANDLED, True, actor
    case.assigned_region, case.assigned_path = grid, grid.path
    case.accepted_at = case.handled_at = now
    case.handle_note = note.strip()
    for name, value in clock_fields(case.category, spot.area_class, Step.VERIFY, now).items():
        setattr(case, name, value)


def _duplicate_matches(case: Case) -> list | None:
    """Suspected duplicates of the unsaved case (`CASES_DUPLICATE_FINDER`, `f(case) ->
    [dedup.Match]`), found before the write transaction opens: it is a read. None on
    PostgreSQL with the product's finder: there the write checks its whole batch with the
    read it makes anyway (services/intake_write.py), which saves a statement per intake."""
    path = getattr(settings, "CASES_DUPLICATE_FINDER", "")
    if not path:
        return []
    if path == BATCH_FINDER and connection.vendor == "postgresql":
        return None if comparable(case) else []
    return list(import_string(path)(case))


BATCH_FINDER = "civicgrid.cases.dedup.duplicates_find"  # the finder the batch read reproduces


# --- relocation and attachments --------------------------------------------------------------


def case_relocate(
    *,
    case: Case,
    actor,
    lat: float | None = None,
    lng: float | None = None,
    unit: Region | None = None,
    address: str | None = None,
    version: int | None = None,
) -> Case:
    """The centre corrects where a case is (e.g. an unlocated one); routing is re-proposed."""
    authorize(case, actor, Action.RELOCATE)
    _check_point(lat, lng)
    spot = place(lat=lat, lng=lng, unit=unit)
    if not spot.located:
        raise ValidationError({"lat": [f"无法定位:{spot.reason}"]}, code="position")
    dept, why = route_for(case.category, spot.path)
    fields = {
        "unit": spot.unit,
        "path": spot.path,
        "located": True,
        "locate_reason": "",
        "area_class": spot.area_class,
        "suggested_department": dept,
        "routing_reason": why,
    }
    if lat is not None:
        fields.update(lat=lat, lng=lng)
    if address is not None:
        fields["address"] = address.strip()[:200]
    move(
        case=case,
        actor=actor,
        action=Action.RELOCATE,
        version=version,
        fields=fields,
        data={"unit": spot.unit.code},
    )
    return case


def attachment_add(
    *, case: Case, kind: str, file, uploaded_by=None, event: CaseEvent | None = None
) -> Attachment:
    """Store one photo. A raw upload is validated and cleaned here (cases/attachments.py:
    content sniffing, size, EXIF stripping, resized copies), so no caller can skip that;
    a PreparedImage (already validated by the page or the API) is stored as it is."""
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": ["附件类型无效"]}, code="kind")
    image = file if isinstance(file, PreparedImage) else image_prepare(file)
    return attachment_store(case=case, image=image, kind=kind, uploaded_by=uploaded_by, event=event)


def case_report_with_photos(
    *, files: Sequence = (), photo_kind: str = AttachmentKind.BEFORE, **report
) -> Reported:
    """`case_report` plus its photos, all or nothing: every photo is validated before
    anything is written, and a failure while storing them rolls the case back (and removes
    the files already written). A replayed idempotency key returns the first case and
    stores no second copy of the photos."""
    images = images_prepare(files)
    stored: list[str] = []
    try:
        with transaction.atomic():
            reported = case_report(**report)
            if reported.created:
                event = reported.case.events.filter(action=Action.REPORT).first()
                for image in images:
                    att = attachment_add(
                        case=reported.case, kind=photo_kind, file=image,
                        uploaded_by=report.get("reporter") or report.get("actor"), event=event,
                    )  # fmt: skip
                    stored.extend(attachment_files(att))
    except Exception:
        files_delete(stored)
        raise
    return reported
