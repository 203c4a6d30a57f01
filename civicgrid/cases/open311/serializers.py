"""Our categories as Open311 services, our cases as service requests, our timeline rows as
FixMyStreet-style request updates.

Status mapping: GeoReport v2 knows only `open` and `closed`; a case is open while the loop
is running (OPEN_STATUSES) and closed once finished, refused or merged. Updates carry the
finer FixMyStreet statuses (investigating, action_scheduled, in_progress, fixed, duplicate,
no_further_action, internal_referral, reopen) and our own status as external_status_code.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..choices import OPEN_STATUSES, RESIDENT_STATUS_TEXT, Action, Status, Step
from ..models import Case, CaseEvent, Category

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"

EXTENDED_STATUS = {
    Status.REPORTED: "open",
    Status.ACCEPTED: "investigating",
    Status.DISPATCHED: "action_scheduled",
    Status.SIGNED: "in_progress",
    Status.HANDLED: "in_progress",
    Status.VERIFIED: "fixed",
    Status.CLOSED: "fixed",
    Status.RATED: "fixed",
    Status.REJECTED: "no_further_action",
    Status.MERGED: "duplicate",
    Status.RETURNED: "internal_referral",
    Status.SUSPENDED: "action_scheduled",
}
# Timeline rows published as updates (supervision cards, notes and extensions stay inside).
PUBLIC_ACTIONS = frozenset(
    {
        Action.ACCEPT, Action.REJECT, Action.MERGE, Action.DISPATCH, Action.SIGN, Action.HANDLE,
        Action.HANDLE_ON_SPOT, Action.VERIFY_PASS, Action.VERIFY_FAIL, Action.CLOSE,
        Action.REOPEN, Action.RETURN, Action.SUSPEND, Action.RESUME, Action.ESCALATE,
    }
)  # fmt: skip
# Free text the public may read: the handler's feedback and the reasons for a refusal.
TEXT_ACTIONS = frozenset({Action.HANDLE, Action.HANDLE_ON_SPOT, Action.REJECT, Action.CLOSE})

# Extra fields a client may send as attribute[code]: our case has a title and anonymity.
ATTRIBUTES = [
    {
        "variable": True,
        "code": "title",
        "datatype": "string",
        "required": False,
        "datatype_description": "不超过 100 字 / up to 100 characters",
        "order": 1,
        "description": "标题 / Short title (default: start of the description)",
        "values": [],
    },
    {
        "variable": True,
        "code": "anonymous",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "",
        "order": 2,
        "description": "匿名上报 / Report anonymously",
        "values": [{"key": "false", "name": "否 / No"}, {"key": "true", "name": "是 / Yes"}],
    },
]


def basic_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def service_row(category: Category) -> dict[str, Any]:
    keywords = [k for k in (category.keywords or "").replace(",", " ").split() if k]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.acceptance_rule or category.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category.parent.name if category.parent_id else "",
    }


def service_definition(category: Category) -> dict[str, Any]:
    return {"service_code": category.code, "attributes": ATTRIBUTES}


def _agency(case: Case) -> str:
    if case.department_id:
        return case.department.name
    if case.assigned_region_id:
        return case.assigned_region.name
    return ""


def _media_url(case: Case) -> str:
    notes = getattr(case, "media_notes", None)
    return notes[0].data.get("media_url", "") if notes else ""


def request_row(case: Case) -> dict[str, Any]:
    running = case.step == Step.HANDLE and case.status in (Status.DISPATCHED, Status.SIGNED)
    return {
        "service_request_id": case.number,
        "status": basic_status(case.status),
        "status_notes": RESIDENT_STATUS_TEXT.get(case.status, ""),
        "service_name": case.category.name if case.category_id else "",
        "service_code": case.category.code if case.category_id else "",
        "description": case.description or case.title,
        "agency_responsible": _agency(case),
        "service_notice": "",
        "requested_datetime": case.created_at,
        "updated_datetime": case.updated_at,
        "expected_datetime": case.step_deadline if running else None,
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lng,
        "media_url": _media_url(case),
    }


def update_row(event: CaseEvent) -> dict[str, Any]:
    status = "reopen" if event.action == Action.REOPEN else EXTENDED_STATUS[event.to_status]
    words = f"{event.get_action_display()}:{RESIDENT_STATUS_TEXT.get(event.to_status, '')}"
    if event.action in TEXT_ACTIONS and event.reason:
        words += f"。{event.reason}"
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": status,
        "updated_datetime": event.at,
        "description": words,
        "media_url": "",
        "external_status_code": event.to_status,
    }


def discovery(base_url: str, changeset) -> dict[str, Any]:
    contact = getattr(settings, "OPEN311_CONTACT", "") or "网格化服务管理中心"
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": "在平台“API 令牌”页面创建个人令牌 / create a personal API token",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
