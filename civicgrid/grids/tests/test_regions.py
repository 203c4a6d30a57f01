"""Region tree rules enforced by the services: levels, parents, grid types, codes, audit."""

import pytest
from django.core.exceptions import ValidationError

from civicgrid.core.models import AuditLog
from civicgrid.grids import services
from civicgrid.grids.models import Region

pytestmark = pytest.mark.django_db


def test_paths_follow_codes(tree):
    assert tree.units_a[0].path == "320803/320803001/320803001001/32080300100100/32080300100101/"
    assert tree.units_a[0].ancestor_codes() == [
        "320803",
        "320803001",
        "320803001001",
        "32080300100100",
    ]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"level": "unit", "code": "32080300100109"}, "parent"),  # unit under a community
        ({"level": "grid", "code": "32080300100199", "grid_type": ""}, "grid_type"),
        ({"level": "grid", "code": "3208030010019", "grid_type": "business"}, "code"),
        ({"level": "grid", "code": "32080300200199", "grid_type": "business"}, "code"),
        ({"level": "grid", "code": "32080300100100", "grid_type": "business"}, "code"),  # dup
        ({"level": "grid", "code": "32080300100198", "grid_type": "castle"}, None),
    ],
)
def test_bad_regions_are_refused_and_nothing_written(tree, kwargs, field):
    before = (Region.objects.count(), AuditLog.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.region_create(name="新网格", parent=tree.community, **kwargs)
    if field:
        assert field in exc.value.message_dict
    assert (Region.objects.count(), AuditLog.objects.count()) == before


def test_name_is_required_and_bounded(tree):
    for name in ["", "   ", "长" * 101]:
        with pytest.raises(ValidationError):
            services.region_create(
                name=name,
                level="grid",
                code="32080300100195",
                parent=tree.community,
                grid_type="building",
            )


def test_street_without_district_is_allowed_but_community_needs_parent(db):
    street = services.region_create(name="河下街道", level="street", code="320803001")
    assert street.path == "320803001/"
    with pytest.raises(ValidationError):
        services.region_create(name="孤儿社区", level="community", code="320803001001")


def test_update_is_audited_with_a_diff(tree):
    services.region_update(region=tree.grid_b, name="河下商圈", grid_type="building")
    row = AuditLog.objects.filter(object_id=str(tree.grid_b.pk), action="change").get()
    assert row.changes["name"] == ["河下商圈网格", "河下商圈"]
    assert row.changes["grid_type"] == ["business", "building"]
    with pytest.raises(ValidationError):
        services.region_update(region=tree.units_a[0], grid_type="business")
