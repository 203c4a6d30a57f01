"""Helpers shared by the case API modules: paging, scoped look-ups, the detail payload."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils import timezone
from ninja.pagination import LimitOffsetPagination, paginate

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import UserScope, scope_of
from civicgrid.core import crypto
from civicgrid.grids.models import Department, Region

from .. import refdata, selectors
from ..models import Case, CaseEvent, Category
from ..permissions import CHECKS, CaseNotFound
from ..services import reporter_phone
from ..workflow import TRANSITIONS, allowed_actions

MAX_PAGE = int(getattr(settings, "NINJA_PAGINATION_MAX_LIMIT", 500))


def paged(func):
    """`@paginate` with a hard page-size cap (limit/offset, answers {items, count})."""
    return paginate(LimitOffsetPagination, max_limit=MAX_PAGE)(func)


def bad_reference(field: str, message: str):
    from civicgrid.api import ApiError

    return ApiError(400, f"unknown_{field}", message, {field: [message]})


def visible_case(user, number: str) -> Case:
    """The case by number if the user may see it; 404 otherwise, before any workflow check,
    so that an outsider cannot learn from a 409 or 403 that a number exists."""
    case = selectors.case_list(user=user).filter(number=number).first()
    if case is None:
        raise CaseNotFound("案件不存在或不在您的权限范围内")
    return case


def minor_category(code: str | None) -> Category | None:
    if not code:
        return None
    found = refdata.category_by_code(code)
    if found is None or not found.is_minor or not found.is_active:
        raise bad_reference("category", "案件类别不存在或不是启用的小类")
    return found


def department_by_code(code: str) -> Department:
    found = Department.objects.filter(code=code, is_active=True).first()
    if found is None:
        raise bad_reference("department", "部门不存在或已停用")
    return found


def region_by_code(user, code: str) -> Region:
    found = Region.objects.for_scope(scope_of(user)).filter(code=code).first()
    if found is None:
        raise bad_reference("region", "区域不存在或不在您的权限范围内")
    return found


def require_roles(user, roles: set[str], message: str) -> UserScope:
    """Workbench endpoints are for their own staff: 403 for everyone else."""
    scope = scope_of(user)
    if not (scope.is_global or scope.roles & roles):
        raise PermissionDenied(message)
    return scope


CENTRE_VIEW_ROLES = {Role.OPERATOR, Role.LEADER, Role.ADMIN}


def actions_for(user, case: Case) -> list[str]:
    """Moves the workflow allows now *and* this user may make (for buttons and clients)."""
    scope = scope_of(user)
    out = []
    for action in allowed_actions(case.status):
        check, _ = CHECKS.get(TRANSITIONS[action].actor, (None, ""))
        if check is not None and check(scope, case):
            out.append(action)
    return out


def _masked_phone(case: Case) -> str:
    if not case.reporter_phone_enc:
        return ""
    try:
        return crypto.mask_phone(reporter_phone(case))
    except Exception:  # noqa: BLE001 — an undecryptable value is shown as withheld, not a 500
        return "***"


def _file_url(field) -> str | None:
    try:
        return field.url if field else None
    except ValueError:
        return None


class _Row:
    """The case with a few fields replaced for output, without touching the model instance
    (resolvers in the schema still receive something that looks like a Case)."""

    def __init__(self, case: Case):
        self._case = case

    def __getattr__(self, name):
        return getattr(self._case, name)


def _fetch_detail(user, number: str, scoped: bool) -> Case:
    if scoped:
        return selectors.case_get(user=user, number=number)
    qs = Case.objects.for_lists().with_light(timezone.now())
    return qs.prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        "attachments",
        "extensions",
    ).get(number=number)


def case_detail(user, number: str, *, scoped: bool = True) -> _Row:
    """The detail payload: case fields, timeline, attachments, extensions, my actions.

    `scoped=False` is for the answer to a move the user just made on a case they could see:
    a return or a dispatch elsewhere takes the case out of their scope, and the answer should
    still show the result rather than a 404 for a move that succeeded."""
    case = _fetch_detail(user, number, scoped)
    anonymous_hidden = case.anonymous and case.reporter_id != getattr(user, "pk", None)
    obj = _Row(case)
    obj.suggested_department = (
        case.suggested_department.code if case.suggested_department_id else None
    )
    obj.merged_into = case.merged_into.number if case.merged_into_id else None
    obj.reporter_name = "匿名" if anonymous_hidden else case.reporter_name
    obj.reporter_phone = "" if anonymous_hidden else _masked_phone(case)
    obj.actions = actions_for(user, case)
    obj.timeline = list(case.events.all())
    obj.attachments = [_attachment(a) for a in case.attachments.all()]
    obj.extensions = list(case.extensions.all())
    return obj


def _attachment(a) -> dict:
    return {
        "id": a.pk,
        "kind": a.kind,
        "content_type": a.content_type,
        "size": a.size,
        "url": _file_url(a.file) or "",
        "thumb_url": _file_url(a.thumb),
    }
