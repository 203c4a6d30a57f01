"""Reading office files: normalisation, header detection, encodings, and bad files."""

from datetime import date, datetime

import pytest
from openpyxl import Workbook

from civicgrid.core.imports import CellError, ImportFileError, id_text, open_table, parse_date
from civicgrid.core.imports.normalize import clean_text, parse_int

from .imports_example import (
    GRIDS,
    ID_A,
    ResidentKind,
    office_workbook,
    simple_csv,
    simple_rows,
    simple_workbook,
)


def test_clean_text_trims_full_width_and_nbsp_spaces():
    assert clean_text("\u3000张\u00a0三 \u200b") == "张 三"
    assert clean_text(None) == ""
    assert clean_text(12.0) == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("32080319580302015x", "32080319580302015X"),
        (" 3208 0319 5803 0201 5X ", "32080319580302015X"),
        (13800000001, "13800000001"),
        (13800000001.0, "13800000001"),
        ("13800000001.0", "13800000001"),
        (320803580302011, "320803580302011"),  # old 15-digit ID survives as a number
    ],
)
def test_id_text_normalises(value, expected):
    assert id_text(value) == expected


@pytest.mark.parametrize(
    "value", [320803195803020123, 3.208031958030201e17, "3.20803E+17", "3.20803195803020E+17"]
)
def test_id_text_refuses_excel_mangled_numbers(value):
    with pytest.raises(CellError) as exc:
        id_text(value)
    assert exc.value.code == "id_mangled"
    assert "文本" in exc.value.message


@pytest.mark.parametrize(
    "value",
    [date(1958, 3, 2), datetime(1958, 3, 2, 8, 30), 21246, 21246.0, "1958-03-02", "1958/3/2",
     "1958.3.2", "1958年3月2日", "1958年03月02", "19580302", 19580302, " 1958-3-2 00:00:00 "],
)  # fmt: skip
def test_parse_date_accepts_office_spellings(value):
    assert parse_date(value) == date(1958, 3, 2)


@pytest.mark.parametrize("value", ["1958-02-30", "三月二日", "58.3.2", "", -5])
def test_parse_date_refuses_with_bad_date(value):
    with pytest.raises(CellError) as exc:
        parse_date(value)
    assert exc.value.code == "bad_date"


def test_parse_int():
    assert parse_int("1,200") == 1200
    assert parse_int(3.0) == 3
    with pytest.raises(CellError):
        parse_int("3.5")


def test_office_workbook_header_below_titles_and_merged_two_row_header(tmp_path):
    table = open_table(office_workbook(tmp_path / "office.xlsx"), ResidentKind)
    assert table.header_row == 4
    assert table.headers[5:7] == ["联系方式/手机号码", "联系方式/固定电话"]
    assert sorted(table.mapping.values()) == sorted(c.name for c in ResidentKind.columns)
    assert table.header_for("id_number") == "公民身份号码"
    numbers = [row.number for row in table.rows()]
    assert numbers == [5, 6, 7, 8, 9, 10, 11, 12, 14]  # blank row skipped, footer ends it
    first = next(open_table(tmp_path / "office.xlsx", ResidentKind).rows())
    assert first.values["name"] == " 张三 "
    assert first.values["birth_date"] == date(1958, 3, 2)
    assert first.raw[0] == 1


def test_header_found_on_a_later_sheet_after_instructions(tmp_path):
    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["请按模板填写"])
    data = workbook.create_sheet("数据")
    data.append(["身份证号码", "居民姓名", "网格"])
    data.append([ID_A, "张三", GRIDS[0]])
    workbook.save(tmp_path / "two.xlsx")
    table = open_table(tmp_path / "two.xlsx", ResidentKind)
    assert table.sheet_name == "数据"
    assert [r.values["id_number"] for r in table.rows()] == [ID_A]


def test_header_starting_in_a_later_column_keeps_row_numbers(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet["C3"], sheet["D3"], sheet["E3"] = "身份证号", "姓名", "所属网格"
    sheet["C4"], sheet["D4"], sheet["E4"] = ID_A, "张三", GRIDS[0]
    workbook.save(tmp_path / "offset.xlsx")
    table = open_table(tmp_path / "offset.xlsx", ResidentKind)
    rows = list(table.rows())
    assert table.header_row == 3
    assert [(r.number, r.values["name"]) for r in rows] == [(4, "张三")]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    path = simple_csv(tmp_path / "r.csv", simple_rows(3), encoding=encoding)
    rows = list(open_table(path, ResidentKind).rows())
    assert [r.number for r in rows] == [2, 3, 4]
    assert rows[0].values["name"] == "居民0"


def test_csv_with_title_row_semicolons_and_footer(tmp_path):
    path = tmp_path / "semi.csv"
    lines = ["河下街道居民名单;;", "身份证号;姓名;所属网格", f"{ID_A};张三;{GRIDS[0]}", ";;",
             "制表日期：2024-05-06;;"]  # fmt: skip
    path.write_text("\n".join(lines), encoding="gbk")
    rows = list(open_table(path, ResidentKind).rows())
    assert [(r.number, r.values["name"]) for r in rows] == [(3, "张三")]


def test_csv_two_row_header_without_merge_information(tmp_path):
    path = tmp_path / "two.csv"
    lines = [
        "身份证号,姓名,所属网格,联系方式,",
        ",,,手机,固定电话",
        f"{ID_A},张三,{GRIDS[0]},138,0517",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    table = open_table(path, ResidentKind)
    row = next(table.rows())
    assert row.number == 3
    assert (row.values["phone"], row.values["landline"]) == ("138", "0517")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.xlsx", b"", "empty_file"),
        ("empty.csv", b"", "empty_file"),
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "bad_type"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "old_xls"),
        ("notes.txt", "身份证号,姓名".encode(), "bad_type"),
        ("broken.xlsx", b"PK\x03\x04garbage", "bad_type"),
        ("binary.csv", b"\x00\x01\x02", "bad_type"),
        ("blank.csv", b"\n\n\n", "empty_file"),
        ("wrong.csv", "编号,名字,地址\n1,2,3\n".encode(), "no_header"),
        ("missing.csv", "身份证号,姓名,出生日期\n1,2,3\n".encode(), "missing_column"),
    ],
)
def test_bad_files_give_clear_chinese_errors(tmp_path, name, data, code):
    with pytest.raises(ImportFileError) as exc:
        open_table(_write(tmp_path / name, data), ResidentKind)
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.xlsx", "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="有效的 .xlsx"):
        open_table(tmp_path / "a.xlsx", ResidentKind)


def test_xlsx_content_under_csv_name_is_refused(tmp_path):
    path = simple_workbook(tmp_path / "data.xlsx", simple_rows(1))
    renamed = path.rename(tmp_path / "data.csv")
    with pytest.raises(ImportFileError, match="扩展名"):
        open_table(renamed, ResidentKind)


def test_oversized_file_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    path = simple_csv(tmp_path / "big.csv", simple_rows(20))
    with pytest.raises(ImportFileError) as exc:
        open_table(path, ResidentKind)
    assert exc.value.code == "too_large"
    assert open_table(path, ResidentKind, max_bytes=None).header_row == 1


def test_missing_required_column_names_aliases(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("姓名,所属网格,出生日期\n张三,1,1958-03-02\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as exc:
        open_table(path, ResidentKind)
    assert "身份证号" in exc.value.message and "公民身份号码" in exc.value.message


def shared_strings_copy(source, target):
    """openpyxl writes inline strings; Excel writes shared ones: rewrite the sheet that way."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    inline = re.compile(rb'<c r="([A-Z]+\d+)"([^>]*) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>')
    strings: list[bytes] = []

    def shared(m):
        strings.append(m.group(3))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), len(strings) - 1)

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for name in src.namelist():
            data = src.read(name)
            if name.startswith("xl/worksheets/"):
                data = inline.sub(shared, data)
            out.writestr(name, data)
        items = b"".join(b"<si><t>%s</t></si>" % t for t in strings)
        ns = escape("http://schemas.openxmlformats.org/spreadsheetml/2006/main").encode()
        out.writestr("xl/sharedStrings.xml", b'<sst xmlns="%s">%s</sst>' % (ns, items))
    return target


@pytest.mark.parametrize("spill_after", [0, 3])
def test_streaming_reader_reads_the_same_with_shared_strings_spilled(
    tmp_path, settings, monkeypatch, spill_after
):
    from civicgrid.core.imports import xlsx_stream

    inline = office_workbook(tmp_path / "inline.xlsx")
    path = shared_strings_copy(inline, tmp_path / "shared.xlsx")
    settings.IMPORT_STREAM_XLSX_BYTES = 0  # the streaming reader
    expected = [(r.number, r.raw) for r in open_table(inline, ResidentKind).rows()]
    assert "320803195803020137" in {c for _n, raw in expected for c in raw}
    assert [(r.number, r.raw) for r in open_table(path, ResidentKind).rows()] == expected
    monkeypatch.setattr(xlsx_stream, "SPILL_STRINGS", spill_after)
    workbook = xlsx_stream.StreamingWorkbook(str(path))
    assert len(workbook.strings.head) == spill_after and len(workbook.strings.ends) > 10
    workbook.close()
    assert [(r.number, r.raw) for r in open_table(path, ResidentKind).rows()] == expected
    with pytest.raises(IndexError):
        xlsx_stream.SharedStrings(spill_after=1)[0]
