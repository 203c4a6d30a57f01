from .base import ScopedModel, ScopedQuerySet
from .organisations import Component, Organisation
from .people import ID_PURPOSE, PHONE_PURPOSE, Household, Person, PersonTag
from .places import Building, PublicPlace, Room
from .visits import Visit
from .work import SUBJECT_FIELDS, Record, RecordType, WorkArea, dept_only

__all__ = [
    "ID_PURPOSE", "PHONE_PURPOSE", "SUBJECT_FIELDS", "Building", "Component", "Household",
    "Organisation", "Person", "PersonTag", "PublicPlace", "Record", "RecordType", "Room",
    "ScopedModel", "ScopedQuerySet", "Visit", "WorkArea", "dept_only",
]  # fmt: skip
