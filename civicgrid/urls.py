from django.contrib import admin
from django.urls import include, path, re_path

from civicgrid.api import api, api_not_found
from civicgrid.core.health import healthz
from civicgrid.core.views import home

admin.site.site_header = "网格化社会治理平台 · 管理后台"
admin.site.site_title = "网格化社会治理平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/", api_not_found),
    path("accounts/", include("civicgrid.accounts.urls")),
    path("grids/", include("civicgrid.grids.urls")),
    path("cases/", include("civicgrid.cases.urls")),
    path("registry/", include("civicgrid.registry.urls")),
    path("open311/v2/", include("civicgrid.cases.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
