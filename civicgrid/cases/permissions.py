"""Who may act on a case, from the actor's scope (role assignments) and the case's data.

Visibility first: a case outside the user's scope is "not found" (no hint that it exists);
a visible case the user may not act on is "forbidden" with a reason.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import UserScope, scope_of

from .workflow import Actor

DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.FUNCTIONAL_WORKER})
GRID_STAFF_ROLES = frozenset({Role.GRID_LEADER, Role.GRID_INSTRUCTOR, Role.GRID_WORKER})
CENTRE_ROLES = frozenset({Role.OPERATOR})


class CaseNotFound(Http404):
    """The case does not exist or lies outside the user's scope."""


def _under(path: str, prefix: str) -> bool:
    return bool(path) and bool(prefix) and path.startswith(prefix)


def is_centre(scope: UserScope, case) -> bool:
    if scope.is_global:
        return True
    for role, path, _ in scope.assignments:
        if role not in CENTRE_ROLES:
            continue
        if _under(case.path, path) or _under(case.assigned_path, path):
            return True
        if not case.located and path.count("/") == 1:
            return True
    return False


def is_handler(scope: UserScope, case) -> bool:
    """Staff of the case's department; for grid-level work, grid staff of the assigned grid
    or operators of the assigned region (after escalation to a community or street)."""
    if scope.is_global:
        return True
    for role, path, dept_id in scope.assignments:
        if case.department_id is not None:
            if role in DEPARTMENT_ROLES and dept_id == case.department_id:
                return True
        elif case.assigned_path and role in GRID_STAFF_ROLES | CENTRE_ROLES:
            if _under(case.assigned_path, path):
                return True
    return False


def is_verifier(scope: UserScope, case) -> bool:
    if scope.is_global:
        return True
    return any(
        role in GRID_STAFF_ROLES | CENTRE_ROLES and _under(case.path, path)
        for role, path, _ in scope.assignments
    )


def is_grid_staff(scope: UserScope, path: str) -> bool:
    if scope.is_global:
        return True
    return any(role in GRID_STAFF_ROLES and _under(path, p) for role, p, _ in scope.assignments)


def is_reporter(scope: UserScope, case) -> bool:
    return scope.user_id is not None and case.reporter_id == scope.user_id


CHECKS = {
    Actor.CENTRE: (is_centre, "只有负责该区域的指挥中心人员可以执行此操作"),
    Actor.HANDLER: (is_handler, "只有承办部门(或承办网格)的人员可以执行此操作"),
    Actor.VERIFIER: (is_verifier, "只有案件所在网格的网格员可以核查"),
    Actor.REPORTER: (is_reporter, "只有上报人可以执行此操作"),
}


def require_visible(user, case) -> UserScope:
    from .models import Case

    scope = scope_of(user)
    if not Case.objects.for_scope(scope).filter(pk=case.pk).exists():
        raise CaseNotFound("案件不存在或不在您的权限范围内")
    return scope


def require_actor(user, case, actor_kind: str) -> UserScope:
    """Raise CaseNotFound for an invisible case, PermissionDenied for a wrong actor."""
    if actor_kind == "system":
        return scope_of(None)
    scope = require_visible(user, case)
    check, message = CHECKS[actor_kind]
    if not check(scope, case):
        raise PermissionDenied(message)
    return scope
