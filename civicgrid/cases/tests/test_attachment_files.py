"""No image file outlives a rolled-back transaction, and the scheduler removes orphans.

These tests commit for real (transactional database), since what they check is what
happens when a transaction commits or rolls back.
"""

import os
import time

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from civicgrid.cases import attachments, scheduler, services
from civicgrid.cases.models import Attachment

from .factories import report, to_status
from .images import image_bytes, upload

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachments._ledger.pending.clear()


def _files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _images(n: int):
    return attachments.images_prepare([upload(f"p{i}.jpg", image_bytes()) for i in range(n)])


@pytest.fixture
def signed(tree, actors, category):
    return to_status(actors, report(actors, category), tree, "signed")


def _fail_on_second_row(monkeypatch):
    real, calls = Attachment.objects.create, []

    def create(**kw):
        calls.append(1)
        if len(calls) == 2:
            raise Boom("disk or database failed on the second photo")
        return real(**kw)

    monkeypatch.setattr(Attachment.objects, "create", create)


def test_failed_handle_leaves_no_file(signed, actors, monkeypatch, tmp_path):
    _fail_on_second_row(monkeypatch)
    with pytest.raises(Boom):
        services.case_handle(case=signed, actor=actors.handler, note="已补盖", files=_images(2))
    assert attachments.uncommitted_files_sweep() == 3  # the first photo's three copies
    assert _files(tmp_path) == [] and Attachment.objects.count() == 0
    signed.refresh_from_db()
    assert signed.status == "signed"


def test_failed_handle_page_request_cleans_up_by_itself(signed, actors, monkeypatch, tmp_path):
    """The end of the request is the sweep: nobody has to call it."""
    _fail_on_second_row(monkeypatch)
    client = Client(raise_request_exception=False)
    client.force_login(actors.handler)
    photos = [upload("a.jpg", image_bytes()), upload("b.jpg", image_bytes())]
    data = {"note": "已补盖", "photos": photos, "version": signed.version}
    response = client.post(f"/cases/{signed.pk}/do/handle/", data)
    assert response.status_code == 500
    assert _files(tmp_path) == [] and attachments._ledger.pending == []


def test_rolled_back_savepoint_loses_its_files_but_the_committed_ones_stay(
    signed, actors, tmp_path
):
    first, second = _images(2)
    with transaction.atomic():
        try:
            with transaction.atomic():
                attachments.attachment_store(case=signed, image=first, kind="after")
                raise Boom()
        except Boom:
            pass
        kept = attachments.attachment_store(case=signed, image=second, kind="after")
        assert attachments.uncommitted_files_sweep() == 0  # still open: nothing decided yet
    assert attachments.uncommitted_files_sweep() == 3
    assert _files(tmp_path) == sorted(attachments.attachment_files(kept))


def test_whole_transaction_rolled_back(signed, tmp_path):
    with pytest.raises(Boom), transaction.atomic():
        attachments.attachment_store(case=signed, image=_images(1)[0], kind="after")
        raise Boom()
    assert attachments.uncommitted_files_sweep() == 3 and _files(tmp_path) == []


def test_committed_handle_keeps_its_files(signed, actors, tmp_path):
    services.case_handle(case=signed, actor=actors.handler, note="已补盖", files=_images(2))
    assert attachments.uncommitted_files_sweep() == 0
    assert len(_files(tmp_path)) == 6 and attachments._ledger.pending == []


def _age(path, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(path, (when, when))


def test_scheduler_removes_only_old_unreferenced_files(signed, actors, tmp_path):
    services.case_handle(case=signed, actor=actors.handler, note="已补盖", files=_images(1))
    att = Attachment.objects.get()
    folder = tmp_path / os.path.dirname(att.file.name)
    old_orphan, young_orphan = folder / "aaaa.jpg", folder / "bbbb.jpg"
    old_orphan.write_bytes(b"x")
    young_orphan.write_bytes(b"x")
    for path in [old_orphan, *(tmp_path / n for n in attachments.attachment_files(att))]:
        _age(path, 2)
    done = scheduler.run_once(timezone.now())
    assert done["orphan_files_sweep"] == 1
    assert not old_orphan.exists() and young_orphan.exists()
    assert all((tmp_path / n).exists() for n in attachments.attachment_files(att))
    assert scheduler.run_once(timezone.now())["orphan_files_sweep"] == 0  # idempotent


def test_scheduler_sweep_without_any_media_folder(db):
    assert attachments.orphan_files_sweep(timezone.now()) == 0
