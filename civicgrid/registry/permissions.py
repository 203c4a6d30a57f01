"""Who may write registry data and who may reveal personal data, from the user's scope.

Reading is `for_scope` on each queryset. Writing needs an assignment with a writable role
(not leader, supervisor or resident) whose region covers the row; revealing an ID or phone
number in full needs an assignment covering the person that is neither resident nor
supervisor (volunteers see masked values only).
"""

from django.core.exceptions import PermissionDenied

from civicgrid.accounts.choices import READ_ONLY_ROLES, Role
from civicgrid.accounts.scope import UserScope, scope_of

NO_REVEAL_ROLES = frozenset({Role.RESIDENT, Role.SUPERVISOR})


def _paths(scope: UserScope, excluded: frozenset) -> list[str]:
    return [path for role, path, _ in scope.assignments if role not in excluded and path]


def can_write(scope: UserScope, path: str) -> bool:
    if scope.is_global:
        return True
    return any(path.startswith(p) for p in _paths(scope, READ_ONLY_ROLES))


def can_reveal(scope: UserScope, path: str) -> bool:
    if scope.is_global:
        return True
    return any(path.startswith(p) for p in _paths(scope, NO_REVEAL_ROLES))


def is_admin(scope: UserScope) -> bool:
    return scope.is_global or bool(scope.admin_paths)


def require_write(user, path: str) -> UserScope:
    scope = scope_of(user)
    if not can_write(scope, path):
        raise PermissionDenied("该网格不在您的登记权限范围内")
    return scope


def require_admin(user) -> UserScope:
    scope = scope_of(user)
    if not is_admin(scope):
        raise PermissionDenied("需要系统管理员权限")
    return scope
