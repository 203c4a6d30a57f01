"""Typed-field and ID/phone refusals are in the active language: Chinese by default (import
sheets and workers), English when the request asked for it."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from civicgrid.core.idnumbers import IdNumberError, parse_resident_id
from civicgrid.registry.fields import validate_definitions, validate_values

DEFS = validate_definitions([
    {"name": "phone", "label": "联系电话", "type": "phone"},
    {"name": "since", "label": "登记日期", "type": "date", "required": True},
])  # fmt: skip


def _errors(values) -> dict:
    with pytest.raises(ValidationError) as err:
        validate_values(DEFS, values)
    return err.value.message_dict


def test_value_refusals_in_english():
    with translation.override("en"):
        errors = _errors({"phone": "12", "other": 1})
    assert errors == {
        "values.other": ["Undefined field"],
        "values.phone": [
            "联系电话: Invalid phone number (mobile: 11 digits; landline e.g. 0517-83651234)"
        ],
        "values.since": ["登记日期: required"],
    }


def test_value_refusals_in_chinese_by_default():
    errors = _errors({"since": "2024-13-01"})
    assert errors == {"values.since": ["登记日期:应为日期(YYYY-MM-DD)"]}


def test_definition_refusal_in_english():
    with translation.override("en"), pytest.raises(ValidationError) as err:
        validate_definitions([{"name": "ok", "type": "text"}, {"name": "Bad", "type": "text"}])
    assert err.value.message_dict["fields"][0].startswith("Field 2 needs a unique name")


def test_id_number_message_translated_when_raised():
    with translation.override("en"), pytest.raises(IdNumberError) as err:
        parse_resident_id("11010519491231002Y")
    assert (err.value.code, err.value.message) == (
        "id_format",
        "Invalid ID number format (the first 17 characters are digits, the last a digit or X)",
    )
    with pytest.raises(IdNumberError) as err:
        parse_resident_id("110105194912310021")
    assert (err.value.code, err.value.message) == ("id_checksum", "校验位不符")
