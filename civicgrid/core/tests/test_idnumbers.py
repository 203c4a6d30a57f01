"""Resident ID, USCC and phone validation, with property tests over generated numbers."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from civicgrid.core.idnumbers import (
    IdNumberError,
    check_consistent,
    normalise_phone,
    normalise_uscc,
    parse_resident_id,
)

REGIONS = st.sampled_from(["320803", "320802", "110101", "341322", "999999", "320811"])


def _id(region: str, birth: dt.date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _code(value) -> str:
    with pytest.raises(IdNumberError) as err:
        parse_resident_id(value)
    return err.value.code


@given(REGIONS, st.dates(dt.date(1900, 1, 1), dt.date(2024, 12, 31)), st.integers(0, 999))
def test_valid_numbers_parse_and_derive(region, birth, seq):
    number = _id(region, birth, seq)
    rid = parse_resident_id(number)
    assert rid.number == number and rid.birth_date == birth
    assert rid.sex == ("M" if seq % 2 else "F")
    assert parse_resident_id(f"  {number.lower()[:6]} {number.lower()[6:]} ").number == number


@given(st.dates(dt.date(1900, 1, 1), dt.date(2024, 12, 31)), st.integers(0, 999),
       st.integers(0, 16), st.integers(1, 9))  # fmt: skip
def test_any_single_digit_error_is_caught(birth, seq, pos, delta):
    number = _id("320803", birth, seq)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    with pytest.raises(IdNumberError) as err:
        parse_resident_id(wrong)
    assert err.value.code in {"id_checksum", "id_birth_date"}


def test_checksum_message():
    number = _id("320803", dt.date(1950, 3, 7), 2)
    bad = number[:-1] + ("1" if number[-1] == "0" else "0")
    with pytest.raises(IdNumberError) as err:
        parse_resident_id(bad)
    assert err.value.code == "id_checksum" and err.value.message == "校验位不符"


def test_region_codes_never_refuse():
    # stdnum's validate() refuses this (a code created after 1930); we do not.
    number = _id("320803", dt.date(1930, 1, 1), 5)
    assert not ric.is_valid(number)
    assert parse_resident_id(number).birth_date == dt.date(1930, 1, 1)


def test_excel_noise():
    number = _id("320803", dt.date(1988, 8, 8), 11)
    assert _code(float(number[:-1] + "0")) == "id_as_number"
    assert _code(Decimal("3.20803E+17")) == "id_as_number"
    assert _code("3.20803E+17") == "id_as_number"
    assert _code("320803198808080000.0") == "id_as_number"
    assert parse_resident_id("320803198808080" + number[-3:].replace("X", "x")).number == number
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert parse_resident_id(fullwidth).number == number
    assert _code("") == "id_empty" and _code(None) == "id_empty"
    assert _code("32080319880808") == "id_length"
    assert _code("32080319880808001A") == "id_format"
    assert _code("320803198813320016") == "id_birth_date"
    assert _code(_id("320803", dt.date.today() + dt.timedelta(days=400), 1)) == "id_birth_date"


def test_consistency():
    rid = parse_resident_id(_id("320803", dt.date(1970, 5, 6), 3))
    check_consistent(rid, birth_date=dt.date(1970, 5, 6), sex="M")
    for kwargs, code in (({"birth_date": dt.date(1970, 5, 7)}, "id_birth_mismatch"),
                         ({"sex": "F"}, "id_sex_mismatch")):  # fmt: skip
        with pytest.raises(IdNumberError) as err:
            check_consistent(rid, **kwargs)
        assert err.value.code == code


def test_uscc():
    body = "91320803MA1XYW123"
    code = body + uscc.calc_check_digit(body)
    assert normalise_uscc(f" {code.lower()} ") == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    for value, expected in ((wrong, "uscc_checksum"), ("123", "uscc_length"),
                            ("9132080IMA1XYZ1234", "uscc_format"), ("", "uscc_empty")):  # fmt: skip
        with pytest.raises(IdNumberError) as err:
            normalise_uscc(value)
        assert err.value.code == expected


@pytest.mark.parametrize(
    "raw,expected",
    [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
     ("008613812345678", "13812345678"), (13812345678, "13812345678"),
     ("0517-83651234", "0517-83651234"), ("(0517)8365123", "0517-8365123"),
     ("010 12345678", "010-12345678"), ("02512345678", "025-12345678")],
)  # fmt: skip
def test_phones(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "83651234", "abc", 1.3e10, ""])
def test_bad_phones(raw):
    with pytest.raises(IdNumberError):
        normalise_phone(raw)
