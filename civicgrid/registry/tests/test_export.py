"""People export: masked by default, full numbers only with permission and a reason, audited,
and only rows in the user's scope."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from civicgrid.accounts.choices import Role
from civicgrid.core.models import AuditLog

from .factories import make_id, person, staff

pytestmark = pytest.mark.django_db


def _sheet(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.fixture
def people(worker_a, worker_b, unit_a, unit_b):
    mine = person(worker_a, unit_a, name="王秀英", id_number=make_id(), phone="13812345678")
    person(worker_b, unit_b, name="他网格", id_number=make_id())
    return mine


def test_masked_export_of_scope_only_and_audited(client, worker_a, people):
    client.force_login(worker_a)
    rows = _sheet(client.get(reverse("registry:people_export")))
    assert rows[0][:4] == ("姓名", "性别", "出生日期", "身份证号")
    assert [r[0] for r in rows[1:]] == ["王秀英"]
    assert "*" in rows[1][3] and rows[1][4] == "138****5678"
    audit = AuditLog.objects.filter(action="export").get()
    assert audit.changes["rows"] == 1 and audit.changes["full"] is False


def test_full_numbers_need_a_reason_and_are_audited(client, worker_a, people):
    client.force_login(worker_a)
    response = client.get(reverse("registry:people_export"), {"full": "1"})
    assert response.status_code == 302 and not AuditLog.objects.filter(action="export").exists()
    response = client.get(reverse("registry:people_export"), {"full": "1", "reason": "核对低保"})
    rows = _sheet(response)
    assert rows[1][3] == people.id_number and rows[1][4] == "13812345678"
    assert AuditLog.objects.get(action="export").changes["reason"] == "核对低保"


def test_supervisor_cannot_export_full_numbers(client, tree, people):
    client.force_login(staff(Role.SUPERVISOR, tree.grid_a))
    response = client.get(reverse("registry:people_export"), {"full": "1", "reason": "x"})
    assert response.status_code == 403
    rows = _sheet(client.get(reverse("registry:people_export")))
    assert "*" in rows[1][3]


def test_filters_apply_to_export(client, worker_a, unit_a, people):
    person(worker_a, unit_a, name="李四", id_number=make_id())
    client.force_login(worker_a)
    rows = _sheet(client.get(reverse("registry:people_export"), {"q": "李"}))
    assert [r[0] for r in rows[1:]] == ["李四"]


def test_export_form_follows_an_htmx_search(client, worker_a, people):
    """The list is filtered by HTMX without reloading the page, so the export form's hidden
    filters must be swapped too (out of band), or it would export the unfiltered list."""
    client.force_login(worker_a)
    page = client.get(reverse("registry:people")).content.decode()
    assert '<span id="export-filters"><input type="hidden" name="q" value="">' in page
    rows = client.get(reverse("registry:people"), {"q": "王秀"}, headers={"HX-Request": "true"})
    html = rows.content.decode()
    assert '<span id="export-filters" hx-swap-oob="true">' in html
    assert '<input type="hidden" name="q" value="王秀">' in html
