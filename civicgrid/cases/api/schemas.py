"""Input and output shapes of the case API.

Outputs read from rows the selectors already joined (`for_lists()` + `light`), so rendering
a page never issues a query per row. Personal data never leaves in clear: the reporter's
phone is masked, and an anonymous reporter's name is withheld.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from ninja import Schema
from pydantic import BaseModel, Field, field_validator

from ..choices import RESIDENT_STATUS_TEXT, Light, Source, Status
from ..models import Case, CaseEvent, Category

NUMBER_PATTERN = r"^\d{8,20}$"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str | None:
    """Refuse control characters (PostgreSQL rejects NUL; XML cannot carry most of them)."""
    if value is not None and _CONTROL.search(value):
        raise ValueError("不能包含控制字符")
    return value


class Versioned(Schema):
    """Every move may carry the version the client last read (compare-and-set)."""

    version: int | None = Field(None, ge=0, description="客户端读取时的案件版本,用于并发检查")


# --- categories ----------------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    kind: str
    major_code: str | None = None
    major_name: str | None = None
    limit_type: str
    handle_limit: float
    acceptance_rule: str
    closing_rule: str
    keywords: str

    @staticmethod
    def resolve_major_code(obj: Category) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_major_name(obj: Category) -> str | None:
        return obj.parent.name if obj.parent_id else None


class CategoryNode(Schema):
    code: str
    name: str
    kind: str
    children: list[CategoryOut]


class CategorySearch(Schema):
    q: str = Field("", max_length=50, description="名称、大类或检索词包含")

    _q = field_validator("q")(clean_text)


# --- cases ---------------------------------------------------------------------------------

SourceIn = Literal["resident", "grid_worker", "hotline", "official"]


class CaseIn(BaseModel):
    """The intake's body. A plain pydantic model, not a ninja `Schema`: a Schema validates
    through a wrapper that reads every value with `getattr` (for ORM objects), and on a JSON
    body that cost 25 µs per intake against 2 µs (docs/BENCHMARKS.md)."""

    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=4000)
    category: str | None = Field(None, max_length=16, description="小类编码")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    address: str = Field("", max_length=200)
    source: SourceIn | None = Field(None, description="默认按角色:居民 resident,网格员 grid_worker")
    anonymous: bool = False
    reporter_name: str = Field("", max_length=50, description="热线/代登记时的联系人")
    reporter_phone: str = Field("", max_length=20)
    handled_on_spot: bool = Field(False, description="网格员就地处置(小事不出网格)")
    handle_note: str = Field("", max_length=2000)
    idempotency_key: str = Field("", max_length=64, description="也可用 Idempotency-Key 请求头")

    _text = field_validator(
        "title", "description", "address", "reporter_name", "reporter_phone", "handle_note",
        "idempotency_key", "category",
    )(clean_text)  # fmt: skip


class CaseCreatedOut(BaseModel):
    """The intake's answer, built as a dict (`api/cases.py: _answer`): a plain pydantic
    model, for the reason given at `CaseIn`."""

    number: str
    created: bool
    status: str
    located: bool
    locate_reason: str
    suggested_department: str | None
    routing_reason: str
    duplicate_suspected: bool
    version: int


class CaseFilter(Schema):
    status: list[Status] | None = Field(None, description="可多次给出")
    category: str | None = Field(None, max_length=16, description="大类或小类编码")
    region: str | None = Field(None, pattern=r"^\d{6,14}$", description="区域/网格编码")
    department: str | None = Field(None, max_length=40, description="部门代码")
    source: Source | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    overdue: bool | None = None
    light: Light | None = None
    q: str | None = Field(None, max_length=50, description="编号或标题包含")

    _q = field_validator("q", "category", "department")(clean_text)


class CaseOut(Schema):
    number: str
    title: str
    status: str
    status_label: str
    source: str
    category_code: str | None
    category_name: str | None
    major_name: str | None
    department: str | None = Field(description="处置部门代码")
    department_name: str | None
    assigned_region: str | None = Field(description="承办网格/区域编码(网格级案件)")
    unit: str | None = Field(description="基础网格单元编码")
    located: bool
    duplicate_suspected: bool
    extension_pending: bool
    step: str
    step_deadline: dt.datetime | None
    deadline_provisional: bool
    light: str
    card: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return str(Status(obj.status).label)

    @staticmethod
    def resolve_category_code(obj: Case) -> str | None:
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_category_name(obj: Case) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_major_name(obj: Case) -> str | None:
        cat = obj.category if obj.category_id else None
        return cat.parent.name if cat is not None and cat.parent_id else None

    @staticmethod
    def resolve_department(obj: Case) -> str | None:
        return obj.department.code if obj.department_id else None

    @staticmethod
    def resolve_department_name(obj: Case) -> str | None:
        return obj.department.name if obj.department_id else None

    @staticmethod
    def resolve_assigned_region(obj: Case) -> str | None:
        return obj.assigned_region.code if obj.assigned_region_id else None

    @staticmethod
    def resolve_unit(obj: Case) -> str | None:
        return obj.unit.code if obj.unit_id else None

    @staticmethod
    def resolve_light(obj: Case) -> str:
        return getattr(obj, "light", None) or Light.NONE


class EventOut(Schema):
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor: str
    reason: str
    data: dict
    at: dt.datetime

    @staticmethod
    def resolve_action_label(obj: CaseEvent) -> str:
        return str(obj.get_action_display())

    @staticmethod
    def resolve_actor(obj: CaseEvent) -> str:
        return obj.actor_label


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    url: str
    thumb_url: str | None


class ExtensionOut(Schema):
    status: str
    reason: str
    amount: float
    limit_type: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    old_deadline: dt.datetime | None
    new_deadline: dt.datetime | None


class CaseDetailOut(CaseOut):
    description: str
    lat: float | None
    lng: float | None
    address: str
    locate_reason: str
    suggested_department: str | None
    routing_reason: str
    area_class: str
    reporter_name: str
    reporter_phone: str = Field(description="脱敏")
    anonymous: bool
    handled_on_spot: bool
    handle_note: str
    rating: int | None
    rating_comment: str
    merged_into: str | None
    resident_text: str = Field(description="给群众看的状态说明")
    actions: list[str] = Field(description="当前用户此刻可执行的操作")
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    extensions: list[ExtensionOut]

    @staticmethod
    def resolve_resident_text(obj: Case) -> str:
        return RESIDENT_STATUS_TEXT.get(obj.status, "")


# --- actions -------------------------------------------------------------------------------


class AcceptIn(Versioned):
    category: str | None = Field(None, max_length=16, description="小类编码(可改类)")
    area_class: Literal["A", "B", "C"] | None = None
    reason: str = Field("", max_length=2000)


class ReasonIn(Versioned):
    reason: str = Field("", max_length=2000)

    _reason = field_validator("reason")(clean_text)


class MergeIn(ReasonIn):
    into: str = Field(pattern=NUMBER_PATTERN, description="保留案件的编号")


class DispatchIn(ReasonIn):
    department: str | None = Field(None, max_length=40, description="部门代码")
    region: str | None = Field(None, pattern=r"^\d{6,14}$", description="承办网格/区域编码")


AttachmentIds = Field(
    default_factory=list,
    max_length=50,
    description="先用 POST /cases/{number}/attachments 上传的照片 id,随本操作记入时间线",
)


class HandleIn(Versioned):
    note: str = Field(max_length=2000)
    attachment_ids: list[int] = AttachmentIds

    _note = field_validator("note")(clean_text)


class ExtendIn(ReasonIn):
    amount: float = Field(gt=0, le=365, allow_inf_nan=False, description="按类别时限单位")


class DecideIn(ReasonIn):
    approve: bool


class VerifyIn(ReasonIn):
    passed: bool
    attachment_ids: list[int] = AttachmentIds


class RateIn(Versioned):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=500)

    _comment = field_validator("comment")(clean_text)


class RelocateIn(Versioned):
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    unit: str | None = Field(None, pattern=r"^\d{14}$")
    address: str | None = Field(None, max_length=200)


# --- queues and the inbox ------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    verb: str
    text: str
    case_number: str | None
    created_at: dt.datetime
    read: bool

    @staticmethod
    def resolve_case_number(obj) -> str | None:
        return obj.case.number if obj.case_id else None

    @staticmethod
    def resolve_read(obj) -> bool:
        return obj.read_at is not None


class NotificationFilter(Schema):
    unread: bool = False


class MarkReadIn(Schema):
    ids: list[int] | None = Field(None, max_length=500, description="省略则全部标为已读")


class MarkedOut(Schema):
    updated: int
    unread: int
