"""The Chinese admin: every model registered and reachable, writes through services, the
audit log and the locate-index version read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from civicgrid.accounts.models import ApiToken, RoleAssignment, User
from civicgrid.accounts.services import api_token_create
from civicgrid.core.models import AuditLog
from civicgrid.core.testing.factories import UserFactory, api_client
from civicgrid.grids import services
from civicgrid.grids.choices import PostRole
from civicgrid.grids.models import Department, GridPost, Region

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "accounts", "grids"}


@pytest.fixture
def su():
    return api_client(UserFactory(is_superuser=True, is_staff=True, username="root"))


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _audited(obj, action: str) -> bool:
    return AuditLog.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
    ).exists()


def test_every_model_is_registered():
    from django.apps import apps

    ours = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours - set(admin.site._registry) == set()


def test_every_changelist_and_change_page_answers(tree, su):
    services.grid_post_assign(grid=tree.grid_a, role=PostRole.LEADER, user=UserFactory())
    api_token_create(user=UserFactory(), name="x")
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        resp = su.get(_url(model, "changelist"))
        assert resp.status_code == 200, model
        obj = model._default_manager.first()
        if obj is not None:
            assert su.get(_url(model, "change", obj.pk)).status_code == 200, model


def test_admin_is_in_chinese(tree, su):
    html = su.get(_url(Region, "changelist")).content.decode()
    assert "区域/网格" in html and "层级" in html and "网格类型" in html


@pytest.mark.parametrize("model", [AuditLog, ApiToken])
def test_read_only_models_refuse_add(su, model):
    assert su.get(_url(model, "add")).status_code == 403


def test_audit_log_cannot_be_changed_or_deleted(su):
    UserFactory()
    from civicgrid.core.audit import audit_record

    row = audit_record(action="create", object_type="t.x", object_id="1")
    assert su.post(_url(AuditLog, "change", row.pk), {"action": "delete"}).status_code == 403
    assert su.post(_url(AuditLog, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_region_add_goes_through_the_service(tree, su):
    data = {"name": "估衣街5单元", "level": "unit", "code": "32080300100105",
            "parent": tree.grid_a.pk, "grid_type": ""}  # fmt: skip
    resp = su.post(_url(Region, "add"), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    region = Region.objects.get(code="32080300100105")
    assert region.path == tree.grid_a.path + "32080300100105/"
    assert _audited(region, "create")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "unit", "code": "32080300200105"}, "开头"),
        ({"level": "unit", "code": "32080300100101"}, ""),
        ({"level": "community", "code": "320803001002"}, "不能直接建"),
    ],
)
def test_region_add_shows_service_errors(tree, su, data, message):
    before = (Region.objects.count(), AuditLog.objects.count())
    post = {"name": "坏单元", "parent": tree.grid_a.pk, "grid_type": "", **data}
    resp = su.post(_url(Region, "add"), post)
    assert resp.status_code == 200 and "errornote" in resp.content.decode()
    assert message in resp.content.decode()
    assert (Region.objects.count(), AuditLog.objects.count()) == before


def test_region_change_renames_with_audit_and_keeps_code(tree, su):
    url = _url(Region, "change", tree.grid_a.pk)
    data = {"name": "估衣街新网格", "grid_type": "business", "is_active": "on",
            "code": "99999999999999"}  # fmt: skip
    assert su.post(url, data).status_code == 302
    tree.grid_a.refresh_from_db()
    assert tree.grid_a.name == "估衣街新网格" and tree.grid_a.code == "32080300100100"
    assert _audited(tree.grid_a, "change")
    assert "GeoJSON" in su.get(url).content.decode()


def test_region_cannot_be_deleted(tree, su):
    assert su.get(_url(Region, "delete", tree.units_a[0].pk)).status_code == 403


def test_department_add_and_change(tree, su):
    data = {"name": "住建局", "code": "zj", "region": tree.district.pk, "phone": "",
            "description": ""}  # fmt: skip
    assert su.post(_url(Department, "add"), data).status_code == 302
    dept = Department.objects.get(code="zj")
    assert _audited(dept, "create")
    change = {"name": "住房和城乡建设局", "phone": "0517-1234", "description": "住建",
              "is_active": "on"}  # fmt: skip
    assert su.post(_url(Department, "change", dept.pk), change).status_code == 302
    dept.refresh_from_db()
    assert dept.name == "住房和城乡建设局" and _audited(dept, "change")
    dup = {**data, "code": "cg"}
    resp = su.post(_url(Department, "add"), dup)
    assert resp.status_code == 200 and Department.objects.filter(code="cg").count() == 1


def test_grid_post_add_refuses_second_leader_and_ends_posts(tree, su):
    first = services.grid_post_assign(grid=tree.grid_a, role=PostRole.LEADER, user=UserFactory())
    data = {"grid": tree.grid_a.pk, "role": "leader", "user": UserFactory().pk}
    resp = su.post(_url(GridPost, "add"), data)
    assert resp.status_code == 200 and "已有" in resp.content.decode()
    assert GridPost.objects.count() == 1
    data = {"grid": tree.grid_a.pk, "role": "fulltime", "user": UserFactory().pk}
    assert su.post(_url(GridPost, "add"), data).status_code == 302
    resp = su.post(
        _url(GridPost, "changelist"),
        {"action": "end_posts", "_selected_action": [first.pk]},
    )
    assert resp.status_code == 302
    first.refresh_from_db()
    assert not first.is_active and not first.user.assignments.exists()


def test_user_add_uses_validators_and_audits(su):
    data = {"username": "zhaoliu", "name": "赵六", "phone": "0517-1", "usable_password": "true",
            "password1": "12345678", "password2": "12345678"}  # fmt: skip
    resp = su.post(_url(User, "add"), data)
    assert resp.status_code == 200 and not User.objects.filter(username="zhaoliu").exists()
    data |= {"password1": "Hexia-Grid-2024!", "password2": "Hexia-Grid-2024!"}
    assert su.post(_url(User, "add"), data).status_code == 302
    user = User.objects.get(username="zhaoliu")
    assert user.name == "赵六" and user.check_password("Hexia-Grid-2024!")
    assert _audited(user, "create")


def _user_change_post(user: User, rows: list[dict]) -> dict:
    data = {
        "username": user.username, "name": user.name, "phone": user.phone, "email": "",
        "is_active": "on", "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00",
        "assignments-TOTAL_FORMS": str(len(rows)), "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0", "assignments-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for i, row in enumerate(rows):
        for k, v in row.items():
            data[f"assignments-{i}-{k}"] = v
        data[f"assignments-{i}-user"] = user.pk
    return data


def test_user_inline_assigns_roles_through_the_service(tree, su):
    user = UserFactory()
    url = _url(User, "change", user.pk)
    bad = _user_change_post(user, [{"role": "grid_worker", "region": tree.street.pk}])
    resp = su.post(url, bad)
    assert resp.status_code == 200 and "网格岗位只能分配到网格" in resp.content.decode()
    assert not user.assignments.exists()
    good = _user_change_post(user, [{"role": "operator", "region": tree.street.pk}])
    resp = su.post(url, good)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    assignment = user.assignments.get()
    assert assignment.role == "operator" and _audited(assignment, "create")


def test_unlock_action(su):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() + timedelta(minutes=5))
    resp = su.post(
        _url(User, "changelist"), {"action": "unlock_users", "_selected_action": [user.pk]}
    )
    assert resp.status_code == 302
    user.refresh_from_db()
    assert not user.is_locked() and _audited(user, "change")


def test_role_assignment_admin_revokes_through_the_service(tree, su):
    from civicgrid.accounts.services import role_assign

    assignment = role_assign(user=UserFactory(), role="operator", region=tree.street)
    resp = su.post(_url(RoleAssignment, "delete", assignment.pk), {"post": "yes"})
    assert resp.status_code == 302
    assert not RoleAssignment.objects.exists() and _audited(assignment, "delete")


def test_token_revoke_action_and_hash_only(su):
    token, raw = api_token_create(user=UserFactory(), name="脚本")
    html = su.get(_url(ApiToken, "change", token.pk)).content.decode()
    assert token.token_hash in html and raw not in html
    resp = su.post(
        _url(ApiToken, "changelist"), {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert resp.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
