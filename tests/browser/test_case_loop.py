"""J1–J4 in one walk: a resident reports a missing manhole cover from her phone (民情直通车,
category found by typing "井盖", a photo, her phone's location); the command centre accepts it
(seeing the time limit and the proposed department) and dispatches it to 城管; the handler
signs and feeds back with an after photo; the grid worker fails the verification with a
reason and a photo (返工); the handler fixes it again; the grid worker passes it (the case
closes); the resident reads the plain-words timeline and rates it 5 ★.

Users switch by logging in, each in their own browser context; desktop 1366×800 for the
centre and the department, phone 390×844 for the grid worker and the resident."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

GRID_1 = "32080300100100"  # 估衣街社区网格: the demo's grid worker and resident live here
UNIT_1 = GRID_1[:12] + "01"


@pytest.fixture
def login():
    """The shared login, but straight to the workbench (`?next=/cases/`): the default landing
    page is the grid map, whose data requests would be cut off by the next navigation."""
    from civicgrid.accounts.management.commands.demo_accounts import DEMO_PASSWORD

    def do_login(page, live_server, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/?next=/cases/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")

    return do_login


@pytest.fixture
def hexia(transactional_db, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    call_command("seed_categories", verbosity=0)


def _photo(tmp_path, name: str, colour: tuple[int, int, int]) -> str:
    from PIL import Image

    path = tmp_path / name
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buf, format="JPEG")
    path.write_bytes(buf.getvalue())
    return str(path)


def _panel_done(page, text: str) -> None:
    """The action's message is in the panel and the queue has reloaded (caseChanged)."""
    page.wait_for_selector(f"#case-panel [data-message]:has-text('{text}')")
    page.wait_for_load_state("networkidle")


def resident_reports(page, live_server, login, tmp_path) -> str:
    from civicgrid.grids.models import Region

    unit = Region.objects.get(code=UNIT_1)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": unit.centroid_lat, "longitude": unit.centroid_lng})
    login(page, live_server, "resident")
    page.goto(f"{live_server.url}/cases/report/")
    page.fill("input[name=q]", "井盖")
    page.locator("#category-results label", has_text="井盖缺失").click()
    page.fill("#id_description", "估衣街12号门口井盖没了,晚上很危险")
    page.set_input_files("#id_photos_input", _photo(tmp_path, "before.jpg", (90, 90, 90)))
    page.click("#use-location")
    page.wait_for_function("document.querySelector('[name=lat]').value !== ''")
    with page.expect_navigation():
        page.click("#intake-form button[type=submit]")
    number = page.inner_text("#case-number")
    assert page.inner_text("#case-status") == "已收到,正在研判"
    page.goto(f"{live_server.url}/cases/mine/")
    card = page.locator(f'[data-case="{number}"]')
    assert "已收到,正在研判" in card.inner_text()
    return number


def open_in_queue(page, number: str) -> None:
    page.locator(f"#queue tr:has-text('{number}')").click()
    page.wait_for_selector(f"#case-panel h2:has-text('{number}')")


def centre_accepts_and_dispatches(page, live_server, login, screenshot, number: str) -> None:
    login(page, live_server, "operator")
    page.goto(f"{live_server.url}/cases/centre/")
    assert page.locator('[data-count="new"]').inner_text() != "0"
    open_in_queue(page, number)
    panel = page.locator("#case-panel")
    hint = panel.locator("[data-accept-hint]").inner_text()
    assert "处置时限" in hint and "4 小时(紧急)" in hint and "权责清单建议" in hint
    page.wait_for_selector("#case-panel .cw-map[data-ready] path.leaflet-interactive")
    assert panel.locator(".cw-map path.leaflet-interactive").count() == 2  # unit outline + pin
    assert panel.locator(".cw-photos img").count() == 1
    assert "专职网格员" in panel.inner_text()
    screenshot(page, "loop-01-centre-new-desktop")
    panel.locator('[data-action="accept"]').click()  # click 1
    _panel_done(page, "已立案")
    page.select_option("#case-panel select[name=target]", label="河下城管中队")
    panel.locator('[data-action="dispatch"]').click()  # click 2 (after choosing 城管)
    _panel_done(page, "已派遣")
    assert "河下城管中队" in panel.inner_text()
    screenshot(page, "loop-02-centre-dispatched-desktop")


def handler_signs_and_handles(page, live_server, screenshot, number, photo, note, shot) -> None:
    page.goto(f"{live_server.url}/cases/dept/")
    open_in_queue(page, number)
    panel = page.locator("#case-panel")
    panel.locator('[data-action="sign"]').click()
    _panel_done(page, "已签收")
    panel.locator("textarea[name=note]").fill(note)
    panel.locator("input[name=photos]").set_input_files(photo)
    panel.locator('[data-action="handle"]').click()
    _panel_done(page, "已反馈处置结果")
    assert panel.locator(".cw-photos img").count() >= 2
    screenshot(page, shot)


def worker_verifies(page, live_server, screenshot, number, *, passed, photo, shot) -> None:
    page.goto(f"{live_server.url}/cases/grid/")
    page.locator(f'[data-case="{number}"]').click()
    page.wait_for_selector("[data-form=verify]")
    panel = page.locator("#case-panel")
    if passed:
        panel.locator('[data-action="verify_pass"]').click()
        _panel_done(page, "核查通过")
    else:
        panel.locator("[data-form=verify_fail] summary").click()
        form = panel.locator("[data-form=verify_fail] form")
        form.locator("textarea[name=reason]").fill("井盖尺寸不符,还有缝隙,行人会崴脚")
        form.locator("input[name=photos]").set_input_files(photo)
        screenshot(page, shot + "-form", full_page=True)
        form.locator('[data-action="verify_fail"]').click()
        _panel_done(page, "核查不通过")
    screenshot(page, shot, full_page=True)


def resident_rates(page, live_server, screenshot, number) -> None:
    page.goto(f"{live_server.url}/cases/mine/")
    card = page.locator(f'[data-case="{number}"]')
    assert "已办结,欢迎评价" in card.inner_text()
    card.click()
    body = page.locator("#case-panel").inner_text()
    for text in ("已收到您的反映", "已派送至河下城管中队,处理时限 4 小时(紧急)", "已处理",
                 "尚未解决,已要求重新处理", "网格员现场核实:已解决", "已办结"):  # fmt: skip
        assert text in body, text
    screenshot(page, "loop-07-resident-closed-phone", full_page=True)
    page.locator('label[for="star-5"]').click()
    page.fill("textarea[name=comment]", "修得很快,谢谢!")
    page.locator('[data-action="rate"]').click()
    _panel_done(page, "感谢您的评价")
    assert "★★★★★" in page.locator("[data-rating]").inner_text()
    screenshot(page, "loop-08-resident-rated-phone", full_page=True)


def test_one_case_from_a_phone_report_to_a_rating(
    hexia, live_server, new_page, login, screenshot, page_log, tmp_path
) -> None:
    from civicgrid.cases.models import Case

    resident = new_page("phone")
    number = resident_reports(resident, live_server, login, tmp_path)
    screenshot(resident, "loop-00-resident-reported-phone", full_page=True)
    case = Case.objects.get(number=number)
    assert case.located and case.path.startswith(Case.objects.get(pk=case.pk).unit.path[:-3])

    centre = new_page("desktop")
    centre_accepts_and_dispatches(centre, live_server, login, screenshot, number)

    handler = new_page("desktop")
    login(handler, live_server, "handler_cg")
    after = _photo(tmp_path, "after.jpg", (40, 160, 60))
    note = "已放置临时井盖并设置警示"
    handler_signs_and_handles(handler, live_server, screenshot, number, after, note,
                              "loop-03-handler-handled-desktop")  # fmt: skip

    worker = new_page("phone")
    login(worker, live_server, "gridworker")
    onsite = _photo(tmp_path, "onsite.jpg", (160, 60, 40))
    worker_verifies(worker, live_server, screenshot, number, passed=False, photo=onsite,
                    shot="loop-04-worker-failed-phone")  # fmt: skip
    assert Case.objects.get(number=number).rework_count == 1

    handler_signs_and_handles(handler, live_server, screenshot, number, after,
                              "已更换标准井盖", "loop-05-handler-rework-desktop")  # fmt: skip
    worker_verifies(worker, live_server, screenshot, number, passed=True, photo=onsite,
                    shot="loop-06-worker-passed-phone")  # fmt: skip
    assert Case.objects.get(number=number).status == "closed"

    resident_rates(resident, live_server, screenshot, number)
    final = Case.objects.get(number=number)
    assert final.status == "rated" and final.rating == 5
    assert re.search(r"rate", ",".join(final.events.values_list("action", flat=True)))
    assert page_log.errors == []
    assert page_log.external == [], "nothing may load from outside (no CDN)"


def _report(category, unit, reporter, text: str, *, dx: float = 0.0):
    from civicgrid.cases import services

    return services.case_report(
        source="resident", title=text, description=text, category=category,
        lat=unit.centroid_lat, lng=unit.centroid_lng + dx, reporter=reporter,
    ).case  # fmt: skip


def test_centre_merges_a_duplicate_and_explains_a_raced_click_department_returns_and_extends(
    hexia, live_server, new_page, login, screenshot, page_log
) -> None:
    """J2/J3 side paths: 疑似重复 merged in the queue, a click on a case someone else just moved
    answers with the reason in the panel (409), a handler returns one case and asks for time
    on another, the centre approves, and the resident finds the merge in her inbox."""
    from civicgrid.accounts.models import User
    from civicgrid.cases import services
    from civicgrid.cases.models import Case, Category
    from civicgrid.grids.models import Department, Region

    unit = Region.objects.get(code=UNIT_1)
    manhole = Category.objects.get(parent__name="公用设施", name="井盖缺失")
    resident, operator = (
        User.objects.get(username="resident"),
        User.objects.get(username="operator"),
    )
    handler = User.objects.get(username="handler_cg")
    chengguan = Department.objects.get(code="chengguan")
    first = _report(manhole, unit, resident, "估衣街井盖没了")
    second = _report(manhole, unit, operator, "估衣街井盖丢失,很危险", dx=0.0002)
    assert Case.objects.get(pk=second.pk).duplicate_suspected

    page = new_page("desktop")
    login(page, live_server, "operator")
    page.goto(f"{live_server.url}/cases/centre/?tab=duplicates")
    open_in_queue(page, second.number)
    panel = page.locator("#case-panel")
    assert first.number in panel.locator("[data-form=merge]").inner_text()
    screenshot(page, "loop-10-centre-duplicate-desktop")
    panel.locator('[data-action="merge"]').click()
    _panel_done(page, "已合并")

    page.goto(f"{live_server.url}/cases/centre/?tab=new")
    open_in_queue(page, first.number)
    panel.locator('[data-action="accept"]').click()
    _panel_done(page, "已立案")
    other = Case.objects.get(pk=first.pk)  # a colleague dispatches it meanwhile
    services.case_dispatch(case=other, actor=operator, department=chengguan)
    panel.locator('[data-action="dispatch"]').click()
    page.wait_for_selector("#case-panel [data-error]")
    assert "案件已被他人更新" in panel.locator("[data-error]").inner_text()
    assert panel.locator("[data-status-label]").inner_text() == "待签收"
    screenshot(page, "loop-11-centre-raced-409-desktop")

    gas = _report(manhole, unit, resident, "井盖下有燃气味", dx=0.003)
    slow = _report(manhole, unit, resident, "井盖松动需要更换底座", dx=-0.003)
    for case in (gas, slow):
        services.case_accept(case=case, actor=operator)
        services.case_dispatch(case=case, actor=operator, department=chengguan)
    services.case_sign(case=slow, actor=handler)

    desk = new_page("desktop")
    login(desk, live_server, "handler_cg")
    desk.goto(f"{live_server.url}/cases/dept/")
    open_in_queue(desk, gas.number)
    dpanel = desk.locator("#case-panel")
    dpanel.locator("[data-form=return] summary").click()
    dpanel.locator("[data-form=return] input[name=reason]").fill("燃气泄漏,应由燃气公司处置")
    dpanel.locator('[data-action="return"]').click()
    _panel_done(desk, "已退回指挥中心")
    desk.goto(f"{live_server.url}/cases/dept/?tab=in_hand")
    open_in_queue(desk, slow.number)
    dpanel.locator("[data-form=extend_request] summary").click()
    dpanel.locator("input[name=amount]").fill("5")
    dpanel.locator("[data-form=extend_request] input[name=reason]").fill("底座需定制,约一周到货")
    dpanel.locator('[data-action="extend_request"]').click()
    _panel_done(desk, "延期申请已提交")
    screenshot(desk, "loop-12-dept-extension-requested-desktop")

    page.goto(f"{live_server.url}/cases/centre/?tab=returned")
    assert gas.number in page.locator("#queue").inner_text()
    page.goto(f"{live_server.url}/cases/centre/?tab=extensions")
    open_in_queue(page, slow.number)
    before = Case.objects.get(pk=slow.pk).step_deadline
    panel.locator('[data-action="extend_approve"]').click()
    _panel_done(page, "已同意延期")
    assert Case.objects.get(pk=slow.pk).step_deadline > before
    screenshot(page, "loop-13-centre-extension-approved-desktop")

    phone = new_page("phone")
    login(phone, live_server, "resident")
    phone.goto(f"{live_server.url}/cases/inbox/")
    assert "已合并办理" not in phone.locator("body").inner_text()  # her own case survived
    assert "已交河下城管中队处理" in phone.locator("body").inner_text()
    screenshot(phone, "loop-14-resident-inbox-phone", full_page=True)
    assert page_log.errors == [f"HTTP 409: {live_server.url}/cases/{first.pk}/do/dispatch/"]
    assert page_log.external == []


def test_workbenches_on_months_of_demo_cases(
    transactional_db, settings, tmp_path, live_server, new_page, login, screenshot, page_log
) -> None:
    """The Hexia demo with cases in every state: every workbench draws, with red lights and
    cards where steps ran over, on the screen each role uses."""
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    call_command("seed_cases_demo", verbosity=0)

    page = new_page("desktop")
    login(page, live_server, "operator")
    for tab in ("new", "overdue", "duplicates", "returned", "extensions"):
        page.goto(f"{live_server.url}/cases/centre/?tab={tab}")
        assert page.locator("#queue [data-case-row]").count() >= 1, tab
    page.goto(f"{live_server.url}/cases/centre/?tab=overdue")
    assert page.locator('#queue [data-light="red"]').count() >= 1
    page.locator("#queue tbody tr").first.click()
    page.wait_for_selector("#case-panel [data-panel-case]")
    screenshot(page, "loop-20-demo-centre-overdue-desktop")

    desk = new_page("desktop")
    login(desk, live_server, "handler_cg")
    desk.goto(f"{live_server.url}/cases/dept/?tab=in_hand")
    screenshot(desk, "loop-21-demo-dept-desktop")

    phones = (
        ("gridworker", "/cases/grid/?tab=my_reports", "loop-22-demo-grid-phone"),
        ("resident", "/cases/mine/", "loop-23-demo-resident-phone"),
    )
    for username, url, name in phones:
        phone = new_page("phone")
        login(phone, live_server, username)
        phone.goto(f"{live_server.url}{url}")
        screenshot(phone, name, full_page=True)
    assert page_log.errors == []
