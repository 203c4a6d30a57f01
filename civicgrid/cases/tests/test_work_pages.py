"""Workbench pages: every page per role, every action through the one action endpoint,
refusals as answers (400 bad input, 403 wrong role, 404 out of scope, 409 illegal or raced),
and list pages whose query count does not grow with the number of cases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.cases import services
from civicgrid.cases.choices import Status
from civicgrid.cases.models import Case, Notification
from civicgrid.cases.views.work_actions import ACTS

from .factories import OUTSIDE, make_category, report, to_status

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_duplicate_finder(settings):
    """Identical test reports would all be flagged 疑似重复; one test switches it back on."""
    settings.CASES_DUPLICATE_FINDER = ""


def act(client, case, action, data=None, *, version=None, htmx=True):
    payload = {"version": case.version if version is None else version, **(data or {})}
    return client.post(f"/cases/{case.pk}/do/{action}/", payload, **(HX if htmx else {}))


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


# --- pages per role --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("operator", "/cases/centre/"),
        ("handler", "/cases/dept/"),
        ("worker", "/cases/grid/"),
        ("resident", "/cases/mine/"),
    ],
)
def test_workbench_sends_each_role_to_its_page(actors, client_as, who, landing):
    response = client_as(getattr(actors, who)).get("/cases/")
    assert response.status_code == 302 and response["Location"] == landing
    assert client_as(getattr(actors, who)).get(landing).status_code == 200


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("/cases/centre/", "operator", ["handler", "worker", "resident"]),
        ("/cases/dept/", "handler", ["operator", "worker", "resident"]),
        ("/cases/grid/", "worker", ["operator", "handler", "resident"]),
    ],
)
def test_workbenches_refuse_the_wrong_role_with_403(actors, client_as, url, allowed, refused):
    assert client_as(getattr(actors, allowed)).get(url).status_code == 200
    for who in refused:
        assert client_as(getattr(actors, who)).get(url).status_code == 403, who


def test_anonymous_is_sent_to_login():
    response = Client().get("/cases/centre/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_centre_queue_shows_buckets_counts_and_rows(tree, actors, category, client_as):
    new = report(actors, category)
    lost = report(actors, category, point=OUTSIDE)
    orphan = to_status(actors, report(actors, make_category(None, code="C0102")), tree, "accepted")
    client = client_as(actors.operator)
    page = client.get("/cases/centre/").content.decode()
    assert new.number in page and 'data-count="new">1<' in page
    assert "疑似重复" in page and "无责任部门" in page and "未定位" in page
    nodept = client.get("/cases/centre/?tab=no_department", HTTP_HX_TARGET="queue", **HX)
    assert orphan.number in nodept.content.decode() and "<html" not in nodept.content.decode()
    root = client_as(actors.district_op).get("/cases/centre/?tab=unlocated").content.decode()
    assert lost.number in root and "不在管辖范围内" in root
    assert client.get("/cases/centre/?tab=nonsense").status_code == 200


def test_department_workbench_shows_lights_and_cards(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "dispatched")
    Case.objects.filter(pk=case.pk).update(
        card="yellow", step_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    client = client_as(actors.handler)
    body = client.get("/cases/dept/").content.decode()
    assert case.number in body and 'data-card="yellow"' in body and 'data-light="red"' in body
    assert case.number in client.get("/cases/dept/?tab=overdue").content.decode()


def test_grid_workbench_lists_cases_to_verify_in_my_grid_only(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "handled")
    assert case.number in client_as(actors.worker).get("/cases/grid/").content.decode()
    assert case.number not in client_as(actors.worker_b).get("/cases/grid/").content.decode()
    mine = client_as(actors.worker).get("/cases/grid/?tab=my_reports")
    assert mine.status_code == 200


def test_resident_sees_plain_words_and_no_internal_details(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "signed")
    services.case_return(case=case, actor=actors.handler, reason="内部理由:不归我们管")
    services.case_dispatch(case=case, actor=actors.operator, department=tree.dept)
    client = client_as(actors.resident)
    listing = client.get("/cases/mine/").content.decode()
    assert "已派送至城管局,处理时限至" in listing
    body = client.get(f"/cases/mine/{case.pk}/").content.decode()
    assert "已收到您的反映" in body and "已派送至城管局,处理时限 3 个工作日" in body
    assert "正在重新安排处理部门" in body and "内部理由" not in body


def test_a_resident_is_sent_to_the_plain_words_page(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "signed")
    services.case_return(case=case, actor=actors.handler, reason="内部理由")
    client = client_as(actors.resident)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/cases/mine/{case.pk}/"
    panel = client.get(f"/cases/{case.pk}/panel/", **HX).content.decode()
    assert "data-headline" in panel and "内部理由" not in panel


def test_case_page_and_panel_are_404_outside_scope(tree, actors, category, client_as):
    case = report(actors, category)
    outsider = client_as(actors.outsider)
    assert outsider.get(f"/cases/{case.pk}/").status_code == 404
    assert outsider.get(f"/cases/{case.pk}/panel/", **HX).status_code == 404
    assert outsider.get(f"/cases/mine/{case.pk}/").status_code == 404
    assert client_as(actors.operator).get(f"/cases/mine/{case.pk}/").status_code == 404
    assert act(outsider, case, "accept").status_code == 404
    assert fresh(case).status == Status.REPORTED


def test_panel_shows_limit_proposal_map_staff_and_timeline(tree, actors, category, client_as):
    case = report(actors, category)
    client = client_as(actors.operator)
    body = client.get(f"/cases/{case.pk}/panel/", **HX).content.decode()
    assert "处置时限" in body and "3 个工作日" in body and "data-proposed>城管局" in body
    assert 'class="cw-map' in body and "data-boundary=" in body and 'data-event="report"' in body
    assert 'data-action="accept"' in body and 'data-action="sign"' not in body
    plain = client.get(f"/cases/{case.pk}/panel/")
    assert plain.status_code == 302 and plain["Location"] == f"/cases/{case.pk}/"


# --- actions ---------------------------------------------------------------------------------


def test_accept_then_dispatch_in_two_clicks(tree, actors, category, client_as):
    case = report(actors, category)
    client = client_as(actors.operator)
    response = act(client, case, "accept")
    assert response.status_code == 200 and response["HX-Trigger"] == "caseChanged"
    body = response.content.decode()
    assert "已立案" in body and f'value="dept:{tree.dept.pk}" selected' in body
    case = fresh(case)
    assert act(client, case, "dispatch", {"target": f"dept:{tree.dept.pk}"}).status_code == 200
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.department == tree.dept


def test_accept_with_reclassification_and_dispatch_to_grid(tree, actors, category, client_as):
    other = make_category(tree.dept, code="C0103")
    case = report(actors, category)
    client = client_as(actors.operator)
    assert act(client, case, "accept", {"category": other.pk, "area_class": "A"}).status_code == 200
    case = fresh(case)
    assert case.category == other and case.area_class == "A"
    response = act(client, case, "dispatch", {"target": f"region:{tree.grid_a.code}"})
    assert response.status_code == 200 and fresh(case).assigned_region == tree.grid_a


def test_reject_merge_relocate_suspend_resume(tree, actors, category, client_as):
    client = client_as(actors.operator)
    a, b = report(actors, category), report(actors, category)
    assert act(client, a, "reject", {"reason": "重复反映"}).status_code == 200
    assert fresh(a).status == Status.REJECTED
    c = report(actors, category)
    assert act(client, c, "merge", {"into": b.number}).status_code == 200
    assert fresh(c).merged_into_id == b.pk
    lost = report(actors, category, point=OUTSIDE)
    root = client_as(actors.district_op)
    assert act(root, lost, "relocate", {"unit": tree.units_a[0].code}).status_code == 200
    assert fresh(lost).located
    b = to_status(actors, b, tree, "accepted")
    assert act(client, b, "suspend", {"reason": "需要长期整治"}).status_code == 200
    b = fresh(b)
    assert b.status == Status.SUSPENDED
    assert act(client, b, "resume").status_code == 200 and fresh(b).status == Status.ACCEPTED


def test_handler_signs_handles_returns_and_asks_for_time(tree, actors, category, client_as):
    client = client_as(actors.handler)
    one = to_status(actors, report(actors, category), tree, "dispatched")
    assert act(client, one, "sign").status_code == 200
    one = fresh(one)
    assert act(client, one, "handle", {"note": "已补盖新井盖"}).status_code == 200
    assert fresh(one).status == Status.HANDLED and fresh(one).handle_note == "已补盖新井盖"
    two = to_status(actors, report(actors, category), tree, "dispatched")
    response = act(client, two, "return", {"reason": "燃气泄漏,不归城管"})
    assert response.status_code == 200 and "已退回指挥中心" in response.content.decode()
    assert fresh(two).status == Status.RETURNED
    three = to_status(actors, report(actors, category), tree, "signed")
    assert (
        act(client, three, "extend_request", {"amount": "5", "reason": "等配件"}).status_code == 200
    )
    three = fresh(three)
    assert three.extension_pending
    op = client_as(actors.operator)
    old = three.step_deadline
    assert act(op, three, "extend_approve").status_code == 200
    assert fresh(three).step_deadline > old and not fresh(three).extension_pending


def test_extension_refusal_needs_a_reason(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "signed")
    services.case_extend_request(case=case, actor=actors.handler, amount=2, reason="等配件")
    op = client_as(actors.operator)
    case = fresh(case)
    response = act(op, case, "extend_refuse")
    assert response.status_code == 400 and "请填写不同意延期的理由" in response.content.decode()
    assert act(op, case, "extend_refuse", {"reason": "两天够了"}).status_code == 200
    assert not fresh(case).extension_pending


def test_verify_fail_sends_back_for_rework_then_pass_closes(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "handled")
    worker = client_as(actors.worker)
    assert act(worker, case, "verify_fail").status_code == 400
    assert act(worker, case, "verify_fail", {"reason": "井盖尺寸不符"}).status_code == 200
    case = fresh(case)
    assert case.status == Status.DISPATCHED and case.rework_count == 1
    services.case_sign(case=case, actor=actors.handler)
    services.case_handle(case=case, actor=actors.handler, note="已更换合适井盖")
    assert act(worker, fresh(case), "verify_pass").status_code == 200
    assert fresh(case).status == Status.CLOSED


def test_close_after_verification_when_auto_close_is_off(
    tree, actors, category, client_as, settings
):
    settings.CASES_AUTO_CLOSE_ON_VERIFY = False
    case = to_status(actors, report(actors, category), tree, "handled")
    services.case_verify(case=case, actor=actors.worker, passed=True)
    client = client_as(actors.operator)
    assert case.number in client.get("/cases/centre/?tab=to_close").content.decode()
    assert act(client, fresh(case), "close").status_code == 200
    assert fresh(case).status == Status.CLOSED


def test_escalate_grid_level_work(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "accepted")
    services.case_dispatch(case=case, actor=actors.operator, region=tree.grid_a)
    response = act(client_as(actors.worker), fresh(case), "escalate", {"reason": "需要社区协调"})
    assert response.status_code == 200 and fresh(case).assigned_region == tree.community


def test_resident_rates_and_reopens(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "closed")
    client = client_as(actors.resident)
    body = client.get(f"/cases/mine/{case.pk}/").content.decode()
    assert 'data-form="rate"' in body and 'data-form="reopen"' in body
    data = {"rating": "9", "variant": "resident"}
    assert act(client, case, "rate", data).status_code == 400
    data = {"rating": "5", "comment": "很快", "variant": "resident"}
    response = act(client, case, "rate", data)
    assert response.status_code == 200 and "感谢您的评价" in response.content.decode()
    assert fresh(case).rating == 5
    data = {"reason": "又被偷了", "variant": "resident"}
    assert act(client, fresh(case), "reopen", data).status_code == 200
    assert fresh(case).status == Status.ACCEPTED


def test_reopen_is_not_offered_after_the_window(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "closed")
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))
    client = client_as(actors.resident)
    assert 'data-form="reopen"' not in client.get(f"/cases/mine/{case.pk}/").content.decode()
    response = act(client, fresh(case), "reopen", {"reason": "没修好", "variant": "resident"})
    assert response.status_code == 409 and "超过 7 天" in response.content.decode()


def test_plain_post_without_htmx_redirects_to_the_case(tree, actors, category, client_as):
    case = report(actors, category)
    response = act(client_as(actors.operator), case, "accept", htmx=False)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    refused = act(client_as(actors.operator), case, "accept", version=0, htmx=False)
    assert refused.status_code == 409 and "<html" in refused.content.decode()


# --- refusals --------------------------------------------------------------------------------


def test_raced_action_answers_409_with_the_new_state(tree, actors, category, client_as):
    case = report(actors, category)
    seen = case.version
    services.case_accept(case=case, actor=actors.operator)
    response = act(client_as(actors.operator), case, "reject", {"reason": "x"}, version=seen)
    body = response.content.decode()
    assert response.status_code == 409 and "案件已被他人更新,请刷新后重试" in body
    assert 'data-status="accepted"' in body


def test_illegal_action_answers_409_with_the_reason(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "dispatched")
    response = act(client_as(actors.handler), case, "handle", {"note": "x"})
    assert response.status_code == 409 and "案件尚未签收,不能处置反馈" in response.content.decode()


def test_wrong_role_answers_403(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "dispatched")
    response = act(client_as(actors.handler), case, "dispatch", {"target": f"dept:{tree.dept.pk}"})
    assert response.status_code == 403 and "指挥中心" in response.content.decode()
    mine = report(actors, category)
    response = act(client_as(actors.resident), mine, "reject", {"reason": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("dispatch", {"target": "dept:999999"}),
        ("dispatch", {"target": "nonsense"}),
        ("accept", {"category": "abc"}),
        ("accept", {"area_class": "Z"}),
        ("merge", {"into": "not-a-number"}),
        ("reject", {"reason": ""}),
        ("reject", {"reason": "x" * 2001}),
        ("reject", {"reason": "bad\x00byte"}),
        ("relocate", {"unit": "99999999999999"}),
    ],
)
def test_bad_input_answers_400(tree, actors, category, client_as, action, data):
    case = report(actors, category)
    response = act(client_as(actors.operator), case, action, data)
    assert response.status_code == 400 and "data-error" in response.content.decode()
    assert fresh(case).version == case.version


def test_bad_version_and_unknown_action(tree, actors, category, client_as):
    case = report(actors, category)
    client = client_as(actors.operator)
    assert act(client, case, "accept", version="x1").status_code == 400
    assert client.post(f"/cases/{case.pk}/do/explode/", **HX).status_code == 404
    assert client.get(f"/cases/{case.pk}/do/accept/").status_code == 405


def _png(colour=(200, 30, 30)) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_handle_with_after_photo_and_photo_view(
    tree, actors, category, client_as, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = to_status(actors, report(actors, category), tree, "signed")
    photo = SimpleUploadedFile("after.png", _png(), content_type="image/png")
    data = {"note": "已补盖", "photos": photo, "version": case.version}
    response = client_as(actors.handler).post(f"/cases/{case.pk}/do/handle/", data, **HX)
    assert response.status_code == 200
    att = fresh(case).attachments.get()
    assert (
        att.kind == "after" and f"/cases/photos/{att.pk}/?size=thumb" in response.content.decode()
    )
    shown = client_as(actors.resident).get(f"/cases/photos/{att.pk}/?size=thumb")
    assert shown.status_code == 200 and shown["Content-Type"].startswith("image/")
    assert client_as(actors.outsider).get(f"/cases/photos/{att.pk}/").status_code == 404
    assert client_as(actors.operator).get("/cases/photos/999999/").status_code == 404


def test_a_file_that_is_not_an_image_is_refused_with_400(
    tree, actors, category, client_as, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = to_status(actors, report(actors, category), tree, "handled")
    fake = SimpleUploadedFile("a.jpg", b"MZ not a picture", content_type="image/jpeg")
    data = {"reason": "没修好", "photos": fake, "version": case.version}
    response = client_as(actors.worker).post(f"/cases/{case.pk}/do/verify_fail/", data, **HX)
    assert response.status_code == 400 and "data-error" in response.content.decode()
    assert fresh(case).status == Status.HANDLED and not fresh(case).attachments.exists()


def test_suspected_duplicate_is_offered_for_merging(tree, actors, category, client_as, settings):
    settings.CASES_DUPLICATE_FINDER = "civicgrid.cases.dedup.duplicates_find"
    first = report(actors, category)
    second = report(actors, category)
    assert fresh(second).duplicate_suspected
    client = client_as(actors.operator)
    queue = client.get("/cases/centre/?tab=duplicates").content.decode()
    assert second.number in queue
    panel = client.get(f"/cases/{second.pk}/panel/", **HX).content.decode()
    assert f'value="{first.number}"' in panel
    assert "相距 0 米" in panel and 'data-action="not_duplicate"' in panel
    assert act(client, fresh(second), "merge", {"into": first.number}).status_code == 200
    assert fresh(second).status == Status.MERGED


def test_operator_dismisses_a_suspected_duplicate(tree, actors, category, client_as, settings):
    settings.CASES_DUPLICATE_FINDER = "civicgrid.cases.dedup.duplicates_find"
    report(actors, category)
    second = report(actors, category)
    client = client_as(actors.operator)
    response = act(client, fresh(second), "not_duplicate", {"reason": "两处不同井盖"})
    assert response.status_code == 200 and "已排除疑似重复" in response.content.decode()
    assert not fresh(second).duplicate_suspected
    assert second.number in client.get("/cases/centre/?tab=new").content.decode()


STATES = ["reported", "accepted", "dispatched", "signed", "handled", "closed", "rated"]


@pytest.mark.parametrize("state", STATES)
def test_no_action_on_any_state_by_any_role_is_a_500(tree, actors, category, client_as, state):
    """Every action posted empty by every role answers with a refusal or a success."""
    case = report(actors, category)
    if state != "reported":
        to_status(actors, case, tree, state)
    for who in ("operator", "handler", "worker", "resident", "outsider"):
        client = client_as(getattr(actors, who))
        for action in ACTS:
            response = act(client, fresh(case), action)
            assert response.status_code in (200, 400, 403, 404, 409), (who, action)


# --- notifications ---------------------------------------------------------------------------


def test_inbox_badge_list_and_open_marks_read(tree, actors, category, client_as):
    case = to_status(actors, report(actors, category), tree, "dispatched")
    client = client_as(actors.resident)
    home = client.get("/cases/mine/").content.decode()
    assert "data-inbox-unread>2<" in home  # accepted + dispatched
    inbox = client.get("/cases/inbox/").content.decode()
    assert "已交城管局处理" in inbox
    note = Notification.objects.filter(recipient=actors.resident, verb="dispatched").get()
    response = client.get(f"/cases/inbox/{note.pk}/")
    assert response["Location"] == f"/cases/mine/{case.pk}/"
    assert Notification.objects.filter(pk=note.pk, read_at__isnull=False).exists()
    assert client.post("/cases/inbox/read-all/").status_code == 302
    assert "data-inbox-unread" not in client.get("/cases/inbox/").content.decode()
    other = client_as(actors.operator)
    assert other.get(f"/cases/inbox/{note.pk}/").status_code == 404


# --- fixed query counts ----------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(actors, tree, category, n, status):
    for _ in range(n):
        case = report(actors, category)
        if status != "reported":
            to_status(actors, case, tree, status)


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("operator", "/cases/centre/?tab=new", "reported"),
        ("operator", "/cases/centre/?tab=to_dispatch", "accepted"),
        ("handler", "/cases/dept/?tab=to_sign", "dispatched"),
        ("worker", "/cases/grid/?tab=to_verify", "handled"),
        ("resident", "/cases/mine/", "reported"),
        ("resident", "/cases/inbox/", "accepted"),
    ],
)
def test_list_pages_use_a_fixed_number_of_queries(
    tree, actors, category, client_as, django_assert_num_queries, who, url, status
):
    user = getattr(actors, who)
    client = client_as(user)
    _grow(actors, tree, category, 5, status)
    small = _count(client, url)
    _grow(actors, tree, category, 45, status)
    scope_of(user)
    with django_assert_num_queries(small):
        body = client.get(url).content.decode()
    assert body.count("data-case") >= 30 or body.count("data-note") >= 30
