"""Every write of the registry: typed, keyword-only, audited, in a transaction."""

from .people import (
    DuplicatePerson,
    household_add_member,
    household_create,
    id_index,
    identity_parse,
    person_create,
    person_move,
    person_reveal,
    person_tag_add,
    person_tag_end,
    person_update,
    phone_index,
    phone_parse,
)
from .places import (
    building_create,
    component_create,
    component_set_state,
    organisation_create,
    organisation_update,
    parse_room_label,
    place_create,
    room_create,
    room_get_or_create,
)
from .work import (
    record_create,
    record_type_create,
    record_type_update,
    visit_record,
    work_area_update,
)

__all__ = [
    "DuplicatePerson", "building_create", "component_create", "component_set_state",
    "household_add_member", "household_create", "id_index", "identity_parse",
    "organisation_create", "organisation_update", "parse_room_label", "person_create",
    "person_move", "person_reveal", "person_tag_add", "person_tag_end", "person_update",
    "phone_index", "phone_parse", "place_create", "record_create", "record_type_create",
    "record_type_update", "room_create", "room_get_or_create", "visit_record",
    "work_area_update",
]  # fmt: skip
