"""Admin pages render in Chinese for every case model; workflow refusals map to 409."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from civicgrid.cases.api import on_case_conflict, on_illegal_transition
from civicgrid.cases.workflow import CaseConflict, transition_for
from civicgrid.core.testing.factories import api_client, user_with_role

from .factories import report, to_status

MODELS = [
    "case", "caseevent", "category", "routingrule", "attachment", "extension", "escalation",
    "notification",
]  # fmt: skip


@pytest.mark.django_db
def test_admin_changelists_and_case_page(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "signed")
    client = api_client(user_with_role("superuser", username="root"))
    for name in MODELS:
        assert client.get(reverse(f"admin:cases_{name}_changelist")).status_code == 200, name
    page = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert page.status_code == 200 and "签收" in page.content.decode()
    assert client.get(reverse("admin:core_holiday_changelist")).status_code == 200


def test_refusals_answer_409_in_the_error_shape():
    request = RequestFactory().get("/api/v1/cases/")
    try:
        transition_for("sign", "closed")
    except Exception as exc:  # noqa: BLE001
        response = on_illegal_transition(request, exc)
    body = json.loads(response.content)
    assert response.status_code == 409 and body["code"] == "illegal_transition"
    assert "已结案" in body["message"]
    response = on_case_conflict(request, CaseConflict())
    assert response.status_code == 409 and json.loads(response.content)["code"] == "conflict"
