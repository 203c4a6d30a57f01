"""Duplicate detection: category, radius, time window, jieba text; merge tells everyone."""

import datetime as dt

import pytest
import time_machine

from civicgrid.cases import dedup, services
from civicgrid.cases.choices import Source
from civicgrid.cases.models import Case, DuplicateCandidate, Notification
from civicgrid.cases.permissions import CaseNotFound
from civicgrid.core.testing.factories import user_with_role

from .factories import IN_A, make_category

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 9, 1, 21, 40, tzinfo=dt.UTC)
M_PER_DEG_LAT = 111_195.0


def _report(reporter, category, *, text="估衣街井盖没了,很危险", north_m=0.0, source="resident"):
    return services.case_report(
        source=source, title=text[:30], description=text, category=category,
        lat=IN_A[0] + north_m / M_PER_DEG_LAT, lng=IN_A[1], reporter=reporter,
    ).case  # fmt: skip


def test_tokens_drop_punctuation_and_stopwords():
    words = dedup.tokens("估衣街的井盖没了,很危险!")
    assert "井盖" in words and "的" not in words and "," not in words and "很" not in words
    assert dedup.similarity(words, frozenset()) is None


def test_tokens_are_jiebas_words():
    """The words Python jieba 0.42 gave for these texts (rjieba must keep giving them: stored
    words of earlier cases are compared with new ones), Latin lower-cased."""
    assert dedup.tokens("估衣街 42 号门口井盖缺失,行人经过有危险 Street Lamp") == {
        "估衣", "街", "42", "号", "门口", "井盖", "缺失", "行人", "经过", "危险", "street", "lamp",
    }  # fmt: skip
    assert dedup.tokens("和平路与解放路交叉口的红绿灯坏了,早高峰车辆拥堵严重") == {
        "和平路", "与", "解放路", "交叉口", "红绿灯", "坏", "早", "高峰", "车辆", "拥堵", "严重",
    }  # fmt: skip


def test_haversine_is_metres():
    assert dedup.haversine_m(33.5, 119.14, 33.5 + 100 / M_PER_DEG_LAT, 119.14) == pytest.approx(
        100, abs=0.5
    )


def test_same_manhole_within_radius_and_window_is_flagged(tree, actors, category):
    other = user_with_role("resident", tree.street, username="r2")
    with time_machine.travel(START, tick=False):
        first = _report(actors.resident, category)
    with time_machine.travel(START + dt.timedelta(hours=10), tick=False):
        second = _report(other, category, text="估衣街上井盖缺失", north_m=30)
    assert not first.duplicate_suspected and second.duplicate_suspected
    link = DuplicateCandidate.objects.get(case=second)
    assert link.candidate == first and 29 < link.distance_m < 31 and 0 < link.score <= 1
    note = second.events.get(reason="疑似重复")
    assert note.data["duplicate_candidates"] == [first.pk]


def test_outside_radius_window_or_other_text_is_not_flagged(tree, actors, category):
    with time_machine.travel(START, tick=False):
        _report(actors.resident, category)
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        far = _report(actors.resident, category, north_m=80)  # radius 50 m
    with time_machine.travel(START + dt.timedelta(hours=25), tick=False):
        late = _report(actors.resident, category)  # window 24 h
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        unrelated = _report(actors.resident, category, text="小区门口路灯一直闪烁不亮")
    assert not any(c.duplicate_suspected for c in (far, late, unrelated))


def test_category_rules_same_minor_or_major_when_allowed(tree, actors, category):
    sibling = make_category(tree.dept, code="C0102", name="井盖破损")
    with time_machine.travel(START, tick=False):
        _report(actors.resident, category)
        assert not _report(actors.resident, sibling).duplicate_suspected
        sibling.duplicate_match_major = True
        sibling.save()
        assert _report(actors.resident, sibling).duplicate_suspected


def test_snapshot_without_text_is_judged_on_place_and_time(tree, actors, category):
    with time_machine.travel(START, tick=False):
        _report(actors.resident, category)
        cam = _report(None, category, text="!!", source=Source.CAMERA)
    assert cam.duplicate_suspected


def test_queue_view_finds_later_reports_and_dismiss_clears_the_flag(tree, actors, category):
    with time_machine.travel(START, tick=False):
        first = _report(actors.resident, category)
        second = _report(actors.resident, category)
    suspects = dedup.case_duplicates(user=actors.operator, case=first)
    assert [s.case.pk for s in suspects] == [second.pk]
    with pytest.raises(CaseNotFound):
        dedup.case_duplicates(user=actors.outsider, case=second)
    dedup.case_duplicates_dismiss(case=second, actor=actors.operator, reason="不同井盖")
    second.refresh_from_db()
    assert not second.duplicate_suspected
    assert DuplicateCandidate.objects.get(case=second).dismissed_at is not None


def test_merge_tells_every_reporter_about_the_survivor(
    tree, actors, category, caplog, django_capture_on_commit_callbacks
):
    other = user_with_role("resident", tree.street, username="r3")
    with time_machine.travel(START, tick=False):
        survivor = _report(actors.resident, category)
        dup = _report(other, category)
        caller = services.case_report(
            source=Source.HOTLINE, title="井盖没了", description="估衣街井盖没了",
            category=category, lat=IN_A[0], lng=IN_A[1], reporter_phone="13912345678",
            actor=actors.operator,
        ).case  # fmt: skip
    services.case_merge(case=caller, into=dup, actor=actors.operator)
    with (
        caplog.at_level("INFO", logger="civicgrid.sms"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.case_merge(case=dup, into=survivor, actor=actors.operator)
    note = Notification.objects.get(recipient=other, verb="merged")
    assert survivor.number in note.text
    # The caller of the case merged earlier is told too, by SMS (the log backend).
    assert Case.objects.get(pk=caller.pk).merged_into_id == survivor.pk
    sms = [r.getMessage() for r in caplog.records if r.name == "civicgrid.sms"]
    assert len(sms) == 1 and survivor.number in sms[0] and "139****5678" in sms[0]
