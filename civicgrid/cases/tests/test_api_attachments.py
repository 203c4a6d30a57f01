"""`POST /api/v1/cases/{number}/attachments` and `attachment_ids` on handle and verify.

Refusals in the API's error shape with their own codes; who may upload follows the pages
(reporter while reported, handler while handling, grid staff while verifying); nothing is
written, on disk or in the database, for a refused upload.
"""

import json
import re

import pytest
from django.test import Client

from civicgrid.cases import attachments, services
from civicgrid.cases.models import Attachment
from civicgrid.core.testing.factories import api_client

from .factories import report, to_status
from .images import image_bytes, noise_png, upload

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cases"
STORED = re.compile(r"^cases/\d{4}/\d{2}/[0-9a-f]{32}(_m|_t)?\.(jpg|png)$")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _upload(user, case, *files):
    client = api_client(user) if user is not None else Client()
    return client.post(f"{BASE}/{case.number}/attachments", {"files": list(files)})


def _act(user, case, action, body):
    return api_client(user).post(
        f"{BASE}/{case.number}/{action}", json.dumps(body), content_type="application/json"
    )


@pytest.fixture
def reported(tree, actors, category):
    return report(actors, category)


def test_reporter_uploads_before_photos_without_exif(reported, actors, tmp_path):
    r = _upload(actors.resident, reported, upload("a.jpg", image_bytes(gps=True)))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] == reported.number
    (att,) = body["attachments"]
    assert att["kind"] == "before" and not att["duplicate"] and att["content_type"] == "image/jpeg"
    stored = Attachment.objects.get(pk=att["id"])
    assert stored.uploaded_by == actors.resident and stored.event is None
    from PIL import Image

    with Image.open(tmp_path / stored.file.name) as img:
        assert not img.getexif()  # GPS and every other EXIF tag gone
    detail = api_client(actors.resident).get(f"{BASE}/{reported.number}").json()
    assert [a["id"] for a in detail["attachments"]] == [att["id"]]


@pytest.mark.parametrize(
    "name,data,status,code",
    [
        ("evil.jpg", b"<?php system($_GET['c']); ?>" * 20, 400, "attachment_bad_type"),
        ("x.gif", b"GIF89a" + b"\0" * 100, 400, "attachment_bad_type"),
        ("cut.jpg", image_bytes("JPEG", (400, 300))[:300], 400, "attachment_corrupt"),
        ("big.png", noise_png(400), 413, "attachment_too_large"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_a_code(
    reported, actors, settings, tmp_path, name, data, status, code
):
    settings.CASE_UPLOAD_MAX_BYTES = 100_000
    good = upload("ok.jpg", image_bytes())
    r = _upload(actors.resident, reported, good, upload(name, data))
    assert r.status_code == status, r.content
    body = r.json()
    assert body["code"] == code and "第2张图片" in body["message"] and body["details"]["files"]
    assert Attachment.objects.count() == 0 and _files(tmp_path) == []  # all or nothing


def test_too_many_and_none_at_all(reported, actors, settings, tmp_path):
    settings.CASE_UPLOAD_MAX_FILES = 2
    r = _upload(actors.resident, reported, *[upload(f"{i}.jpg") for i in range(3)])
    assert r.status_code == 400 and r.json()["code"] == "attachment_too_many"
    r = api_client(actors.resident).post(f"{BASE}/{reported.number}/attachments", {})
    assert r.status_code == 400 and r.json()["code"] == "attachment_missing"
    assert Attachment.objects.count() == 0 and _files(tmp_path) == []


def test_per_case_limit(reported, actors, settings):
    settings.CASE_UPLOAD_MAX_PER_CASE = 2
    assert (
        _upload(actors.resident, reported, upload(data=image_bytes(size=(10, 10)))).status_code
        == 201
    )
    r = _upload(actors.resident, reported, upload(data=image_bytes(size=(11, 11))),
                upload(data=image_bytes(size=(12, 12))))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "attachment_too_many"


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd.jpg",
        "..\\..\\windows\\system32\\x.jpg",
        "<script>alert(1)</script>.jpg",
        "a\u202egpj.exe",
        "x" * 500 + ".jpg",
        "%00.jpg",
        ".htaccess",
    ],
)
def test_malicious_file_names_are_never_used(reported, actors, tmp_path, name):
    r = _upload(actors.resident, reported, upload(name, image_bytes()))
    assert r.status_code == 201, r.content
    assert name not in r.content.decode()
    stored = _files(tmp_path)
    assert len(stored) == 3 and all(STORED.match(n.replace("\\", "/")) for n in stored)
    assert not list(tmp_path.parent.glob("passwd*"))


def test_duplicate_upload_is_stored_once(reported, actors, tmp_path):
    data = image_bytes(size=(40, 30))
    first = _upload(actors.resident, reported, upload("a.jpg", data))
    assert first.status_code == 201
    again = _upload(actors.resident, reported, upload("retry.jpg", data))
    assert again.status_code == 200, again.content
    (att,) = again.json()["attachments"]
    assert att["duplicate"] and att["id"] == first.json()["attachments"][0]["id"]
    both = _upload(actors.resident, reported, upload("b.jpg", data), upload("c.jpg", data))
    assert both.status_code == 200 and all(a["duplicate"] for a in both.json()["attachments"])
    other = _upload(actors.resident, reported, upload("d.jpg", image_bytes(size=(41, 30))))
    assert other.status_code == 201
    assert Attachment.objects.count() == 2 and len(_files(tmp_path)) == 6


def test_who_may_upload_follows_the_step(tree, actors, category, reported):
    # reported: the reporter only; the grid worker sees the case but may not add photos
    assert _upload(actors.worker, reported, upload()).status_code == 403
    assert _upload(actors.handler, reported, upload()).status_code in (403, 404)
    r = _upload(actors.outsider, reported, upload())
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert _upload(None, reported, upload()).status_code == 401
    signed = to_status(actors, reported, tree, "signed")
    assert _upload(actors.resident, signed, upload()).status_code == 403
    r = _upload(actors.handler, signed, upload())
    assert r.status_code == 201 and r.json()["attachments"][0]["kind"] == "after"
    assert _upload(actors.worker, signed, upload(data=image_bytes(size=(9, 9)))).status_code == 403
    services.case_handle(case=signed, actor=actors.handler, note="已补盖")
    assert _upload(actors.handler, signed, upload(data=image_bytes(size=(8, 8)))).status_code == 403
    r = _upload(actors.worker, signed, upload(data=image_bytes(size=(7, 7))))
    assert r.status_code == 201 and r.json()["attachments"][0]["kind"] == "verify"
    assert _upload(actors.worker_b, signed, upload()).status_code in (403, 404)


def test_unknown_case_number_is_404(actors, tree):
    r = api_client(actors.operator).post(f"{BASE}/2099010100001/attachments", {"files": upload()})
    assert r.status_code == 404


def test_handle_and_verify_claim_uploaded_photos(tree, actors, reported):
    signed = to_status(actors, reported, tree, "signed")
    after = _upload(actors.handler, signed, upload()).json()["attachments"][0]["id"]
    body = {"note": "已补盖", "attachment_ids": [after], "version": signed.version}
    r = _act(actors.handler, signed, "handle", body)
    assert r.status_code == 200, r.content
    att = Attachment.objects.get(pk=after)
    assert att.event.action == "handle" and att.event.case_id == signed.pk
    signed.refresh_from_db()
    shot = _upload(actors.worker, signed, upload()).json()["attachments"][0]["id"]
    r = _act(actors.worker, signed, "verify",
             {"passed": False, "reason": "没修好", "attachment_ids": [shot]})  # fmt: skip
    assert r.status_code == 200, r.content
    assert Attachment.objects.get(pk=shot).event.action == "verify_fail"


def test_claiming_bad_ids_is_400_and_nothing_moves(tree, actors, reported):
    before = _upload(actors.resident, reported, upload()).json()["attachments"][0]["id"]
    signed = to_status(actors, reported, tree, "signed")
    for ids in ([before], [999999]):  # a resident's photo, a photo that does not exist
        r = _act(actors.handler, signed, "handle", {"note": "已补盖", "attachment_ids": ids})
        assert r.status_code == 400 and r.json()["code"] == "attachment_unknown"
    signed.refresh_from_db()
    assert signed.status == "signed"
    after = _upload(actors.handler, signed, upload(data=image_bytes(size=(5, 5))))
    after_id = after.json()["attachments"][0]["id"]
    assert _act(actors.handler, signed, "handle",
                {"note": "已补盖", "attachment_ids": [after_id]}).status_code == 200  # fmt: skip
    signed.refresh_from_db()
    # the same photo cannot be claimed twice (now on the verify step, and already used)
    r = _act(actors.worker, signed, "verify", {"passed": True, "attachment_ids": [after_id]})
    assert r.status_code == 400 and r.json()["code"] == "attachment_unknown"


def test_wrong_actor_claiming_is_403_not_400(tree, actors, reported):
    signed = to_status(actors, reported, tree, "signed")
    r = _act(actors.worker, signed, "handle", {"note": "x", "attachment_ids": [1]})
    assert r.status_code == 403


def test_openapi_documents_the_upload(actors):
    spec = api_client(actors.operator).get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/cases/{number}/attachments"]["post"]
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert "attachment_too_large" in op["description"] and "413" in op["responses"]
    assert "attachment_ids" in spec["components"]["schemas"]["HandleIn"]["properties"]


def test_nothing_left_behind_after_refusal_of_second_file(reported, actors, tmp_path):
    attachments._ledger.pending.clear()
    r = _upload(actors.resident, reported, upload("1.jpg"), upload("2.jpg", b"nope" * 50))
    assert r.status_code == 400 and _files(tmp_path) == []


def test_case_moved_during_upload_is_409_and_leaves_nothing(
    tree, actors, reported, monkeypatch, tmp_path
):
    """Compare-and-set: the permission is checked again on the case row at commit time."""
    from civicgrid.cases.models import Case
    from civicgrid.cases.services import uploads

    signed = to_status(actors, reported, tree, "signed")
    real = uploads.attachment_store

    def store_while_someone_handles(**kw):
        Case.objects.filter(pk=signed.pk).update(status="handled", version=signed.version + 1)
        return real(**kw)

    monkeypatch.setattr(uploads, "attachment_store", store_while_someone_handles)
    r = _upload(actors.handler, signed, upload())
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert Attachment.objects.count() == 0 and _files(tmp_path) == []
