"""Intake pages: residents, grid workers, hotline operators, cameras (views in cases/views/intake.py)."""

urlpatterns: list = []
