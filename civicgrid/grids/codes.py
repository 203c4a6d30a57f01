"""Region and grid codes (DESIGN.md §3).

district  6 digits, GB/T 2260 county code (e.g. 320803 淮安区)
street    9 digits, district + GB/T 10114 township code: 001–099 街道, 100–199 镇, 200–399 乡
community 12 digits, street + 001–199 居委会 / 200–399 村委会
grid      14 digits, community + 2-digit sequence; "00" is the community-level grid
unit      14 digits, community + 2-digit sequence 01–99 (CJ/T 213 / GB/T 30428.1)

Grids and unit grids share their community's 2-digit sequence space and every code is unique.
The Hexia demo numbers a community's first grid "00", further grids 90–99, and unit grids
01–89 left→right, top→bottom.
"""

import re

from django.utils.translation import gettext as _

from .choices import Level

CODE_LENGTH = {
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 14,
    Level.UNIT: 14,
}
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: \d would accept full-width digits


class CodeError(ValueError):
    """A code that breaks the standard; the message is for people (in the active language)."""


def township_kind(code3: str) -> str:
    n = int(code3)
    if 1 <= n <= 99:
        return "街道"
    if 100 <= n <= 199:
        return "镇"
    if 200 <= n <= 399:
        return "乡"
    raise CodeError(_("乡级代码 %(code)s 超出范围(001–399)") % {"code": code3})


def community_kind(code3: str) -> str:
    n = int(code3)
    if 1 <= n <= 199:
        return "居委会"
    if 200 <= n <= 399:
        return "村委会"
    raise CodeError(_("社区代码 %(code)s 超出范围(居委会001–199,村委会200–399)") % {"code": code3})


def community_prefix(parent_code: str, level: str) -> str:
    """The 12-digit community code a grid or unit grid code must start with."""
    return parent_code[:12]


def validate_code(*, code: str, level: str, parent_code: str | None) -> None:
    """Raise CodeError when `code` is not a valid code of `level` under `parent_code`."""
    expected = CODE_LENGTH[Level(level)]
    if not _DIGITS.fullmatch(code or ""):
        raise CodeError(_("编码只能由数字组成,收到“%(code)s”") % {"code": code})
    if len(code) != expected:
        raise CodeError(
            _("%(level)s编码应为%(expected)s位,收到%(got)s位")
            % {"level": Level(level).label, "expected": expected, "got": len(code)}
        )
    if level == Level.DISTRICT:
        if code.endswith("00") or code[:2] == "00":
            raise CodeError(_("区县编码应为 GB/T 2260 县级代码,末两位不能为00"))
        return
    if level == Level.STREET and not parent_code:
        township_kind(code[6:9])  # a street may be the root of a one-street deployment
        return
    if not parent_code:
        raise CodeError(_("%(level)s必须有上级区域") % {"level": Level(level).label})
    prefix_len = 12 if level in (Level.GRID, Level.UNIT) else len(parent_code)
    if code[:prefix_len] != parent_code[:prefix_len]:
        raise CodeError(
            _("编码应以上级编码 %(prefix)s 开头") % {"prefix": parent_code[:prefix_len]}
        )
    if level == Level.STREET:
        township_kind(code[6:9])
    elif level == Level.COMMUNITY:
        community_kind(code[9:12])
    elif level == Level.UNIT and code[12:] == "00":
        raise CodeError(_("基础网格单元顺序码应为01–99,00保留给社区级网格"))
