"""codes.validate_code: GB/T 2260 + GB/T 10114 + community + grid sequence (DESIGN.md §3)."""

import pytest

from civicgrid.grids.codes import (
    CODE_LENGTH,
    CodeError,
    community_kind,
    township_kind,
    validate_code,
)

DISTRICT, STREET, COMMUNITY = "320803", "320803001", "320803001001"
GRID = "32080300100100"


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("district", DISTRICT, None),
        ("street", STREET, DISTRICT),
        ("street", "320803100", DISTRICT),  # town
        ("street", "320803399", DISTRICT),  # township
        ("community", COMMUNITY, STREET),
        ("community", "320803001399", STREET),  # village committee
        ("grid", GRID, COMMUNITY),
        ("grid", "32080300100199", COMMUNITY),
        ("unit", "32080300100101", GRID),
        ("unit", "32080300100199", GRID),
    ],
)
def test_valid_codes_at_every_level(level, code, parent):
    validate_code(code=code, level=level, parent_code=parent)


@pytest.mark.parametrize(("level", "length"), list(CODE_LENGTH.items()))
def test_wrong_length_is_refused_with_expected_length(level, length):
    parent = {"district": None, "street": DISTRICT, "community": STREET}.get(level, COMMUNITY)
    for code in ("3" * (length - 1), "3" * (length + 1)):
        with pytest.raises(CodeError, match=f"应为{length}位"):
            validate_code(code=code, level=level, parent_code=parent)


@pytest.mark.parametrize("code", ["32080a", "320 803", "", "３２０８０３", "-32080", "320803\n"])
def test_non_digits_refused(code):
    with pytest.raises(CodeError, match="只能由数字组成"):
        validate_code(code=code, level="district", parent_code=None)


def test_none_code_refused():
    with pytest.raises(CodeError):
        validate_code(code=None, level="district", parent_code=None)


@pytest.mark.parametrize("code", ["320800", "000803", "000000"])
def test_district_must_be_a_county_code(code):
    with pytest.raises(CodeError, match="县级代码"):
        validate_code(code=code, level="district", parent_code=None)


@pytest.mark.parametrize(
    ("level", "code", "parent"),
    [
        ("street", "320804001", DISTRICT),
        ("community", "320803002001", STREET),
        ("grid", "32080300100200", COMMUNITY),
        ("unit", "32080300200101", GRID),
    ],
)
def test_wrong_prefix_refused(level, code, parent):
    with pytest.raises(CodeError, match="开头"):
        validate_code(code=code, level=level, parent_code=parent)


def test_unit_prefix_is_the_community_not_the_grid_sequence():
    """Grids and units share their community's sequence space: 90 is a grid, 05 its unit."""
    validate_code(code="32080300100105", level="unit", parent_code="32080300100190")


@pytest.mark.parametrize("level", ["community", "grid", "unit"])
def test_lower_levels_need_a_parent(level):
    code = COMMUNITY if level == "community" else "32080300100101"
    with pytest.raises(CodeError, match="必须有上级"):
        validate_code(code=code, level=level, parent_code=None)


def test_street_may_be_a_root_but_its_township_code_is_still_checked():
    validate_code(code=STREET, level="street", parent_code=None)
    with pytest.raises(CodeError, match="超出范围"):
        validate_code(code="320803400", level="street", parent_code=None)


@pytest.mark.parametrize(
    ("code3", "kind"),
    [("001", "街道"), ("099", "街道"), ("100", "镇"), ("199", "镇"), ("200", "乡"), ("399", "乡")],
)
def test_township_ranges(code3, kind):
    assert township_kind(code3) == kind


@pytest.mark.parametrize("code3", ["000", "400", "999"])
def test_township_out_of_range(code3):
    with pytest.raises(CodeError, match="001–399"):
        township_kind(code3)
    with pytest.raises(CodeError, match="超出范围"):
        validate_code(code=DISTRICT + code3, level="street", parent_code=DISTRICT)


@pytest.mark.parametrize(
    ("code3", "kind"), [("001", "居委会"), ("199", "居委会"), ("200", "村委会"), ("399", "村委会")]
)
def test_community_ranges(code3, kind):
    assert community_kind(code3) == kind


@pytest.mark.parametrize("code3", ["000", "400", "500"])
def test_community_out_of_range(code3):
    with pytest.raises(CodeError, match="超出范围"):
        community_kind(code3)
    with pytest.raises(CodeError, match="超出范围"):
        validate_code(code=STREET + code3, level="community", parent_code=STREET)


def test_unit_sequence_00_is_reserved_for_the_community_grid():
    with pytest.raises(CodeError, match="00保留给社区级网格"):
        validate_code(code="32080300100100", level="unit", parent_code=GRID)
    validate_code(code="32080300100100", level="grid", parent_code=COMMUNITY)


def test_unknown_level_is_an_error():
    with pytest.raises(ValueError):
        validate_code(code="320803", level="province", parent_code=None)
