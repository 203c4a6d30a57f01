"""Categories: the whole tree for pickers, and search by word (J1: "井盖" → 井盖缺失)."""

from ninja import Query

from .. import selectors
from ..models import Category
from . import router
from .common import paged
from .schemas import CategoryNode, CategoryOut, CategorySearch


@router.get("/categories", response=list[CategoryNode], summary="案件类别树(大类 → 小类)")
def category_tree(request):
    """Active classes only, two queries whatever the size of the tree."""
    majors = list(Category.objects.active().filter(parent__isnull=True).order_by("kind", "sort"))
    minors = Category.objects.active().minors().select_related("parent").order_by("sort", "code")
    by_major: dict[int, list[Category]] = {}
    for minor in minors:
        by_major.setdefault(minor.parent_id, []).append(minor)
    return [
        {"code": m.code, "name": m.name, "kind": m.kind, "children": by_major.get(m.pk, [])}
        for m in majors
    ]


@router.get("/categories/search", response=list[CategoryOut], summary="按关键词查找小类")
@paged
def category_search(request, filters: Query[CategorySearch]):
    return selectors.category_search(text=filters.q)
