"""The 11 key work areas of the Hexia article and a starter set of record types.

Installed by a data migration (so every deployment starts with them) and kept editable:
administrators rename areas, assign departments and add record types without code.
"""

from __future__ import annotations


def f(name: str, label: str, type_: str = "text", required: bool = False, choices=()) -> dict:
    d = {"name": name, "label": label, "type": type_, "required": required}
    if choices:
        d["choices"] = list(choices)
    return d


# (code, name, owning department codes as seeded by the Hexia demo)
WORK_AREAS = [
    ("party", "组织党建", ("zongzhi",)),
    ("health", "卫计服务", ("weiji",)),
    ("governance", "政法综治", ("zongzhi", "gongan", "sifa")),
    ("upkeep", "长效管理", ("zhujian", "chengguan")),
    ("civil", "民政服务", ("minzheng",)),
    ("social_security", "社会保障", ("renshe",)),
    ("safety", "安全生产", ("yingji", "shichang")),
    ("environment", "环境保护", ("huanbao",)),
    ("urban", "城市管理", ("chengguan",)),
    ("emergency", "应急管理", ("yingji",)),
    ("civility", "文明创建", ("minzheng", "zongzhi")),
]

# (area code, record type code, name, subject kind, fields)
RECORD_TYPES = [
    ("party", "party_member", "党员信息", "person", [
        f("joined_on", "入党日期", "date", True),
        f("branch", "所在支部", "text", True),
        f("role", "党内职务", "choice", choices=("普通党员", "支部书记", "支部委员", "党小组长")),
        f("model_household", "党员示范户", "bool"),
    ]),
    ("party", "alliance_activity", "共建活动", "organisation", [
        f("topic", "活动主题", "text", True),
        f("participants", "参加人数", "number"),
    ]),
    ("health", "pregnancy_followup", "孕产妇随访", "person", [
        f("due_date", "预产期", "date", True),
        f("visit_no", "随访次数", "number", True),
        f("risk", "风险等级", "choice", True, ("低风险", "一般风险", "较高风险", "高风险")),
    ]),
    ("health", "chronic_followup", "慢病随访", "person", [
        f("disease", "病种", "choice", True, ("高血压", "糖尿病", "冠心病", "慢阻肺")),
        f("control", "控制情况", "choice", True, ("控制满意", "控制不满意", "不良反应")),
        f("doctor", "家庭医生"),
    ]),
    ("governance", "dispute_mediation", "矛盾纠纷调解", "household", [
        f("kind", "纠纷类型", "choice", True, ("邻里纠纷", "婚姻家庭", "劳资纠纷", "物业纠纷",
                                               "征地拆迁", "其他")),
        f("result", "调解结果", "choice", True, ("调解成功", "调解中", "调解不成转诉讼")),
        f("parties", "当事人数", "number"),
        f("mediator", "调解员"),
    ]),
    ("governance", "key_person_check", "重点人员排查", "person", [
        f("result", "排查结果", "choice", True, ("稳定", "需关注", "需稳控")),
        f("note", "情况说明"),
    ]),
    ("upkeep", "building_patrol", "楼栋长效管理巡查", "building", [
        f("issue", "发现问题", "choice", True, ("无", "楼道堆物", "外墙脱落", "管道破损",
                                             "违规搭建")),
        f("rectified", "已整改", "bool"),
    ]),
    ("civil", "elderly_allowance", "高龄津贴发放", "person", [
        f("month", "发放月份", "date", True),
        f("amount", "金额(元)", "number", True),
    ]),
    ("civil", "assistance", "临时救助", "household", [
        f("reason", "救助原因", "choice", True, ("因病", "因灾", "因学", "其他")),
        f("amount", "金额(元)", "number", True),
    ]),
    ("social_security", "insurance_enrolment", "参保登记", "person", [
        f("kind", "险种", "choice", True, ("城乡居民养老保险", "城乡居民医疗保险",
                                           "职工养老保险", "职工医疗保险")),
        f("enrolled_on", "参保日期", "date", True),
    ]),
    ("social_security", "employment_aid", "就业援助", "person", [
        f("service", "服务内容", "choice", True, ("岗位推荐", "技能培训", "创业指导")),
        f("employed", "已就业", "bool"),
    ]),
    ("safety", "safety_inspection", "安全生产检查", "organisation", [
        f("hazards", "发现隐患数", "number", True),
        f("level", "隐患等级", "choice", True, ("无", "一般隐患", "重大隐患")),
        f("rectified", "已整改", "bool"),
    ]),
    ("environment", "pollution_check", "环保检查", "organisation", [
        f("kind", "检查类别", "choice", True, ("餐饮油烟", "噪声", "污水排放", "扬尘")),
        f("result", "结果", "choice", True, ("合格", "限期整改", "立案查处")),
    ]),
    ("urban", "component_patrol", "部件巡查", "component", [
        f("condition", "部件状况", "choice", True, ("完好", "破损", "丢失", "被占用")),
        f("note", "说明"),
    ]),
    ("emergency", "fire_check", "消防安全检查", "building", [
        f("extinguishers", "灭火器数量", "number", True),
        f("passage_clear", "消防通道畅通", "bool", True),
    ]),
    ("emergency", "drill", "应急演练", "organisation", [
        f("topic", "演练科目", "choice", True, ("消防疏散", "防汛", "地震避险", "燃气泄漏")),
        f("participants", "参加人数", "number"),
    ]),
    ("civility", "civilised_household", "文明家庭评选", "household", [
        f("year", "年度", "number", True),
        f("result", "结果", "choice", True, ("推荐", "入选", "未入选")),
    ]),
    ("civility", "volunteer_service", "志愿服务", "person", [
        f("activity", "服务项目", "choice", True, ("敬老助老", "环境整治", "文明劝导",
                                                  "疫情防控", "助学")),
        f("hours", "服务时长(小时)", "number", True),
    ]),
]  # fmt: skip


def install(apps=None) -> None:
    """Create missing areas and record types; never overwrites an administrator's edits."""
    if apps is None:
        from django.apps import apps as apps_registry

        apps = apps_registry
    WorkArea = apps.get_model("registry", "WorkArea")
    RecordType = apps.get_model("registry", "RecordType")
    areas = {}
    for order, (code, name, _depts) in enumerate(WORK_AREAS, start=1):
        areas[code], _ = WorkArea.objects.get_or_create(
            code=code, defaults={"name": name, "order": order}
        )
    for area_code, code, name, subject, fields in RECORD_TYPES:
        RecordType.objects.get_or_create(
            code=code,
            defaults={"area": areas[area_code], "name": name, "subject_kind": subject,
                      "fields": fields},
        )  # fmt: skip


def link_departments() -> int:
    """Give each area its owning departments where those departments exist (demo codes)."""
    from civicgrid.grids.models import Department

    from .models import WorkArea

    by_code = {d.code: d for d in Department.objects.all()}
    linked = 0
    for code, _name, dept_codes in WORK_AREAS:
        area = WorkArea.objects.filter(code=code).first()
        depts = [by_code[c] for c in dept_codes if c in by_code]
        if area is not None and depts and not area.departments.exists():
            area.departments.add(*depts)
            linked += len(depts)
    return linked
