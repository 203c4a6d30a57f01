"""Intake pages: one case per page key, search by word, inline errors, scope, anonymity."""

import pytest
from django.test import Client

from civicgrid.cases import cameras, services
from civicgrid.cases.choices import Source
from civicgrid.cases.models import Case

from .factories import IN_A, OUTSIDE
from .images import upload

pytestmark = pytest.mark.django_db
KEY = "0b8f6f1e-2f1c-4b8e-9a51-3d1f2a9c7e10"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _data(category, point=IN_A, **extra):
    data = {"category": category.pk, "description": "估衣街 12 号门口井盖没了", "lat": point[0],
            "lng": point[1], "idempotency_key": KEY}  # fmt: skip
    data.update(extra)
    return data


def test_resident_page_renders_in_chinese_with_map_and_key(actors, category):
    r = _client(actors.resident).get("/cases/report/")
    html = r.content.decode()
    assert r.status_code == 200 and "民情直通车" in html and "使用我的位置" in html
    assert 'name="idempotency_key"' in html and "vendor/leaflet/leaflet.js" in html
    assert "井盖缺失" in html


def test_resident_submit_twice_with_same_key_makes_one_case(actors, category):
    c = _client(actors.resident)
    first = c.post("/cases/report/", {**_data(category), "photos": [upload(), upload()]})
    second = c.post("/cases/report/", {**_data(category), "photos": [upload(), upload()]})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    case = Case.objects.get()
    assert case.attachments.count() == 2 and case.source == Source.RESIDENT
    done = c.get(first["Location"])
    assert case.number in done.content.decode() and "已收到,正在研判" in done.content.decode()


def test_search_by_word_finds_the_category(actors, category):
    r = _client(actors.resident).get("/cases/report/categories/", {"q": "井盖"})
    assert "井盖缺失" in r.content.decode()
    r = _client(actors.resident).get("/cases/report/categories/", {"q": "窨井"})  # keyword
    assert "井盖缺失" in r.content.decode()
    r = _client(actors.resident).get("/cases/report/categories/", {"q": "火星"})
    assert "没有找到" in r.content.decode()


@pytest.mark.parametrize("photos,message", [
    ([upload("a.jpg", b"plain text")], "不是支持的图片格式"),
    ([upload() for _ in range(10)], "一次最多上传 9 张图片"),
])  # fmt: skip
def test_bad_photos_are_400_inline_and_write_nothing(actors, category, photos, message):
    r = _client(actors.resident).post("/cases/report/", {**_data(category), "photos": photos})
    assert r.status_code == 400 and message in r.content.decode()
    assert Case.objects.count() == 0


def test_missing_fields_and_bad_key_are_400_inline(actors, category):
    c = _client(actors.resident)
    r = c.post("/cases/report/", {"idempotency_key": KEY})
    html = r.content.decode()
    assert r.status_code == 400 and "请选择问题类别" in html and "请简单描述问题" in html
    r = c.post("/cases/report/", _data(category, idempotency_key="<script>"))
    assert r.status_code == 400 and "页面已过期" in r.content.decode()
    r = c.post("/cases/report/", _data(category, lat="nan", lng="1"))
    assert r.status_code == 400
    assert Case.objects.count() == 0


def test_outside_point_is_accepted_and_flagged(actors, category):
    r = _client(actors.resident).post("/cases/report/", _data(category, point=OUTSIDE))
    assert r.status_code == 302
    case = Case.objects.get()
    assert not case.located and case.locate_reason == "不在管辖范围内"


def test_anonymity_hides_the_reporter(actors, category):
    _client(actors.resident).post("/cases/report/", _data(category, anonymous="on"))
    case = Case.objects.get()
    assert case.anonymous and case.reporter == actors.resident  # can still follow it
    assert case.reporter_name == "" and case.reporter_phone_enc == ""
    event = case.events.get(action="report")
    assert event.actor_label == "匿名群众"
    assert actors.resident.display_name not in event.actor_label


def test_patrol_report_handled_on_the_spot(actors, category):
    c = _client(actors.worker)
    r = c.post("/cases/report/patrol/", _data(category, on_spot="on", handle_note="已清理"))
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.source == Source.GRID_WORKER and case.handled_on_spot and case.status == "handled"
    r = c.post("/cases/report/patrol/", _data(category, on_spot="on", idempotency_key="1-2"))
    assert r.status_code == 400 and "当场处置须填写处置情况" in r.content.decode()


def test_patrol_page_is_for_grid_staff_only(actors):
    assert _client(actors.resident).get("/cases/report/patrol/").status_code == 403


def test_hotline_registers_with_encrypted_phone(actors, category):
    c = _client(actors.operator)
    assert _client(actors.worker).get("/cases/report/hotline/").status_code == 403
    data = _data(category, source="hotline", reporter_name="王阿姨", reporter_phone="13912345678")
    r = c.post("/cases/report/hotline/", data)
    assert r.status_code == 200 and "已登记" in r.content.decode()
    case = Case.objects.get()
    assert case.reporter is None and case.source == "hotline"
    assert "13912345678" not in case.reporter_phone_enc
    assert services.reporter_phone(case) == "13912345678"
    r = c.post("/cases/report/hotline/", {**data, "reporter_phone": "12"})
    assert Case.objects.count() == 1  # same key: still one case


def test_camera_pages_scope_and_raise_event(actors, category, tree):
    cam, _ = cameras.camera_create(code="河下-037", name="估衣街口", lat=IN_A[0], lng=IN_A[1])
    op = _client(actors.operator)
    assert "河下-037" in op.get("/cases/report/cameras/").content.decode()
    assert "河下-037" not in _client(actors.outsider).get("/cases/report/cameras/").content.decode()
    assert _client(actors.outsider).get(f"/cases/report/cameras/{cam.pk}/").status_code == 404
    page = op.get(f"/cases/report/cameras/{cam.pk}/")
    assert page.status_code == 200 and "从此点位上报事件" in page.content.decode()
    data = {"category": category.pk, "description": "车辆堵塞消防通道", "idempotency_key": KEY}
    r = op.post(f"/cases/report/cameras/{cam.pk}/", {**data, "photos": upload()})
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.camera == cam and case.source == "camera" and case.attachments.count() == 1
    r = op.post(f"/cases/report/cameras/{cam.pk}/", data)  # no snapshot
    assert r.status_code == 400 and "请上传一张监控截图" in r.content.decode()
    worker = _client(actors.worker)
    assert worker.get(f"/cases/report/cameras/{cam.pk}/").status_code == 200
    assert worker.post(f"/cases/report/cameras/{cam.pk}/", data).status_code == 403
