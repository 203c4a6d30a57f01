"""JSON API of the case loop under /api/v1/cases.

The workflow's refusals answer 409 in the API's error shape: `illegal_transition` with the
Chinese reason, or `conflict` when the case changed since the client read it. Permission
refusals answer 403, cases outside the caller's scope 404, service validation 400 and
malformed input 422 (handlers in civicgrid/api.py).

Modules: `categories` (tree, search), `queues` (centre queue, workbenches, my cases,
notifications), `cases` (list, create, detail), `actions` (one POST per transition),
`attachments` (photo uploads). They are imported in that order because static paths must be
registered before `/{number}`.
"""

from ninja import Router

router = Router(tags=["cases"])

# After `router`: civicgrid.api imports this module while registering routers.
from civicgrid.api import _error, api  # noqa: E402

from ..workflow import CaseConflict, IllegalTransition  # noqa: E402


@api.exception_handler(IllegalTransition)
def on_illegal_transition(request, exc: IllegalTransition):
    details = {"action": exc.action, "status": exc.status}
    return _error(request, 409, "illegal_transition", exc.message, details)


@api.exception_handler(CaseConflict)
def on_case_conflict(request, exc: CaseConflict):
    return _error(request, 409, "conflict", exc.message)


# isort: off
# Routes register on import; static paths (/categories, /mine, /queues/…) before /{number}.
from . import categories  # noqa: E402, F401
from . import queues  # noqa: E402, F401
from . import cases  # noqa: E402, F401
from . import actions  # noqa: E402, F401
from . import attachments  # noqa: E402, F401

# isort: on

__all__ = ["on_case_conflict", "on_illegal_transition", "router"]
