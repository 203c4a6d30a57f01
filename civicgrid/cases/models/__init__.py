from .camera import Camera, CameraQuerySet, hash_device_key
from .case import Case, CaseEvent, CaseQuerySet, CaseSequence
from .category import Category, CategoryQuerySet, RoutingRule
from .dedup import DuplicateCandidate
from .support import Attachment, Escalation, Extension, Notification

__all__ = [
    "Attachment", "Camera", "CameraQuerySet", "Case", "CaseEvent", "CaseQuerySet", "CaseSequence",
    "Category", "CategoryQuerySet", "DuplicateCandidate", "Escalation", "Extension",
    "Notification", "RoutingRule", "hash_device_key",
]  # fmt: skip
