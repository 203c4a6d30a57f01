"""The Hexia case demo: every state from every source, 137 located cameras, idempotent."""

import pytest
from django.core.management import call_command

from civicgrid.cases import demo
from civicgrid.cases.choices import Source, Status
from civicgrid.cases.models import Camera, Case, DuplicateCandidate, Escalation, RoutingRule
from civicgrid.grids.demo import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_demo_has_every_state_source_and_camera_and_runs_twice():
    seed_demo()
    small = {"finished": len(demo.FINISHED) + 4, "open_": len(demo.OPEN) + 2}
    first = demo.seed_cases_demo(**small)
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
    assert oldest < demo.ANCHOR and oldest >= demo.HISTORY[0]
    assert first.created["cases"] == Case.objects.count()
    count = Case.objects.count()
    call_command("seed_cases_demo")  # idempotent: nothing new
    assert Case.objects.count() == count and Camera.objects.count() == 137


def test_demo_needs_the_street_first():
    with pytest.raises(LookupError):
        demo.seed_cases_demo()
