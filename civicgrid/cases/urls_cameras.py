"""Camera device keys under /cases/cameras/ (views in cases/views/cameras.py)."""

from django.urls import path

from .views import cameras

urlpatterns = [
    path("", cameras.camera_keys, name="camera_keys"),
    path("<int:pk>/rotate-key/", cameras.camera_key_rotate_view, name="camera_key_rotate"),
    path("<int:pk>/switch-off/", cameras.camera_revoke_view, name="camera_revoke"),
]
