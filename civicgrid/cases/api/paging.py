"""Limit/offset paging whose total stops counting: `{items, count, count_capped}`.

With a million cases an exact `COUNT(*)` of a queue costs more than the page itself
(200–700 ms for 100,000 matching rows; docs/BENCHMARKS.md). The queues therefore count at
most `offset + PAGE_COUNT_CAP` rows: `count` is exact while `count_capped` is false, and a
lower bound ("at least this many", shown as "1000+") when it is true. Same fields as
ninja's LimitOffsetPagination plus one, so clients that read `items`/`count` keep working.
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from ..selectors import PAGE_COUNT_CAP, capped_count
from .common import MAX_PAGE


class CappedLimitOffsetPagination(LimitOffsetPagination):
    class Output(Schema):
        items: list[Any]
        count: int = Field(
            description=(
                f"行数;count_capped 为 true 时表示“至少这么多”(最多数到 offset + {PAGE_COUNT_CAP})"
            )
        )
        count_capped: bool = Field(
            False, description=f"true:实际行数超过 offset + {PAGE_COUNT_CAP},count 只是下限"
        )

    def paginate_queryset(self, queryset, pagination, request, **params: Any) -> Any:
        offset = pagination.offset
        limit = min(pagination.limit, self.max_limit)
        total = capped_count(qs=queryset, cap=offset + PAGE_COUNT_CAP)
        return {
            self.items_attribute: queryset[offset : offset + limit],
            "count": int(total),
            "count_capped": total.capped,
        }


def capped_paged(func):
    """`@paginate` for the queues: limit/offset, page-size cap, capped total."""
    return paginate(CappedLimitOffsetPagination, max_limit=MAX_PAGE)(func)
