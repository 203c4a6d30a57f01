"""Work areas, record types defined without code, records validated against them, and
the department view of work areas."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.accounts.choices import Role
from civicgrid.core.testing.factories import UserFactory
from civicgrid.registry import selectors, services
from civicgrid.registry.models import Record, RecordType, WorkArea

from .factories import building, make_id, person, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True)


def _codes(exc: ValidationError) -> dict[str, str]:
    return {k: v[0].code for k, v in exc.error_dict.items()}


def test_eleven_work_areas_installed():
    names = list(WorkArea.objects.values_list("name", flat=True))
    assert len(names) == 11 and names[:3] == ["组织党建", "卫计服务", "政法综治"]
    assert RecordType.objects.count() >= 18


def test_record_type_definitions_validated(admin):
    area = WorkArea.objects.get(code="health")
    bad = [
        "nope", [{"name": "1bad", "type": "text"}], [{"name": "x", "type": "blob"}],
        [{"name": "x", "type": "choice"}], [{"name": "x", "type": "text"}] * 2,
    ]  # fmt: skip
    for fields in bad:
        with pytest.raises(ValidationError):
            services.record_type_create(user=admin, area=area, code="t1", name="T",
                                        subject_kind="person", fields=fields)  # fmt: skip
    worker = UserFactory()
    with pytest.raises(PermissionDenied):
        services.record_type_create(user=worker, area=area, code="t1", name="T",
                                    subject_kind="person", fields=[])  # fmt: skip


def test_records_against_typed_fields(admin, worker_a, worker_b, unit_a, unit_b):
    area = WorkArea.objects.get(code="health")
    rt = services.record_type_create(
        user=admin, area=area, code="preg", name="孕产妇随访", subject_kind="person",
        fields=[
            {"name": "due", "label": "预产期", "type": "date", "required": True},
            {"name": "n", "label": "次数", "type": "number"},
            {"name": "risk", "label": "风险", "type": "choice", "choices": ["低", "高"]},
            {"name": "doctor", "label": "医生", "type": "person"},
            {"name": "ok", "label": "正常", "type": "bool"},
        ],
    )  # fmt: skip
    mum = person(worker_a, unit_a, name="孕妇", id_number=make_id())
    other = person(worker_b, unit_b, name="外网格", id_number=make_id())
    cases = [
        ({"n": 1}, {"values.due": "required"}),
        ({"due": "2025-02-30"}, {"values.due": "invalid_value"}),
        ({"due": "2025-02-01", "n": "many"}, {"values.n": "invalid_value"}),
        ({"due": "2025-02-01", "n": float("nan")}, {"values.n": "invalid_value"}),
        ({"due": "2025-02-01", "risk": "中"}, {"values.risk": "invalid_value"}),
        ({"due": "2025-02-01", "doctor": other.pk}, {"values.doctor": "invalid_value"}),
        ({"due": "2025-02-01", "typo": 1}, {"values.typo": "unknown_field"}),
        (
            {"due": "2025-02-01", "risk": "低", "doctor": "x\x00"},
            {"values.doctor": "invalid_value"},
        ),
    ]
    for values, expected in cases:
        with pytest.raises(ValidationError) as err:
            services.record_create(user=worker_a, record_type=rt, subject=mum, values=values)
        assert _codes(err.value) == expected, values
    rec = services.record_create(
        user=worker_a, record_type=rt, subject=mum,
        values={"due": "2025-02-01", "n": "2", "risk": "高", "ok": "是", "doctor": mum.pk},
    )  # fmt: skip
    assert rec.values == {"due": "2025-02-01", "n": 2, "risk": "高", "ok": True, "doctor": mum.pk}
    assert rec.unit_path == unit_a.path and rec.area == area
    b = building(worker_a, unit_a)
    with pytest.raises(ValidationError) as err:
        services.record_create(
            user=worker_a, record_type=rt, subject=b, values={"due": "2025-01-01"}
        )
    assert _codes(err.value) == {"subject": "invalid_subject"}
    with pytest.raises(PermissionDenied):
        services.record_create(user=worker_b, record_type=rt, subject=mum,
                               values={"due": "2025-02-01"})  # fmt: skip


def test_department_sees_its_work_areas(admin, worker_a, unit_a, tree):
    health, safety = WorkArea.objects.get(code="health"), WorkArea.objects.get(code="safety")
    services.work_area_update(user=admin, area=health, name="卫生健康", departments=[tree.dept])
    assert WorkArea.objects.get(code="health").name == "卫生健康"
    p = person(worker_a, unit_a)
    rt_h = RecordType.objects.get(code="chronic_followup")
    rt_s = RecordType.objects.get(code="employment_aid")
    services.record_create(user=worker_a, record_type=rt_h, subject=p,
                           values={"disease": "高血压", "control": "控制满意"})  # fmt: skip
    services.record_create(user=worker_a, record_type=rt_s, subject=p,
                           values={"service": "岗位推荐"})  # fmt: skip
    handler = staff(Role.HANDLER, tree.street, department=tree.dept)
    assert [a.code for a in selectors.work_area_list(user=handler)] == ["health"]
    assert {r.area_id for r in selectors.record_list(user=handler)} == {health.pk}
    assert selectors.record_list(user=worker_a).count() == 2
    assert safety not in selectors.work_area_list(user=handler)


def test_component_and_organisation_codes(worker_a, unit_a):
    c = services.component_create(user=worker_a, unit=unit_a, code="3208030101000001")
    assert (c.major, c.minor, c.name) == ("01", "01", "上水井盖")
    for code, expected in (("320803010100001", "component_code_format"),
                           ("3208030901000002", "component_major"),
                           ("3208030100000002", "component_minor"),
                           ("3208030101000000", "component_serial"),
                           ("3208030101000001", "duplicate")):  # fmt: skip
        with pytest.raises(ValidationError) as err:
            services.component_create(user=worker_a, unit=unit_a, code=code)
        assert _codes(err.value) == {"code": expected}
    from stdnum.cn import uscc

    body = "91320803MA1XYW123"
    code = body + uscc.calc_check_digit(body)
    org = services.organisation_create(user=worker_a, unit=unit_a, name="文楼汤包", kind="shop",
                                       uscc=code.lower())  # fmt: skip
    assert org.uscc == code
    with pytest.raises(ValidationError) as err:
        services.organisation_create(user=worker_a, unit=unit_a, name="重复", kind="shop",
                                     uscc=code)  # fmt: skip
    assert _codes(err.value) == {"uscc": "duplicate"}
    with pytest.raises(ValidationError) as err:
        services.organisation_create(
            user=worker_a,
            unit=unit_a,
            name="坏码",
            kind="shop",
            uscc=code[:-1] + "0" if code[-1] != "0" else code[:-1] + "1",
        )
    assert _codes(err.value) == {"uscc": "uscc_checksum"}
    assert Record.objects.count() == 0
