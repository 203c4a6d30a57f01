"""Regions, locate, departments and staff posts in the JSON API."""

from ninja import Router

router = Router(tags=["grids"])
