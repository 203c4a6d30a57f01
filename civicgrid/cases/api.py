"""JSON API of the case loop under /api/v1/cases (endpoints are added with their pages).

The workflow's refusals answer 409 in the API's error shape: `illegal_transition` with the
Chinese reason, or `conflict` when the case changed since the client read it.
"""

from ninja import Router

router = Router(tags=["cases"])

# After `router`: civicgrid.api imports this module while registering routers.
from civicgrid.api import _error, api  # noqa: E402

from .workflow import CaseConflict, IllegalTransition  # noqa: E402


@api.exception_handler(IllegalTransition)
def on_illegal_transition(request, exc: IllegalTransition):
    details = {"action": exc.action, "status": exc.status}
    return _error(request, 409, "illegal_transition", exc.message, details)


@api.exception_handler(CaseConflict)
def on_case_conflict(request, exc: CaseConflict):
    return _error(request, 409, "conflict", exc.message)
