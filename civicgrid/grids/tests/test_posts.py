"""The "1+1+1+N" staff posts: at most one leader, instructor and full-time worker per grid."""

import pytest
from django.core.exceptions import ValidationError

from civicgrid.accounts.choices import Role
from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import UserFactory
from civicgrid.grids import services
from civicgrid.grids.choices import PostRole
from civicgrid.grids.models import GridPost

pytestmark = pytest.mark.django_db


def test_assign_creates_post_and_scoped_role(tree):
    user = UserFactory()
    post = services.grid_post_assign(grid=tree.grid_a, role=PostRole.LEADER, user=user)
    assert post.is_active
    assignment = user.assignments.get()
    assert (assignment.role, assignment.region) == (Role.GRID_LEADER, tree.grid_a)
    assert AuditLog.objects.filter(object_type="grids.gridpost", object_id=str(post.pk)).exists()


@pytest.mark.parametrize("role", [PostRole.LEADER, PostRole.INSTRUCTOR, PostRole.FULLTIME])
def test_second_single_post_is_refused(tree, role):
    services.grid_post_assign(grid=tree.grid_a, role=role, user=UserFactory())
    with pytest.raises(ValidationError, match="已有"):
        services.grid_post_assign(grid=tree.grid_a, role=role, user=UserFactory())
    assert GridPost.objects.filter(grid=tree.grid_a, role=role).count() == 1


def test_many_functional_workers_each_with_department(tree):
    for _ in range(3):
        services.grid_post_assign(
            grid=tree.grid_a, role=PostRole.FUNCTIONAL, user=UserFactory(), department=tree.dept
        )
    assert GridPost.objects.filter(role=PostRole.FUNCTIONAL).count() == 3
    with pytest.raises(ValidationError, match="部门"):
        services.grid_post_assign(grid=tree.grid_a, role=PostRole.FUNCTIONAL, user=UserFactory())


def test_posts_only_on_grids(tree):
    with pytest.raises(ValidationError, match="网格"):
        services.grid_post_assign(grid=tree.units_a[0], role=PostRole.LEADER, user=UserFactory())


def test_ending_a_post_frees_it_and_removes_the_role(tree):
    old, new = UserFactory(), UserFactory()
    post = services.grid_post_assign(grid=tree.grid_a, role=PostRole.LEADER, user=old)
    services.grid_post_end(post=post)
    assert not old.assignments.exists()
    services.grid_post_assign(grid=tree.grid_a, role=PostRole.LEADER, user=new)
    with pytest.raises(ValidationError):
        services.grid_post_end(post=post)


def test_same_person_cannot_hold_the_same_post_twice(tree):
    user = UserFactory()
    services.grid_post_assign(grid=tree.grid_a, role=PostRole.SUPERVISOR, user=user)
    with pytest.raises(ValidationError):
        services.grid_post_assign(grid=tree.grid_a, role=PostRole.SUPERVISOR, user=user)
