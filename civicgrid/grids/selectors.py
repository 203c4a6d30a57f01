"""Every read of regions, departments and posts, through the user's scope."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.accounts.scope import scope_of

from .models import Department, GridPost, Region


def region_list(*, user) -> QuerySet[Region]:
    return Region.objects.for_scope(scope_of(user)).defer("boundary_wkb")


def region_get(*, user, code: str) -> Region:
    """404 for a region outside the user's scope: existence is not disclosed."""
    return get_object_or_404(Region.objects.for_scope(scope_of(user)), code=code)


def department_list(*, user) -> QuerySet[Department]:
    return Department.objects.for_scope(scope_of(user)).select_related("region")


def grid_post_list(*, user, grid: Region | None = None) -> QuerySet[GridPost]:
    qs = (
        GridPost.objects.for_scope(scope_of(user))
        .active()
        .select_related("user", "department", "grid")
    )
    return qs.filter(grid=grid) if grid is not None else qs
