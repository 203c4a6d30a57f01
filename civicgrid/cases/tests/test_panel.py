"""The map panel's case section: open and overdue cases of the region, newest first, in scope;
and the panel page itself with both sections, at a fixed number of queries."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.panel import RECENT, open_cases_section

from .factories import IN_B, report, to_status

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_open_and_overdue_cases_of_the_region(tree, actors, category) -> None:
    first = report(actors, category)  # in grid A
    second = to_status(actors, report(actors, category), tree, "dispatched")
    closed = to_status(actors, report(actors, category), tree, "closed")
    report(actors, category, point=IN_B)  # grid B: not in grid A's panel
    section = open_cases_section(user=actors.operator, region=tree.grid_a)
    assert section.summary == "在办 2 件 · 超期 0 件"
    assert [link.text.split()[0] for link in section.links] == [second.number, first.number]
    assert section.links[0].url == reverse("cases:case", args=[second.pk])
    assert section.links[0].badge == "待签收"
    assert closed.number not in " ".join(link.text for link in section.links)
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        later = open_cases_section(user=actors.operator, region=tree.grid_a)
    assert later.summary == "在办 2 件 · 超期 1 件"  # the dispatched one; a new report has no clock


def test_suspended_cases_are_not_in_hand(tree, actors, category) -> None:
    case = services.case_accept(case=report(actors, category), actor=actors.operator)
    services.case_suspend(case=case, actor=actors.operator, reason="长期问题")
    section = open_cases_section(user=actors.operator, region=tree.grid_a)
    assert section.summary.startswith("在办 0 件") and section.links == ()


def test_only_the_newest_few_are_listed(tree, actors, category) -> None:
    for n in range(RECENT + 2):
        report(actors, category, key=f"k{n}")
    section = open_cases_section(user=actors.operator, region=tree.grid_a)
    assert section.summary.startswith(f"在办 {RECENT + 2} 件")
    assert len(section.links) == RECENT


def test_cases_out_of_the_users_scope_are_not_shown(tree, actors, category) -> None:
    report(actors, category)  # grid A
    section = open_cases_section(user=actors.worker_b, region=tree.grid_a)
    assert section.summary.startswith("在办 0 件") and section.links == ()


def test_panel_shows_population_and_cases_in_fixed_queries(client, tree, actors, category) -> None:
    client.force_login(actors.operator)
    url = reverse("grids:region_panel", args=[tree.grid_a.code])
    report(actors, category)
    client.get(url, **HTMX)  # warm the session and caches
    baseline = _queries(client, url)
    for n in range(RECENT + 3):
        report(actors, category, key=f"more{n}")
    assert _queries(client, url) == baseline  # no query per case
    page = client.get(url, **HTMX).content.decode()
    assert 'data-panel-section="population"' in page and 'data-panel-section="cases"' in page
    assert "在办 9 件" in page


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **HTMX).status_code == 200
    return len(ctx.captured_queries)
