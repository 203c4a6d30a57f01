"""The Hexia registry demo: the article's figures, scoped rows, idempotent."""

import pytest
from django.core.management import call_command

from civicgrid.core import crypto
from civicgrid.registry.models import (
    ID_PURPOSE,
    Household,
    Person,
    Record,
    RecordType,
    Visit,
    WorkArea,
)

pytestmark = pytest.mark.django_db


def test_seed_registry_demo(capsys):
    call_command("seed_demo")
    call_command("seed_registry_demo")
    assert WorkArea.objects.count() == 11
    assert Record.objects.count() >= 21_000
    assert set(Record.objects.values_list("subject_kind", flat=True).distinct()) == {
        "person", "household", "building", "organisation", "component",
    }  # fmt: skip
    assert Record.objects.values("area").distinct().count() == 11
    assert Household.objects.values("unit").distinct().count() >= 60
    assert RecordType.objects.filter(area__departments__isnull=False).exists()
    p = Person.objects.order_by("pk").first()
    assert crypto.blind_index(p.id_number, purpose=ID_PURPOSE) == p.id_number_bidx
    assert not Person.objects.exclude(unit_path__startswith=p.unit_path[:17]).exists()
    visits = Visit.objects.count()
    assert visits > 5_000
    capsys.readouterr()
    call_command("seed_registry_demo")
    assert "没有改动" in capsys.readouterr().out
    assert Visit.objects.count() == visits
