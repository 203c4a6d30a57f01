"""The intake's write transaction, and group commit of concurrent intakes in one process.

What one intake writes, all in one transaction: its number, the case row, its timeline rows
("上报", and "就地处置" for a grid worker's on-the-spot case), the "疑似重复" note and links,
the django-tasks row that tells the grid's staff, and its audit row.

Why group commit (docs/BENCHMARKS.md, "Case intake"): written one by one, every intake paid
for ten statements, a commit and, on PostgreSQL, a wait for its audit chain's head row, which
stays locked until commit. Most of that is per transaction, not per case. So intakes that are
ready to write at the same moment in one process share a transaction: whoever gets the
process's write turn takes every intake queued by then — its own and those of the threads
waiting behind it — numbers them with one statement, inserts each table's rows with one
multi-row INSERT, appends the audit rows with each chain's head locked once, and commits once.
The threads whose cases it wrote find them written when their turn comes and return at once.
Under no concurrency the batch is the intake alone, written exactly as before.

On PostgreSQL a batch is two statements, not a transaction of ten: one reads the numbers and
case ids from their sequences and every intake's duplicate candidates, then one inserts every
row and appends the audit rows server-side (`_cases_write_pg`). There every statement costs
~0.2 ms of CPU however small, so the duplicate check, a read of its own per intake before,
is made for the whole batch here (`PendingCase.matches` None until then).

If a batch fails (a unique index refuses a repeated submission, a lost connection) nothing
of it is kept, and every intake of the batch writes its own case again, alone, so an error
only ever reaches the intake it belongs to. An intake inside an outer transaction (photos
stored with the case) always writes alone, on its own connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cached_property
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from civicgrid.core.audit import AuditEntry, Who, audit_append_argument, audit_record_many
from civicgrid.core.fastsql import (
    insert_from_json,
    insert_position,
    insert_values,
    json_rows,
    json_transport,
    kept_cursor,
    model_new,
    rows_fetch,
    rows_insert,
)
from civicgrid.core.models import AuditAction

from ..choices import Action, Status
from ..dedup import NEARBY_LATERAL, SEARCH_CATEGORIES, comparable, matches_among, search_box
from ..models import Case, CaseEvent, DuplicateCandidate
from ._core import actor_label
from .numbering import day_sequence, day_sequence_create, next_numbers, number_text
from .tasks import new_case_task_rows, new_case_tasks_add
from .write_turn import write_turn

log = logging.getLogger(__name__)

ANONYMOUS_LABEL = "匿名群众"
WAITING, WRITTEN, ALONE = "waiting", "written", "alone"


@dataclass(eq=False)
class PendingCase:
    """A built, unsaved case and what goes with it; `who` is captured in the reporting
    thread, so the audit row names its own actor and request whoever writes it.

    The case's and its timeline rows' column values are prepared here, in the reporting
    thread, before the write turn: inside it (where every other writer waits) only the
    number and the case id remain to be put in."""

    case: Case
    actor: Any
    on_spot: bool
    matches: list | None  # None: to be checked with the batch (PostgreSQL)
    who: Who
    state: str = WAITING

    def __post_init__(self) -> None:
        self.case_values = insert_values(self.case)
        self.events = _events(self)
        self.event_values = [insert_values(event) for event in self.events]


def cases_write(pending: list[PendingCase]) -> None:
    """Write `pending` in the caller's transaction (the body of both paths)."""
    if connection.vendor == "postgresql":
        _cases_write_pg(pending)
        return
    for _day, group in groupby(pending, key=lambda p: timezone.localdate(p.case.created_at)):
        items = list(group)
        numbers = next_numbers(items[0].case.created_at, len(items))
        for item, number in zip(items, numbers, strict=True):
            item.case.number = item.case_values[_at.number] = number
    rows_insert([p.case for p in pending], [p.case_values for p in pending])
    for item in pending:
        for event, values in zip(item.events, item.event_values, strict=True):
            event.case_id = values[_at.event_case] = item.case.pk
    rows_insert(
        [event for p in pending for event in p.events],
        [values for p in pending for values in p.event_values],
    )
    links = [link for p in pending for link in _duplicate_links(p.case, p.matches or [])]
    if links:
        rows_insert(links)
    new_case_tasks_add([p.case.pk for p in pending])
    audit_record_many([_audit_entry(p) for p in pending])


def _cases_write_pg(pending: list[PendingCase]) -> None:
    """PostgreSQL: the batch in two statements instead of ten. Each statement costs ~0.2 ms
    of CPU between Django, psycopg and the server however small it is, and an intake is
    otherwise cheap (docs/BENCHMARKS.md). First the numbers, the case ids (sequences,
    outside any transaction: a failed write leaves gaps, as numbers always could on
    PostgreSQL) and the duplicate candidates (`_numbers_and_matches`); then one statement
    inserts the cases, their timeline rows, duplicate links and task rows (data-modifying
    WITH) and appends the audit rows (`core_audit_append`). One statement is atomic by
    itself, so no BEGIN and COMMIT either: outside a caller's transaction the batch runs in
    autocommit, inside one in a savepoint (`_batch_transaction`)."""
    _numbers_and_matches(pending)
    sql, params, with_tasks = _pg_statement(pending)
    with kept_cursor() as cursor:
        cursor.execute(sql, params)
    for item in pending:
        item.case._state.adding, item.case._state.db = False, connection.alias
    if not with_tasks:  # another task backend: it gets the tasks after commit
        new_case_tasks_add([p.case.pk for p in pending])


def _numbers_and_matches(pending: list[PendingCase]) -> None:
    """One read for the batch: each intake's number (its day's sequence) and case id, in
    batch order, and the duplicate candidates of the intakes still to be checked. The first
    intake of a day finds no sequence (NULL): it is created and the read made again."""
    for _ in range(3):
        rows = rows_fetch(_PG_READ, [_case_id_sequence(), _read_rows(pending)])
        missing = {_day(pending[row[0]]) for row in rows if row[1] is None}
        if not missing:
            break
        for day in missing:
            day_sequence_create(day)
    else:
        raise DatabaseError("could not create the case number sequence")
    found: dict[int, list] = {}
    for i, number, case_id, *candidate in rows:
        if i not in found:
            _numbered(pending[i], number_text(_day(pending[i]), number), case_id)
            found[i] = []
        if candidate[0] is not None:
            found[i].append(tuple(candidate))
    for i, item in enumerate(pending):
        if item.matches is None:
            check = comparable(item.case)
            _matches_apply(item, matches_among(item.case, found[i]) if check else [])


def _day(item: PendingCase) -> dt.date:
    return timezone.localdate(item.case.created_at)


def _read_rows(pending: list[PendingCase]) -> str:
    rows = []
    for i, item in enumerate(pending):
        box = search_box(item.case) if item.matches is None else None
        rows.append({"i": i, "seq": day_sequence(_day(item)), **(box or {})})
    return json_transport(rows)


# nextval in a MATERIALIZED CTE: drawn once per intake and in batch order, however the join
# after it is planned. `s`: one row per category an intake's duplicates are searched in.
_PG_READ = (
    "WITH k AS MATERIALIZED (SELECT r.*, nextval(to_regclass(r.seq)) AS number, "
    "nextval(%s::regclass) AS case_id FROM jsonb_to_recordset(%s::jsonb) AS r(i int, "
    "seq text, cat bigint, parent bigint, t0 timestamptz, t1 timestamptz, lat0 float8, "
    "lat1 float8, lng0 float8, lng1 float8)), "
    f"s AS (SELECT k.i, k.t0, k.t1, k.lat0, k.lat1, k.lng0, k.lng1, {SEARCH_CATEGORIES} AS cat "
    "FROM k WHERE k.cat IS NOT NULL) "
    "SELECT k.i, k.number, k.case_id, c.id, c.lat, c.lng, c.text_tokens, c.category_id "
    f"FROM k LEFT JOIN (s CROSS JOIN LATERAL ({NEARBY_LATERAL}) AS c) ON s.i = k.i "
    "ORDER BY k.i"
)


def _numbered(item: PendingCase, number: str, case_id: int) -> None:
    item.case.number = item.case_values[_at.number] = number
    item.case.pk = case_id
    for event, values in zip(item.events, item.event_values, strict=True):
        event.case_id = values[_at.event_case] = case_id


def _matches_apply(item: PendingCase, matches: list) -> None:
    """The batch's duplicate check found `matches`: flag the case and add its note."""
    item.matches = matches
    if matches:
        item.case.duplicate_suspected = item.case_values[_at.duplicate] = True
        note = _duplicate_note(item)
        item.events.append(note)
        item.event_values.append(insert_values(note))


_ID_SEQUENCE: dict[str, str] = {}


def _case_id_sequence() -> str:
    """The case table's id sequence (an identity column's), looked up once per process."""
    found = _ID_SEQUENCE.get(connection.alias)
    if found is None:
        table, column = Case._meta.db_table, Case._meta.pk.column
        rows = rows_fetch("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        found = _ID_SEQUENCE[connection.alias] = rows[0][0]
    return found


def _pg_statement(pending: list[PendingCase]) -> tuple[str, list, bool]:
    """(SQL, parameters, whether the task rows are in it) of the batch's one write. Rows go
    as JSON, so the text is one of four whatever the batch holds (`insert_from_json`)."""
    cases = [[p.case.pk, *p.case_values] for p in pending]
    events = [values for p in pending for values in p.event_values]
    links = [
        insert_values(link) for p in pending for link in _duplicate_links(p.case, p.matches or [])
    ]
    tasks = new_case_task_rows([p.case.pk for p in pending])
    parts = [(Case, cases, True)]
    more = ((CaseEvent, events), (DuplicateCandidate, links), (DBTaskResult, tasks or []))
    parts += [(model, rows, False) for model, rows in more if rows]
    names = ", ".join(
        f"w{i} AS ({insert_from_json(model, with_pk=pk)})" for i, (model, _, pk) in enumerate(parts)
    )
    params = [json_rows(model, rows, with_pk=pk) for model, rows, pk in parts]
    params.append(audit_append_argument([_audit_entry(p) for p in pending]))
    return f"WITH {names} SELECT core_audit_append(%s::jsonb)", params, bool(tasks)


class _At:
    """Where the values known only inside the turn go in the prepared rows."""

    @cached_property
    def number(self) -> int:
        return insert_position(Case, "number")

    @cached_property
    def event_case(self) -> int:
        return insert_position(CaseEvent, "case_id")

    @cached_property
    def duplicate(self) -> int:
        return insert_position(Case, "duplicate_suspected")


_at = _At()


def case_write(item: PendingCase) -> None:
    """Write one intake's case, in a batch with other threads' when that is possible."""
    if connection.in_atomic_block or not getattr(settings, "CASES_INTAKE_GROUP_COMMIT", True):
        write_alone(item)
        return
    with _Queue.lock:
        _Queue.waiting.append(item)
    with _Queue.turn:
        if item.state == WAITING:  # no earlier turn took it: this thread writes the batch
            _batch_write(item)
    if item.state != WRITTEN:  # its batch failed: write it alone, errors and all
        write_alone(item)


class _Queue:
    lock = threading.Lock()  # guards `waiting`
    turn = threading.Lock()  # held by the thread writing a batch
    waiting: list[PendingCase] = []


def _queued() -> list[PendingCase]:
    with _Queue.lock:
        batch, _Queue.waiting = _Queue.waiting, []
    return batch


def write_alone(item: PendingCase) -> None:
    """One intake in its own transaction (inside the caller's, if there is one): the plain
    path, whose errors are that intake's own."""
    with write_turn(), _batch_transaction():
        cases_write([item])


def _batch_transaction():
    """SQLite: BEGIN IMMEDIATE … COMMIT around the batch's statements. PostgreSQL: the batch
    is one write statement, atomic on its own (`_cases_write_pg`), so no BEGIN and COMMIT
    round trips. Inside a caller's transaction it is a savepoint on both: a write the
    unique indexes refuse (a replayed submission) must leave that transaction usable for
    looking up the first case."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def _batch_write(mine: PendingCase) -> None:
    """Write every intake queued by the time this thread has the write turn. The batch is
    taken *after* the turn is ours: on SQLite waiting for the turn is waiting for the other
    processes' writes, and every thread of this process that got ready meanwhile joins
    (taken before the wait, the batches were half the size: docs/BENCHMARKS.md)."""
    batch = [mine]
    try:
        with write_turn():
            batch = _queued()
            with _batch_transaction():
                cases_write(batch)
    except BaseException as exc:
        if batch == [mine]:
            raise  # errors go straight to this intake
        for item in batch:  # each intake retries alone and meets its own error
            _unsaved(item.case)
            item.state = ALONE
        if not isinstance(exc, Exception):
            raise  # this thread is being stopped; the others still write theirs alone
        log.info("intake batch of %d failed; writing each alone", len(batch), exc_info=True)
        return
    for item in batch:
        item.state = WRITTEN


def _unsaved(case: Case) -> None:
    """Undo what a rolled-back batch set on the case object, so it can be written again."""
    case.pk, case.number = None, ""
    case._state.adding, case._state.db = True, None


def _events(item: PendingCase) -> list[CaseEvent]:
    case, actor = item.case, item.actor
    label = actor_label(actor)
    if case.anonymous and actor is not None and actor.pk == case.reporter_id:
        label = ANONYMOUS_LABEL
    elif actor is None and case.camera_id:
        label = f"监控点位 {case.camera.code}"
    data = {"source": case.source, "located": case.located, "locate_reason": case.locate_reason}
    if case.camera_id:
        data["camera"] = case.camera.code
    at = case.created_at
    common = {"case": case, "actor": actor, "actor_label": label, "at": at}
    events = [
        model_new(CaseEvent, action=Action.REPORT, to_status=Status.REPORTED, data=data, **common)
    ]
    if item.on_spot:
        events.append(
            model_new(
                CaseEvent,
                action=Action.HANDLE_ON_SPOT,
                from_status=Status.REPORTED,
                to_status=Status.HANDLED,
                reason=case.handle_note,
                **common,
            )
        )
    if item.matches:
        events.append(_duplicate_note(item))
    return events


def _duplicate_note(item: PendingCase) -> CaseEvent:
    case = item.case
    return model_new(
        CaseEvent,
        case=case,
        actor=None,
        actor_label="系统",
        action=Action.NOTE,
        from_status=case.status,
        to_status=case.status,
        reason="疑似重复",
        data={"duplicate_candidates": [m.candidate_id for m in item.matches]},
        at=case.created_at,
    )


def _duplicate_links(case: Case, matches: list) -> list[DuplicateCandidate]:
    return [
        DuplicateCandidate(
            case=case,
            candidate_id=m.candidate_id,
            score=m.score,
            similarity=m.similarity,
            distance_m=m.distance_m,
            created_at=case.created_at,
        )
        for m in matches
    ]


def _audit_entry(item: PendingCase) -> AuditEntry:
    case = item.case
    changes = {
        "number": case.number,
        "source": case.source,
        "category": case.category_id,
        "status": case.status,
        "path": case.path,
        "located": case.located,
    }
    return AuditEntry(
        AuditAction.CREATE, case._meta.label_lower, str(case.pk), str(case)[:200], changes, item.who
    )
