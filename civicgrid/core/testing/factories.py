"""factory_boy factories and a small region tree with real boundaries, shared by all tests.

`make_tree()` builds district → street → community → 2 grids → 2 unit grids each, as
rectangles around Hexia, through the real services (so codes and boundaries are validated).
"""

from dataclasses import dataclass

import factory
from shapely.geometry import box, mapping

from civicgrid.accounts.models import User
from civicgrid.grids import services as grid_services
from civicgrid.grids.models import Department, Region

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"测试用户{n}")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


def rect(min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> dict:
    return mapping(box(min_lng, min_lat, max_lng, max_lat))


@dataclass
class Tree:
    district: Region
    street: Region
    community: Region
    grid_a: Region
    grid_b: Region
    units_a: list[Region]
    units_b: list[Region]
    other_street: Region
    other_grid: Region
    other_unit: Region
    dept: Department


def make_tree() -> Tree:
    """Two streets side by side; the first has one community with grids A and B."""
    rc = grid_services.region_create
    district = rc(
        name="淮安区", level="district", code="320803", boundary=rect(119.10, 33.48, 119.20, 33.52)
    )
    street = rc(
        name="河下街道",
        level="street",
        code="320803001",
        parent=district,
        boundary=rect(119.10, 33.48, 119.15, 33.52),
    )
    community = rc(
        name="估衣街社区",
        level="community",
        code="320803001001",
        parent=street,
        boundary=rect(119.10, 33.48, 119.15, 33.52),
    )
    grid_a = rc(
        name="估衣街网格",
        level="grid",
        code="32080300100100",
        parent=community,
        grid_type="residential",
        boundary=rect(119.10, 33.48, 119.125, 33.52),
    )
    grid_b = rc(
        name="河下商圈网格",
        level="grid",
        code="32080300100190",
        parent=community,
        grid_type="business",
        boundary=rect(119.125, 33.48, 119.15, 33.52),
    )
    units_a = [
        rc(
            name=f"估衣街{i + 1}单元",
            level="unit",
            code=f"3208030010010{i + 1}",
            parent=grid_a,
            boundary=rect(119.10, 33.48 + 0.02 * i, 119.125, 33.50 + 0.02 * i),
        )
        for i in range(2)
    ]
    units_b = [
        rc(
            name=f"商圈{i + 1}单元",
            level="unit",
            code=f"3208030010010{i + 3}",
            parent=grid_b,
            boundary=rect(119.125, 33.48 + 0.02 * i, 119.15, 33.50 + 0.02 * i),
        )
        for i in range(2)
    ]
    other_street = rc(
        name="淮城街道",
        level="street",
        code="320803002",
        parent=district,
        boundary=rect(119.15, 33.48, 119.20, 33.52),
    )
    other_comm = rc(
        name="淮城社区",
        level="community",
        code="320803002001",
        parent=other_street,
        boundary=rect(119.15, 33.48, 119.20, 33.52),
    )
    other_grid = rc(
        name="淮城网格",
        level="grid",
        code="32080300200100",
        parent=other_comm,
        grid_type="residential",
        boundary=rect(119.15, 33.48, 119.20, 33.52),
    )
    other_unit = rc(
        name="淮城1单元",
        level="unit",
        code="32080300200101",
        parent=other_grid,
        boundary=rect(119.15, 33.48, 119.20, 33.52),
    )
    dept = grid_services.department_create(name="城管局", code="cg", region=district)
    return Tree(
        district,
        street,
        community,
        grid_a,
        grid_b,
        units_a,
        units_b,
        other_street,
        other_grid,
        other_unit,
        dept,
    )


def user_with_role(
    role: str | None, region: Region | None = None, *, department=None, **fields
) -> User:
    """A user holding one scoped role (through the real service), or none when `role` is None.

    `role="superuser"` makes a superuser without assignments.
    """
    from civicgrid.accounts import services as account_services

    if role == "superuser":
        return UserFactory(is_superuser=True, is_staff=True, **fields)
    user = UserFactory(**fields)
    if role is not None:
        account_services.role_assign(user=user, role=role, region=region, department=department)
    return user


def api_client(user: User | None = None):
    """A Django test client logged in as `user` (session auth), or anonymous."""
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client
