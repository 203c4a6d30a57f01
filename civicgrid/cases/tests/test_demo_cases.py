"""The Hexia case demo: every state from every source, 137 located cameras, idempotent."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.cases import demo
from civicgrid.cases.choices import Source, Status
from civicgrid.cases.models import (
    Camera,
    Case,
    CaseEvent,
    DuplicateCandidate,
    Escalation,
    RoutingRule,
)
from civicgrid.grids.demo import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_demo_has_every_state_source_and_camera_and_runs_twice():
    seed_demo()
    small = {"finished": len(demo.FINISHED) + 4, "open_": len(demo.OPEN) + 2}
    now = timezone.now()
    first = demo.seed_cases_demo(**small)
    after = timezone.now()
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    sources = set(Case.objects.values_list("source", flat=True))
    assert {Source.RESIDENT, Source.GRID_WORKER, Source.CAMERA, Source.HOTLINE} <= sources
    assert Camera.objects.count() == 137 and not Camera.objects.filter(unit__isnull=True).exists()
    assert Camera.objects.filter(code="河下-037").exists()
    assert RoutingRule.objects.count() == len(demo.RULES)
    assert Case.objects.filter(rework_count__gt=0).exists()
    assert Case.objects.filter(extension_count__gt=0).exists()
    assert Case.objects.filter(reopen_count__gt=0).exists()
    assert Case.objects.filter(handled_on_spot=True).exists()
    assert Case.objects.filter(located=False).exists()
    assert DuplicateCandidate.objects.exists()
    assert Escalation.objects.exists()  # open demo cases are overdue by now
    oldest = Case.objects.order_by("created_at").first().created_at
    assert now - dt.timedelta(days=116) < oldest < now - dt.timedelta(days=9)
    newest = Case.objects.order_by("-created_at").first().created_at
    assert now - dt.timedelta(days=6) < newest < now  # fresh reports, none in the future
    assert not CaseEvent.objects.filter(at__gt=after).exists()
    assert first.created["cases"] == Case.objects.count()
    count = Case.objects.count()
    call_command("seed_cases_demo")  # idempotent: nothing new
    assert Case.objects.count() == count and Camera.objects.count() == 137


def test_demo_needs_the_street_first():
    with pytest.raises(LookupError):
        demo.seed_cases_demo()


def test_demo_dates_follow_the_day_it_is_loaded():
    """Loaded on another day, the same demo moves with it: open cases in the days before,
    finished ones in the months before, and nothing after the moment of loading."""
    seed_demo()
    then = dt.datetime(2027, 3, 10, 15, 30, tzinfo=dt.UTC)
    demo.seed_cases_demo(finished=len(demo.FINISHED), open_=len(demo.OPEN), now=then)
    created = Case.objects.values_list("created_at", flat=True)
    assert min(created) > then - dt.timedelta(days=116)
    assert max(created) < then
    assert not CaseEvent.objects.filter(at__gt=then).exists()
    reported = Case.objects.filter(status="reported").values_list("created_at", flat=True)
    assert reported and all(then - dt.timedelta(hours=121) < at < then for at in reported)
