"""Every write of the case loop: typed, keyword-only, permission-checked, compare-and-set,
one timeline row and one audit row per move. Errors: IllegalTransition and CaseConflict
(both HTTP 409), CaseNotFound (404), PermissionDenied (403), ValidationError (400)."""

from ..permissions import CaseNotFound
from ..workflow import CaseConflict, IllegalTransition
from .extensions import case_extend_decide, case_extend_request
from .intake import (
    Reported,
    attachment_add,
    case_of_submission,
    case_relocate,
    case_report,
    case_report_with_photos,
    reporter_phone,
    route_for,
)
from .numbering import next_number
from .resident import case_rate, case_reopen
from .transitions import (
    case_accept,
    case_close,
    case_dispatch,
    case_escalate,
    case_handle,
    case_merge,
    case_reject,
    case_resume,
    case_return,
    case_sign,
    case_suspend,
    case_verify,
)

__all__ = [
    "CaseConflict", "CaseNotFound", "IllegalTransition", "Reported", "attachment_add",
    "case_accept", "case_close", "case_dispatch", "case_escalate", "case_extend_decide",
    "case_extend_request", "case_handle", "case_merge", "case_of_submission", "case_rate",
    "case_reject", "case_relocate", "case_reopen", "case_report", "case_report_with_photos",
    "case_resume", "case_return", "case_sign", "case_suspend", "case_verify", "next_number",
    "reporter_phone", "route_for",
]  # fmt: skip
