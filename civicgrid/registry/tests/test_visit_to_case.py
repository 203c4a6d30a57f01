"""J9: a problem found on a visit becomes a case in one step, once, through case intake."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicgrid.cases.models import Case
from civicgrid.registry import services

from .factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(worker_a, unit_a):
    grandma = person(worker_a, unit_a, name="王秀英")
    return services.visit_record(user=worker_a, target=grandma, lat=33.49, lng=119.11,
                                 findings="楼道灯坏了", problem_found=True)  # fmt: skip


def test_visit_becomes_one_case(client, worker_a, visit):
    client.force_login(worker_a)
    url = reverse("registry:visit_to_case", args=[visit.pk])
    response = client.post(url)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{case.pk}/")
    assert case.description == "楼道灯坏了" and case.source == "grid_worker"
    assert case.lat == pytest.approx(33.49)
    client.post(url)
    assert Case.objects.count() == 1  # idempotent per visit


def test_visit_form_can_turn_the_visit_into_a_case(client, worker_a, unit_a):
    grandma = person(worker_a, unit_a, name="李奶奶")
    client.force_login(worker_a)
    response = client.post(
        f"{reverse('registry:visit_create')}?person={grandma.pk}",
        {"findings": "楼道灯坏了", "problem_found": "on", "to_case": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.get().description == "楼道灯坏了"


def test_outsider_cannot_turn_another_grids_visit_into_a_case(client, worker_b, visit):
    client.force_login(worker_b)
    assert client.post(reverse("registry:visit_to_case", args=[visit.pk])).status_code == 404
    assert not Case.objects.exists()


def test_person_page_offers_the_button(client, worker_a, visit):
    client.force_login(worker_a)
    page = client.get(reverse("registry:person_detail", args=[visit.person_id]))
    assert "转为事件" in page.content.decode()
