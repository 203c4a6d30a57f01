"""People search as the list page and the API run it: scope, every search kind, page order,
the capped count, and the indexes that keep a bare surname fast at a million people
(bench/person_search_bench.py)."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from civicgrid.registry import selectors

from .factories import make_id, person, room

pytestmark = pytest.mark.django_db
API = "/api/v1/registry/people"


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def wangs(worker_a, worker_b, tree):
    """Three 王 and a 李 in grid A (two unit grids), two 王 in grid B."""
    a1, a2 = tree.units_a[0], tree.units_a[1]
    b1 = tree.units_b[0]
    made = {
        "a": [
            person(worker_a, a2, name="王一", id_number=make_id(), phone="13900000001"),
            person(worker_a, a1, name="王二", id_number=make_id(), phone="13900000002"),
            person(worker_a, a1, name="王一", id_number=make_id(), phone="13900000003"),
        ],
        "li": person(worker_a, a1, name="李三", id_number=make_id(), phone="13900000004"),
        "b": [
            person(worker_b, b1, name="王四", id_number=make_id(), phone="13900000005"),
            person(worker_b, b1, name="王五", id_number=make_id(), phone="13900000006"),
        ],
    }
    return made


def _page_order(people) -> list:
    return sorted(people, key=lambda p: (p.unit_path, p.name, p.pk))


def test_bare_surname_stays_in_scope_in_page_order(worker_a, worker_b, wangs):
    assert list(selectors.person_list(user=worker_a, q="王")) == _page_order(wangs["a"])
    assert list(selectors.person_list(user=worker_b, q="王")) == _page_order(wangs["b"])
    assert list(selectors.person_list(user=worker_b, q="李")) == []


def test_every_search_kind_in_scope(worker_a, worker_b, wangs):
    li = wangs["li"]
    for q in (li.id_number, li.id_number.lower(), "139-0000-0004", "李", "李三"):
        assert list(selectors.person_list(user=worker_a, q=q)) == [li], q
        assert list(selectors.person_list(user=worker_b, q=q)) == [], q
    r = room(worker_a, wangs["a"][0].unit, "1-101", number="8")
    housed = person(worker_a, r.building.unit, name="赵六", id_number=make_id(), room=r)
    assert list(selectors.person_list(user=worker_a, address="估衣街8号")) == [housed]
    assert list(selectors.person_list(user=worker_b, address="估衣街8号")) == []


def test_page_and_api_show_only_own_grid(worker_a, worker_b, wangs):
    body = _client(worker_a).get(reverse("registry:people"), {"q": "王"}).content.decode()
    assert "共 3 人" in body and "王二" in body and "王四" not in body
    data = _client(worker_b).get(API, {"q": "王"}).json()
    assert data["count"] == 2 and data["count_capped"] is False
    assert [p["id"] for p in data["items"]] == [p.pk for p in _page_order(wangs["b"])]


def test_latin_names_keep_code_point_order(worker_a, unit_a):
    people = [person(worker_a, unit_a, name=n, id_number=make_id(), phone="")
              for n in ("alice", "Bob", "王五", "Anna")]  # fmt: skip
    assert [p.name for p in selectors.person_list(user=worker_a)] == [
        p.name for p in _page_order(people)
    ]


def test_count_stops_at_the_cap(monkeypatch, worker_a, wangs):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    qs = selectors.person_list(user=worker_a, q="王")
    assert selectors.capped_count(qs) == 3  # cap + 1: "more than 2"
    assert selectors.capped_count(qs, cap=5) == 3
    html = _client(worker_a).get(reverse("registry:people"), {"q": "王"}).content.decode()
    assert "超过 2 人" in html and "1 / 1+" not in html and "王二" in html
    data = _client(worker_a).get(API, {"q": "王", "limit": 10}).json()
    assert data["count"] == 2 and data["count_capped"] is True
    assert [p["id"] for p in data["items"]] == [p.pk for p in _page_order(wangs["a"])]


def test_search_indexes_of_0004_exist_for_this_engine() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_person")
    names = set(constraints)
    if connection.vendor == "postgresql":
        assert {"registry_person_scope_name_c", "registry_person_name_scope_c"} <= names
    else:
        assert "registry_person_name_scope" in names
    assert "registry_person_name_prefix" not in names
