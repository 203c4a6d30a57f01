"""English UI through Django's translation machinery, and the committed catalogue itself.

The msgids are Simplified Chinese (the default language); English comes from
civicgrid/locale/en/LC_MESSAGES/django.po, compiled to django.mo and committed so that
machines without gettext still serve English. polib is not installed in CI, so the .mo is
read with the standard library and the .po with a small parser.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from civicgrid.core.testing.factories import UserFactory

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
MAP = "/grids/map/"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*[0-9.]*[a-z]|%[a-z%]|\{\w*\}")


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware activates the request's language and never deactivates it; don't
    let an English request leak into whichever test runs next in this thread."""
    before = translation.get_language()
    yield
    translation.activate(before) if before else translation.deactivate()


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- pages ---------------------------------------------------------------------------


def test_grid_map_in_english_with_language_cookie(admin_client):
    html = english(admin_client).get(MAP).content.decode()
    assert '<html lang="en">' in html
    for text in ("Grid map", "Log out", "Workbench", "Population register", "Grid details",
                 "Language", "Residential grid"):  # fmt: skip
        assert text in html, text
    assert "网格地图" not in html
    assert "退出" not in html


def test_grid_map_in_chinese_without_cookie(admin_client):
    html = admin_client.get(MAP).content.decode()
    assert '<html lang="zh-hans">' in html
    for text in ("网格地图", "退出", "工作台", "网格信息"):
        assert text in html, text
    assert "Grid map" not in html
    assert "Log out" not in html


def test_language_switcher_sets_english_and_back(admin_client):
    response = admin_client.post(reverse("set_language"), {"language": "en", "next": MAP})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Grid map" in admin_client.get(MAP).content.decode()

    admin_client.post(reverse("set_language"), {"language": "zh-hans", "next": MAP})
    assert "网格地图" in admin_client.get(MAP).content.decode()


def test_login_page_in_english(client, db):
    html = english(client).get(reverse("accounts:login")).content.decode()
    for text in ("Log in", "Username", "Password"):
        assert text in html, text
    assert "用户名" not in html


def test_login_page_in_chinese_by_default(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    for text in ("登录", "用户名", "密码"):
        assert text in html, text
    assert "Username" not in html


def test_lazy_labels_follow_the_active_language():
    from civicgrid.accounts.choices import Role
    from civicgrid.cases.models import Case

    with translation.override("en"):
        assert str(Case._meta.verbose_name) == "Case"
        assert "Grid leader" in {str(label) for label in Role.labels}
    with translation.override("zh-hans"):
        assert str(Case._meta.verbose_name) == "案件"


# --- the catalogue -------------------------------------------------------------------


def parse_po(text: str) -> list[dict]:
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr / msgstr[n],
    plus 'flags'. Obsolete (#~) entries are skipped."""
    entries, entry, key = [], None, None
    for line in text.splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        if entry is None:
            entry = {"flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


@pytest.fixture(scope="module")
def po_entries():
    return parse_po(PO.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mo():
    with MO.open("rb") as f:
        return gettext.GNUTranslations(f)


def test_po_has_every_entry_translated(po_entries):
    header, *entries = po_entries
    assert header["msgid"] == ""
    assert "Language: en" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    assert len(entries) > 600
    untranslated = [
        e["msgid"] for e in entries
        if not all(v.strip() for k, v in e.items() if k.startswith("msgstr"))
    ]  # fmt: skip
    assert untranslated == []
    fuzzy = [e["msgid"] for e in po_entries if "fuzzy" in e["flags"]]
    assert fuzzy == []


def test_po_translations_keep_placeholders(po_entries):
    for e in po_entries[1:]:
        expected = sorted(PLACEHOLDER.findall(e["msgid"]))
        for key, value in e.items():
            if key.startswith("msgstr"):
                assert sorted(PLACEHOLDER.findall(value)) == expected, (e["msgid"], value)


def test_mo_is_compiled_from_the_current_po(po_entries, mo):
    """Every .po entry is in the committed .mo (re-run compilemessages after editing the .po)."""
    missing = []
    for e in po_entries[1:]:
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            if mo.ngettext(msgid, e["msgid_plural"], 1) != e["msgstr[0]"]:
                missing.append(msgid)
        elif mo.gettext(msgid) != e["msgstr"]:
            missing.append(msgid)
    assert missing == []


@pytest.mark.parametrize(
    ("msgid", "english"),
    [
        ("网格地图", "Grid map"),
        ("退出", "Log out"),
        ("基础网格单元", "Unit grid"),
        ("街道", "Street"),
        ("网格长", "Grid leader"),
        ("专职网格员", "Full-time grid worker"),
        ("立案", "Accept"),
        ("派遣", "Dispatch"),
        ("签收", "Sign for"),
        ("结案", "Close"),
        ("黄牌", "Yellow card"),
        ("民情直通车", "Report a problem"),
        ("独居老人", "Elderly living alone"),
        ("实有人口", "Actual population"),
        ("权责清单", "Responsibility list"),
    ],
)
def test_mo_translates_key_vocabulary(mo, msgid, english):
    assert mo.gettext(msgid) == english


def test_mo_plural_and_placeholders(mo):
    assert mo.ngettext("共 %(n)s 人", "共 %(n)s 人", 1) % {"n": 1} == "1 person"
    assert mo.ngettext("共 %(n)s 人", "共 %(n)s 人", 3) % {"n": 3} == "3 people"
    assert mo.gettext("逾期 %(n)s 天") % {"n": 4} == "4 days overdue"
