"""The seed category tree (DESIGN.md §3) and `categories_seed`, safe to run any number of times.

Each major class: (kind, code, name, default department code, limit type, handling limit,
minor classes). A minor class is a name or (name, keywords, overrides). Codes follow the
component-code lineage: kind letter + 2-digit major + 2-digit minor.
"""

from __future__ import annotations

from django.db import transaction

from civicgrid.grids.models import Department

from .choices import CategoryKind, LimitType
from .models import Category

E, C = CategoryKind.EVENT, CategoryKind.COMPONENT
WD, WH, UH = LimitType.WORK_DAYS, LimitType.WORK_HOURS, LimitType.URGENT_HOURS
AREA_DEFAULT = {"A": {"handle_share": 0.5}, "C": {"handle_share": 2.0}}

TREE = (
    (C, "01", "公用设施", "zhujian", WD, 3, (
        ("井盖缺失", "井盖 窨井 下水井 丢失", {"limit_type": UH, "handle_limit": 4}),
        ("井盖破损", "井盖 窨井 破损", {}),
        ("路灯损坏", "路灯 灯杆 不亮", {}),
        ("消防栓损坏", "消防栓 漏水", {}),
        ("供水设施损坏", "水表 供水", {}),
        ("其他", "", {}),
    )),
    (C, "02", "道路交通", "chengguan", WD, 3, (
        ("交通护栏损坏", "护栏", {}), ("交通标志损坏", "标志 标牌", {}),
        ("公交站亭损坏", "站亭 公交", {}), ("其他", "", {}),
    )),
    (C, "03", "市容环境", "chengguan", WD, 2, (
        ("垃圾箱损坏", "垃圾桶 果皮箱", {}), ("公厕设施损坏", "厕所 公厕", {}), ("其他", "", {}),
    )),
    (C, "04", "园林绿化", "chengguan", WD, 5, (
        ("行道树倒伏", "树木 倒树", {"limit_type": UH, "handle_limit": 8}),
        ("绿地护栏损坏", "绿化 护栏", {}), ("其他", "", {}),
    )),
    (C, "05", "房屋土地", "zhujian", WD, 5, (("危房", "房屋 倒塌 裂缝", {}), ("其他", "", {}))),
    (C, "06", "其他设施", "chengguan", WD, 5, (("其他", "", {}),)),
    (E, "01", "市容环境", "chengguan", WD, 2, (
        ("私搭乱建", "违建 违章搭建", {"handle_limit": 5}), ("暴露垃圾", "垃圾", {}),
        ("积存垃圾渣土", "渣土 垃圾", {}), ("道路不洁", "路面 脏", {}),
        ("水域不洁", "河道 漂浮物", {}), ("绿地脏乱", "绿地", {}), ("其他", "", {}),
    )),
    (E, "02", "宣传广告", "chengguan", WD, 2, (
        ("非法小广告", "小广告 牛皮癣", {}), ("违章张贴悬挂广告牌匾", "广告牌 牌匾", {}),
        ("占道广告牌", "广告牌 占道", {}), ("街头散发广告", "传单", {}), ("其他", "", {}),
    )),
    (E, "03", "施工管理", "zhujian", WD, 3, (
        ("施工扰民", "噪声 夜间施工", {}), ("工地扬尘", "扬尘 灰尘", {}),
        ("道路遗撒", "遗撒 渣土车", {}), ("施工废弃料", "建筑垃圾", {}), ("其他", "", {}),
    )),
    (E, "04", "突发事件", "yingji", UH, 4, (
        ("路面塌陷", "塌陷 坑", {}), ("自来水管破裂", "水管 爆管 漏水", {}),
        ("燃气管道破裂", "燃气 煤气 泄漏", {"handle_limit": 2}),
        ("下水道堵塞或破损", "下水道 堵塞 污水", {}), ("其他", "", {}),
    )),
    (E, "05", "街面秩序", "chengguan", WH, 4, (
        ("无照经营游商", "游商 摊贩", {}), ("流浪乞讨", "乞讨 流浪", {"default": "minzheng"}),
        ("占道废品收购", "废品", {}), ("店外经营", "出店经营 占道", {}),
        ("机动车乱停放", "停车 占道 消防通道", {"default": "gongan"}), ("其他", "", {}),
    )),
    (E, "06", "矛盾纠纷", "sifa", WD, 5, (
        ("劳资纠纷", "欠薪 工资", {"default": "renshe"}), ("邻里纠纷", "邻居", {}),
        ("婚姻家庭纠纷", "家庭", {}), ("物业纠纷", "物业", {"default": "zhujian"}),
        ("征地拆迁纠纷", "拆迁", {}), ("医患纠纷", "医院", {"default": "weiji"}), ("其他", "", {}),
    )),
    (E, "07", "治安隐患", "gongan", WD, 2, (
        ("治安隐患", "治安 可疑", {}), ("其他", "", {}),
    )),
    (E, "08", "安全生产", "yingji", WD, 2, (
        ("安全生产隐患", "安全 隐患 消防", {}), ("其他", "", {}),
    )),
    (E, "09", "民生服务", "minzheng", WD, 5, (
        ("求助", "帮助 困难", {}), ("咨询", "问", {}), ("建议", "意见", {}), ("其他", "", {}),
    )),
)  # fmt: skip


def _area_limits(handle: float) -> dict:
    return {
        cls: {"handle": round(handle * spec["handle_share"], 2)}
        for cls, spec in AREA_DEFAULT.items()
    }


def categories_seed() -> tuple[int, int]:
    """Create missing categories; existing ones (perhaps edited by administrators) are kept.
    Returns (created, kept)."""
    depts = {d.code: d for d in Department.objects.all()}
    created = kept = 0
    with transaction.atomic():
        for kind, mcode, mname, dept_code, ltype, limit, minors in TREE:
            major, new = Category.objects.get_or_create(
                code=f"{kind[0].upper()}{mcode}",
                defaults={"kind": kind, "name": mname, "sort": int(mcode)},
            )
            created, kept = created + new, kept + (not new)
            for i, (name, keywords, extra) in enumerate(minors, start=1):
                lt = extra.get("limit_type", ltype)
                handle = extra.get("handle_limit", limit)
                _, new = Category.objects.get_or_create(
                    code=f"{major.code}{i:02d}" if name != "其他" else f"{major.code}99",
                    defaults={
                        "kind": kind, "parent": major, "name": name, "keywords": keywords,
                        "limit_type": lt, "handle_limit": handle, "sort": i,
                        "area_limits": _area_limits(handle),
                        "default_department": depts.get(extra.get("default", dept_code)),
                        "acceptance_rule": f"属于{mname}类{name},位置明确,在管辖范围内",
                        "closing_rule": "问题已处置,网格员现场核查通过",
                    },
                )  # fmt: skip
                created, kept = created + new, kept + (not new)
    return created, kept
