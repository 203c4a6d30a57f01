"""Import pages (J8): upload → dry run row by row → start → progress; bad files never 500;
another user's job is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from civicgrid.core.models import ImportJob
from civicgrid.registry.models import Person

from .factories import make_id, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _xlsx(rows) -> bytes:
    import io

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _post(client, name: str, data: bytes, kind: str = "person"):
    upload = SimpleUploadedFile(name, data)
    return client.post(reverse("registry:import"), {"kind": kind, "file": upload})


def test_page_lists_kinds_and_template_downloads(client, worker_a):
    client.force_login(worker_a)
    page = client.get(reverse("registry:import"))
    assert page.status_code == 200 and "实有人口" in page.content.decode()
    template = client.get(reverse("registry:import_template", args=["person"]))
    assert template.status_code == 200
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(reverse("registry:import_template", args=["nope"])).status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("a.pdf", b"%PDF-1.4 hello", "只能导入"),
        ("a.xlsx", b"", "空的"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 64, "另存为"),
        ("a.csv", "编号,名字\n1,2\n".encode(), "表头"),
        ("a.csv", "姓名,网格编码\n张三,1\n".encode(), "身份证号"),
    ],
)
def test_bad_files_get_clear_messages(client, worker_a, media, name, data, text):
    client.force_login(worker_a)
    response = _post(client, name, data)
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not ImportJob.objects.exists()


def test_oversized_and_missing_file(client, worker_a, media, settings):
    client.force_login(worker_a)
    settings.IMPORT_MAX_BYTES = 10
    assert "上限" in _post(client, "a.csv", "姓名,身份证号\n".encode() * 5).content.decode()
    response = client.post(reverse("registry:import"), {"kind": "person"})
    assert response.status_code == 400 and "请选择要导入" in response.content.decode()


def test_dry_run_then_import_with_progress(
    client, worker_a, unit_a, media, django_capture_on_commit_callbacks
):
    client.force_login(worker_a)
    good = make_id(birth=dt.date(1950, 3, 7))
    data = _xlsx([["河下街道人口表"], ["姓名", "身份证号", "网格编码"],
                  ["王秀英", good, unit_a.code], ["赵六", good[:-1] + "0" if good[-1] != "0"
                                                  else good[:-1] + "1", unit_a.code],
                  ["填表人：王芳"]])  # fmt: skip
    response = _post(client, "people.xlsx", data)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/import/{job.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "将新增" in page and "校验位不符" in page and "开始导入" in page
    assert client.get(reverse("registry:import_errors", args=[job.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:import_start", args=[job.pk]))
    progress = client.get(reverse("registry:import_progress", args=[job.pk])).content.decode()
    assert "导入完成" in progress and "every 1s" not in progress
    assert Person.objects.filter(name="王秀英").exists()


def test_running_job_polls(client, worker_a, unit_a, media):
    client.force_login(worker_a)
    _post(client, "p.csv", f"姓名,身份证号,网格编码\n张三,{make_id()},{unit_a.code}\n".encode())
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    progress = client.get(reverse("registry:import_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in progress


def test_outsider_cannot_see_another_users_job(client, worker_a, unit_a, media, tree):
    from civicgrid.accounts.choices import Role

    client.force_login(worker_a)
    _post(client, "p.csv", f"姓名,身份证号,网格编码\n张三,{make_id()},{unit_a.code}\n".encode())
    job = ImportJob.objects.get()
    client.force_login(staff(Role.GRID_WORKER, tree.grid_a))
    for name in ("import_job", "import_progress", "import_errors"):
        assert client.get(reverse(f"registry:{name}", args=[job.pk])).status_code == 404
    assert client.post(reverse("registry:import_start", args=[job.pk])).status_code == 404


def test_cancel_stops_a_job_and_only_its_owner_may(client, worker_a, unit_a, media, tree):
    from civicgrid.accounts.choices import Role

    client.force_login(worker_a)
    _post(client, "p.csv", f"姓名,身份证号,网格编码\n张三,{make_id()},{unit_a.code}\n".encode())
    job = ImportJob.objects.get()
    page = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert 'id="cancel-import"' in page
    cancel = reverse("registry:import_cancel", args=[job.pk])
    assert client.get(cancel).status_code == 405
    client.force_login(staff(Role.GRID_WORKER, tree.grid_a))
    assert client.post(cancel).status_code == 404
    client.force_login(worker_a)
    response = client.post(cancel, follow=True)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at is not None
    page = response.content.decode()
    assert "已取消导入" in page and 'id="cancel-import"' not in page and "开始导入" not in page
    again = client.post(cancel, follow=True).content.decode()
    assert "已结束，不能取消" in again
    start = client.post(reverse("registry:import_start", args=[job.pk]), follow=True)
    assert "不能开始" in start.content.decode() and not Person.objects.exists()


def test_cancel_while_running_stops_the_background_run(client, worker_a, unit_a, media):
    from civicgrid.core.imports.services import import_job_execute

    client.force_login(worker_a)
    _post(client, "p.csv", f"姓名,身份证号,网格编码\n张三,{make_id()},{unit_a.code}\n".encode())
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running")
    client.post(reverse("registry:import_cancel", args=[job.pk]))
    import_job_execute(job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.processed_rows == 0
    assert not Person.objects.exists()
