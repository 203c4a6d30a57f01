"""People (实有人口), households and special-group tags.

ID and phone numbers are never stored in clear: `*_enc` holds AES-GCM ciphertext and
`*_bidx` a keyed HMAC of the normalised number (civicgrid/core/crypto.py). The ID index is
UNIQUE, so the same person cannot be registered twice, by any path, on either engine.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core import crypto

from ..choices import TAG_SPECS, PersonStatus, Relation, Residency, Sex, TagKind
from .base import ScopedModel
from .places import Room

ID_PURPOSE = "person.id_number"
PHONE_PURPOSE = "person.phone"


class Household(ScopedModel):
    number = models.CharField(_("户号"), max_length=32, blank=True, db_index=True)
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("房屋"),
    )
    head = models.ForeignKey(
        "registry.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("户主"),
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        ordering = ["unit_path", "number", "id"]
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return f"户 {self.number or self.pk}"


class Person(ScopedModel):
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_enc = models.TextField(_("证件号码(密文)"), blank=True, editable=False)
    id_number_bidx = models.CharField(
        _("证件号码索引"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    phone_enc = models.TextField(_("电话(密文)"), blank=True, editable=False)
    phone_bidx = models.CharField(
        _("电话索引"), max_length=64, blank=True, db_index=True, editable=False
    )
    residency = models.CharField(
        _("人口类别"), max_length=12, choices=Residency.choices, default=Residency.REGISTERED
    )
    nationality = models.CharField(_("国籍"), max_length=40, default="中国")
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("所属户"),
    )
    relation = models.CharField(
        _("与户主关系"), max_length=12, choices=Relation.choices, blank=True
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("居住房屋"),
    )
    address = models.CharField(_("现住地址"), max_length=200, blank=True)
    registered_address = models.CharField(_("户籍地址"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["unit_path", "name", "id"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        indexes = [models.Index(fields=["unit_path", "name"], name="person_scope_name")]

    def __str__(self) -> str:
        return self.name

    # Decrypt on demand only; callers choose masked or (after a reveal) clear.
    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc, purpose=ID_PURPOSE)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc, purpose=PHONE_PURPOSE)

    @property
    def id_number_masked(self) -> str:
        return crypto.mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return crypto.mask_phone(self.phone)


class PersonTagQuerySet(models.QuerySet):
    def for_scope(self, scope):
        return self.filter(scope.path_q("person__unit_path"))

    def active(self):
        return self.filter(ended_on__isnull=True)


class PersonTag(models.Model):
    """A special/key-group membership with its own fields and a required visit frequency."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="tags", verbose_name=_("人员")
    )
    kind = models.CharField(_("类别"), max_length=20, choices=TagKind.choices)
    data = models.JSONField(_("专项信息"), default=dict, blank=True)
    visit_every_days = models.PositiveSmallIntegerField(_("走访周期(天)"))
    started_on = models.DateField(_("纳入日期"))
    ended_on = models.DateField(_("移出日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = PersonTagQuerySet.as_manager()

    class Meta:
        ordering = ["kind"]
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(ended_on__isnull=True),
                name="one_active_tag_per_kind",
            ),
            models.CheckConstraint(condition=Q(visit_every_days__gte=1), name="visit_every_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_kind_display()}"

    @property
    def spec(self):
        return TAG_SPECS[self.kind]
