"""Compare-and-set: two moves from the same version, one wins, the other gets CaseConflict."""

import threading

import pytest
from django.db import connection

from civicgrid.cases import services
from civicgrid.cases.choices import Status
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import CaseConflict

from .factories import make_actors, make_category, report


@pytest.mark.django_db
def test_stale_version_is_a_conflict_and_writes_nothing(tree, actors, category):
    case = report(actors, category)
    stale = Case.objects.get(pk=case.pk)
    services.case_accept(case=case, actor=actors.operator)
    with pytest.raises(CaseConflict):
        services.case_reject(case=stale, actor=actors.operator, reason="重复")
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
    assert CaseEvent.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_client_version_from_a_form_is_checked(tree, actors, category):
    case = report(actors, category)
    with pytest.raises(CaseConflict):
        services.case_accept(case=case, actor=actors.operator, version=case.version + 1)
    services.case_accept(case=case, actor=actors.operator, version=0)


@pytest.mark.django_db
def test_same_version_in_memory_twice(tree, actors, category):
    case = report(actors, category)
    a, b = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    services.case_accept(case=a, actor=actors.operator)
    with pytest.raises(CaseConflict):
        services.case_accept(case=b, actor=actors.operator)


@pytest.mark.django_db(transaction=True)
def test_two_threads_accepting_and_rejecting_one_wins(tree):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (SQLite serialises writers)")
    actors = make_actors(tree)
    case = report(actors, make_category(tree.dept))
    barrier, results = threading.Barrier(2), []

    def run(fn):
        try:
            mine = Case.objects.get(pk=case.pk)
            barrier.wait()
            fn(mine)
            results.append("ok")
        except CaseConflict:
            results.append("conflict")
        finally:
            connection.close()

    def accept(c):
        services.case_accept(case=c, actor=actors.operator)

    def reject(c):
        services.case_reject(case=c, actor=actors.operator, reason="重复")

    threads = [threading.Thread(target=run, args=(fn,)) for fn in (accept, reject)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert CaseEvent.objects.filter(case=case).count() == 2  # report + the one winner
