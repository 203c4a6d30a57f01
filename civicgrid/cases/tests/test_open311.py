"""Open311 GeoReport v2 at /open311/v2/: discovery, services, definitions, requests GET/POST,
tokens and FixMyStreet's servicerequestupdates, in JSON and XML, errors in the spec's shape."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.services import api_token_create
from civicgrid.cases.models import Case

from .factories import IN_A, OUTSIDE, report, to_status

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture
def key(actors):
    return api_token_create(user=actors.resident, name="civic app")[1]


def xml_of(res) -> ET.Element:
    assert res["Content-Type"].startswith("text/xml")
    return ET.fromstring(res.content)


def assert_error(res, status: int, fmt: str = "json"):
    assert res.status_code == status, res.content
    if fmt == "json":
        body = res.json()
        assert body[0]["code"] == status and body[0]["description"]
    else:
        root = xml_of(res)
        assert root.tag == "errors" and root.find("error/code").text == str(status)
        assert root.find("error/description").text


def test_discovery(tree, category):
    body = Client().get(f"{BASE}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "text/xml" in endpoint["formats"]
    root = xml_of(Client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_json_and_xml(tree, category):
    rows = Client().get(f"{BASE}/services.json").json()
    assert rows == [
        {
            "service_code": "C0101",
            "service_name": "井盖缺失",
            "description": "井盖缺失",
            "metadata": True,
            "type": "realtime",
            "keywords": "井盖, 窨井",
            "group": "公用设施",
        }
    ]
    root = xml_of(Client().get(f"{BASE}/services.xml"))
    service = root.find("service")
    assert root.tag == "services" and service.find("service_code").text == "C0101"
    assert service.find("group").text == "公用设施" and service.find("metadata").text == "true"


def test_service_definition(tree, category):
    body = Client().get(f"{BASE}/services/C0101.json").json()
    assert body["service_code"] == "C0101"
    assert [a["code"] for a in body["attributes"]] == ["title", "anonymous"]
    root = xml_of(Client().get(f"{BASE}/services/C0101.xml"))
    assert root.tag == "service_definition"
    values = root.findall("attributes/attribute/values/value/key")
    assert [v.text for v in values] == ["false", "true"]
    assert_error(Client().get(f"{BASE}/services/NOPE.json"), 404)
    assert_error(Client().get(f"{BASE}/services/C01.xml"), 404, "xml")  # a major class


def post(fmt="json", **data):
    return Client(enforce_csrf_checks=True).post(f"{BASE}/requests.{fmt}", data)


def test_post_request_creates_a_case_for_the_key_holder(tree, actors, category, key):
    res = post(
        api_key=key, service_code="C0101", lat=IN_A[0], long=IN_A[1], description="井盖没了",
        first_name="三", last_name="张", phone="13800001234",
        media_url="https://example.org/a.jpg", **{"attribute[title]": "估衣街井盖"},
    )  # fmt: skip
    assert res.status_code == 200, res.content
    row = res.json()[0]
    assert row["account_id"] == str(actors.resident.pk) and row["service_notice"]
    case = Case.objects.get(number=row["service_request_id"])
    assert case.source == "open311" and case.reporter == actors.resident and case.located
    assert case.title == "估衣街井盖" and case.reporter_name == "张三"
    got = Client().get(f"{BASE}/requests/{case.number}.json", {"api_key": key}).json()[0]
    assert got["media_url"] == "https://example.org/a.jpg" and got["status"] == "open"
    assert got["service_code"] == "C0101" and got["lat"] == IN_A[0] and got["long"] == IN_A[1]


def test_post_xml_with_address_only_and_idempotency(tree, actors, category, key):
    res = Client().post(
        f"{BASE}/requests.xml",
        {"api_key": key, "service_code": "C0101", "address_string": "估衣街 12 号"},
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    root = xml_of(res)
    number = root.find("request/service_request_id").text
    assert root.tag == "service_requests" and "人工确认" in root.find("request/service_notice").text
    again = Client().post(
        f"{BASE}/requests.json",
        {"api_key": key, "service_code": "C0101", "address_string": "估衣街 12 号"},
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    assert again.json()[0]["service_request_id"] == number and Case.objects.count() == 1
    token = Client().get(f"{BASE}/tokens/abc.xml", {"api_key": key})
    assert xml_of(token).find("request/service_request_id").text == number
    assert_error(Client().get(f"{BASE}/tokens/zzz.json", {"api_key": key}), 404)
    category.is_active = False  # the service is withdrawn; a client retries what went through
    category.save()
    body = {"api_key": key, "service_code": "C0101", "address_string": "估衣街 12 号"}
    retry = Client().post(f"{BASE}/requests.json", body, HTTP_IDEMPOTENCY_KEY="abc")
    assert retry.status_code == 200 and retry.json()[0]["service_request_id"] == number
    assert_error(Client().post(f"{BASE}/requests.json", body, HTTP_IDEMPOTENCY_KEY="new"), 400)
    assert Case.objects.count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "data, status",
    [
        ({"service_code": "C0101", "lat": "33.49", "long": "119.11"}, 403),  # no api_key
        ({"api_key": "cg_wrong", "service_code": "C0101", "lat": "1", "long": "1"}, 403),
        ({"service_code": "NOPE", "lat": "33.49", "long": "119.11"}, 400),
        ({"lat": "33.49", "long": "119.11"}, 400),  # no service_code
        ({"service_code": "C0101"}, 400),  # no location
        ({"service_code": "C0101", "lat": "33.49"}, 400),
        ({"service_code": "C0101", "lat": "nan", "long": "1"}, 400),
        ({"service_code": "C0101", "lat": "95", "long": "1"}, 400),
        ({"service_code": "C0101", "address_string": "x", "description": "a" * 4001}, 400),
        ({"service_code": "C0101", "address_string": "a\x00b"}, 400),
        ({"service_code": "C0101", "address_string": "x", "media_url": "javascript:1"}, 400),
        ({"service_code": "C0101", "address_string": "x", "attribute[anonymous]": "?"}, 400),
        ({"service_code": "C0101", "address_string": "x", "phone": "12"}, 400),
    ],
)
def test_post_refusals_in_the_standard_shape(tree, actors, category, key, fmt, data, status):
    if "api_key" not in data and status != 403:
        data = {**data, "api_key": key}
    assert_error(post(fmt, **data), status, fmt)
    assert Case.objects.count() == 0


def test_get_requests_filters_and_status_mapping(tree, actors, category, key):
    open_case = report(actors, category)
    done = to_status(actors, report(actors, category), tree, "rated")
    report(actors, category, reporter=actors.operator)  # not the key holder's: out of scope
    client = Client()

    def ids(**params):
        res = client.get(f"{BASE}/requests.json", {"api_key": key, **params})
        assert res.status_code == 200, res.content
        return {r["service_request_id"]: r["status"] for r in res.json()}

    assert ids() == {open_case.number: "open", done.number: "closed"}
    assert ids(status="open") == {open_case.number: "open"}
    assert ids(status="closed") == {done.number: "closed"}
    assert ids(service_code="C0101,C9999").keys() == {open_case.number, done.number}
    assert ids(service_code="C9999") == {}
    assert ids(service_request_id=done.number, status="open") == {done.number: "closed"}
    past = (timezone.now() - dt.timedelta(days=30)).isoformat()
    assert ids(end_date=past) == {}
    assert len(ids(start_date=past)) == 2
    assert len(ids(start_date=timezone.localdate().isoformat())) == 2
    root = xml_of(client.get(f"{BASE}/requests.xml", {"api_key": key, "status": "closed"}))
    request = root.find("request")
    assert request.find("status").text == "closed" and request.find("agency_responsible").text
    assert_error(client.get(f"{BASE}/requests.json", {"api_key": key, "status": "x"}), 400)
    assert_error(
        client.get(f"{BASE}/requests.xml", {"api_key": key, "start_date": "no"}), 400, "xml"
    )
    far = {"api_key": key, "start_date": "2000-01-01", "end_date": "2020-01-01"}
    assert_error(client.get(f"{BASE}/requests.json", far), 400)
    assert_error(client.get(f"{BASE}/requests.json"), 403)
    assert_error(client.get(f"{BASE}/requests/{open_case.number}.json"), 403)
    other = Case.objects.exclude(pk__in=[open_case.pk, done.pk]).get()
    assert_error(client.get(f"{BASE}/requests/{other.number}.json", {"api_key": key}), 404)


def test_session_user_reads_in_their_scope(tree, actors, category):
    case = report(actors, category, point=OUTSIDE)
    client = Client()
    client.force_login(actors.district_op)
    rows = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [case.number]
    assert rows[0]["status_notes"] == "已收到,正在研判"


def test_service_request_updates(tree, actors, category, key):
    case = to_status(actors, report(actors, category), tree, "handled")
    services_rejected = report(actors, category)
    from civicgrid.cases import services

    services.case_reject(case=services_rejected, actor=actors.operator, reason="重复反映")
    res = Client().get(f"{BASE}/servicerequestupdates.json", {"api_key": key})
    rows = res.json()
    mine = [(r["service_request_id"], r["status"]) for r in rows]
    assert (case.number, "investigating") in mine and (case.number, "in_progress") in mine
    assert (services_rejected.number, "no_further_action") in mine
    handled = [r for r in rows if r["external_status_code"] == "handled"][0]
    assert "已补盖" in handled["description"]
    root = xml_of(Client().get(f"{BASE}/servicerequestupdates.xml", {"api_key": key}))
    assert root.tag == "service_requests_updates"
    assert len(root.findall("request_update")) == len(rows)
    assert root.find("request_update/update_id").text
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert Client().get(
        f"{BASE}/servicerequestupdates.json", {"api_key": key, "start_date": future}
    ).json() == []  # fmt: skip
    posted = Client().post(
        f"{BASE}/servicerequestupdates.json",
        {"api_key": key, "service_request_id": case.number, "description": "谢谢"},
    )
    assert posted.status_code == 200 and posted.json()[0]["update_id"]
    assert case.events.filter(action="note", reason="谢谢").exists()


def test_unknown_urls_methods_and_hostile_text(tree, actors, category, key):
    assert_error(Client().get(f"{BASE}/nothing.json"), 404)
    assert_error(Client().get(f"{BASE}/services.html"), 404)
    assert_error(Client().delete(f"{BASE}/services.xml"), 405, "xml")
    res = post(
        "xml", api_key=key, service_code="C0101", address_string="x",
        description="<b>&amp;</b>]]><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    )  # fmt: skip
    number = xml_of(res).find("request/service_request_id").text
    got = Client().get(f"{BASE}/requests/{number}.xml", {"api_key": key})
    assert "<!DOCTYPE x [" in xml_of(got).find("request/description").text
