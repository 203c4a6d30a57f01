"""Camera device keys for people (J5): the staff page, the rotate action and the command.

Rotation is compare-and-set on the key the page showed, audited, shown once, stored hashed;
the old key is refused by the events endpoint at once. Scope: administrators and operators of
a region covering the camera; others 403, cameras elsewhere 404.
"""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from civicgrid.accounts.choices import Role
from civicgrid.cases import cameras
from civicgrid.cases.models import Camera, Case
from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import user_with_role

from .factories import IN_A, IN_B
from .images import upload

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/cameras/events"
LIST = "/cases/cameras/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def cam(tree):
    return cameras.camera_create(code="河下-037", name="估衣街口", lat=IN_A[0], lng=IN_A[1])


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _event(key, category, idem):
    headers = {"X-Device-Key": key, "Idempotency-Key": idem}
    data = {"category": category.code, "snapshot": upload()}
    return Client().post(EVENTS, data, headers=headers)


def _rotate(client, camera, prefix=None):
    prefix = camera.key_prefix if prefix is None else prefix
    return client.post(f"{LIST}{camera.pk}/rotate-key/", {"expected_prefix": prefix})


def test_page_lists_scoped_cameras_with_prefix_only(cam, actors, tree):
    camera, raw = cam
    other, _ = cameras.camera_create(code="河下-099", name="别处", lat=IN_B[0], lng=IN_B[1])
    admin = user_with_role(Role.ADMIN, tree.grid_a, username="adm")
    page = _client(admin).get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "河下-037" in html and camera.key_prefix in html and raw not in html
    assert "河下-099" not in html  # grid B is outside the administrator's grid A
    assert "河下-099" in _client(actors.operator).get(LIST).content.decode()


@pytest.mark.parametrize("who", ["worker", "handler", "resident"])
def test_page_is_403_without_a_key_role(cam, actors, who):
    user = getattr(actors, who)
    assert _client(user).get(LIST).status_code == 403
    assert _rotate(_client(user), cam[0]).status_code == 403


def test_rotate_shows_key_once_and_old_key_stops_at_once(cam, actors, category):
    camera, old = cam
    assert _event(old, category, "e1").status_code == 201
    answer = _rotate(_client(actors.operator), camera)
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"] or "no-cache" in answer["Cache-Control"]
    new = answer.context["raw_key"]
    assert new.startswith(cameras.KEY_PREFIX) and new in answer.content.decode()
    camera.refresh_from_db()
    assert new not in camera.key_hash and camera.key_hash == cameras.hash_device_key(new)
    assert _event(old, category, "e2").status_code == 401
    assert _event(new, category, "e3").status_code == 201
    audit = AuditLog.objects.filter(object_type__icontains="camera", action="token").last()
    assert audit.actor_id == actors.operator.pk and new not in str(audit.changes)
    # The listing never shows the key again, only its new prefix.
    listing = _client(actors.operator).get(LIST).content.decode()
    assert new not in listing and new[:10] in listing


def test_stale_page_is_409_and_changes_nothing(cam, actors):
    camera, _ = cam
    client = _client(actors.operator)
    stale_prefix = camera.key_prefix
    assert _rotate(client, camera).status_code == 200
    camera.refresh_from_db()
    hash_now = camera.key_hash
    again = _rotate(client, camera, prefix=stale_prefix)  # a reload, or a second operator
    assert again.status_code == 409 and "已被他人更换" in again.content.decode()
    camera.refresh_from_db()
    assert camera.key_hash == hash_now


def test_service_compare_and_set_on_loaded_hash(cam):
    camera, _ = cam
    first = Camera.objects.get(pk=camera.pk)
    second = Camera.objects.get(pk=camera.pk)
    cameras.camera_key_rotate(camera=first)
    with pytest.raises(cameras.KeyChanged):
        cameras.camera_key_rotate(camera=second)


def test_out_of_scope_camera_is_404(cam, actors):
    assert _rotate(_client(actors.outsider), cam[0]).status_code == 404
    assert "河下-037" not in _client(actors.outsider).get(LIST).content.decode()


def test_rotation_re_enables_a_revoked_camera(cam, actors, category):
    camera, _ = cam
    cameras.camera_revoke(camera=camera)
    camera.refresh_from_db()
    new = _rotate(_client(actors.operator), camera).context["raw_key"]
    assert _event(new, category, "e1").status_code == 201


def test_command_prints_a_working_key(cam, category):
    camera, old = cam
    out = io.StringIO()
    call_command("camera_key_rotate", "河下-037", "--quiet", stdout=out)
    new = out.getvalue().strip()
    assert new.startswith(cameras.KEY_PREFIX)
    assert _event(old, category, "e1").status_code == 401
    r = _event(new, category, "e2")
    assert r.status_code == 201 and Case.objects.get().camera == camera
    verbose = io.StringIO()
    call_command("camera_key_rotate", "河下-037", stdout=verbose)
    assert "X-Device-Key" in verbose.getvalue() and "只显示这一次" in verbose.getvalue()
    with pytest.raises(CommandError):
        call_command("camera_key_rotate", "河下-999", stdout=io.StringIO())


def test_camera_list_page_links_to_keys_for_key_roles_only(cam, actors):
    assert LIST in _client(actors.operator).get("/cases/report/cameras/").content.decode()
    assert LIST not in _client(actors.worker).get("/cases/report/cameras/").content.decode()


def _revocations(camera):
    rows = AuditLog.objects.filter(object_type="cases.camera", object_id=str(camera.pk))
    return rows.filter(changes__has_key="revoked")


def _switch_off(client, camera, prefix=None, q=""):
    prefix = camera.key_prefix if prefix is None else prefix
    return client.post(f"{LIST}{camera.pk}/switch-off/", {"expected_prefix": prefix, "q": q})


def test_switching_a_camera_off_refuses_its_key_until_rotated(cam, actors, category):
    camera, raw = cam
    client = _client(actors.operator)
    r = _switch_off(client, camera, q="037")
    assert r.status_code == 302 and r["Location"].endswith("?q=037")
    assert not Camera.objects.get(pk=camera.pk).is_active
    page = client.get(r["Location"]).content.decode()
    assert "河下-037 已停用" in page and "switch-off" not in page  # no button on an off camera
    assert _event(raw, category, "e1").status_code == 403
    row = _revocations(camera).get()
    assert row.changes == {"revoked": camera.key_prefix} and row.actor_id == actors.operator.pk


def test_switching_off_from_a_stale_page_is_409_and_changes_nothing(cam, actors):
    camera, _ = cam
    client = _client(actors.operator)
    r = _switch_off(client, camera, prefix="cgcam_old")
    assert r.status_code == 409 and "已被他人停用或更换密钥" in r.content.decode()
    assert Camera.objects.get(pk=camera.pk).is_active
    assert _switch_off(client, camera).status_code == 302
    again = _switch_off(client, camera)  # someone else already switched it off
    assert again.status_code == 409
    assert (
        AuditLog.objects.filter(object_type="cases.camera", changes__has_key="revoked").count() == 1
    )


def test_switch_off_is_scoped_and_post_only(cam, actors):
    camera, _ = cam
    assert _switch_off(_client(actors.outsider), camera).status_code == 404
    assert _switch_off(_client(actors.resident), camera).status_code == 403
    assert _client(actors.operator).get(f"{LIST}{camera.pk}/switch-off/").status_code == 405
    anonymous = Client().post(f"{LIST}{camera.pk}/switch-off/", {"expected_prefix": "x"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert Camera.objects.get(pk=camera.pk).is_active
