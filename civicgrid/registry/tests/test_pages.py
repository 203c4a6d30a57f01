"""Pages render for a grid worker, forms show service errors inline, scope gives 404."""

import pytest
from django.test import Client
from django.urls import reverse

from civicgrid.accounts.choices import Role
from civicgrid.core.models import AuditLog
from civicgrid.registry import services
from civicgrid.registry.models import Person, Visit

from .factories import building, make_id, person, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(worker_a) -> Client:
    c = Client()
    c.force_login(worker_a)
    return c


def test_pages_render(client_a, worker_a, unit_a):
    p = person(worker_a, unit_a)
    services.person_tag_add(user=worker_a, person=p, kind="elderly_alone")
    for name, args in [("people", []), ("person_create", []), ("person_detail", [p.pk]),
                       ("person_edit", [p.pk]), ("household_create", []), ("overdue", []),
                       ("coverage", [])]:  # fmt: skip
        r = client_a.get(reverse(f"registry:{name}", args=args))
        assert r.status_code == 200, name
    r = client_a.get(reverse("registry:visit_create"), {"person": p.pk})
    assert r.status_code == 200 and "navigator.geolocation" in r.content.decode()
    detail = client_a.get(reverse("registry:person_detail", args=[p.pk])).content.decode()
    assert p.id_number not in detail and p.id_number_masked in detail and "138****5678" in detail


def test_people_search_htmx_partial(client_a, worker_a, unit_a):
    p = person(worker_a, unit_a)
    r = client_a.get(reverse("registry:people"), {"q": p.id_number}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "<html" not in body and p.name in body


def test_person_form_shows_checksum_error_inline(client_a, unit_a):
    number = make_id()
    bad = number[:-1] + ("1" if number[-1] == "0" else "0")
    data = {"unit": unit_a.pk, "name": "张三", "id_number": bad, "residency": "registered",
            "nationality": "中国"}  # fmt: skip
    r = client_a.post(reverse("registry:person_create"), data)
    assert r.status_code == 400
    assert 'data-error-for="id_number">校验位不符' in r.content.decode()
    assert not Person.objects.exists()


def test_person_form_duplicate_links_existing(client_a, worker_a, unit_a):
    p = person(worker_a, unit_a)
    r = client_a.post(reverse("registry:person_create"),
                      {"unit": unit_a.pk, "name": "又一个", "id_number": p.id_number,
                       "residency": "registered", "nationality": "中国"})  # fmt: skip
    assert r.status_code == 400
    assert reverse("registry:person_detail", args=[p.pk]) in r.content.decode()


def test_household_form_j7(client_a, worker_a, unit_a):
    b = building(worker_a, unit_a, number="3")
    data = {"building": b.pk, "room": "2-501", "number": "",
            "m-TOTAL_FORMS": "4", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "1",
            "m-MAX_NUM_FORMS": "12"}  # fmt: skip
    rows = [("张建国", "head", make_id(sex="M")), ("刘芳", "spouse", make_id()),
            ("张奶奶", "parent", make_id()), ("张小明", "child", "123456")]  # fmt: skip
    for i, (name, rel, idn) in enumerate(rows):
        data.update({f"m-{i}-name": name, f"m-{i}-relation": rel, f"m-{i}-id_number": idn,
                     f"m-{i}-phone": "", f"m-{i}-residency": "registered"})  # fmt: skip
    r = client_a.post(reverse("registry:household_create"), data)
    assert r.status_code == 400 and "身份证号应为18位" in r.content.decode()
    assert not Person.objects.exists()
    data["m-3-id_number"] = make_id(sex="M")
    r = client_a.post(reverse("registry:household_create"), data)
    assert r.status_code == 302
    assert Person.objects.filter(room__number="501", room__entrance="2").count() == 4


def test_tag_and_visit_and_reveal_pages(client_a, worker_a, unit_a, tree):
    p = person(worker_a, unit_a)
    r = client_a.post(reverse("registry:person_tag", args=[p.pk]),
                      {"kind": "elderly_alone", "data_health": "良好"})  # fmt: skip
    assert r.status_code == 302 and p.tags.get().visit_every_days == 7
    r = client_a.get(reverse("registry:tag_fields"), {"kind": "disabled"})
    assert "残疾类别" in r.content.decode()
    r = client_a.post(reverse("registry:visit_create") + f"?person={p.pk}",
                      {"findings": "楼道灯坏了", "problem_found": "on", "lat": "33.5",
                       "lng": "119.11"})  # fmt: skip
    assert r.status_code == 302 and Visit.objects.get().problem_found
    url = reverse("registry:person_reveal", args=[p.pk])
    r = client_a.post(url, {"field": "id_number", "reason": ""}, HTTP_HX_REQUEST="true")
    assert "请填写查看原因" in r.content.decode()
    r = client_a.post(url, {"field": "id_number", "reason": "民警核查"}, HTTP_HX_REQUEST="true")
    assert p.id_number in r.content.decode()
    assert AuditLog.objects.filter(action="reveal", object_id=str(p.pk)).count() == 1


def test_other_grid_pages_404(worker_a, unit_b, tree):
    other = staff(Role.GRID_WORKER, tree.grid_b)
    pb = person(other, unit_b)
    c = Client()
    c.force_login(worker_a)
    for name in ("person_detail", "person_edit", "person_reveal"):
        method = c.post if name == "person_reveal" else c.get
        assert method(reverse(f"registry:{name}", args=[pb.pk])).status_code == 404
    assert pb.name not in c.get(reverse("registry:people")).content.decode()
    r = c.get(reverse("registry:visit_create"), {"person": pb.pk})
    assert r.status_code == 404


def test_garbage_params_never_500(client_a):
    for params in ({"page": "x" * 500}, {"q": "\x00" * 300}, {"tag": "<script>"}):
        assert client_a.get(reverse("registry:people"), params).status_code == 200
    assert client_a.get(reverse("registry:visit_create"), {"person": "9" * 40}).status_code == 404
