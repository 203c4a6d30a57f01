"""Registry import kinds: the street office's messy register, every kind, updates, resume,
and the `registry_import` command's JSON."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook
from stdnum.cn import ric

from civicgrid.accounts.choices import Role
from civicgrid.core.imports import ImportRun, get_kind, open_table
from civicgrid.core.imports.services import (
    import_job_create,
    import_job_dry_run,
    import_job_resume,
    import_job_start,
)
from civicgrid.core.models import AuditLog, ImportJob
from civicgrid.registry import services
from civicgrid.registry.imports import PersonKind
from civicgrid.registry.models import (
    Building,
    Component,
    Household,
    Organisation,
    Person,
    Record,
    RecordType,
)

from .factories import building, make_id, person, staff

pytestmark = pytest.mark.django_db


def id_with_x() -> str:
    for seq in range(1, 999):
        body = f"32080319580302{seq:03d}"
        check = ric.calc_check_digit(body + "0")
        if check == "X":
            return body + check
    raise AssertionError


def bad_checksum(number: str) -> str:
    last = "1" if number[-1] != "1" else "2"
    return number[:-1] + last


@pytest.fixture
def office(tree, unit_a, worker_a, unit_b):
    """Building 3 in unit A, one person already registered there and one in another grid."""
    building(worker_a, unit_a, number="3")
    known = person(worker_a, unit_a, name="旧名字", id_number=make_id(birth=dt.date(1960, 1, 1)))
    foreign_id = make_id(birth=dt.date(1970, 5, 5))
    person(staff(Role.GRID_WORKER, tree.grid_b), unit_b, name="他网格", id_number=foreign_id)
    return {"known": known, "foreign_id": foreign_id, "unit": unit_a, "user": worker_a}


def office_rows(o: dict[str, Any]) -> list[list[Any]]:
    code = o["unit"].code
    ok_a = make_id(birth=dt.date(1950, 3, 7), sex="F")
    ok_x = id_with_x()
    return [
        # row 4: good — stray spaces, grid code typed as a number, date cell, spaced phone
        [1, " 王秀英 ", f" {ok_a} ", "女", dt.datetime(1950, 3, 7), "138 1234 5678", "户籍",
         int(code), "3-2-501", "HX001", "户主", "独居老人"],
        # row 5: good — lower-case check character, no birth date
        [2, "李\u3000四", ok_x.lower(), None, None, None, "流动人口", code, "3-2-501", "HX001",
         "子", None],
        # row 6: ID typed as a number (Excel kept 15 digits)
        [3, "王五", int(make_id(birth=dt.date(1961, 1, 1))[:17] + "0"), None, None, None, None,
         code, None, None, None, None],
        # row 7: bad check character
        [4, "赵六", bad_checksum(make_id()), None, None, None, None, code, None, None, None, None],
        # row 8: missing name
        [5, None, make_id(), None, None, None, None, code, None, None, None, None],
        # row 9: duplicate of row 4 in the file
        [6, "王秀英", ok_a, None, None, None, None, code, None, None, None, None],
        # row 10: impossible date
        [7, "钱七", make_id(), None, "1958-02-30", None, None, code, None, None, None, None],
        # row 11: unknown grid
        [8, "孙八", make_id(), None, None, None, None, "99999999999999", None, None, None, None],
        # row 12: birth date contradicts the ID
        [9, "周九", make_id(birth=dt.date(1980, 1, 1)), None, dt.date(1981, 1, 1), None, None,
         code, None, None, None, None],
        # row 13: blank
        [None] * 12,
        # row 14: already registered here → update
        [10, "新名字", o["known"].id_number, None, None, "13900000000", None, code, None, None,
         None, None],
        # row 15: registered in another grid → refused without disclosure
        [11, "吴十", o["foreign_id"], None, None, None, None, code, None, None, None, None],
        # row 16: unknown tag
        [12, "郑十一", make_id(), None, None, None, None, code, None, None, None, "外星人"],
    ]  # fmt: skip


EXPECTED = [
    (6, "身份证号", "id_mangled"),
    (7, "身份证号", "id_checksum"),
    (8, "姓名", "missing_field"),
    (9, "身份证号", "duplicate_in_file"),
    (10, "出生日期", "bad_date"),
    (11, "网格编码", "unknown_grid"),
    (12, "出生日期", "id_birth_mismatch"),
    (15, "身份证号", "duplicate_in_db"),
    (16, "人群标签", "bad_choice"),
]


def office_workbook(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["河下街道估衣街社区实有人口登记表"])
    sheet.merge_cells("A1:L1")
    sheet.append(["填报单位：估衣街社区居委会", None, None, None, None, None, "2024年5月"])
    sheet.append(["序号", "姓 名", "公民身份号码", "性别", "出生日期", "联系电话", "人口类别",
                  "网格编码", "房号", "户号", "与户主关系", "特殊人群"])  # fmt: skip
    for row in rows:
        sheet.append(row)
    sheet.append([])
    sheet.append(["填表人：王芳", None, None, "审核人：李强", None, None, "制表日期：2024年5月6日"])
    workbook.save(path)
    return path


def run(kind: str, path: Path, user, *, apply: bool) -> dict[str, Any]:
    table = open_table(path, get_kind(kind))
    return ImportRun(get_kind(kind)(actor=user), table, apply=apply, actor=user).run().as_dict()


def codes(summary: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in summary["errors"]]


@pytest.fixture(params=["calamine", "stream"])
def reader(request, settings):
    """Both .xlsx readers: calamine for small files, the streaming one above the threshold."""
    settings.IMPORT_STREAM_XLSX_BYTES = 0 if request.param == "stream" else 10**9
    return request.param


def test_office_workbook_dry_run_is_exact_and_writes_nothing(office, tmp_path, reader):
    path = office_workbook(tmp_path / "实有人口.xlsx", office_rows(office))
    before = Person.objects.count()
    summary = run("person", path, office["user"], apply=False)
    assert codes(summary) == EXPECTED
    assert (summary["rows"], summary["created"], summary["updated"], summary["refused"]) == (
        12, 2, 1, 9,
    )  # fmt: skip
    assert Person.objects.count() == before


def test_office_workbook_imports_good_rows_encrypted_placed_and_audited(office, tmp_path, reader):
    path = office_workbook(tmp_path / "实有人口.xlsx", office_rows(office))
    audit_before = AuditLog.objects.count()
    summary = run("person", path, office["user"], apply=True)
    assert (summary["created"], summary["updated"], summary["refused"]) == (2, 1, 9)
    wang = Person.objects.get(name="王秀英")
    assert wang.id_number_enc.startswith("v1:") and wang.sex == "F"
    assert wang.birth_date == dt.date(1950, 3, 7) and wang.phone == "13812345678"
    assert wang.room.label == "3-2-501" and wang.unit == office["unit"]
    assert wang.household.number == "HX001" and wang.household.head == wang
    assert list(wang.tags.values_list("kind", flat=True)) == ["elderly_alone"]
    li = Person.objects.get(name="李 四")
    assert li.id_number.endswith("X") and li.household == wang.household
    assert li.residency == "floating" and li.relation == "child"
    known = Person.objects.get(pk=office["known"].pk)
    assert (known.name, known.phone) == ("新名字", "13900000000")
    found = services.id_index(li.id_number)
    assert Person.objects.filter(id_number_bidx=found).count() == 1
    assert AuditLog.objects.count() > audit_before
    assert_person_audit(wang, li, known=known)


def assert_person_audit(*created: Person, known: Person) -> None:
    """One audit row per person written, like the services', with masked numbers only."""
    rows = AuditLog.objects.filter(object_type="registry.person")
    for p in created:
        (row,) = rows.filter(object_id=str(p.pk))
        assert row.action == "create" and row.changes["import"] == "person"
        assert row.changes["after"]["id_number"] == p.id_number_masked
        assert row.changes["after"]["name"] == p.name and p.id_number not in json.dumps(row.changes)
    (change,) = rows.filter(object_id=str(known.pk), action="change")
    assert (
        change.changes["before"]["name"] == "旧名字" and change.changes["after"]["name"] == "新名字"
    )
    assert change.changes["after"]["phone"] == "139****0000" and change.changes["row"] == 14
    assert not AuditLog.objects.filter(object_id="import:person").exists()


def test_wang_creation_audit_names_the_tag_added(office, tmp_path):
    path = office_workbook(tmp_path / "a.xlsx", office_rows(office))
    run("person", path, office["user"], apply=True)
    wang = Person.objects.get(name="王秀英")
    row = AuditLog.objects.get(object_type="registry.person", object_id=str(wang.pk))
    assert row.changes["tags_added"] == ["elderly_alone"] and row.changes["row"] == 4


def test_bulk_audit_keeps_every_chain_verifiable(office, tmp_path):
    from civicgrid.core.audit import audit_verify_chain

    rows = [[n, f"居民{n}", make_id(birth=dt.date(1991, 2, 1 + n % 28)), None, None, None, None,
             office["unit"].code, None, None, None, None] for n in range(40)]  # fmt: skip
    path = office_workbook(tmp_path / "many.xlsx", rows)
    services.person_update(user=office["user"], person=office["known"], name="链中")
    summary = run("person", path, office["user"], apply=True)
    assert summary["created"] == 40
    people = Person.objects.filter(name__startswith="居民")
    logged = AuditLog.objects.filter(object_type="registry.person", action="create")
    assert set(logged.values_list("object_id", flat=True)) >= {str(p.pk) for p in people}
    assert len({r.chain for r in logged}) > 1  # spread over chains, each one whole
    assert audit_verify_chain()[1] == []


def test_duplicate_in_file_is_found_across_batches_and_after_resume(office, tmp_path):
    ids = [make_id(birth=dt.date(1992, 3, 1 + n)) for n in range(6)]
    rows = [[n, f"居民{n}", ids[n % 6] if n < 6 else ids[n - 6], None, None, None, None,
             office["unit"].code, None, None, None, None] for n in range(9)]  # fmt: skip
    path = office_workbook(tmp_path / "dups.xlsx", rows)  # data rows 4..12; 10..12 repeat 4..6
    kind = get_kind("person")

    def go(resume_from: int = 0) -> dict[str, Any]:
        table = open_table(path, kind)
        return ImportRun(kind(actor=office["user"]), table, apply=True, actor=office["user"],
                         batch_size=2, resume_from=resume_from).run().as_dict()  # fmt: skip

    first = go()
    assert codes(first) == [(r, "身份证号", "duplicate_in_file") for r in (10, 11, 12)]
    assert [e["message"].split("（")[0] for e in first["errors"]] == [
        "与第 4 行重复", "与第 5 行重复", "与第 6 行重复"]  # fmt: skip
    resumed = go(resume_from=9)  # rows 4..8 committed earlier: they only feed the check
    assert resumed["rows"] == 4 and resumed["created"] == 0 and resumed["updated"] == 1
    assert codes(resumed) == [(r, "身份证号", "duplicate_in_file") for r in (10, 11, 12)]
    assert Person.objects.filter(name__startswith="居民").count() == 6


def test_households_spanning_batches_with_place_caches_dropped_every_batch(
    office, tmp_path, monkeypatch
):
    from civicgrid.registry import import_base

    monkeypatch.setattr(import_base, "PLACE_CACHE_LIMIT", 0)
    rows = [[n, f"居民{n}", make_id(birth=dt.date(1993, 4, 1 + n)), None, None, None, None,
             office["unit"].code, "3-1-10" + str(n // 3), f"HS{n // 3}",
             "户主" if n % 3 == 0 else "子", None] for n in range(12)]  # fmt: skip
    path = office_workbook(tmp_path / "hs.xlsx", rows)
    kind = get_kind("person")
    table = open_table(path, kind)
    summary = ImportRun(kind(actor=office["user"]), table, apply=True, actor=office["user"],
                        batch_size=2).run().as_dict()  # fmt: skip
    assert (summary["created"], summary["refused"]) == (12, 0)
    for number in range(4):
        (household,) = Household.objects.filter(number=f"HS{number}")
        members = Person.objects.filter(household=household)
        assert members.count() == 3 and household.head.name == f"居民{number * 3}"
        assert {p.room.label for p in members} == {f"3-1-10{number}"}


def test_rerun_updates_instead_of_duplicating(office, tmp_path):
    path = office_workbook(tmp_path / "a.xlsx", office_rows(office))
    run("person", path, office["user"], apply=True)
    count = Person.objects.count()
    again = run("person", path, office["user"], apply=True)
    assert (again["created"], again["updated"], again["refused"]) == (0, 3, 9)
    assert Person.objects.count() == count
    assert Household.objects.filter(number="HX001").count() == 1


def test_csv_with_gbk_and_title_row(office, tmp_path):
    path = tmp_path / "people.csv"
    rows = ["河下街道人口表,,,", "姓名,身份证号,网格编码,联系电话",
            f"张三,{make_id(sex='M')},{office['unit'].code},13800000001",
            f"李四,{bad_checksum(make_id())},{office['unit'].code},",
            "填表人：王芳,,,"]  # fmt: skip
    path.write_text("\n".join(rows), encoding="gbk")
    summary = run("person", path, office["user"], apply=True)
    assert codes(summary) == [(4, "身份证号", "id_checksum")]
    assert Person.objects.filter(name="张三", sex="M").exists()


def test_outsider_grid_is_refused(office, tmp_path, tree):
    stranger = staff(Role.GRID_WORKER, tree.grid_b)
    path = office_workbook(tmp_path / "a.xlsx", office_rows(office)[:1])
    summary = run("person", path, stranger, apply=False)
    assert codes(summary) == [(4, "网格编码", "no_permission")]


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_interrupted_job_resumes_without_duplicates_or_half_rows(
    office, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    rows = [[n, f"居民{n}", make_id(birth=dt.date(1990, 1, 1 + n % 28)), None, None, None, None,
             office["unit"].code, None, f"H{n // 2}", "户主" if n % 2 == 0 else "配偶", None]
            for n in range(12)]  # fmt: skip
    path = office_workbook(tmp_path / "job.xlsx", rows)
    job = import_job_create(kind="person", uploaded_file=_upload(path), user=office["user"])
    ImportJob.objects.filter(pk=job.pk).update(batch_size=4)
    job.refresh_from_db()
    import_job_dry_run(job=job)
    original = PersonKind.apply_batch

    def failing(self, batch, actor):
        original(self, batch, actor)
        if any(r.number == 10 for r in batch):  # second batch: sheet rows 8–11
            raise RuntimeError("server restarted")

    monkeypatch.setattr(PersonKind, "apply_batch", failing)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job)
    job.refresh_from_db()
    assert job.status == "failed" and job.next_row == 8
    assert Person.objects.filter(name__startswith="居民").count() == 4
    assert Household.objects.filter(number__in=["H4", "H5"]).count() == 0  # rolled back
    monkeypatch.setattr(PersonKind, "apply_batch", original)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_resume(job=job)
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 12
    assert Person.objects.filter(name__startswith="居民").count() == 12
    assert Household.objects.filter(number__startswith="H").exclude(head=None).count() == 6


def test_command_prints_json_summary(office, tmp_path):
    path = office_workbook(tmp_path / "cmd.xlsx", office_rows(office))
    out = StringIO()
    call_command("registry_import", "person", str(path), "--dry-run",
                 "--user", office["user"].username, stdout=out)  # fmt: skip
    data = json.loads(out.getvalue())
    assert set(data) == {"rows", "created", "updated", "refused", "errors"}
    assert (data["rows"], data["created"], data["updated"], data["refused"]) == (12, 2, 1, 9)
    assert set(data["errors"][0]) == {"row", "column", "code", "message"}
    assert codes(data) == EXPECTED  # every refused row, streamed from the spool in order
    assert [(e["row"], e["code"]) for e in data["errors"]][0] == (6, "id_mangled")


def test_command_json_without_errors(office, tmp_path):
    path = office_workbook(tmp_path / "ok.xlsx", office_rows(office)[:2])
    out = StringIO()
    call_command("registry_import", "person", str(path), "--user", office["user"].username,
                 stdout=out)  # fmt: skip
    assert json.loads(out.getvalue()) == {
        "rows": 2, "created": 2, "updated": 0, "refused": 0, "errors": []}  # fmt: skip


def _sheet(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_households_create_and_update(office, tmp_path):
    code = office["unit"].code
    path = _sheet(tmp_path / "h.xlsx", ["户号", "网格编码", "房号", "地址"],
                  [["HX100", code, "3-1-101", "估衣街3号1单元101"], ["HX101", code, None, None],
                   ["HX100", code, None, None], ["HX102", None, None, None]])  # fmt: skip
    summary = run("household", path, office["user"], apply=True)
    assert codes(summary) == [(4, "户号", "duplicate_in_file"), (5, "网格编码", "no_place")]
    household = Household.objects.get(number="HX100")
    assert household.room.label == "3-1-101"
    again = run("household", path, office["user"], apply=True)
    assert again["updated"] == 2


def test_buildings_organisations_components(office, tmp_path):
    code = office["unit"].code
    b = _sheet(tmp_path / "b.xlsx", ["楼栋名称", "楼号", "地址", "网格编码", "层数", "用途"],
               [["5号楼", "5", "估衣街5号", code, 6, "住宅"],
                ["6号楼", "6", "估衣街6号", code, 0, ""],
                ["3号楼", "3", "估衣街3号", code, 7, "商住混合"]])  # fmt: skip
    summary = run("building", b, office["user"], apply=True)
    assert codes(summary) == [(3, "层数", "bad_number")]
    assert (summary["created"], summary["updated"]) == (1, 1)
    assert Building.objects.get(number="3", unit=office["unit"]).floors == 7
    o = _sheet(tmp_path / "o.xlsx", ["名称", "类别", "统一社会信用代码", "网格编码"],
               [["茶社", "个体商户", "91320803MA1MXXXX0X", code], ["面馆", "个体商户", None, code],
                ["书院", "学校", None, "1"]])  # fmt: skip
    summary = run("organisation", o, office["user"], apply=True)
    assert [c for _r, _c, c in codes(summary)] == ["uscc_checksum", "unknown_grid"]
    assert Organisation.objects.filter(name="面馆").exists()
    c = _sheet(tmp_path / "c.xlsx", ["部件编码", "名称", "状态", "网格编码"],
               [["3208030101000001", "井盖", "完好", code], ["3208039901000001", "x", None, code],
                [3208030101000002, None, "破损", code]])  # fmt: skip
    summary = run("component", c, office["user"], apply=True)
    assert codes(summary) == [(3, "部件编码", "component_major")]
    assert Component.objects.get(code="3208030101000002").state == "damaged"
    summary = run("component", c, office["user"], apply=True)
    assert summary["updated"] == 2


def test_work_area_records_by_record_type(office, tmp_path):
    rt = RecordType.objects.filter(subject_kind="person", is_active=True).first()
    assert rt is not None
    kind = get_kind(f"record:{rt.code}")
    header = [c.label for c in kind.columns]
    known = office["known"]
    values = []
    for d in rt.fields:
        values.append({"choice": (d.get("choices") or [""])[0], "number": 3, "date": "2024-05-01",
                       "bool": "是", "phone": "13800000000"}.get(d["type"], "说明"))  # fmt: skip
    rows = [[known.id_number, dt.date(2024, 5, 6), *values],
            [bad_checksum(known.id_number), None, *values],
            [office["foreign_id"], None, *values]]  # fmt: skip
    summary = run(f"record:{rt.code}", _sheet(tmp_path / "r.xlsx", header, rows),
                  office["user"], apply=True)  # fmt: skip
    assert [c for _r, _col, c in codes(summary)] == ["id_checksum", "no_permission"]
    record = Record.objects.get(person=known, record_type=rt)
    assert record.occurred_on == dt.date(2024, 5, 6)


def test_streaming_reader_reads_the_engine_office_workbook(tmp_path, settings):
    from civicgrid.core.tests.imports_example import ResidentKind
    from civicgrid.core.tests.imports_example import office_workbook as engine_workbook

    settings.IMPORT_STREAM_XLSX_BYTES = 0
    table = open_table(engine_workbook(tmp_path / "o.xlsx"), ResidentKind)
    assert table.header_row == 4
    assert table.headers[5:7] == ["联系方式/手机号码", "联系方式/固定电话"]
    rows = list(table.rows())
    assert [r.number for r in rows] == [5, 6, 7, 8, 9, 10, 11, 12, 14]
    assert rows[0].values["birth_date"] == dt.date(1958, 3, 2) and rows[0].raw[0] == 1
