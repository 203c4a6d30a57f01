"""Open311 error descriptions and the service notice follow the request's language: bilingual
Chinese / English by default (as before), plain English with `Accept-Language: en`."""

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import translation

from civicgrid.accounts.services import api_token_create

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
EN = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and never deactivates it."""
    before = translation.get_language()
    yield
    translation.activate(before) if before else translation.deactivate()


@pytest.fixture
def key(actors):
    return api_token_create(user=actors.resident, name="civic app")[1]


def test_missing_api_key_in_english_and_by_default(tree, category):
    res = Client().get(f"{BASE}/requests.json", headers=EN)
    assert res.status_code == 403
    assert res.json() == [{"code": 403, "description": "api_key is required"}]
    res = Client().get(f"{BASE}/requests.json")
    assert res.json()[0]["description"] == "缺少 api_key / api_key is required"


def test_bad_parameters_in_english_xml(tree, category, key):
    data = {"api_key": key, "service_code": "C0101", "lat": "33.49"}
    res = Client().post(f"{BASE}/requests.xml", data, headers=EN)
    assert res.status_code == 400
    root = ET.fromstring(res.content)
    assert root.find("error/description").text == "lat and long must be given together"
    res = Client().get(f"{BASE}/requests.json", {"api_key": key, "start_date": "x"}, headers=EN)
    assert res.json()[0]["description"] == "start_date must be a W3C datetime"


def test_unknown_service_and_notice_in_english(tree, category, key):
    data = {"api_key": key, "service_code": "Z9999", "address_string": "估衣街 12 号"}
    res = Client().post(f"{BASE}/requests.json", data, headers=EN)
    assert res.json()[0]["description"] == "Unknown service_code Z9999"
    res = Client().post(f"{BASE}/requests.json", {**data, "service_code": "C0101"}, headers=EN)
    assert res.json()[0]["service_notice"] == (
        "Received, being assessed; location to be confirmed by the command centre"
    )
    res = Client().post(f"{BASE}/requests.json", {**data, "service_code": "C0101"})
    assert res.json()[0]["service_notice"].startswith("已收到,正在研判;位置需人工确认")
