from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区(村居)")
    GRID = "grid", _("网格")
    UNIT = "unit", _("基础网格单元")


# Which level a child of each level must be.
CHILD_LEVEL = {
    Level.DISTRICT: Level.STREET,
    Level.STREET: Level.COMMUNITY,
    Level.COMMUNITY: Level.GRID,
    Level.GRID: Level.UNIT,
}


class GridType(models.TextChoices):
    RESIDENTIAL = "residential", _("村居网格")
    BUSINESS = "business", _("商圈网格")
    BUILDING = "building", _("楼宇网格")


class PostRole(models.TextChoices):
    """The "1+1+1+N" staff of a grid, plus volunteer supervisors."""

    LEADER = "leader", _("网格长")
    INSTRUCTOR = "instructor", _("网格指导员")
    FULLTIME = "fulltime", _("专职网格员")
    FUNCTIONAL = "functional", _("职能网格员")
    SUPERVISOR = "supervisor", _("网格监督员")


SINGLE_POSTS = (PostRole.LEADER, PostRole.INSTRUCTOR, PostRole.FULLTIME)
