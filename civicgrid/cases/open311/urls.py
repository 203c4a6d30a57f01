"""GeoReport v2 URLs: every resource in `.json` and `.xml`; anything else is a 404 in the
specification's error shape rather than Django's HTML page."""

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>json|xml)$"
ID = r"(?P<{}>[A-Za-z0-9_\-]{{1,64}})"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, views.service_list, name="open311-services"),
    re_path(r"^services/" + ID.format("code") + FMT, views.service_definition),
    re_path(r"^requests" + FMT, views.requests, name="open311-requests"),
    re_path(r"^requests/" + ID.format("request_id") + FMT, views.request_detail),
    re_path(r"^tokens/" + ID.format("token") + FMT, views.token),
    re_path(r"^servicerequestupdates" + FMT, views.request_updates),
    re_path(r"", views.not_found),
]
