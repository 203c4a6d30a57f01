from django.urls import path

from . import views

app_name = "grids"

urlpatterns = [
    path("map/", views.grid_map, name="map"),
]
