"""Enumerations of the case loop (DESIGN.md §2, §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.worktime import LimitType as _Limit


class CategoryKind(models.TextChoices):
    EVENT = "event", _("事件")
    COMPONENT = "component", _("部件")


class LimitType(models.TextChoices):
    URGENT_HOURS = _Limit.URGENT_HOURS, _("紧急(自然小时)")
    WORK_HOURS = _Limit.WORK_HOURS, _("工作时")
    WORK_DAYS = _Limit.WORK_DAYS, _("工作日")
    NATURAL_DAYS = _Limit.NATURAL_DAYS, _("自然日")


class AreaClass(models.TextChoices):
    A = "A", _("A类(核心区域)")
    B = "B", _("B类")
    C = "C", _("C类")


class Step(models.TextChoices):
    """A clocked step of the loop; each has its own limit and traffic light."""

    DISPATCH = "dispatch", _("派遣")
    HANDLE = "handle", _("处置")
    VERIFY = "verify", _("核查")


class Source(models.TextChoices):
    RESIDENT = "resident", _("群众上报")
    GRID_WORKER = "grid_worker", _("网格员采集")
    CAMERA = "camera", _("视频监控")
    HOTLINE = "hotline", _("热线电话")
    OFFICIAL = "official", _("领导交办")
    OPEN311 = "open311", _("Open311 接口")


class Status(models.TextChoices):
    REPORTED = "reported", _("待研判")
    ACCEPTED = "accepted", _("已立案")
    REJECTED = "rejected", _("不予立案")
    MERGED = "merged", _("已合并")
    DISPATCHED = "dispatched", _("待签收")
    SIGNED = "signed", _("处置中")
    HANDLED = "handled", _("待核查")
    VERIFIED = "verified", _("核查通过")
    CLOSED = "closed", _("已结案")
    RATED = "rated", _("已评价")
    RETURNED = "returned", _("已退回")
    SUSPENDED = "suspended", _("已挂账")


# Plain words for residents (J1: "已收到,正在研判").
RESIDENT_STATUS_TEXT = {
    Status.REPORTED: "已收到,正在研判",
    Status.ACCEPTED: "已立案,正在安排处理",
    Status.REJECTED: "未予立案",
    Status.MERGED: "已与相同问题合并处理",
    Status.DISPATCHED: "已交相关部门处理",
    Status.SIGNED: "正在处理",
    Status.HANDLED: "已处理,正在现场核实",
    Status.VERIFIED: "已核实解决",
    Status.CLOSED: "已办结,欢迎评价",
    Status.RATED: "已办结,感谢您的评价",
    Status.RETURNED: "正在重新安排处理部门",
    Status.SUSPENDED: "需长期处理,已列入计划",
}

OPEN_STATUSES = frozenset(
    {
        Status.REPORTED,
        Status.ACCEPTED,
        Status.DISPATCHED,
        Status.SIGNED,
        Status.HANDLED,
        Status.VERIFIED,
        Status.RETURNED,
        Status.SUSPENDED,
    }
)
FINISHED_STATUSES = frozenset({Status.CLOSED, Status.RATED})
TERMINAL_STATUSES = frozenset({Status.REJECTED, Status.MERGED})


class Action(models.TextChoices):
    """Every kind of timeline row. Transitions are listed in workflow.py."""

    REPORT = "report", _("上报")
    HANDLE_ON_SPOT = "handle_on_spot", _("就地处置")
    ACCEPT = "accept", _("立案")
    REJECT = "reject", _("不予立案")
    MERGE = "merge", _("合并")
    DISPATCH = "dispatch", _("派遣")
    SIGN = "sign", _("签收")
    HANDLE = "handle", _("处置反馈")
    VERIFY_PASS = "verify_pass", _("核查通过")
    VERIFY_FAIL = "verify_fail", _("核查不通过(返工)")
    CLOSE = "close", _("结案")
    RATE = "rate", _("评价")
    REOPEN = "reopen", _("重新办理")
    RETURN = "return", _("退回")
    EXTEND_REQUEST = "extend_request", _("申请延期")
    EXTEND_APPROVE = "extend_approve", _("同意延期")
    EXTEND_REFUSE = "extend_refuse", _("不同意延期")
    SUSPEND = "suspend", _("挂账")
    RESUME = "resume", _("恢复办理")
    ESCALATE = "escalate", _("上报上级")
    YELLOW_CARD = "yellow_card", _("黄牌督办")
    RED_CARD = "red_card", _("红牌督办")
    RELOCATE = "relocate", _("重新定位")
    NOTE = "note", _("备注")


class Card(models.TextChoices):
    NONE = "", _("无")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


class Light(models.TextChoices):
    NONE = "none", _("不计时")
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    SNAPSHOT = "snapshot", _("监控截图")
    VERIFY = "verify", _("核查照片")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("未同意")
    CANCELLED = "cancelled", _("已撤销")
