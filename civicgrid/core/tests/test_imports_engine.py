"""The import pipeline on the example kind: dry run, apply, update, workbooks, export."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from civicgrid.core.imports import (
    ErrorWorkbook,
    ImportRun,
    export_xlsx,
    open_table,
    register,
    template_workbook,
    unregister,
)

from .imports_example import (
    GRIDS,
    ID_A,
    ID_X,
    ResidentKind,
    StrictResidentKind,
    expected_errors,
    office_workbook,
    simple_csv,
    simple_rows,
)

User = get_user_model()


@pytest.fixture
def kinds(db):
    for kind in (ResidentKind, StrictResidentKind):
        register(kind)
    for code in GRIDS:
        Group.objects.create(name=code)
    yield
    for kind in (ResidentKind, StrictResidentKind):
        unregister(kind.name)


def _run(path, kind=ResidentKind, **kwargs):
    table = open_table(path, kind)
    return ImportRun(kind(), table, **kwargs).run().as_dict(), table


def _codes(summary):
    return [{k: e[k] for k in ("row", "column", "code")} for e in summary["errors"]]


def test_dry_run_summary_of_the_office_workbook_is_exact(kinds, tmp_path):
    summary, _table = _run(office_workbook(tmp_path / "office.xlsx"))
    assert {k: summary[k] for k in ("rows", "created", "updated", "refused")} == {
        "rows": 9, "created": 3, "updated": 0, "refused": 6,
    }  # fmt: skip
    assert _codes(summary) == expected_errors()
    assert all(e["message"] for e in summary["errors"])
    assert "第 5 行" in summary["errors"][3]["message"]
    assert not User.objects.exists()  # a dry run writes nothing


def test_apply_then_reimport_updates(kinds, tmp_path):
    path = office_workbook(tmp_path / "office.xlsx")
    summary, _ = _run(path, apply=True)
    assert (summary["created"], summary["refused"]) == (3, 6)
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {ID_A, ID_X, next(k for k in users if k.startswith("320803195803020"
                                                                             "16"))}  # fmt: skip
    assert users[ID_A].name == "张三"  # stray spaces trimmed
    assert users[ID_X].name == "李 四"  # full-width space collapsed, lower-case x fixed
    assert users[ID_A].first_name == "1958-03-02"
    again, _ = _run(path, apply=True)
    assert (again["created"], again["updated"], again["refused"]) == (0, 3, 6)
    assert User.objects.count() == 3


def test_strict_kind_refuses_duplicates_in_database(kinds, tmp_path):
    path = simple_csv(tmp_path / "r.csv", simple_rows(3))
    _run(path, apply=True)
    summary, _ = _run(path, kind=StrictResidentKind)
    assert summary["refused"] == 3
    assert {e["code"] for e in summary["errors"]} == {"duplicate_in_db"}


def test_lookup_is_one_query_per_batch(kinds, tmp_path, django_assert_max_num_queries):
    path = simple_csv(tmp_path / "r.csv", simple_rows(50))
    table = open_table(path, ResidentKind)
    with django_assert_max_num_queries(10):  # 5 batches × (grid check + existing lookup)
        summary = ImportRun(ResidentKind(), table, batch_size=10).run()
    assert summary.created == 50


def test_error_workbook_keeps_original_values_and_reason(kinds, tmp_path):
    table = open_table(office_workbook(tmp_path / "office.xlsx"), ResidentKind)
    report = ErrorWorkbook(table.headers)
    ImportRun(ResidentKind(), table, on_error=report.add).run()
    report.save(tmp_path / "errors.xlsx")
    sheet = load_workbook(tmp_path / "errors.xlsx").active
    rows = list(sheet.values)
    assert rows[0][-2:] == ("错误原因", "原行号")
    assert rows[0][1] == "公民身份号码"
    assert [r[-1] for r in rows[1:]] == [7, 8, 9, 10, 11, 12]
    assert "文本" in rows[1][-2] and rows[1][2] == "王五"
    # fixed rows go back in: the error workbook is itself importable
    fixed = open_table(tmp_path / "errors.xlsx", ResidentKind)
    assert [r.number for r in fixed.rows()] == [2, 3, 4, 5, 6, 7]


def test_template_round_trip(kinds, tmp_path):
    template_workbook(ResidentKind, tmp_path / "template.xlsx")
    workbook = load_workbook(tmp_path / "template.xlsx")
    assert workbook.sheetnames == ["导入模板", "填写说明"]
    assert workbook["导入模板"]["A1"].value == "身份证号*"
    summary, _ = _run(tmp_path / "template.xlsx")
    assert (summary["rows"], summary["created"], summary["refused"]) == (1, 1, 0)


def test_export_xlsx_streams_rows_and_keeps_text(tmp_path):
    rows = ({"id": f"32080319580302{n:04d}", "name": f"=居民{n}"} for n in range(1000))
    response = export_xlsx(rows_iterable=rows, columns=[("id", "身份证号"), ("name", "姓名")],
                           filename="居民")  # fmt: skip
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.values)
    assert values[0] == ("身份证号", "姓名")
    assert values[1] == ("320803195803020000", "=居民0")  # text, not a formula
    assert len(values) == 1001


def test_command_prints_the_json_summary(kinds, tmp_path, capsys):
    path = office_workbook(tmp_path / "office.xlsx")
    call_command("registry_import", "test_resident", str(path), "--dry-run")
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows"], summary["created"], summary["refused"]) == (9, 3, 6)
    assert _codes(summary) == expected_errors()
    assert not User.objects.exists()
    call_command("registry_import", "test_resident", str(path))
    assert json.loads(capsys.readouterr().out)["created"] == 3
    assert User.objects.count() == 3


def test_command_exits_non_zero_on_unreadable_file(kinds, tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(CommandError) as exc:
        call_command("registry_import", "test_resident", str(bad))
    assert exc.value.returncode == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "bad_type"
    with pytest.raises(CommandError):
        call_command("registry_import", "no_such_kind", str(bad))
    with pytest.raises(CommandError) as missing:
        call_command("registry_import", "test_resident", str(tmp_path / "nope.csv"))
    assert missing.value.returncode == 2


def test_seen_keys_answer_the_first_row_across_calls():
    from civicgrid.core.imports.seen import SeenKeys

    seen = SeenKeys()
    try:
        first = seen.add([(f"K{n}", n + 2) for n in range(1200)])  # > one lookup chunk
        assert first == [None] * 1200
        again = seen.add([("K5", 2000), ("new", 2001), ("new", 2002), (("t", 1), 2003)])
        assert again == [7, None, 2001, None]
        assert seen.add([(("t", 1), 2004), ("K1199", 2005)]) == [2003, 1201]
    finally:
        seen.close()
