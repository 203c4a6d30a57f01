"""Supervision notices (督办) from the periodic loop, notifications and the SMS log."""

import datetime as dt
import logging

import pytest
from django.core.management import call_command

from civicgrid.cases import notify, services
from civicgrid.cases.choices import Action, Card
from civicgrid.cases.models import CaseEvent, Escalation, Notification
from civicgrid.cases.scheduler import raise_escalations, resolve_stale_escalations, run_once

from .factories import make_category, report, to_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue_case(tree, actors):
    category = make_category(tree.dept, limit_type="natural_days", handle=2)
    return to_status(actors, report(actors, category), tree, "signed")


def test_yellow_at_the_limit_then_red_beyond_and_idempotent(overdue_case, actors, caplog):
    case = overdue_case
    assert raise_escalations(case.step_deadline - dt.timedelta(seconds=1)) == 0
    caplog.set_level(logging.INFO, logger="civicgrid.sms")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
        assert raise_escalations(case.step_deadline) == 1
    assert raise_escalations(case.step_deadline) == 0  # idempotent
    case.refresh_from_db()
    assert case.card == Card.YELLOW
    assert Notification.objects.filter(recipient=actors.handler, verb="yellow_card").count() == 1
    assert "黄牌督办" in caplog.text and "短信" in caplog.text
    assert raise_escalations(case.step_red_at) == 1
    assert raise_escalations(case.step_red_at + dt.timedelta(days=3)) == 0
    case.refresh_from_db()
    assert case.card == Card.RED
    assert list(Escalation.objects.filter(case=case).values_list("level", flat=True)) == [
        Card.RED, Card.YELLOW,
    ]  # fmt: skip
    actions = set(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {Action.YELLOW_CARD, Action.RED_CARD} <= actions
    assert notify.unread_count(actors.handler) >= 2


def test_moving_on_resolves_the_notices(overdue_case, actors):
    case = overdue_case
    raise_escalations(case.step_red_at)
    services.case_handle(case=case, actor=actors.handler, note="已处理")
    assert case.card == ""
    assert not Escalation.objects.filter(case=case, resolved_at__isnull=True).exists()
    assert resolve_stale_escalations(case.updated_at) == 0


def test_a_missed_scheduler_run_raises_both_cards_at_once(overdue_case):
    assert raise_escalations(overdue_case.step_red_at + dt.timedelta(days=1)) == 2


def test_suspended_cases_are_not_chased(overdue_case, actors):
    services.case_suspend(case=overdue_case, actor=actors.operator, reason="长期")
    assert raise_escalations(dt.datetime(2100, 1, 1, tzinfo=dt.UTC)) == 0


def test_run_once_and_the_command(overdue_case):
    assert run_once(overdue_case.step_deadline)["raise_escalations"] == 1
    call_command("run_scheduler", "--once")


def test_sms_backend_is_never_silent(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CASES_SMS_BACKEND = ""
    with pytest.raises(ImproperlyConfigured):
        notify.sms_backend()
    settings.CASES_SMS_BACKEND = "civicgrid.cases.notify.NoSuchBackend"
    with pytest.raises(ImproperlyConfigured):
        notify.sms_backend()


def test_log_backend_masks_the_number(caplog):
    caplog.set_level(logging.INFO, logger="civicgrid.sms")
    notify.LogSmsBackend().send("13912345678", "测试短信")
    assert "测试短信" in caplog.text and "13912345678" not in caplog.text


def test_reporter_and_handlers_are_told(tree, actors, category):
    case = to_status(actors, report(actors, category), tree, "handled")
    verbs = set(Notification.objects.filter(case=case).values_list("verb", flat=True))
    assert {"accepted", "dispatched", "handled", "to_verify"} <= verbs
    assert Notification.objects.filter(recipient=actors.worker, verb="to_verify").exists()
    assert notify.notification_mark_read(user=actors.resident) >= 3
    assert notify.unread_count(actors.resident) == 0


def test_merge_tells_every_reporter(tree, actors, category):
    from civicgrid.core.testing.factories import user_with_role

    other = user_with_role("resident", tree.street, username="res2")
    a = report(actors, category)
    b = report(actors, category, reporter=other)
    services.case_merge(case=b, into=a, actor=actors.operator)
    n = Notification.objects.get(recipient=other, verb="merged")
    assert a.number in n.text
