"""Test helpers for the case loop, on top of the shared `tree` fixture (core.testing)."""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.accounts.choices import Role
from civicgrid.cases import services
from civicgrid.cases.choices import CategoryKind, LimitType, Source
from civicgrid.cases.models import Case, Category
from civicgrid.core.testing.factories import Tree, user_with_role

# A point inside tree.units_a[0] (估衣街1单元) and one outside every region.
IN_A = (33.49, 119.11)
IN_B = (33.49, 119.13)
OUTSIDE = (34.50, 120.50)


def make_category(dept=None, *, limit_type=LimitType.WORK_DAYS, handle=3.0, **extra) -> Category:
    major, _ = Category.objects.get_or_create(
        code="C01", defaults={"kind": CategoryKind.COMPONENT, "name": "公用设施"}
    )
    fields = {
        "kind": CategoryKind.COMPONENT, "parent": major, "name": "井盖缺失",
        "keywords": "井盖 窨井", "limit_type": limit_type, "handle_limit": handle,
        "default_department": dept,
    }  # fmt: skip
    fields.update(extra)
    fields.setdefault("code", "C0101")
    if fields["code"] != "C0101":
        fields["name"] = extra.get("name", f"井盖缺失{fields['code']}")
    return Category.objects.create(**fields)


@dataclass
class Actors:
    operator: object  # street operator (河下街道)
    handler: object  # 城管 handler
    worker: object  # full-time grid worker of grid A
    worker_b: object  # grid worker of grid B
    resident: object
    outsider: object  # operator of the other street
    district_op: object  # operator at the root (sees unlocated cases)


def make_actors(tree: Tree) -> Actors:
    return Actors(
        operator=user_with_role(Role.OPERATOR, tree.street, username="op"),
        handler=user_with_role(Role.HANDLER, tree.district, department=tree.dept, username="cg"),
        worker=user_with_role(Role.GRID_WORKER, tree.grid_a, username="gw"),
        worker_b=user_with_role(Role.GRID_WORKER, tree.grid_b, username="gwb"),
        resident=user_with_role(Role.RESIDENT, tree.street, username="res"),
        outsider=user_with_role(Role.OPERATOR, tree.other_street, username="op2"),
        district_op=user_with_role(Role.OPERATOR, tree.district, username="op0"),
    )


def report(actors: Actors, category: Category | None, *, point=IN_A, key: str = "", **kw) -> Case:
    lat, lng = point
    kw.setdefault("source", Source.RESIDENT)
    kw.setdefault("reporter", actors.resident)
    return services.case_report(
        title="井盖没了", description="估衣街井盖缺失", category=category, lat=lat, lng=lng,
        idempotency_key=key, **kw,
    ).case  # fmt: skip


def to_status(actors: Actors, case: Case, tree: Tree, status: str) -> Case:
    """Walk a freshly reported case along the happy path up to `status`."""
    path = ["accepted", "dispatched", "signed", "handled", "closed", "rated"]
    steps = {
        "accepted": lambda: services.case_accept(case=case, actor=actors.operator),
        "dispatched": lambda: services.case_dispatch(
            case=case, actor=actors.operator, department=tree.dept
        ),
        "signed": lambda: services.case_sign(case=case, actor=actors.handler),
        "handled": lambda: services.case_handle(case=case, actor=actors.handler, note="已补盖"),
        "closed": lambda: services.case_verify(case=case, actor=actors.worker, passed=True),
        "rated": lambda: services.case_rate(case=case, actor=actors.resident, rating=5),
    }
    for name in path[: path.index(status) + 1]:
        steps[name]()
    return case
