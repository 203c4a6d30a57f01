"""The one table of legal moves of a case (DESIGN.md §2, issue 3 "The workflow").

Each action names the statuses it may start from, the status it leads to (``None``: decided
by the service, e.g. `resume` returns to the status before the suspension), who may do it,
and which step clock starts afterwards. Services look here and nowhere else; pages can call
`allowed_actions` to show only the buttons that would work.
"""

from __future__ import annotations

from dataclasses import dataclass

from .choices import Action, Status, Step


class Actor:
    """Who may perform an action on a case (checked in permissions.py)."""

    CENTRE = "centre"  # command-centre operator whose region covers the case
    HANDLER = "handler"  # staff of the case's department, or of its assigned grid/region
    VERIFIER = "verifier"  # grid staff of the case's grid (or an operator)
    REPORTER = "reporter"  # the resident who reported it
    SYSTEM = "system"  # the scheduler


KEEP = "keep"  # the step clock keeps running (signing does not restart the handling clock)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None
    actor: str
    step: str = ""  # step whose clock starts after the move ("" = no clock, KEEP = unchanged)


def _t(action, sources, target, actor, step=""):
    return Transition(action, frozenset(sources), target, actor, step)


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(Action.ACCEPT, {S.REPORTED}, S.ACCEPTED, Actor.CENTRE, Step.DISPATCH),
        _t(Action.REJECT, {S.REPORTED, S.ACCEPTED, S.RETURNED}, S.REJECTED, Actor.CENTRE),
        _t(Action.MERGE, {S.REPORTED, S.ACCEPTED}, S.MERGED, Actor.CENTRE),
        _t(
            Action.DISPATCH,
            {S.ACCEPTED, S.RETURNED, S.DISPATCHED},
            S.DISPATCHED,
            Actor.CENTRE,
            Step.HANDLE,
        ),
        _t(Action.SIGN, {S.DISPATCHED}, S.SIGNED, Actor.HANDLER, KEEP),
        _t(Action.HANDLE, {S.SIGNED}, S.HANDLED, Actor.HANDLER, Step.VERIFY),
        _t(Action.RETURN, {S.DISPATCHED, S.SIGNED}, S.RETURNED, Actor.HANDLER, Step.DISPATCH),
        _t(Action.EXTEND_REQUEST, {S.DISPATCHED, S.SIGNED}, None, Actor.HANDLER, KEEP),
        _t(Action.EXTEND_APPROVE, {S.DISPATCHED, S.SIGNED}, None, Actor.CENTRE, KEEP),
        _t(Action.EXTEND_REFUSE, {S.DISPATCHED, S.SIGNED}, None, Actor.CENTRE, KEEP),
        _t(Action.RELOCATE, {S.REPORTED, S.ACCEPTED, S.RETURNED}, None, Actor.CENTRE, KEEP),
        _t(Action.ESCALATE, {S.DISPATCHED, S.SIGNED}, S.DISPATCHED, Actor.HANDLER, Step.HANDLE),
        _t(Action.VERIFY_PASS, {S.HANDLED}, S.VERIFIED, Actor.VERIFIER),
        _t(Action.VERIFY_FAIL, {S.HANDLED}, S.DISPATCHED, Actor.VERIFIER, Step.HANDLE),
        _t(Action.CLOSE, {S.VERIFIED}, S.CLOSED, Actor.CENTRE),
        _t(Action.RATE, {S.CLOSED}, S.RATED, Actor.REPORTER),
        _t(Action.REOPEN, {S.CLOSED, S.RATED}, S.ACCEPTED, Actor.REPORTER, Step.DISPATCH),
        _t(
            Action.SUSPEND,
            {S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.SIGNED},
            S.SUSPENDED,
            Actor.CENTRE,
        ),
        _t(Action.RESUME, {S.SUSPENDED}, None, Actor.CENTRE),  # clock set by the service
    )
}

# Reasons shown when a move is refused, by the status the case is in.
_STATUS_REFUSAL = {
    S.REPORTED: "案件尚未立案",
    S.ACCEPTED: "案件已立案,尚未派遣",
    S.REJECTED: "案件未予立案,已终止",
    S.MERGED: "案件已合并到其他案件",
    S.DISPATCHED: "案件尚未签收",
    S.SIGNED: "案件正在处置中",
    S.HANDLED: "案件已处置,等待核查",
    S.VERIFIED: "案件已核查通过,等待结案",
    S.CLOSED: "案件已结案",
    S.RATED: "案件已结案并评价",
    S.RETURNED: "案件已退回指挥中心",
    S.SUSPENDED: "案件已挂账",
}


class IllegalTransition(Exception):
    """A move the workflow does not allow from the case's status (HTTP 409)."""

    def __init__(self, message: str, *, action: str = "", status: str = ""):
        super().__init__(message)
        self.message, self.action, self.status = message, action, status


class CaseConflict(Exception):
    """The case changed since the caller read it (compare-and-set found no row; HTTP 409)."""

    def __init__(self, message: str = "案件已被他人更新,请刷新后重试"):
        super().__init__(message)
        self.message = message


def transition_for(action: str, status: str) -> Transition:
    """The transition of `action` from `status`, or IllegalTransition with a Chinese reason."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise IllegalTransition(f"未知操作:{action}", action=action, status=status)
    if status not in t.sources:
        label = Action(action).label
        why = _STATUS_REFUSAL.get(status, "当前状态")
        raise IllegalTransition(f"{why},不能{label}", action=action, status=status)
    return t


def allowed_actions(status: str) -> list[str]:
    """Actions whose source statuses include `status` (permission not considered)."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]
