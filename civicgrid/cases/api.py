"""JSON API of the case loop under /api/v1/cases (endpoints are added with their pages)."""

from ninja import Router

router = Router(tags=["cases"])
