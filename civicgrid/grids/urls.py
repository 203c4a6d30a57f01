from django.urls import path

from . import views

app_name = "grids"

urlpatterns = [
    path("map/", views.grid_map, name="map"),
    path("map/regions.geojson", views.regions_geojson, name="regions_geojson"),
    path("map/region/<str:code>/", views.region_panel, name="region_panel"),
]
