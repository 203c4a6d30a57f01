"""A user's scope, computed once per request from their role assignments.

Selectors in every app ask `scope_of(user)` and turn it into a filter on their own model;
nothing else decides who sees what. Regions are matched by materialised path, so a scope on a
street covers every community, grid and unit grid under it.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from civicgrid.core.fastsql import rows_fetch

from .choices import READ_ONLY_ROLES, REGION_VIEW_ROLES, Role


@dataclass(frozen=True)
class UserScope:
    user_id: int | None
    is_global: bool = False
    roles: frozenset[str] = frozenset()
    # Region paths the user may see region-wide data under (people, places, map, cases).
    region_paths: tuple[str, ...] = ()
    # Region paths the user may administer (regions, staff posts, departments).
    admin_paths: tuple[str, ...] = ()
    department_ids: frozenset[int] = frozenset()
    assignments: tuple[tuple[str, str, int | None], ...] = field(default=(), repr=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can_view_regions(self) -> bool:
        return self.is_global or bool(self.region_paths)

    def can_write(self) -> bool:
        return self.is_global or bool(self.roles - READ_ONLY_ROLES)

    def path_q(self, field: str = "path", *, admin: bool = False) -> Q:
        """Q matching rows whose region path lies under any path of this scope."""
        if self.is_global:
            return Q()
        paths = self.admin_paths if admin else self.region_paths
        if not paths:
            return Q(pk__in=[])
        q = Q()
        for path in paths:
            q |= Q(**{f"{field}__startswith": path})
        return q

    def covers_path(self, path: str, *, admin: bool = False) -> bool:
        if self.is_global:
            return True
        return any(path.startswith(p) for p in (self.admin_paths if admin else self.region_paths))


ANONYMOUS = UserScope(user_id=None)


def _minimal(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so filters stay short."""
    ordered = sorted(paths, key=len)
    kept: list[str] = []
    for p in ordered:
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


# Raw: the scope is built on every request that reads or writes anything.
_ASSIGNMENTS_SQL = (
    "SELECT a.role, r.path, a.department_id FROM accounts_roleassignment a "
    "JOIN grids_region r ON r.id = a.region_id WHERE a.user_id = %s ORDER BY a.id"
)


def build_scope(user) -> UserScope:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    rows = [tuple(r) for r in rows_fetch(_ASSIGNMENTS_SQL, [user.pk])]
    roles = frozenset(r for r, _, _ in rows)
    return UserScope(
        user_id=user.pk,
        is_global=user.is_superuser,
        roles=roles,
        region_paths=_minimal({p for r, p, _ in rows if r in REGION_VIEW_ROLES}),
        admin_paths=_minimal({p for r, p, _ in rows if r == Role.ADMIN}),
        department_ids=frozenset(d for _, _, d in rows if d is not None),
        assignments=tuple(rows),
    )


def scope_of(user) -> UserScope:
    """Cached on the user object for the life of the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_civicgrid_scope", None)
    if cached is None:
        cached = build_scope(user)
        user._civicgrid_scope = cached
    return cached
