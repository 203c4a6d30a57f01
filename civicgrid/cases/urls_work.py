"""Queues, workbenches and case detail pages (views in cases/views/work.py)."""

urlpatterns: list = []
