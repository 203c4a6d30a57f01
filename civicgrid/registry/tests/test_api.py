"""The registry API: masked output, reveal, duplicates, scope (out of scope → 404), bad input."""

import json

import pytest
from django.test import Client

from civicgrid.accounts.choices import Role
from civicgrid.core.models import AuditLog

from .factories import make_id, person, staff

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry"


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c: Client, url: str, body) -> tuple[int, dict]:
    r = c.post(BASE + url, data=json.dumps(body), content_type="application/json")
    return r.status_code, r.json()


def test_create_list_masked(worker_a, unit_a):
    c = _client(worker_a)
    number = make_id()
    status, body = _post(
        c,
        "/people",
        {"name": "王秀英", "unit_code": unit_a.code, "id_number": number, "phone": "13812345678"},
    )
    assert status == 201, body
    assert body["id_number_masked"].count("*") == 8 and number not in json.dumps(body)
    r = c.get(BASE + "/people", {"q": number})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert number not in r.content.decode() and "13812345678" not in r.content.decode()


def test_bad_checksum_error_shape(worker_a, unit_a):
    number = make_id()
    bad = number[:-1] + ("1" if number[-1] == "0" else "0")
    status, body = _post(
        _client(worker_a), "/people", {"name": "张三", "unit_code": unit_a.code, "id_number": bad}
    )
    assert status == 400 and body["code"] == "id_checksum" and "校验位不符" in body["message"]
    assert "id_number" in body["details"]


def test_duplicate_is_409_with_existing_id(worker_a, unit_a):
    number = make_id()
    p = person(worker_a, unit_a, id_number=number)
    status, body = _post(
        _client(worker_a),
        "/people",
        {"name": "王秀英", "unit_code": unit_a.code, "id_number": number},
    )
    assert status == 409 and body["code"] == "duplicate"
    assert body["details"]["existing_id"] == p.pk


def test_scope_matrix(worker_a, worker_b, unit_a, unit_b):
    pa = person(worker_a, unit_a)
    pb = person(worker_b, unit_b, name="李四", id_number=make_id())
    ca, cb = _client(worker_a), _client(worker_b)
    assert [p["id"] for p in ca.get(BASE + "/people").json()["items"]] == [pa.pk]
    assert [p["id"] for p in cb.get(BASE + "/people").json()["items"]] == [pb.pk]
    for url in (f"/people/{pb.pk}",):
        r = ca.get(BASE + url)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    status, _ = _post(ca, f"/people/{pb.pk}/reveal", {"field": "id_number", "reason": "核查"})
    assert status == 404
    status, body = _post(ca, "/people", {"name": "x", "unit_code": unit_b.code})
    assert status == 400 and body["code"] == "unknown_unit"


def test_reveal_requires_reason_and_is_audited(worker_a, unit_a, tree):
    number = make_id()
    p = person(worker_a, unit_a, id_number=number)
    police = staff(Role.FUNCTIONAL_WORKER, tree.grid_a, department=tree.dept)
    c = _client(police)
    status, body = _post(c, f"/people/{p.pk}/reveal", {"field": "id_number", "reason": "  "})
    assert status == 400 and body["code"] == "reason_required"
    status, body = _post(c, f"/people/{p.pk}/reveal", {"field": "id_number", "reason": "案件核查"})
    assert status == 200 and body["value"] == number
    log = AuditLog.objects.filter(action="reveal").get()
    assert log.actor_id == police.pk and log.changes["reason"] == "案件核查"
    assert number not in json.dumps(log.changes)


def test_supervisor_and_resident_cannot_reveal(worker_a, unit_a, tree):
    p = person(worker_a, unit_a)
    sup = staff(Role.SUPERVISOR, tree.grid_a)
    status, body = _post(
        _client(sup), f"/people/{p.pk}/reveal", {"field": "phone", "reason": "想看"}
    )
    assert status == 403
    resident = staff(Role.RESIDENT, unit_a)
    status, _ = _post(
        _client(resident), f"/people/{p.pk}/reveal", {"field": "phone", "reason": "想看"}
    )
    assert status == 404
    assert not AuditLog.objects.filter(action="reveal").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 5000, "unit_code": "1"},
        {"name": "<script>", "unit_code": "32080300100101", "id_number": "9" * 39},
        {"name": "a", "unit_code": "32080300100101", "id_number": "3.20803E+17"},
        {"name": "a", "unit_code": "32080300100101", "birth_date": "2020-13-45"},
        {"name": "a", "unit_code": "32080300100101", "phone": "\x00\x01"},
        [],
        "garbage",
    ],
)
def test_bad_input_never_500(worker_a, unit_a, body):
    status, resp = _post(_client(worker_a), "/people", body)
    assert 400 <= status < 500 and {"code", "message", "details"} <= set(resp)


def test_households_visits_overdue_coverage(worker_a, unit_a):
    c = _client(worker_a)
    status, body = _post(
        c,
        "/buildings",
        {"unit_code": unit_a.code, "name": "3号楼", "number": "3", "address": "估衣街3号"},
    )
    assert status == 201, body
    status, room = _post(c, "/rooms", {"building_id": body["id"], "entrance": "2", "number": "501"})
    assert status == 201 and room["label"] == "3-2-501"
    members = [
        {"name": "张奶奶", "id_number": make_id(), "relation": "head"},
        {"name": "张三", "id_number": make_id(sex="M"), "relation": "child"},
    ]
    status, hh = _post(c, "/households", {"room_id": room["id"], "members": members})
    assert status == 201 and len(hh["members"]) == 2
    grandma = hh["head_id"]
    status, tag = _post(
        c, f"/people/{grandma}/tags", {"kind": "elderly_alone", "started_on": "2020-01-01"}
    )
    assert status == 201 and tag["visit_every_days"] == 7
    assert [d["person_id"] for d in c.get(BASE + "/overdue").json()["items"]] == [grandma]
    status, v = _post(
        c,
        "/visits",
        {
            "target_kind": "person",
            "target_id": grandma,
            "lat": 33.5,
            "lng": 119.11,
            "findings": "楼道灯坏了",
        },
    )
    assert status == 201 and v["household_id"] == hh["id"]
    assert c.get(BASE + "/overdue").json()["count"] == 0
    cov = {g["code"]: g for g in c.get(BASE + "/coverage").json()}
    assert cov["32080300100100"]["households"] == 1 and cov["32080300100100"]["share_30"] == 1.0


@pytest.mark.parametrize("unit", ["grid", "unit", "other", "99999999999999", "<x>%", "/"])
def test_people_and_buildings_by_region_code(worker_a, tree, unit):
    """`unit` takes any region code (a range of its path); unknown or junk codes match no one
    and never give a 500."""
    from .factories import building

    person(worker_a, tree.units_a[0], name="甲一")
    person(worker_a, tree.units_a[1], name="乙二")
    building(worker_a, tree.units_a[0])
    code = {"grid": tree.grid_a.code, "unit": tree.units_a[0].code, "other": tree.grid_b.code}
    c = _client(worker_a)
    people = c.get(BASE + "/people", {"unit": code.get(unit, unit)})
    buildings = c.get(BASE + "/buildings", {"unit": code.get(unit, unit)})
    assert people.status_code == 200 and buildings.status_code == 200
    names = {row["name"] for row in people.json()["items"]}
    expected = {"grid": {"甲一", "乙二"}, "unit": {"甲一"}}.get(unit, set())
    assert names == expected
    assert len(buildings.json()["items"]) == (1 if unit in ("grid", "unit") else 0)
