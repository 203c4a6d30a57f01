from .case import Case, CaseEvent, CaseQuerySet, CaseSequence
from .category import Category, CategoryQuerySet, RoutingRule
from .support import Attachment, Escalation, Extension, Notification

__all__ = [
    "Attachment", "Case", "CaseEvent", "CaseQuerySet", "CaseSequence", "Category",
    "CategoryQuerySet", "Escalation", "Extension", "Notification", "RoutingRule",
]  # fmt: skip
