"""Writing and verifying the audit chain. Services call `audit_record`; nothing else writes."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction

from .context import current_actor, current_request_id
from .models import AuditChainHead, AuditLog

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "object_repr", "changes", "request_id",
)  # fmt: skip


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = dict(fields)
    created = payload["created_at"]
    payload["created_at"] = created.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256((prev_hash + _canonical(payload)).encode()).hexdigest()


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
    """Append one row to the chain, inside the caller's transaction."""
    actor = actor if actor is not None else current_actor()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    with transaction.atomic():
        head = _locked_head()
        fields = {
            "seq": head.last_seq + 1,
            "created_at": datetime.now(UTC),
            "actor_id": getattr(actor, "pk", None),
            "actor_label": (actor.get_username() if actor is not None else "system")[:150],
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr[:200],
            "changes": json.loads(_canonical(changes or {})),
            "request_id": current_request_id(),
        }
        digest = row_hash(head.last_hash, fields)
        row = AuditLog.objects.create(prev_hash=head.last_hash, hash=digest, **fields)
        AuditChainHead.objects.filter(pk=1).update(last_seq=row.seq, last_hash=digest)
    return row


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@dataclass
class ChainProblem:
    seq: int
    problem: str


def audit_verify_chain(batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in order; return (rows checked, problems found)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    qs = AuditLog.objects.order_by("seq").values(*HASHED_FIELDS, "prev_hash", "hash")
    for row in qs.iterator(chunk_size=batch):
        if row["seq"] != expected_seq:
            problems.append(
                ChainProblem(expected_seq, f"rows {expected_seq}..{row['seq'] - 1} missing")
            )
        if row["prev_hash"] != prev_hash:
            problems.append(ChainProblem(row["seq"], "link to previous row broken"))
        fields = {k: row[k] for k in HASHED_FIELDS}
        if row_hash(row["prev_hash"], fields) != row["hash"]:
            problems.append(ChainProblem(row["seq"], "content does not match its hash"))
        prev_hash, expected_seq, checked = row["hash"], row["seq"] + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != prev_hash):
        problems.append(ChainProblem(head.last_seq, "newest rows missing (chain head differs)"))
    return checked, problems
