"""Choice lists of the registry, and the special-group tag kinds with their own fields."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Residency(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    OVERSEAS = "overseas", _("境外人员")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已故")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class BuildingUse(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅")
    COMMERCIAL = "commercial", _("商业")
    OFFICE = "office", _("办公楼宇")
    MIXED = "mixed", _("商住混合")
    PUBLIC = "public", _("公共建筑")
    INDUSTRIAL = "industrial", _("厂房仓储")
    OTHER = "other", _("其他")


class PlaceKind(models.TextChoices):
    SQUARE = "square", _("广场")
    PARK = "park", _("公园绿地")
    MARKET = "market", _("农贸市场")
    SCENIC = "scenic", _("景区景点")
    PARKING = "parking", _("停车场")
    OTHER = "other", _("其他")


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    SHOP = "shop", _("个体商户")
    SOCIAL = "social", _("社会组织")
    SCHOOL = "school", _("学校")
    ALLIANCE = "alliance", _("党建联盟单位")
    GOVERNMENT = "government", _("机关事业单位")
    OTHER = "other", _("其他")


class OrgStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    CLOSED = "closed", _("已注销/关闭")


class ComponentState(models.TextChoices):
    NORMAL = "normal", _("完好")
    DAMAGED = "damaged", _("破损")
    MISSING = "missing", _("丢失")
    OCCUPIED = "occupied", _("被占用")
    REMOVED = "removed", _("已拆除")


# Component major classes (DESIGN.md §3, CJ/T 214 numbering) and a seed list of minor classes.
COMPONENT_MAJORS = {
    "01": "公用设施",
    "02": "道路交通",
    "03": "市容环境",
    "04": "园林绿化",
    "05": "房屋土地",
    "06": "其他设施",
}
COMPONENT_MINORS = {
    "01": {"01": "上水井盖", "02": "污水井盖", "03": "雨水井盖", "04": "电力井盖",
           "05": "通信井盖", "06": "消防栓", "07": "路灯", "08": "燃气井盖"},
    "02": {"01": "交通信号灯", "02": "交通标志牌", "03": "护栏", "04": "公交站亭",
           "05": "停车泊位", "06": "过街天桥"},
    "03": {"01": "公共厕所", "02": "垃圾箱", "03": "垃圾房", "04": "广告牌", "05": "报刊亭"},
    "04": {"01": "行道树", "02": "绿地", "03": "花坛", "04": "雕塑"},
    "05": {"01": "宣传栏", "02": "人防工事", "03": "地下通道"},
    "06": {"01": "监控电子眼", "02": "健身设施", "03": "充电桩", "04": "其他"},
}  # fmt: skip


class SubjectKind(models.TextChoices):
    """What a work-area record is about."""

    PERSON = "person", _("人员")
    HOUSEHOLD = "household", _("户")
    BUILDING = "building", _("楼栋")
    PLACE = "place", _("公共场所")
    ORGANISATION = "organisation", _("单位组织")
    COMPONENT = "component", _("部件")


class FieldType(models.TextChoices):
    """Types an administrator can give a record-type field."""

    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("选项")
    BOOL = "bool", _("是/否")
    PHONE = "phone", _("电话")
    PERSON = "person", _("人员")
    PLACE = "place", _("场所/楼栋")
    ORGANISATION = "organisation", _("单位组织")


class VisitTarget(models.TextChoices):
    HOUSEHOLD = "household", _("户")
    PERSON = "person", _("人员")
    ORGANISATION = "organisation", _("单位组织")


@dataclass(frozen=True)
class TagKindSpec:
    label: str
    visit_every_days: int
    fields: tuple[dict, ...] = ()


def _f(name: str, label: str, type_: str = "text", required: bool = False, choices=()) -> dict:
    d = {"name": name, "label": label, "type": type_, "required": required}
    if choices:
        d["choices"] = list(choices)
    return d


class TagKind(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    DISABLED = "disabled", _("残疾人")
    LOW_INCOME = "low_income", _("低保")
    VETERAN = "veteran", _("退役军人")
    CORRECTION = "correction", _("社区矫正")
    RELEASED = "released", _("刑满释放")
    MENTAL = "mental", _("严重精神障碍")
    DRUG_REHAB = "drug_rehab", _("吸毒康复")
    KEY_YOUTH = "key_youth", _("重点青少年")
    PETITIONER = "petitioner", _("信访")
    LEFT_BEHIND = "left_behind", _("留守儿童")


# Each kind's own fields (validated like record-type fields) and its default visit frequency.
TAG_SPECS: dict[str, TagKindSpec] = {
    TagKind.ELDERLY_ALONE: TagKindSpec("独居老人", 7, (
        _f("guardian_name", "监护人/联系人"),
        _f("guardian_phone", "联系人电话", "phone"),
        _f("health", "健康状况", "choice", choices=("良好", "一般", "较差", "失能")),
    )),
    TagKind.DISABLED: TagKindSpec("残疾人", 30, (
        _f("disability_type", "残疾类别", "choice", True,
           ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")),
        _f("level", "残疾等级", "choice", True, ("一级", "二级", "三级", "四级")),
        _f("certificate_no", "残疾证号"),
    )),
    TagKind.LOW_INCOME: TagKindSpec("低保", 30, (
        _f("certificate_no", "低保证号"),
        _f("monthly_amount", "月保障金额(元)", "number"),
        _f("since", "纳入时间", "date"),
    )),
    TagKind.VETERAN: TagKindSpec("退役军人", 90, (
        _f("branch", "服役部队"),
        _f("discharge_year", "退役年份", "number"),
    )),
    TagKind.CORRECTION: TagKindSpec("社区矫正", 7, (
        _f("correction_type", "矫正类别", "choice", True, ("管制", "缓刑", "假释", "暂予监外执行")),
        _f("end_date", "矫正期满日期", "date", True),
    )),
    TagKind.RELEASED: TagKindSpec("刑满释放", 30, (
        _f("release_date", "释放日期", "date", True),
        _f("offence", "原罪名"),
    )),
    TagKind.MENTAL: TagKindSpec("严重精神障碍", 14, (
        _f("risk_level", "危险性评估等级", "choice", True,
           ("0级", "1级", "2级", "3级", "4级", "5级")),
        _f("guardian_name", "监护人"),
        _f("guardian_phone", "监护人电话", "phone"),
    )),
    TagKind.DRUG_REHAB: TagKindSpec("吸毒康复", 14, (
        _f("programme", "类别", "choice", True, ("社区戒毒", "社区康复")),
        _f("start_date", "开始日期", "date"),
    )),
    TagKind.KEY_YOUTH: TagKindSpec("重点青少年", 30, (
        _f("category", "类别", "choice", True,
           ("闲散青少年", "流浪乞讨", "服刑人员子女", "不良行为")),
    )),
    TagKind.PETITIONER: TagKindSpec("信访", 30, (
        _f("subject", "信访事项"),
        _f("level", "重点程度", "choice", choices=("一般", "重点")),
    )),
    TagKind.LEFT_BEHIND: TagKindSpec("留守儿童", 30, (
        _f("guardian_name", "监护人"),
        _f("parents_location", "父母务工地"),
    )),
}  # fmt: skip
