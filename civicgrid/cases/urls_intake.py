"""Intake pages under /cases/report/: residents, grid workers, hotline, cameras
(views in cases/views/intake.py). Photos are served by the workbench's checked `cases:photo`."""

from django.urls import path

from .views import intake

urlpatterns = [
    path("", intake.resident_report, name="intake_resident"),
    path("done/<str:number>/", intake.report_done, name="intake_done"),
    path("categories/", intake.category_search, name="intake_categories"),
    path("patrol/", intake.patrol_report, name="intake_patrol"),
    path("hotline/", intake.hotline_report, name="intake_hotline"),
    path("cameras/", intake.cameras, name="intake_cameras"),
    path("cameras/<int:pk>/", intake.camera_detail, name="intake_camera"),
]
