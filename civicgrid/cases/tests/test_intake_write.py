"""Group commit of intakes (services/intake_write.py): a batch writes each case exactly as a
lone intake would, a failing batch leaves nothing and hands every case back to its own
thread, and real concurrent intakes (PostgreSQL) share transactions without losing one."""

import contextlib
import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django_tasks_db.models import DBTaskResult

from civicgrid.cases import services
from civicgrid.cases.choices import Action, Source, Status
from civicgrid.cases.models import Case, CaseEvent, DuplicateCandidate
from civicgrid.cases.services import intake as intake_module
from civicgrid.cases.services import intake_write
from civicgrid.cases.services.intake_write import ALONE, WRITTEN, PendingCase
from civicgrid.core.audit import audit_verify_chain
from civicgrid.core.models import AuditLog

from .factories import IN_A, IN_B, make_actors, make_category

pytestmark = pytest.mark.django_db(transaction=True)  # batches only form outside transactions


@pytest.fixture(autouse=True)
def _empty_queue():
    yield
    intake_write._Queue.waiting.clear()


@pytest.fixture
def setup(tree):
    return make_actors(tree), make_category(tree.dept)


def _pending(category, reporter, *, point=IN_A, key="", **kw) -> PendingCase:
    """What `case_report` would hand to the writer, captured instead of written."""
    captured = []
    with mock.patch.object(intake_module, "case_write", lambda item: captured.append(item)):
        services.case_report(
            source=kw.pop("source", Source.RESIDENT), title="井盖没了",
            description=kw.pop("description", "估衣街井盖缺失"), category=category,
            lat=point[0], lng=point[1], reporter=reporter, idempotency_key=key, **kw,
        )  # fmt: skip
    return captured[0]


def _report_with_queued(actors, category, queued: list[PendingCase]):
    """A resident's intake that finds `queued` waiting for the write turn (as other threads'
    intakes would be) and so writes them with its own."""
    intake_write._Queue.waiting.extend(queued)
    return services.case_report(
        source=Source.RESIDENT, title="路灯不亮", description="路灯不亮已三天", category=category,
        lat=IN_B[0], lng=IN_B[1], reporter=actors.resident, idempotency_key="mine",
    )  # fmt: skip


def _first_report(actors, category) -> Case:
    """A resident's case at IN_A that later reports there are duplicates of."""
    return services.case_report(
        source=Source.RESIDENT, title="井盖没了", description="估衣街井盖缺失",
        category=category, lat=IN_A[0], lng=IN_A[1], reporter=actors.resident,
    ).case  # fmt: skip


def test_a_batch_writes_every_case_as_a_lone_intake_would(setup, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    actors, category = setup
    first = _first_report(actors, category)
    queued = [
        _pending(category, actors.resident, key="a", anonymous=True),  # duplicate of `first`
        _pending(
            category,
            actors.worker,
            point=(33.4905, 119.1105),
            key="b",
            source=Source.GRID_WORKER,
            handled_on_spot=True,
            handle_note="已补盖",
            description="另一处",
        ),  # fmt: skip
    ]
    mine = _report_with_queued(actors, category, queued)
    assert [p.state for p in queued] == [WRITTEN, WRITTEN]
    cases = [p.case for p in queued] + [mine.case]
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == 3 and all(Case.objects.filter(number=n).exists() for n in numbers)

    anon, on_spot = (Case.objects.get(pk=c.pk) for c in cases[:2])
    assert anon.duplicate_suspected and anon.reporter_name == ""
    assert DuplicateCandidate.objects.filter(case=anon, candidate=first).exists()
    assert list(anon.events.values_list("action", "actor_label")) == [
        (Action.REPORT, "匿名群众"),
        (Action.NOTE, "系统"),
    ]
    assert on_spot.status == Status.HANDLED and on_spot.step_deadline is not None
    assert [e.action for e in on_spot.events.all()] == [Action.REPORT, Action.HANDLE_ON_SPOT]

    tasks = DBTaskResult.objects.filter(task_path__endswith="notify_new_cases")
    assert tasks.count() == 2  # `first`'s own, then one for the batch of three
    told = [pk for t in tasks for pk in t.args_kwargs["args"][0]]
    assert sorted(told) == sorted(c.pk for c in [first, *cases])
    audit = {
        row.object_id: row.actor_id for row in AuditLog.objects.filter(object_type="cases.case")
    }
    assert audit[str(on_spot.pk)] == actors.worker.pk  # each row keeps its own author
    assert audit[str(mine.case.pk)] == actors.resident.pk
    assert audit_verify_chain()[1] == []


def test_a_failing_batch_keeps_nothing_and_hands_each_case_back(setup):
    actors, category = setup
    services.case_report(
        source=Source.RESIDENT, title="井盖没了", category=category, lat=IN_A[0], lng=IN_A[1],
        reporter=actors.resident, idempotency_key="k1",
    )  # fmt: skip
    good = _pending(category, actors.worker, key="new", source=Source.GRID_WORKER)
    replay = _pending(category, actors.resident, key="k1")  # nothing looks before writing
    before = (Case.objects.count(), CaseEvent.objects.count(), AuditLog.objects.count())

    mine = _report_with_queued(actors, category, [good, replay])

    assert mine.created and Case.objects.filter(pk=mine.case.pk).exists()  # then alone
    assert good.state == ALONE and replay.state == ALONE
    assert good.case.pk is None and good.case.number == ""
    assert Case.objects.count() == before[0] + 1  # only `mine`, written alone afterwards
    intake_write.write_alone(good)  # what good's own thread does next
    assert Case.objects.filter(pk=good.case.pk, idempotency_key="new").exists()
    with pytest.raises(IntegrityError):  # replay's thread: case_report answers the first case
        intake_write.write_alone(replay)
    assert audit_verify_chain()[1] == []


def test_intakes_queued_while_waiting_for_the_turn_join_the_batch(setup):
    """The batch is taken once the write turn is ours, not before the wait for it: on
    SQLite that wait is the other processes' writes, and the threads of this process that
    got ready meanwhile must not each wait for a turn of their own."""
    actors, category = setup
    late = _pending(category, actors.worker, key="late", source=Source.GRID_WORKER)
    real_turn, batches = intake_write.write_turn, []
    real_write = intake_write.cases_write

    @contextlib.contextmanager
    def slow_turn():
        intake_write._Queue.waiting.append(late)  # queued by another thread during the wait
        with real_turn():
            yield

    def counting_write(pending):
        batches.append(len(pending))
        real_write(pending)

    with (
        mock.patch.object(intake_write, "write_turn", slow_turn),
        mock.patch.object(intake_write, "cases_write", counting_write),
    ):
        mine = _report_with_queued(actors, category, [])
    assert batches == [2] and late.state == WRITTEN
    assert Case.objects.filter(pk__in=[mine.case.pk, late.case.pk]).count() == 2
    assert audit_verify_chain()[1] == []


def test_an_intake_inside_a_transaction_never_joins_a_batch(setup):

    actors, category = setup
    queued = [_pending(category, actors.worker, key="q", source=Source.GRID_WORKER)]
    intake_write._Queue.waiting.extend(queued)
    try:
        with transaction.atomic():
            services.case_report(
                source=Source.RESIDENT, title="路灯不亮", category=category,
                lat=IN_B[0], lng=IN_B[1], reporter=actors.resident,
            )  # fmt: skip
        assert queued[0].state == "waiting" and queued[0].case.pk is None
    finally:
        intake_write._Queue.waiting.clear()


def test_group_commit_can_be_switched_off(setup, settings):
    settings.CASES_INTAKE_GROUP_COMMIT = False
    actors, category = setup
    queued = [_pending(category, actors.worker, key="q", source=Source.GRID_WORKER)]
    intake_write._Queue.waiting.extend(queued)
    try:
        services.case_report(
            source=Source.RESIDENT, title="路灯不亮", category=category,
            lat=IN_B[0], lng=IN_B[1], reporter=actors.resident,
        )  # fmt: skip
        assert queued[0].case.pk is None
    finally:
        intake_write._Queue.waiting.clear()


def test_concurrent_intakes_share_transactions_and_none_is_lost(setup):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (SQLite serialises writers)")
    actors, category = setup
    count, results, errors = 8, [], []
    batches = []
    real_write = intake_write.cases_write

    def counting_write(pending):
        batches.append(len(pending))
        real_write(pending)

    def run(i: int) -> None:
        try:
            key = "same" if i < 2 else f"k{i}"  # two threads replay one submission
            results.append(
                services.case_report(
                    source=Source.RESIDENT,
                    title=f"第{i}件",
                    category=category,
                    lat=IN_A[0] + i * 0.001,
                    lng=IN_A[1],
                    reporter=actors.resident,
                    idempotency_key=key,
                )  # fmt: skip
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    with mock.patch.object(intake_write, "cases_write", counting_write):
        with intake_write._Queue.turn:  # hold the turn until every thread has queued
            for t in threads:
                t.start()
            _wait_for(lambda: len(intake_write._Queue.waiting) == count)
        for t in threads:
            t.join()
    assert errors == []
    assert len({r.case.pk for r in results}) == count - 1  # the replay got the first case
    assert sorted(r.created for r in results).count(False) == 1
    assert Case.objects.count() == count - 1
    assert len(set(Case.objects.values_list("number", flat=True))) == count - 1
    assert batches[0] == count  # one batch was tried with all of them (and failed on the key)
    assert audit_verify_chain()[1] == []


def _wait_for(condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "threads did not queue"
        time.sleep(0.01)


def test_a_writer_stopped_mid_batch_leaves_the_others_to_write_alone(setup):
    actors, category = setup
    other = _pending(category, actors.worker, key="o", source=Source.GRID_WORKER)

    def stopped(pending):
        if connection.vendor != "postgresql":  # there a batch is one statement, all or nothing
            intake_write.rows_insert([pending[0].case], [pending[0].case_values])  # gets a pk
        raise KeyboardInterrupt  # e.g. the worker is shut down while writing

    with mock.patch.object(intake_write, "cases_write", stopped), pytest.raises(KeyboardInterrupt):
        _report_with_queued(actors, category, [other])
    assert other.state == ALONE and other.case.pk is None and not Case.objects.exists()
    intake_write.write_alone(other)  # what its own thread does when it gets the turn
    assert Case.objects.get().pk == other.case.pk


def test_postgresql_writes_a_batch_with_two_statements(setup, settings):
    """One read for the numbers, the ids and every intake's duplicate candidates, then one
    statement for the cases, their timeline rows, links, task rows and audit rows: no
    duplicate check of its own per intake, no BEGIN, no COMMIT, nothing read back."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes a batch as one transaction of several statements")
    from django.test.utils import CaptureQueriesContext

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    actors, category = setup
    first = _first_report(actors, category)
    queued = [_pending(category, actors.resident, key="a")]  # a duplicate of `first`
    with CaptureQueriesContext(connection) as ctx:
        mine = _report_with_queued(actors, category, queued)
    writes = [q["sql"] for q in ctx.captured_queries if "nextval" in q["sql"] or "WITH" in q["sql"]]
    assert len(writes) == 2 and "core_audit_append" in writes[1]
    assert "cases_case" in writes[0] and "LATERAL" in writes[0]  # the candidates, batched
    assert len(ctx.captured_queries) == 2, [q["sql"][:60] for q in ctx.captured_queries]
    assert not any("SAVEPOINT" in q["sql"] for q in ctx.captured_queries)
    # Django does not log BEGIN on PostgreSQL: ask which transaction a batch would open
    assert isinstance(intake_write._batch_transaction(), contextlib.nullcontext)
    with transaction.atomic():  # inside a caller's: a savepoint
        assert isinstance(intake_write._batch_transaction(), transaction.Atomic)
    cases = [queued[0].case, mine.case]
    assert [c.number for c in cases] == sorted(c.number for c in cases)
    for case in cases:
        stored = Case.objects.get(pk=case.pk)
        assert stored.number == case.number and stored.events.filter(action=Action.REPORT)
        assert AuditLog.objects.filter(object_type="cases.case", object_id=str(case.pk)).exists()
    assert DuplicateCandidate.objects.filter(case_id=queued[0].case.pk, candidate=first).exists()
    args = [pk for t in DBTaskResult.objects.all() for pk in t.args_kwargs["args"][0]]
    assert sorted(args) == sorted([first.pk, *(c.pk for c in cases)])
    assert audit_verify_chain()[1] == []


def test_a_refused_replay_inside_a_transaction_answers_the_first_case(setup):
    """Photos are stored with their case in the caller's transaction. A replay is refused
    by the unique index (nothing looks for the first case before writing); the caller's
    transaction must still be usable to find and answer the first case (a savepoint on
    PostgreSQL too, where a batch otherwise runs without a transaction of its own)."""

    actors, category = setup
    first = services.case_report(
        source=Source.RESIDENT, title="井盖没了", category=category, lat=IN_A[0], lng=IN_A[1],
        reporter=actors.resident, idempotency_key="once",
    ).case  # fmt: skip
    with transaction.atomic():
        again = services.case_report(
            source=Source.RESIDENT, title="井盖没了", category=category, lat=IN_A[0],
            lng=IN_A[1], reporter=actors.resident, idempotency_key="once",
        )  # fmt: skip
        assert again.case.pk == first.pk and not again.created
        assert Case.objects.filter(idempotency_key="once").count() == 1  # still usable
    assert audit_verify_chain()[1] == []


def test_postgresql_numbers_the_first_intake_of_a_day_from_a_new_sequence(setup):
    """The batch's read finds no sequence for a day nobody has reported on yet: it creates it
    and reads again, and the day's numbers start at 00001 and follow on."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite numbers from a counter row")
    import datetime as dt

    import time_machine
    from django.utils import timezone

    actors, category = setup
    day = dt.datetime(2031, 5, 17, 10, 0, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(day, tick=False):
        first = _first_report(actors, category)
        second = _first_report(actors, category)  # same place and words: a duplicate
    assert [first.number, second.number] == ["2031051700001", "2031051700002"]
    stored = Case.objects.get(pk=second.pk)
    assert stored.duplicate_suspected and stored.events.filter(reason="疑似重复").exists()
    assert DuplicateCandidate.objects.filter(case=second, candidate=first).exists()
