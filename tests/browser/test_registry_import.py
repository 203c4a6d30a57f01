"""J8 and the rest of issue 4 in a browser: the street operator imports the office's messy
实有人口 workbook through /registry/import/ (template, dry run with refused rows and reasons,
error workbook, fixed workbook, background import watched to the end on the progress bar),
reveals an ID number with a reason, and exports the filtered list; the grid worker records a
visit to one of the imported people on his phone.

The background import runs on the real database task backend: the page shows the job
running and polling, then the test plays the worker (`db_worker --batch`) and the polling
progress bar reaches 导入完成 by itself.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from civicgrid.core.models import AuditLog, ImportJob
from civicgrid.registry.models import Person, Visit

HEADER = ["序号", "姓 名", "公民身份号码", "性别", "出生日期", "联系电话", "网格编码", "现住地址"]
GIVEN = "秀英华明建国芳敏静丽强军平杰娟涛磊洋勇艳超霞刚桂兰玉萍红梅燕峰辉波斌宇浩凯鹏飞志文"
GOOD = 40
FIRST_DATA_ROW = 3  # row 1 is the merged title, row 2 the header


def _id(birth: dt.date, seq: int) -> str:
    body = f"320803{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _id_with_x(birth: dt.date) -> str:
    """An ID whose check character is X, to type it in lower case like offices do."""
    return next(n for s in range(1, 999) if (n := _id(birth, s)).endswith("X"))


def _good_rows(units: list[str]) -> list[list[Any]]:
    rows = []
    for i in range(GOOD):
        birth = dt.date(1940 + i, 1 + i % 12, 1 + i % 28)
        number = _id_with_x(birth).lower() if i % 7 == 0 else _id(birth, 100 + i)
        if i % 5 == 0:
            number = f" {number[:6]} {number[6:]} "  # stray spaces inside and around
        name = f"欧阳{GIVEN[i]}{GIVEN[-1 - i]}"
        rows.append([i + 1, f" {name}\u3000", number, "", birth, 13900000000 + i,
                     units[i % 2], f"估衣街{i + 1}号"])  # fmt: skip
    return rows


def _bad_rows(units: list[str], good: list[list[Any]]) -> list[tuple[list[Any], list[Any], str]]:
    """(row as typed, row as fixed, what the dry run must say) for each planted mistake."""
    birth = dt.date(1955, 6, 9)
    planted = [  # column → value as typed; the fixed row has the right value there
        ({2: "wrong"}, "校验位不符"),
        ({6: "32080399999999"}, "不存在"),
        ({2: str(good[3][2]).strip(), 4: good[3][4]}, "重复"),
        ({4: "1955.13.40"}, "日期"),
        ({1: ""}, "必须填写"),
        ({2: "number"}, "当作数字"),
    ]
    out = []
    for n, (typed, reason) in enumerate(planted):
        number = next(i for s in range(201 + 10 * n, 999) if not (i := _id(birth, s)).endswith("X"))
        fixed = [GOOD + n + 1, f"欧阳错{GIVEN[n]}", number, "", birth, 13911110000 + n, units[0],
                 f"估衣街{90 + n}号"]  # fmt: skip
        row = list(fixed)
        for column, value in typed.items():
            row[column] = value
        if row[2] == "wrong":
            row[2] = number[:-1] + ("0" if number[-1] != "0" else "1")
        elif row[2] == "number":
            row[2] = float(number)  # Excel kept 15 significant digits of it
        out.append((row, fixed, reason))
    return out


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    """The way a street office keeps it: merged title, header, rows, blank line, signatures."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "实有人口"
    sheet.append(["河下街道估衣街社区实有人口登记表（2026年11月）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    sheet.append([])
    sheet.append(["填表人：王芳", None, "审核人：李强", None, "日期：2026年11月20日"])
    workbook.save(path)
    return path


@pytest.fixture
def hexia(transactional_db) -> None:
    call_command("seed_demo", verbosity=0)


def _login(login, page, live_server, username: str) -> None:
    """Sign in and let the landing page (the grid map) finish loading before moving on."""
    login(page, live_server, username)
    page.wait_for_load_state("networkidle")


def _units() -> list[str]:
    from civicgrid.accounts.models import User

    grid = User.objects.get(username="gridworker").assignments.get().region
    return list(grid.children.order_by("code").values_list("code", flat=True)[:2])


def _upload(page, live_server, path: Path) -> ImportJob:
    page.goto(f"{live_server.url}/registry/import/")
    page.select_option("#id_kind", "person")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("button:has-text('上传并试导入')")
    return ImportJob.objects.order_by("-pk").first()


def _counts(page) -> list[str]:
    return [t.strip() for t in page.locator("#dry-run-counts .fs-5").all_inner_texts()]


def test_operator_imports_reveals_exports_and_worker_visits(
    hexia, live_server, new_page, login, screenshot, page_log, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    units = _units()
    good = _good_rows(units)
    bad = _bad_rows(units, good)
    page = new_page("desktop")
    _login(login, page, live_server, "operator")

    # The template first: headers to fill, with an example row and instructions.
    page.goto(f"{live_server.url}/registry/import/")
    with page.expect_download() as info:
        page.click("#tpl")
    template = tmp_path / info.value.suggested_filename
    info.value.save_as(template)
    assert template.suffix == ".xlsx" and "实有人口" in template.name
    header = next(load_workbook(template).worksheets[0].iter_rows(values_only=True))
    assert any("姓名" in str(h) for h in header) and any("身份证号" in str(h) for h in header)
    screenshot(page, "registry-j8-import-desktop")

    # The messy workbook: the dry run refuses exactly the planted rows, each with its reason.
    messy = _workbook(tmp_path / "估衣街实有人口.xlsx", [*good, *(b[0] for b in bad)])
    job = _upload(page, live_server, messy)
    assert _counts(page) == [str(GOOD + len(bad)), str(GOOD), "0", str(len(bad))]
    refused = page.locator("#refused-rows tbody")
    planted_rows = {FIRST_DATA_ROW + GOOD + n for n in range(len(bad))}
    for n, (_typed, _fixed, reason) in enumerate(bad):
        row = refused.locator(f"tr:has(td:text-is('{FIRST_DATA_ROW + GOOD + n}'))")
        assert reason in row.inner_text(), (reason, row.inner_text())
    assert not Person.objects.filter(name__startswith="欧阳").exists()
    screenshot(page, "registry-j8-dry-run-desktop", full_page=True)

    # The error workbook names each refused row by its sheet row, with the reason beside it.
    with page.expect_download() as info:
        page.click("a:has-text('下载错误数据')")
    errors_path = tmp_path / "errors.xlsx"
    info.value.save_as(errors_path)
    sheet = list(load_workbook(errors_path).worksheets[0].iter_rows(values_only=True))
    assert sheet[0][-2:] == ("错误原因", "原行号")
    assert {r[-1] for r in sheet[1:]} == planted_rows
    assert all(r[-2] for r in sheet[1:])

    # She fixes those rows in her workbook and runs the dry run again: nothing refused.
    fixed = _workbook(tmp_path / "估衣街实有人口-已改.xlsx", [*good, *(b[1] for b in bad)])
    job = _upload(page, live_server, fixed)
    assert _counts(page) == [str(GOOD + len(bad)), str(GOOD + len(bad)), "0", "0"]
    assert page.locator("#refused-rows").count() == 0
    ImportJob.objects.filter(pk=job.pk).update(batch_size=10)  # several checkpoints

    # Start: the job runs in the background; the page polls while a worker does the work.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with page.expect_navigation():
        page.click("#start-import")
    page.wait_for_selector("#import-progress[hx-trigger]")
    assert "导入中" in page.inner_text("h1")
    screenshot(page, "registry-j8-running-desktop")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page.wait_for_selector("#import-counts:has-text('导入完成')", timeout=20_000)
    bar = page.locator("#import-progress .progress-bar")
    assert bar.inner_text().strip() == "100%" and "bg-success" in (bar.get_attribute("class") or "")
    assert page.locator("#import-progress[hx-trigger]").count() == 0  # polling stopped
    assert page.locator("#cancel-import").count() == 0
    assert page.inner_text("#job-status") == "已完成"  # the badge follows the polling too
    screenshot(page, "registry-j8-done-desktop", full_page=True)
    job.refresh_from_db()
    assert (job.status, job.created_count, job.refused_count) == ("done", GOOD + len(bad), 0)
    assert Person.objects.filter(name__startswith="欧阳").count() == GOOD + len(bad)
    lower_x = Person.objects.get(name=f"欧阳{GIVEN[0]}{GIVEN[-1]}")
    assert lower_x.id_number.endswith("X") and lower_x.birth_date == dt.date(1940, 1, 1)

    phone = new_page("phone")
    _login(login, phone, live_server, "operator")
    phone.goto(f"{live_server.url}/registry/import/{job.pk}/")
    screenshot(phone, "registry-j8-done-phone", full_page=True)
    phone.goto(f"{live_server.url}/registry/import/")
    screenshot(phone, "registry-j8-import-phone", full_page=True)
    _no_horizontal_scroll(phone)

    # Reveal: the operator needs one number in full, gives a reason, and it is audited.
    person = Person.objects.get(name=f"欧阳{GIVEN[1]}{GIVEN[-2]}")
    page.goto(f"{live_server.url}/registry/people/{person.pk}/")
    assert person.id_number not in page.content()
    page.locator("summary:has-text('查看完整')").first.click()
    page.fill("input[name=reason]", "核对户籍信息")
    page.locator("button:has-text('查看')").first.click()
    page.wait_for_selector("[data-revealed='id_number']")
    assert page.inner_text("[data-revealed='id_number']") == person.id_number
    reveal = AuditLog.objects.get(action="reveal", object_id=str(person.pk))
    assert "核对户籍信息" in str(reveal.changes)
    screenshot(page, "registry-import-person-revealed-desktop", full_page=True)

    # Export of the filtered list: HTMX filters the rows, the export follows the filter.
    page.goto(f"{live_server.url}/registry/")
    page.fill("input[name=q]", "欧阳错")
    page.wait_for_function("document.querySelector('#people-rows').innerText.includes('共 6 人')")
    page.click("#export-box summary")
    screenshot(page, "registry-export-filtered-desktop")
    with page.expect_download() as info:
        page.click("#export-btn")
    exported = tmp_path / "export.xlsx"
    info.value.save_as(exported)
    rows = list(load_workbook(exported).worksheets[0].iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted(b[1][1] for b in bad)
    assert all("*" in str(r[3]) for r in rows[1:]), "masked unless asked otherwise"
    export = AuditLog.objects.filter(action="export").latest("pk")
    assert export.changes["rows"] == len(bad) and export.changes["filters"]["q"] == "欧阳错"

    # The grid worker visits one of the imported people, on his phone, with GPS.
    worker = new_page("phone")
    worker.context.grant_permissions(["geolocation"])
    worker.context.set_geolocation({"latitude": 33.5012, "longitude": 119.1405})
    _login(login, worker, live_server, "gridworker")
    worker.goto(f"{live_server.url}/registry/?q=欧阳")
    screenshot(worker, "registry-people-phone", full_page=True)
    _no_horizontal_scroll(worker)
    worker.goto(f"{live_server.url}/registry/visits/new/?person={person.pk}")
    worker.wait_for_function("document.getElementById('id_lat').value !== ''")
    worker.fill("#id_findings", "新登记住户，信息已当面核实")
    screenshot(worker, "registry-visit-form-phone", full_page=True)
    _no_horizontal_scroll(worker)
    with worker.expect_navigation():
        worker.click("button:has-text('保存走访')")
    visit = Visit.objects.get(person=person)
    assert abs(visit.lat - 33.5012) < 1e-6 and not visit.problem_found
    screenshot(worker, "registry-visit-recorded-phone", full_page=True)
    _no_horizontal_scroll(worker)
    # A download ends its request as "aborted" in Chromium; those three are not failures.
    downloads = ("/import/template/person/", f"/import/{job.pk - 1}/errors/", "/export/?")
    assert [e for e in page_log.errors if not any(d in e for d in downloads)] == []
    assert page_log.external == []


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} overflows: {width}px"
    assert re.match(r"https?://", page.url)
