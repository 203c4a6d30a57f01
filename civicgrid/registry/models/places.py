"""Places: buildings, rooms (dwellings) and public places."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import BuildingUse, PlaceKind
from .base import ScopedModel


class Building(ScopedModel):
    name = models.CharField(_("楼栋名称"), max_length=100)
    number = models.CharField(_("楼号"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("地址"), max_length=200, db_index=True)
    floors = models.PositiveSmallIntegerField(
        _("层数"), default=1, validators=[MaxValueValidator(200)]
    )
    use = models.CharField(
        _("用途"), max_length=16, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        ordering = ["unit_path", "number", "id"]
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "number"], condition=~models.Q(number=""), name="uniq_building_no"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Room(ScopedModel):
    """A dwelling or unit of a building, labelled `<building>-<entrance>-<number>` (3-2-501)."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("楼栋")
    )
    entrance = models.CharField(_("单元"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    number = models.CharField(_("房号"), max_length=20)

    class Meta:
        ordering = ["building_id", "entrance", "number"]
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "number"], name="uniq_room_in_building"
            )
        ]

    def __str__(self) -> str:
        return f"{self.building.name} {self.label}"

    @property
    def label(self) -> str:
        parts = [self.building.number if self.building_id else "", self.entrance, self.number]
        return "-".join(p for p in parts if p)


class PublicPlace(ScopedModel):
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=PlaceKind.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        ordering = ["unit_path", "name"]
        verbose_name = _("公共场所")
        verbose_name_plural = _("公共场所")

    def __str__(self) -> str:
        return self.name
