"""Cameras: per-device keys (401/403 in the API error shape), idempotent events, scope."""

import pytest
from django.test import Client

from civicgrid.cases import cameras
from civicgrid.cases.models import Case

from .factories import IN_A
from .images import upload

pytestmark = pytest.mark.django_db
URL = "/api/v1/cameras/events"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def camera(tree):
    return cameras.camera_create(code="河下-037", name="估衣街口", lat=IN_A[0], lng=IN_A[1])


def _post(key, category, idem="evt-1", **extra):
    """`category` is a Category or, to test refusals, a raw code."""
    headers = {"X-Device-Key": key} if key is not None else {}
    if idem:
        headers["Idempotency-Key"] = idem
    data = {
        "category": getattr(category, "code", category),
        "description": "车辆堵塞消防通道",
        "snapshot": upload(),
    }
    data.update(extra)
    return Client().post(URL, data, headers=headers)


def test_camera_is_located_and_key_is_stored_hashed(camera, tree):
    cam, raw = camera
    assert cam.unit == tree.units_a[0] and cam.path == tree.units_a[0].path
    assert raw not in cam.key_hash and raw.startswith(cam.key_prefix)


@pytest.mark.parametrize("key,status,code", [
    (None, 401, "unauthorized"), ("cgcam_wrong", 401, "invalid_device_key"),
])  # fmt: skip
def test_missing_or_wrong_key_is_401(camera, category, key, status, code):
    r = _post(key, category)
    assert r.status_code == status
    body = r.json()
    assert body["code"] == code and body["message"] and "details" in body
    assert Case.objects.count() == 0


def test_revoked_key_is_403(camera, category):
    cam, raw = camera
    cameras.camera_revoke(camera=cam)
    r = _post(raw, category)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    new = cameras.camera_key_rotate(camera=cam)
    assert _post(raw, category).status_code == 401
    assert _post(new, category).status_code == 201


def test_event_is_idempotent_and_becomes_a_located_case(camera, category, tree):
    cam, raw = camera
    first = _post(raw, category)
    assert first.status_code == 201, first.content
    body = first.json()
    again = _post(raw, category)
    assert again.status_code == 200 and again.json()["number"] == body["number"]
    assert not again.json()["created"] and Case.objects.count() == 1
    case = Case.objects.get()
    assert case.source == "camera" and case.camera == cam and case.unit == tree.units_a[0]
    assert case.attachments.get().kind == "snapshot"
    assert case.events.get(action="report").actor_label == "监控点位 河下-037"
    assert body["status_text"] == "已收到,正在研判"


def test_same_key_on_another_camera_is_another_case(camera, category):
    _, raw = camera
    _, raw2 = cameras.camera_create(code="河下-038", name="估衣街中", lat=IN_A[0], lng=IN_A[1])
    assert _post(raw, category).status_code == 201
    assert _post(raw2, category).status_code == 201
    assert Case.objects.count() == 2


def test_bad_snapshot_and_unknown_category_are_400(camera, category):
    _, raw = camera
    r = _post(raw, category, snapshot=upload("x.jpg", b"GIF89a not really"))
    assert r.status_code == 400 and r.json()["code"] == "unsupported_type"
    r = _post(raw, "X9999", idem="evt-2")
    assert r.status_code == 400 and r.json()["code"] == "unknown_category"
    assert Case.objects.count() == 0


def test_camera_list_is_scoped(camera, actors, tree):
    cam, _ = camera
    assert list(cameras.camera_list(user=actors.operator)) == [cam]
    assert list(cameras.camera_list(user=actors.outsider)) == []
    assert cameras.may_raise_events(actors.operator, cam)
    assert not cameras.may_raise_events(actors.worker, cam)
