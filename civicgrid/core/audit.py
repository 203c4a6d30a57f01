"""Writing and verifying the audit chains. Services call `audit_record`; nothing else writes.

Design: the log is AUDIT_CHAINS (default 16) independent hash chains, not one.

* Each row belongs to chain `crc32(object_type + ":" + object_id) % AUDIT_CHAINS + 1`, so all
  rows about one object sit in one chain, in order. `hash` = SHA-256 over the previous
  row's hash *in the same chain* and the row's canonical content, which includes its chain
  and its position there (`chain_seq`, 1, 2, 3 … without gaps).
* Each chain has its own head row (`AuditChainHead`, id = chain number) holding its last
  position and hash. An append locks that row (SELECT … FOR UPDATE) until the caller's
  transaction commits, so appends to one chain are serialised and never fork.
* `audit_verify_chain` walks every chain: a changed row no longer matches its hash, a row
  deleted in the middle leaves a gap in `chain_seq` and a broken link, and deleting the
  newest rows of a chain leaves its head pointing past the last row.

Why several chains: the head lock is held until commit, and every audited write of the
platform takes it. With one chain, intakes, transitions and imports from every user waited
for each other on that row (PostgreSQL, 16 concurrent intakes: docs/BENCHMARKS.md). With K
chains two writes wait only when their objects hash to the same chain. Tamper evidence is
per chain; that is as strong as one chain, since a forger able to rewrite hashes could
rewrite one chain's tail as easily as a single chain's. The global `seq` is now a plain
auto-increment (ordering across chains, gaps possible on rollback); it is not hashed.

Rows written before chains existed (`chain_seq` NULL) form the start of chain 1 and are
verified with their original content (which hashed `seq`, contiguous from 1).

On PostgreSQL a write can also append from inside its own statement through the function
`core_audit_append` (migration core/0008; the case intake does), which locks heads in the
same order and hashes exactly as this module does (`audit_append_argument`).
"""

import functools
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from .context import current_actor, current_request_id
from .fastsql import json_transport, kept_cursor, row_insert, rows_fetch
from .models import AuditChainHead, AuditLog

GENESIS = "0" * 64
LEGACY_CHAIN = 1
# Content hashed for rows written before chains (chain_seq NULL), in that format.
LEGACY_FIELDS = (
    "seq", "created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "object_repr", "changes", "request_id",
)  # fmt: skip
HASHED_FIELDS = (
    "chain", "chain_seq", "created_at", "actor_id", "actor_label", "action", "object_type",
    "object_id", "object_repr", "changes", "request_id",
)  # fmt: skip


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(_payload(fields))).encode()).hexdigest()


def _payload(fields: dict[str, Any]) -> dict[str, Any]:
    payload = dict(fields)
    created = payload["created_at"]
    payload["created_at"] = created.astimezone(UTC).isoformat(timespec="microseconds")
    return payload


def chain_count() -> int:
    return max(1, int(getattr(settings, "AUDIT_CHAINS", 16)))


def chain_for(object_type: str, object_id: str) -> int:
    """The chain of an object: stable across processes and restarts (crc32, not hash())."""
    return zlib.crc32(f"{object_type}:{object_id}".encode()) % chain_count() + 1


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-safe copy of `fields` of `obj`, for the before/after of a change."""
    out = {}
    for name in fields:
        value = getattr(obj, name if not hasattr(obj, f"{name}_id") else f"{name}_id")
        out[name] = value if isinstance(value, (int, float, bool, str, type(None))) else str(value)
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


@dataclass(frozen=True, slots=True)
class Who:
    """Who made a change and in which request, captured where it was made: a row written
    later or by another thread (the intake's group commit) keeps its own author."""

    actor_id: int | None
    actor_label: str
    request_id: str

    @classmethod
    def of(cls, actor: Any = None) -> "Who":
        actor = actor if actor is not None else current_actor()
        label = (actor.get_username() if actor is not None else "system")[:150]
        return cls(getattr(actor, "pk", None), label, current_request_id())


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditLog:
    """Append one row to its object's chain, inside the caller's transaction. Callers should
    audit last in their transaction: the chain's head stays locked until commit."""
    who = Who.of(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    chain = chain_for(object_type, object_id)
    with transaction.atomic(savepoint=False):
        last_seq, last_hash = _locked_head(chain)
        fields = {
            "chain": chain,
            "chain_seq": last_seq + 1,
            "created_at": datetime.now(UTC),
            "actor_id": who.actor_id,
            "actor_label": who.actor_label,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr[:200],
            "changes": json.loads(_canonical(changes or {})),
            "request_id": who.request_id,
        }
        digest = row_hash(last_hash, fields)
        row = row_insert(AuditLog(prev_hash=last_hash, hash=digest, **fields))
        _head_move(chain, last_seq + 1, digest)
    return row


def _head_move(chain: int, last_seq: int, last_hash: str) -> None:
    with kept_cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = %s",
            [last_seq, last_hash, chain],
        )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row for `audit_record_many`: what happened to which object."""

    action: str
    object_type: str
    object_id: str
    object_repr: str = ""
    changes: dict[str, Any] | None = None
    who: Who | None = None  # None: the call's actor and the current request


def audit_record_many(entries: Iterable[AuditEntry], *, actor: Any = None) -> int:
    """Append many rows in one go, inside the caller's transaction; returns how many.

    For bulk writes (an import batch of 500 people): one row per object as `audit_record`
    would write it, but each chain's head is read and locked once, the rows are hashed in
    order in memory, inserted with one executemany INSERT and each head moved once. The chains
    come out exactly as if the rows had been appended one by one (`audit_verify_chain`).
    Heads are locked in chain order, so two bulk appends cannot deadlock each other; all
    heads are read with one statement and moved with one, however many chains the rows
    touch (a batch of intakes hashes to about as many chains as it has cases).
    """
    by_chain = _by_chain(entries)
    if not by_chain:
        return 0
    common = _common(actor)
    rows: list[tuple] = []
    with transaction.atomic(savepoint=False):
        heads = _locked_heads(sorted(by_chain))
        for chain in sorted(by_chain):
            rows += _chain_rows(chain, by_chain[chain], common, heads)
        _heads_move(heads)
        _insert_rows(rows)
    return len(rows)


def _by_chain(entries: Iterable[AuditEntry]) -> dict[int, list[AuditEntry]]:
    by_chain: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        by_chain.setdefault(chain_for(entry.object_type, entry.object_id), []).append(entry)
    return by_chain


def _common(actor: Any) -> dict[str, Any]:
    who = Who.of(actor)
    return {
        "created_at": datetime.now(UTC),
        "actor_id": who.actor_id,
        "actor_label": who.actor_label,
        "request_id": who.request_id,
    }


def _entry_fields(
    chain: int, seq: int, entry: AuditEntry, common: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """The hashed fields of `entry` at position `seq` of `chain`, with `changes` made
    JSON-safe the way the row stores it, and that row's `changes` text."""
    text = _canonical(entry.changes or {})
    fields = {
        **common, "chain": chain, "chain_seq": seq, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "object_repr": entry.object_repr[:200], "changes": json.loads(text),
    }  # fmt: skip
    if entry.who is not None:
        fields.update(
            actor_id=entry.who.actor_id,
            actor_label=entry.who.actor_label,
            request_id=entry.who.request_id,
        )
    return fields, text


# Where a row's position sits in its canonical content: keys are sorted, so `chain_seq`
# comes right after `chain` and before `changes`, and the values before it are scalars
# (a JSON string never holds a bare quote), so its first occurrence is the row's own.
_SEQ_SLOT = ',"chain_seq":0,'


def audit_append_argument(entries: Iterable[AuditEntry], *, actor: Any = None) -> str:
    """PostgreSQL: the JSON argument of `core_audit_append(%s::jsonb)` (migration
    core/0008), which appends `entries` from inside another statement, so that a write and
    its audit rows are one round trip (the case intake). The server locks each chain's
    head, hashes the entry onto it exactly as `audit_record_many` does here, inserts the row
    and moves the head: it gets each row's canonical content split around `chain_seq`, the
    one value only the head decides. Entries go in chain order (heads are locked in that
    order, as everywhere, so appends cannot deadlock) and keep their order in a chain."""
    by_chain, common = _by_chain(entries), _common(actor)
    out = []
    for chain in sorted(by_chain):
        for entry in by_chain[chain]:
            fields, _ = _entry_fields(chain, 0, entry, common)
            payload = _payload(fields)
            head, slot, tail = _canonical(payload).partition(_SEQ_SLOT)
            if not slot:
                raise ValueError("canonical audit content without its chain_seq")
            fields.update(
                created_at=payload["created_at"],
                pre=head + ',"chain_seq":',
                post="," + tail,
            )
            out.append(fields)
    return json_transport(out)  # the hashed text travels inside it as `pre` and `post`


_BULK_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def _chain_rows(
    chain: int, entries: list[AuditEntry], common: dict[str, Any], heads: dict[int, tuple]
) -> list[tuple]:
    """Hash `entries` onto the chain's locked head in order and move `heads[chain]` past
    them; the rows as `_BULK_COLUMNS` tuples ready to insert."""
    created_db = AuditLog._meta.get_field("created_at").get_db_prep_save(
        common["created_at"], connection
    )
    last_seq, last_hash = heads[chain]
    rows = []
    for entry in entries:
        last_seq += 1
        fields, text = _entry_fields(chain, last_seq, entry, common)
        digest = row_hash(last_hash, fields)
        fields.update(created_at=created_db, changes=text, prev_hash=last_hash, hash=digest)
        rows.append(tuple(fields[c] for c in _BULK_COLUMNS))
        last_hash = digest
    heads[chain] = (last_seq, last_hash)
    return rows


def _insert_rows(rows: list[tuple]) -> None:
    """One executemany INSERT: Django's bulk_create spent more time building model objects
    and compiling SQL for audit rows than the import spent on everything else per person.
    `changes` goes in as its canonical JSON text (PostgreSQL casts it to jsonb)."""
    if rows:
        with kept_cursor() as cursor:
            cursor.executemany(_insert_sql(connection.vendor), rows)


@functools.cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(AuditLog._meta.get_field(c).column) for c in _BULK_COLUMNS)
    json_mark = "CAST(%s AS jsonb)" if vendor == "postgresql" else "%s"
    marks = ", ".join(json_mark if c == "changes" else "%s" for c in _BULK_COLUMNS)
    return f"INSERT INTO {quote(AuditLog._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def _locked_head(chain: int) -> tuple[int, str]:
    """(last position, last hash) of the chain, its head row locked until commit (SQLite
    needs no row lock: its writers are serialised by BEGIN IMMEDIATE)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = %s{lock}"
    rows = rows_fetch(sql, [chain])  # raw: this runs in every audited write
    if not rows:
        AuditChainHead.objects.get_or_create(pk=chain)
        rows = rows_fetch(sql, [chain])
    return rows[0]


def _locked_heads(chains: list[int]) -> dict[int, tuple[int, str]]:
    """`_locked_head` for several chains with one statement; rows are locked in id order,
    like one-by-one appends in chain order, so concurrent appends cannot deadlock."""
    marks = ", ".join(["%s"] * len(chains))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT id, last_seq, last_hash FROM core_auditchainhead WHERE id IN ({marks}) "
    sql += f"ORDER BY id{lock}"  # noqa: S608 (placeholders only)
    heads = {row[0]: (row[1], row[2]) for row in rows_fetch(sql, chains)}
    for chain in chains:
        if chain not in heads:
            heads[chain] = _locked_head(chain)
    return heads


def _heads_move(heads: dict[int, tuple[int, str]]) -> None:
    """`_head_move` for several chains with one statement."""
    if len(heads) == 1:
        [(chain, (last_seq, last_hash))] = heads.items()
        _head_move(chain, last_seq, last_hash)
        return
    seq_cases = " ".join(["WHEN %s THEN %s"] * len(heads))
    marks = ", ".join(["%s"] * len(heads))
    sql = (
        f"UPDATE core_auditchainhead SET last_seq = CASE id {seq_cases} END, "  # noqa: S608
        f"last_hash = CASE id {seq_cases} END WHERE id IN ({marks})"
    )
    params = [v for chain, (seq, _) in heads.items() for v in (chain, seq)]
    params += [v for chain, (_, digest) in heads.items() for v in (chain, digest)]
    with kept_cursor() as cursor:
        cursor.execute(sql, [*params, *heads])


@dataclass
class ChainProblem:
    seq: int
    problem: str
    chain: int = LEGACY_CHAIN


def audit_verify_chain(batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk every chain in order; return (rows checked, problems found)."""
    heads = {h.pk: h for h in AuditChainHead.objects.all()}
    chains = set(AuditLog.objects.order_by().values_list("chain", flat=True).distinct())
    checked, problems = 0, []
    for chain in sorted(chains | set(heads)):
        rows, found = _verify_one(chain, heads.get(chain), batch)
        checked += rows
        problems.extend(found)
    return checked, problems


def _rows_of(chain: int, batch: int) -> Iterator[dict[str, Any]]:
    """Legacy rows (only ever in chain 1) by seq, then the chain's rows by position."""
    fields = set(HASHED_FIELDS) | set(LEGACY_FIELDS) | {"prev_hash", "hash"}
    rows = AuditLog.objects.filter(chain=chain)
    legacy = rows.filter(chain_seq__isnull=True).order_by("seq").values(*fields)
    chained = rows.filter(chain_seq__isnull=False).order_by("chain_seq").values(*fields)
    yield from legacy.iterator(chunk_size=batch)
    yield from chained.iterator(chunk_size=batch)


def _verify_one(
    chain: int, head: AuditChainHead | None, batch: int
) -> tuple[int, list[ChainProblem]]:
    """One chain: positions without gaps, each link to the row before, each row's hash."""
    problems: list[ChainProblem] = []
    prev_hash, expected, checked = GENESIS, 1, 0
    for row in _rows_of(chain, batch):
        legacy = row["chain_seq"] is None
        position = row["seq"] if legacy else row["chain_seq"]
        if position != expected:
            problems.append(
                ChainProblem(
                    row["seq"], f"chain {chain}: rows {expected}..{position - 1} missing", chain
                )
            )
        if row["prev_hash"] != prev_hash:
            problems.append(ChainProblem(row["seq"], f"chain {chain}: link broken", chain))
        content = {k: row[k] for k in (LEGACY_FIELDS if legacy else HASHED_FIELDS)}
        if row_hash(row["prev_hash"], content) != row["hash"]:
            problems.append(
                ChainProblem(row["seq"], f"chain {chain}: content does not match its hash", chain)
            )
        prev_hash, expected, checked = row["hash"], position + 1, checked + 1
    if head is None:
        if checked:
            problems.append(ChainProblem(0, f"chain {chain}: head row missing", chain))
    elif head.last_seq != expected - 1 or head.last_hash != prev_hash:
        message = f"chain {chain}: newest rows missing (head at {head.last_seq})"
        problems.append(ChainProblem(head.last_seq, message, chain))
    return checked, problems
