"""Component codes (部件, DESIGN.md §3): 16 digits = 6 county + 2 major + 2 minor + 6 serial."""

import re
from dataclasses import dataclass

from civicgrid.core.idnumbers import IdNumberError

from .choices import COMPONENT_MAJORS

COMPONENT_CODE = re.compile(r"^\d{16}$")
MESSAGES = {
    "component_code_format": "部件编码应为16位数字(6位区县+2位大类+2位小类+6位流水号)",
    "component_major": "部件大类代码无效(01公用设施…06其他设施)",
    "component_minor": "部件小类代码无效",
    "component_serial": "部件流水号不能为000000",
}


@dataclass(frozen=True)
class ComponentCode:
    code: str
    county: str
    major: str
    minor: str
    serial: str


def parse_component_code(value: object) -> ComponentCode:
    """Refuse with a coded IdNumberError; an unknown minor class within 01–99 is accepted,
    because cities extend the minor list (only the major classes are fixed)."""
    text = re.sub(r"\s+", "", str(value or ""))
    if not COMPONENT_CODE.match(text):
        raise IdNumberError("component_code_format", MESSAGES["component_code_format"])
    county, major, minor, serial = text[:6], text[6:8], text[8:10], text[10:]
    if major not in COMPONENT_MAJORS:
        raise IdNumberError("component_major", MESSAGES["component_major"])
    if minor == "00":
        raise IdNumberError("component_minor", MESSAGES["component_minor"])
    if serial == "000000":
        raise IdNumberError("component_serial", MESSAGES["component_serial"])
    return ComponentCode(text, county, major, minor, serial)
