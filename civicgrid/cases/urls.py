"""Pages of the case loop: intake (民情直通车, patrol, hotline, cameras) and the workbenches."""

from django.urls import include, path

app_name = "cases"

urlpatterns = [
    path("", include("civicgrid.cases.urls_work")),
    path("report/", include("civicgrid.cases.urls_intake")),
    path("cameras/", include("civicgrid.cases.urls_cameras")),
]
