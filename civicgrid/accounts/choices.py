from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    OPERATOR = "operator", _("指挥中心操作员")
    HANDLER = "handler", _("部门处置人员")
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_INSTRUCTOR = "grid_instructor", _("网格指导员")
    GRID_WORKER = "grid_worker", _("专职网格员")
    FUNCTIONAL_WORKER = "functional_worker", _("职能网格员")
    SUPERVISOR = "supervisor", _("网格监督员")
    LEADER = "leader", _("领导")
    RESIDENT = "resident", _("居民")


# Roles whose assignment must name a department.
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.FUNCTIONAL_WORKER})
# Roles that sit in one grid (their region must be a grid).
GRID_ROLES = frozenset(
    {
        Role.GRID_LEADER,
        Role.GRID_INSTRUCTOR,
        Role.GRID_WORKER,
        Role.FUNCTIONAL_WORKER,
        Role.SUPERVISOR,
    }
)
# Roles that may only read.
READ_ONLY_ROLES = frozenset({Role.LEADER, Role.SUPERVISOR, Role.RESIDENT})
# Roles that see region-wide domain data (people, places, the map) within their region.
REGION_VIEW_ROLES = frozenset(set(Role) - {Role.RESIDENT})
