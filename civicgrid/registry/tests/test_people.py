"""People: validation, encryption at rest, blind-index search, duplicates, masking."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from civicgrid.registry import selectors, services
from civicgrid.registry.models import Person

from .factories import make_id, person, room

pytestmark = pytest.mark.django_db


def _codes(exc: ValidationError) -> dict[str, str]:
    return {k: v[0].code for k, v in exc.error_dict.items()}


def test_create_derives_sex_and_birth_date(worker_a, unit_a):
    number = make_id(birth=dt.date(1948, 2, 29), sex="M")
    p = person(worker_a, unit_a, id_number=number.lower().replace("x", "x"))
    assert p.sex == "M" and p.birth_date == dt.date(1948, 2, 29)
    assert p.id_number == number and p.unit_path == unit_a.path


def test_bad_checksum_refused_with_code(worker_a, unit_a):
    number = make_id()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ValidationError) as err:
        person(worker_a, unit_a, id_number=bad)
    assert _codes(err.value) == {"id_number": "id_checksum"}
    assert "校验位不符" in str(err.value)


def test_birth_date_and_sex_must_match(worker_a, unit_a):
    number = make_id(birth=dt.date(1960, 1, 1), sex="F")
    with pytest.raises(ValidationError) as err:
        person(worker_a, unit_a, id_number=number, birth_date=dt.date(1960, 1, 2))
    assert _codes(err.value) == {"birth_date": "id_birth_mismatch"}
    with pytest.raises(ValidationError) as err:
        person(worker_a, unit_a, id_number=number, sex="M")
    assert _codes(err.value) == {"sex": "id_sex_mismatch"}


def test_old_region_code_accepted(worker_a, unit_a):
    # 320802 (清河区) was merged away in 2016; 1930 predates every current code.
    number = make_id(region="320802", birth=dt.date(1930, 5, 5))
    assert person(worker_a, unit_a, id_number=number).id_number == number


def test_encrypted_at_rest(worker_a, unit_a):
    number = make_id()
    p = person(worker_a, unit_a, id_number=number, phone="138 1234 5678")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id_number_enc, id_number_bidx, phone_enc, phone_bidx FROM registry_person "
            "WHERE id = %s",
            [p.pk],
        )
        row = " ".join(cur.fetchone())
    assert number not in row and number[6:14] not in row and "13812345678" not in row
    assert p.phone == "13812345678"


def test_blind_index_search_exact(worker_a, unit_a):
    number = make_id()
    p = person(worker_a, unit_a, id_number=number, phone="13912345678")
    person(worker_a, unit_a, name="李四", id_number=make_id())
    assert list(selectors.person_list(user=worker_a, q=number)) == [p]
    assert list(selectors.person_list(user=worker_a, q=f" {number.lower()} ")) == [p]
    assert list(selectors.person_list(user=worker_a, q=number[:-1])) == []
    assert list(selectors.person_list(user=worker_a, q="139-1234-5678")) == [p]
    assert list(selectors.person_list(user=worker_a, q="王")) == [p]


def test_duplicate_refused_pointing_to_existing(worker_a, unit_a):
    number = make_id()
    first = person(worker_a, unit_a, id_number=number)
    with pytest.raises(services.DuplicatePerson) as err:
        person(worker_a, unit_a, name="王秀英2", id_number=number)
    assert err.value.existing == first
    assert str(first.pk) in str(err.value)
    assert Person.objects.count() == 1


def test_duplicate_in_other_grid_does_not_disclose(worker_a, worker_b, unit_a, unit_b):
    number = make_id()
    person(worker_a, unit_a, id_number=number)
    with pytest.raises(services.DuplicatePerson) as err:
        person(worker_b, unit_b, id_number=number)
    assert err.value.existing is None and "王秀英" not in str(err.value)


def test_masking(worker_a, unit_a):
    number = make_id()
    p = person(worker_a, unit_a, id_number=number, phone="13812345678")
    assert p.id_number_masked == number[:6] + "********" + number[-4:]
    assert p.phone_masked == "138****5678"


def test_worker_cannot_write_other_grid(worker_b, unit_a):
    with pytest.raises(PermissionDenied):
        person(worker_b, unit_a)


def test_household_with_members_all_or_nothing(worker_a, unit_a):
    r = room(worker_a, unit_a, "2-501")
    members = [
        {"name": "张建国", "id_number": make_id(sex="M"), "relation": "head"},
        {"name": "刘芳", "id_number": make_id(), "relation": "spouse"},
        {"name": "张小明", "id_number": "123", "relation": "child"},
    ]
    with pytest.raises(ValidationError) as err:
        services.household_create(user=worker_a, room=r, members=members)
    assert "members.2.id_number" in err.value.error_dict
    assert Person.objects.count() == 0
    members[2]["id_number"] = make_id(birth=dt.date(2010, 1, 1), sex="M")
    hh = services.household_create(user=worker_a, room=r, number="0001", members=members)
    assert hh.head.name == "张建国" and hh.members.count() == 3
    assert {p.room_id for p in hh.members.all()} == {r.pk}
    assert room(worker_a, unit_a, "1-101", number="5").label == "5-1-101"


def test_search_indexes_exist_for_this_engine() -> None:
    """Exact ID search needs the UNIQUE blind index; name-prefix search (LIKE '王秀%') needs
    the engine-specific indexes of migration 0004 (see bench/person_search_bench.py)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "registry_person")
    assert any(c["unique"] and c["columns"] == ["id_number_bidx"] for c in constraints.values())
    if connection.vendor == "postgresql":
        assert "registry_person_name_scope_c" in constraints
    if connection.vendor == "sqlite":
        assert "registry_person_name_scope" in constraints
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM registry_person WHERE name LIKE %s ESCAPE '\\'",
                ["王秀%"],
            )
            assert "registry_person_name_scope" in str(cursor.fetchall())
