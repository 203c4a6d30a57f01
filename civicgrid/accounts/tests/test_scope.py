"""Scope is computed from role assignments: paths, departments, admin rights."""

import pytest

from civicgrid.accounts import services
from civicgrid.accounts.choices import Role
from civicgrid.accounts.scope import ANONYMOUS, build_scope, scope_of
from civicgrid.core.testing.factories import UserFactory
from civicgrid.grids.models import Region

pytestmark = pytest.mark.django_db


def test_anonymous_and_roleless_users_see_nothing(tree):
    assert scope_of(None) is ANONYMOUS
    scope = build_scope(UserFactory())
    assert not scope.can_view_regions()
    assert not Region.objects.for_scope(scope).exists()


def test_nested_paths_collapse_to_the_widest(tree):
    user = UserFactory()
    services.role_assign(user=user, role=Role.OPERATOR, region=tree.street)
    services.role_assign(user=user, role=Role.LEADER, region=tree.grid_a)
    scope = build_scope(user)
    assert scope.region_paths == (tree.street.path,)
    codes = set(Region.objects.for_scope(scope).values_list("code", flat=True))
    assert tree.units_b[1].code in codes and tree.other_street.code not in codes
    assert tree.district.code not in codes


def test_resident_has_no_region_view(tree):
    user = UserFactory()
    services.role_assign(user=user, role=Role.RESIDENT, region=tree.units_a[0])
    scope = build_scope(user)
    assert scope.roles == {Role.RESIDENT}
    assert not Region.objects.for_scope(scope).exists()
    assert not scope.can_write()


def test_admin_paths_only_from_admin_role(tree):
    user = UserFactory()
    services.role_assign(user=user, role=Role.OPERATOR, region=tree.street)
    assert build_scope(user).admin_paths == ()
    services.role_assign(user=user, role=Role.ADMIN, region=tree.street)
    scope = build_scope(user)
    assert scope.admin_paths == (tree.street.path,)
    assert scope.covers_path(tree.grid_b.path, admin=True)
    assert not scope.covers_path(tree.other_grid.path, admin=True)


def test_superuser_is_global(tree):
    scope = build_scope(UserFactory(is_superuser=True))
    assert scope.is_global and Region.objects.for_scope(scope).count() == Region.objects.count()


def test_role_rules(tree):
    from django.core.exceptions import ValidationError

    user = UserFactory()
    with pytest.raises(ValidationError):
        services.role_assign(user=user, role=Role.HANDLER, region=tree.street)
    with pytest.raises(ValidationError):
        services.role_assign(user=user, role=Role.GRID_LEADER, region=tree.street)
    with pytest.raises(ValidationError):
        services.role_assign(user=user, role="pope", region=tree.street)
    a = services.role_assign(user=user, role=Role.HANDLER, region=tree.street, department=tree.dept)
    assert (
        services.role_assign(user=user, role=Role.HANDLER, region=tree.street, department=tree.dept)
        == a
    )


def test_inactive_user_sees_nothing(tree):
    user = UserFactory(is_active=False)
    services.role_assign(user=user, role=Role.OPERATOR, region=tree.street)
    assert build_scope(user) is ANONYMOUS
