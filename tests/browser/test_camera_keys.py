"""J5 for a person trying the demo: the operator gets a camera's device key from the staff
page and an analytics system (here: curl) posts an event with it.

The operator opens the cameras, then 设备密钥; presses 更换密钥 on 河下-037 and confirms; the new
key is shown once with a curl line. The old key is refused at once (401), the new one makes a
case (201). A second operator who still has the old list open and presses 更换密钥 is told the
key was changed by someone else (409) and no key is shown to them. Finally the operator
switches the camera off (停用): the list says so, and the key is refused (403).
"""

from __future__ import annotations

import io
import json
import random
import subprocess

import pytest
from django.core.management import call_command

from civicgrid.grids.choices import Level
from civicgrid.grids.models import Region

CODE = "河下-037"


@pytest.fixture
def hexia_cameras(transactional_db, settings, tmp_path) -> str:
    """The demo's regions, accounts and categories, and the 137 cameras; returns 河下-037's
    original key (the seeder never shows it; we rotate once to know one)."""
    from civicgrid.cases.cameras import camera_key_rotate
    from civicgrid.cases.demo import Result, cameras_seed
    from civicgrid.cases.models import Camera

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    call_command("seed_categories", verbosity=0)
    units = list(Region.objects.filter(level=Level.UNIT, is_active=True).order_by("code"))
    cameras_seed(units, random.Random(7), Result())
    return camera_key_rotate(camera=Camera.objects.get(code=CODE))


def _curl(url: str, key: str, snapshot: str, idem: str) -> tuple[int, dict]:
    out = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", url, "-H", f"X-Device-Key: {key}",
         "-H", f"Idempotency-Key: {idem}", "-F", "category=E0505",
         "-F", "description=车辆堵塞消防通道", "-F", f"snapshot=@{snapshot}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    body, _, status = out.stdout.rpartition("\n")
    return int(status), json.loads(body)


def _snapshot(tmp_path) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 360), (90, 90, 100)).save(buf, format="JPEG")
    path = tmp_path / "snapshot.jpg"
    path.write_bytes(buf.getvalue())
    return str(path)


def test_operator_rotates_a_camera_key_and_curl_posts_an_event(
    hexia_cameras, tmp_path, live_server, new_page, login, screenshot, page_log
) -> None:
    old_key = hexia_cameras
    page = new_page("desktop")
    login(page, live_server, "operator")
    page.goto(f"{live_server.url}/cases/report/cameras/")
    page.click("text=设备密钥")
    page.wait_for_selector("[data-camera-keys]")
    assert page.locator("[data-camera-keys] tbody tr").count() == 50  # first page of 137
    page.fill("input[name=q]", "037")
    page.press("input[name=q]", "Enter")
    row = page.locator(f'tr[data-camera="{CODE}"]')
    row.wait_for()
    shown_prefix = row.locator("code").inner_text().rstrip("…")
    assert old_key.startswith(shown_prefix) and old_key not in page.content()
    screenshot(page, "camera-01-keys-desktop")

    # A second operator (the administrator) has the same list open with the same key prefix.
    other = new_page("desktop")
    login(other, live_server, "admin")
    other.goto(f"{live_server.url}/cases/cameras/?q=037")

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.locator("button:has-text('更换密钥')").click()
    new_key = page.locator("[data-new-key]").input_value()
    assert new_key.startswith("cgcam_") and new_key != old_key
    assert new_key in page.locator("[data-curl]").inner_text()
    screenshot(page, "camera-02-new-key-desktop")

    url = f"{live_server.url}/api/v1/cameras/events"
    snap = _snapshot(tmp_path)
    status, body = _curl(url, old_key, snap, "evt-1")
    assert status == 401 and body["code"] == "invalid_device_key"
    status, body = _curl(url, new_key, snap, "evt-2")
    assert status == 201 and body["camera"] == CODE and body["located"], body
    status, again = _curl(url, new_key, snap, "evt-2")
    assert status == 200 and again["number"] == body["number"]

    other.once("dialog", lambda d: d.accept())
    other.locator(f'tr[data-camera="{CODE}"] button:has-text("更换密钥")').click()
    other.wait_for_selector("[data-key-error]")
    assert "已被他人更换" in other.locator("[data-key-error]").inner_text()
    assert other.locator("[data-new-key]").count() == 0
    screenshot(other, "camera-03-raced-rotate-desktop")

    page.click("text=我已保存,返回列表")
    page.fill("input[name=q]", "037")
    page.press("input[name=q]", "Enter")
    page.locator(f'tr[data-camera="{CODE}"] code:has-text("{new_key[:10]}")').wait_for()
    assert new_key not in page.content()

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator(f'tr[data-camera="{CODE}"] button:has-text("停用")').click()
    assert f"{CODE} 已停用" in page.locator("[data-key-message]").inner_text()
    row = page.locator(f'tr[data-camera="{CODE}"]')
    assert row.locator(".badge").inner_text() == "停用"
    assert row.locator("button:has-text('停用')").count() == 0
    screenshot(page, "camera-04-switched-off-desktop")
    status, body = _curl(url, new_key, snap, "evt-3")
    assert status == 403 and body["code"] == "forbidden"
    rotate = f"{live_server.url}/cases/cameras/"
    assert [e for e in page_log.errors if not e.startswith(f"HTTP 409: {rotate}")] == []
    assert len(page_log.errors) == 1 and page_log.external == []
