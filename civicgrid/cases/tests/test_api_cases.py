"""The case loop through /api/v1/cases: every endpoint, each move by the right role, refusals
in the error shape (403 wrong role, 404 outsider, 409 illegal or raced, 4xx bad input, never
500) and list endpoints in a fixed number of queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts.services import api_token_create
from civicgrid.cases.models import Case, Notification
from civicgrid.core.testing.factories import api_client

from .factories import IN_A, OUTSIDE, make_category, report, to_status

pytestmark = pytest.mark.django_db
BASE = "/api/v1/cases"


def post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def act(user, case, action, body=None):
    return post(api_client(user), f"{BASE}/{case.number}/{action}", body)


def created(client, **extra):
    body = {"title": "井盖没了", "category": "C0101", "lat": IN_A[0], "lng": IN_A[1], **extra}
    return post(client, BASE, body)


# --- categories and creation ---------------------------------------------------------------


def test_category_tree_and_search(tree, actors, category):
    client = api_client(actors.resident)
    roots = client.get(f"{BASE}/categories").json()
    assert roots[0]["code"] == "C01" and roots[0]["children"][0]["code"] == "C0101"
    found = client.get(f"{BASE}/categories/search", {"q": "井盖"}).json()
    assert found["count"] == 1 and found["items"][0]["major_name"] == "公用设施"
    assert client.get(f"{BASE}/categories/search", {"q": "路灯"}).json()["count"] == 0


def test_create_is_idempotent_by_header_and_field(tree, actors, category):
    client = api_client(actors.resident)
    first = created(client, idempotency_key="k-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] and body["located"] and body["suggested_department"] == "cg"
    assert first["Content-Type"] == "application/json; charset=utf-8"
    assert set(body) == {
        "number", "created", "status", "located", "locate_reason", "suggested_department",
        "routing_reason", "duplicate_suspected", "version",
    }  # fmt: skip
    assert body["status"] == "reported" and body["version"] == 0 and not body["duplicate_suspected"]
    again = created(client, idempotency_key="k-1")
    assert again.status_code == 200 and again.json()["number"] == body["number"]
    by_header = post(
        client,
        BASE,
        {"title": "路灯不亮", "lat": IN_A[0], "lng": IN_A[1]},
        HTTP_IDEMPOTENCY_KEY="k",
    )
    twice = post(client, BASE, {"title": "路灯不亮"}, HTTP_IDEMPOTENCY_KEY="k")
    assert by_header.status_code == 201 and twice.json()["number"] == by_header.json()["number"]
    assert Case.objects.count() == 2


def test_a_retry_after_its_category_was_disabled_gets_its_case(tree, actors, category):
    """A phone retrying a report that did go through must get that case, not an error,
    even if its category has been switched off since; a new report in it is refused."""
    client = api_client(actors.resident)
    first = created(client, idempotency_key="retry")
    category.is_active = False
    category.save()
    again = created(client, idempotency_key="retry")
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert not again.json()["created"]
    for key in ("another", ""):
        refused = created(client, idempotency_key=key)
        assert refused.status_code == 400 and refused.json()["code"] == "unknown_category"
    assert Case.objects.count() == 1


def test_create_outside_is_kept_unlocated_and_token_auth_works(tree, actors, category):
    _, raw = api_token_create(user=actors.resident, name="app")
    from django.test import Client

    client = Client()
    res = post(
        client,
        BASE,
        {"title": "外面", "lat": OUTSIDE[0], "lng": OUTSIDE[1]},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert res.status_code == 201 and not res.json()["located"]
    assert res.json()["locate_reason"] == "不在管辖范围内"
    assert post(client, BASE, {"title": "x"}).status_code == 401


def test_create_sources_by_role(tree, actors, category):
    assert created(api_client(actors.resident), source="hotline").status_code == 403
    hotline = created(
        api_client(actors.operator),
        source="hotline",
        reporter_name="王",
        reporter_phone="13800001234",
    )
    assert hotline.status_code == 201
    case = Case.objects.get(number=hotline.json()["number"])
    assert case.source == "hotline" and case.reporter is None
    mine = created(api_client(actors.worker))
    assert Case.objects.get(number=mine.json()["number"]).source == "grid_worker"
    on_spot = created(api_client(actors.worker), handled_on_spot=True, handle_note="已扶正")
    assert on_spot.json()["status"] == "handled"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"title": ""}, 422, "validation_error"),
        ({"title": "x" * 101}, 422, "validation_error"),
        ({"title": 5}, 422, "validation_error"),  # CaseIn is plain pydantic: no str coercion
        ({"title": ["x"]}, 422, "validation_error"),
        ({"title": "x", "lat": "north", "lng": 1}, 422, "validation_error"),
        ({"title": "x", "anonymous": {"a": 1}}, 422, "validation_error"),
        ({"title": "a\x00b"}, 422, "validation_error"),
        ({"title": "a\ud800b"}, 422, "validation_error"),  # a lone surrogate: no UTF-8
        ({"title": "x", "lat": 91, "lng": 1}, 422, "validation_error"),
        ({"title": "x", "lat": 1e400, "lng": 1}, 422, "validation_error"),
        ({"title": "x", "lat": 33.49}, 400, "invalid"),
        ({"title": "x", "category": "C01"}, 400, "unknown_category"),
        ({"title": "x", "category": "<script>"}, 400, "unknown_category"),
        ({"title": "x", "source": "camera"}, 422, "validation_error"),
        ({"title": "x", "reporter_phone": "12"}, 400, "invalid"),
        ({"title": "x", "description": "长" * 5000}, 422, "validation_error"),
        ({"title": "x", "handled_on_spot": True, "handle_note": "ok"}, 403, "forbidden"),
    ],
)
def test_bad_input_is_refused_with_a_code(tree, actors, category, body, status, code):
    res = post(api_client(actors.resident), BASE, body)
    assert res.status_code == status, res.content
    assert res.json()["code"] == code


def test_malformed_and_oversized_bodies(tree, actors, category, settings):
    client = api_client(actors.resident)
    res = client.post(BASE, "{not json", content_type="application/json")
    assert res.status_code in (400, 422) and "code" in res.json()
    assert client.post(BASE, "[]", content_type="application/json").status_code == 422
    key = post(client, BASE, {"title": "x"}, HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert key.status_code == 422
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = post(client, BASE, {"title": "x", "description": "a" * 3000})
    assert big.status_code in (400, 413) and "code" in big.json()


# --- list and detail -----------------------------------------------------------------------


def test_list_filters_and_scope(tree, actors, category):
    a = report(actors, category)
    b = to_status(actors, report(actors, category), tree, "dispatched")
    report(actors, category, point=OUTSIDE)
    op = api_client(actors.operator)
    assert op.get(BASE).json()["count"] == 2  # the unlocated one is the district's
    assert api_client(actors.district_op).get(BASE).json()["count"] == 3
    assert api_client(actors.outsider).get(BASE).json()["count"] == 0

    def numbers(**params):
        res = op.get(BASE, params)
        assert res.status_code == 200, res.content
        return {row["number"] for row in res.json()["items"]}

    assert numbers(status="dispatched") == {b.number}
    assert numbers(status=["reported", "dispatched"]) == {a.number, b.number}
    assert numbers(department="cg") == {b.number}
    assert numbers(category="C01") == numbers(category="C0101") == {a.number, b.number}
    assert numbers(region=tree.grid_a.code) == {a.number, b.number}
    assert numbers(region=tree.grid_b.code) == set()
    assert numbers(region="99999999") == set()
    assert numbers(source="resident") == {a.number, b.number}
    assert numbers(light="green") == {b.number}
    assert numbers(light="none") == {a.number}
    assert numbers(overdue="false") == {a.number, b.number}
    assert numbers(overdue="true") == set()
    today = timezone.localdate(a.created_at).isoformat()
    assert numbers(created_from=today, created_to=today) == {a.number, b.number}
    assert numbers(created_to="2000-01-01") == set()
    assert numbers(q=a.number) == {a.number}
    assert op.get(BASE, {"status": "nope"}).status_code == 422
    assert op.get(BASE, {"limit": 100000}).status_code == 422
    assert op.get(BASE, {"created_from": "yesterday"}).status_code == 422


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


LIST_URLS = [
    (BASE, "operator"),
    (f"{BASE}/mine", "resident"),
    (f"{BASE}/queues/centre/new", "operator"),
    (f"{BASE}/queues/centre", "operator"),
    (f"{BASE}/queues/department/to_sign", "handler"),
    (f"{BASE}/queues/grid/to_verify", "worker"),
    (f"{BASE}/notifications", "handler"),
]


@pytest.mark.parametrize("url, who", LIST_URLS)
def test_list_queries_do_not_grow_with_rows(tree, actors, category, url, who):
    def add(n):
        for _ in range(n):
            report(actors, category)
            to_status(actors, report(actors, category), tree, "dispatched")
            to_status(actors, report(actors, category), tree, "handled")

    client = api_client(getattr(actors, who))
    add(1)
    few = _count_queries(client, url)
    add(4)
    assert _count_queries(client, url) == few


def test_detail_with_timeline_and_actions(tree, actors, category):
    case = to_status(actors, report(actors, category, reporter_phone="13800001234"), tree, "signed")
    res = api_client(actors.handler).get(f"{BASE}/{case.number}")
    assert res.status_code == 200
    body = res.json()
    assert [e["action"] for e in body["timeline"]] == ["report", "accept", "dispatch", "sign"]
    assert set(body["actions"]) >= {"handle", "return", "extend_request"}
    assert "accept" not in body["actions"] and body["reporter_phone"].startswith("138")
    assert "1234" not in body["reporter_phone"][3:7] and body["resident_text"] == "正在处理"
    assert api_client(actors.outsider).get(f"{BASE}/{case.number}").status_code == 404
    assert api_client(actors.resident).get(f"{BASE}/{case.number}").json()["actions"] == []
    assert api_client(actors.operator).get(f"{BASE}/bad-number").status_code == 422
    missing = api_client(actors.operator).get(f"{BASE}/2099010100001")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_anonymous_reporter_is_hidden_from_staff(tree, actors, category):
    case = report(actors, category, anonymous=True, reporter_name="张三")
    staff = api_client(actors.operator).get(f"{BASE}/{case.number}").json()
    assert staff["reporter_name"] == "匿名"
    own = api_client(actors.resident).get(f"{BASE}/{case.number}").json()
    assert own["reporter_name"] == "" and own["reporter_phone"] == ""  # never stored


# --- transitions ---------------------------------------------------------------------------


def ok(res, status: str):
    assert res.status_code == 200, res.content
    assert res.json()["status"] == status
    return res.json()


def test_whole_loop_through_the_api(tree, actors, category):
    case = report(actors, category)
    ok(act(actors.operator, case, "accept", {"area_class": "A"}), "accepted")
    ok(act(actors.operator, case, "dispatch", {"department": "cg"}), "dispatched")
    ok(act(actors.handler, case, "sign"), "signed")
    ok(act(actors.handler, case, "handle", {"note": "已补盖"}), "handled")
    ok(act(actors.worker, case, "verify", {"passed": False, "reason": "盖子松动"}), "dispatched")
    ok(act(actors.handler, case, "sign"), "signed")
    ok(act(actors.handler, case, "handle", {"note": "已加固"}), "handled")
    ok(act(actors.worker, case, "verify", {"passed": True}), "closed")
    body = ok(act(actors.resident, case, "rate", {"rating": 5, "comment": "很快"}), "rated")
    assert body["rating"] == 5 and body["timeline"][-1]["action"] == "rate"
    ok(act(actors.resident, case, "reopen", {"reason": "又坏了"}), "accepted")


def test_centre_moves(tree, actors, category):
    op = actors.operator
    bad = report(actors, category)
    ok(act(op, bad, "reject", {"reason": "非本辖区事项"}), "rejected")
    dup, keep = report(actors, category), report(actors, category)
    body = ok(act(op, dup, "merge", {"into": keep.number}), "merged")
    assert body["merged_into"] == keep.number
    long = to_status(actors, report(actors, category), tree, "dispatched")
    ok(act(op, long, "suspend", {"reason": "需纳入年度计划"}), "suspended")
    ok(act(op, long, "resume"), "dispatched")
    lost = report(actors, category, point=OUTSIDE)
    body = ok(
        act(actors.district_op, lost, "relocate", {"lat": IN_A[0], "lng": IN_A[1]}), "reported"
    )
    assert body["located"] and body["unit"] == tree.units_a[0].code
    staying = to_status(actors, report(actors, category), tree, "handled")
    assert act(op, staying, "close").status_code == 409  # verification comes first


def test_close_by_the_centre_when_auto_close_is_off(tree, actors, category, settings):
    settings.CASES_AUTO_CLOSE_ON_VERIFY = False
    case = to_status(actors, report(actors, category), tree, "handled")
    ok(act(actors.worker, case, "verify", {"passed": True}), "verified")
    ok(act(actors.operator, case, "close", {"reason": "核查通过"}), "closed")


def test_handler_moves_return_extend_and_decide(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    body = ok(act(actors.handler, case, "extend", {"amount": 2, "reason": "等配件"}), "signed")
    assert body["extension_pending"] and body["extensions"][0]["status"] == "pending"
    body = ok(act(actors.operator, case, "extend/decide", {"approve": True}), "signed")
    assert body["extensions"][0]["status"] == "approved" and not body["extension_pending"]
    act(actors.handler, case, "extend", {"amount": 1, "reason": "再等"})
    refused = act(actors.operator, case, "extend/decide", {"approve": False})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    ok(
        act(actors.operator, case, "extend/decide", {"approve": False, "reason": "不同意"}),
        "signed",
    )
    body = ok(act(actors.handler, case, "return", {"reason": "不归我们管"}), "returned")
    assert body["actions"] == []  # the answer still shows the result of the move
    assert act(actors.handler, case, "sign").status_code == 404  # no longer theirs


def test_grid_level_work_escalates(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "accepted")
    body = ok(act(actors.operator, case, "dispatch", {"region": tree.grid_a.code}), "dispatched")
    assert body["assigned_region"] == tree.grid_a.code
    ok(act(actors.worker, case, "sign"), "signed")
    body = ok(act(actors.worker, case, "escalate", {"reason": "需社区协调"}), "dispatched")
    assert body["assigned_region"] == tree.community.code


def test_wrong_role_outsider_illegal_and_conflict(tree, actors, category):
    case = report(actors, category)
    forbidden = act(actors.resident, case, "accept")
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert act(actors.outsider, case, "accept").status_code == 404
    assert act(actors.outsider, case, "close").status_code == 404  # not 409: no existence hint
    illegal = act(actors.operator, case, "close")
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert illegal.json()["details"] == {"action": "close", "status": "reported"}
    raced = act(actors.operator, case, "accept", {"version": case.version + 5})
    assert raced.status_code == 409 and raced.json()["code"] == "conflict"
    assert act(actors.operator, case, "reject").json()["code"] == "invalid"
    assert act(actors.operator, case, "dispatch", {"department": "nope"}).status_code == 400
    assert act(actors.operator, case, "merge", {"into": "2099010100001"}).status_code == 404
    assert act(actors.operator, case, "accept", {"category": "C01"}).status_code == 400
    assert act(actors.resident, case, "rate", {"rating": 9}).status_code == 422
    handled = to_status(actors, report(actors, category), tree, "handled")
    assert act(actors.handler, handled, "verify", {"passed": True}).status_code == 403
    assert act(actors.worker_b, handled, "verify", {"passed": True}).status_code == 404


# --- queues and the inbox ------------------------------------------------------------------


def test_queues_and_their_permissions(tree, actors, category):
    new = report(actors, category)
    to_sign = to_status(actors, report(actors, category), tree, "dispatched")
    handled = to_status(actors, report(actors, category), tree, "handled")
    op, h, w = (api_client(u) for u in (actors.operator, actors.handler, actors.worker))
    assert op.get(f"{BASE}/queues/centre").json()["counts"]["new"] == 1
    assert op.get(f"{BASE}/queues/centre/new").json()["items"][0]["number"] == new.number
    assert op.get(f"{BASE}/queues/centre/bogus").status_code == 422
    assert h.get(f"{BASE}/queues/department").json()["counts"]["to_sign"] == 1
    items = h.get(f"{BASE}/queues/department/to_sign").json()["items"]
    assert [i["number"] for i in items] == [to_sign.number]
    items = w.get(f"{BASE}/queues/grid/to_verify").json()["items"]
    assert [i["number"] for i in items] == [handled.number]
    resident = api_client(actors.resident)
    assert resident.get(f"{BASE}/mine").json()["count"] == 3
    for url in ("queues/centre", "queues/centre/new", "queues/department", "queues/grid/tasks"):
        res = resident.get(f"{BASE}/{url}")
        assert res.status_code == 403 and res.json()["code"] == "forbidden", url
    assert h.get(f"{BASE}/queues/centre").status_code == 403
    assert op.get(f"{BASE}/queues/department/to_sign").status_code == 403


def test_notifications_inbox(tree, actors, category):
    to_status(actors, report(actors, category), tree, "dispatched")
    client = api_client(actors.handler)
    inbox = client.get(f"{BASE}/notifications", {"unread": "true"}).json()
    assert inbox["count"] == 1 and inbox["items"][0]["verb"] == "dispatched"
    first = inbox["items"][0]["id"]
    other = Notification.objects.filter(recipient=actors.resident).first()
    marked = post(client, f"{BASE}/notifications/read", {"ids": [first, other.pk]}).json()
    assert marked == {"updated": 1, "unread": 0}  # someone else's message is untouched
    assert Notification.objects.get(pk=other.pk).read_at is None
    assert post(client, f"{BASE}/notifications/read", {"ids": ["x"]}).status_code == 422
    res = post(api_client(actors.resident), f"{BASE}/notifications/read", {})
    assert res.json()["updated"] >= 1 and res.json()["unread"] == 0


def test_other_category_without_department_still_lists(tree, actors):
    orphan = make_category(None, code="C0102")
    res = created(api_client(actors.resident), category=orphan.code)
    assert res.json()["suggested_department"] is None and res.json()["routing_reason"]
