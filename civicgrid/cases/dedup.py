"""Duplicate detection (疑似重复, J2): two reports are suspected to be one problem when they are

* of the same minor category — or the same major class when the category allows it
  (`Category.duplicate_match_major`, e.g. the several kinds of rubbish);
* within the category's radius (`duplicate_radius_m`, haversine distance) and time window
  (`duplicate_window_h`, either side of the report, so the queue finds later ones too);
* and say similar things: cosine similarity of their jieba word sets at least
  `CASES_DUPLICATE_MIN_SIMILARITY`. A report with no words worth comparing (a camera snapshot
  with no text) is judged on category, place and time alone.

Only open cases are candidates: a closed problem that comes back is a new case (or a reopen).

Why jieba and a word-set cosine: Chinese has no spaces, so character n-grams would make "井盖"
and "盖子" look alike; jieba's dictionary ships inside its wheel (no download), and a set
cosine suits texts of one sentence better than Jaccard, which punishes the longer text.

Why rjieba, jieba's algorithm and dictionary in Rust (jieba-rs) rather than the Python jieba:
it cuts an intake's text 20-30x faster (~70 µs of an intake's ~1.8 ms became ~5), loads its
dictionary in 0.1 s instead of ~1 s per process, and keeps it outside Python's heap. On the
Chinese of every text in this repository, the seed article and DESIGN.md the words come out
the same as jieba's; the two differ only on Latin runs with a dot or an underscore
("manage.py" stays one word), which `tokens()` compares as it finds them
(docs/BENCHMARKS.md, tenth session).

Why the words are stored (`Case.text_tokens`, space-joined, written at intake): the check
runs on every intake and compares the new report with every candidate; re-cutting each
candidate's text made it the largest part of an intake when reports cluster
(200 candidates at one spot). Now the new text is cut once, candidates' words are read back
from the row, and only rows from before the field existed (NULL) are cut on the fly.
Candidates are prefiltered in SQL — same category, open, inside the time window and the
radius's lat/lng box — on the (category, lat, lng, created_at) index.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import rjieba
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.accounts.scope import scope_of
from civicgrid.core.audit import audit_record
from civicgrid.core.fastsql import rows_fetch
from civicgrid.core.models import AuditAction

from .choices import OPEN_STATUSES, Action
from .models import Case, DuplicateCandidate
from .permissions import is_centre, require_visible

EARTH_RADIUS_M = 6_371_008.8
MAX_SCAN = 200  # candidates read per check; the box query keeps it far below that in practice
STOPWORDS = frozenset(
    "的 了 是 在 有 和 就 都 也 很 还 又 被 把 给 让 这 那 个 些 我 你 他 她 它 们 啊 呢 吧 吗 呀 "
    "一个 没有 已经 现在 今天 昨天 这里 那里 这个 那个 非常 请 麻烦 谢谢 希望 一下 有人 反映 "
    "问题 情况 发现 存在".split()
)


def tokens(text: str) -> frozenset[str]:
    """Words worth comparing: no punctuation, spaces or stop words; Latin lower-cased."""
    text = (text or "").strip()[:2000]
    if not text:
        return frozenset()
    words = (w.strip().lower() for w in rjieba.cut(text))
    return frozenset(w for w in words if w and any(c.isalnum() for c in w) and w not in STOPWORDS)


def token_text(title: str, description: str) -> str:
    """The words of a report as stored on the case ("" when there is nothing to compare)."""
    return " ".join(sorted(tokens(_text(title, description))))


def stored_tokens(value: str) -> frozenset[str]:
    return frozenset(value.split())


def similarity(a: frozenset[str], b: frozenset[str]) -> float | None:
    """Cosine of two word sets; None when either has nothing to compare."""
    if not a or not b:
        return None
    return len(a & b) / math.sqrt(len(a) * len(b))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Match:
    candidate_id: int
    score: float
    similarity: float | None
    distance_m: float


def _text(title: str, description: str) -> str:
    return f"{title} {description}"


def _box(case: Case) -> dict:
    """Where candidates of `case` are looked for: its category (or every minor class of its
    major one), the time window either side and the radius's lat/lng box."""
    cat = case.category
    radius, window = cat.duplicate_radius_m, dt.timedelta(hours=cat.duplicate_window_h)
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * max(0.01, math.cos(math.radians(case.lat))))
    major = cat.parent_id if cat.duplicate_match_major and cat.parent_id else None
    return {
        "cat": cat.pk, "parent": major,
        "t0": case.created_at - window, "t1": case.created_at + window,
        "lat0": case.lat - dlat, "lat1": case.lat + dlat,
        "lng0": case.lng - dlng, "lng1": case.lng + dlng,
    }  # fmt: skip


def _nearby(case: Case) -> list[tuple]:
    """Open cases of the same (or related) category in the box around the case and its window.
    Raw SQL: this runs on every intake (also for a case not saved yet: pk None)."""
    box = _box(case)
    if box["parent"] is not None:
        which = "category_id IN (SELECT id FROM cases_category WHERE parent_id = %s)"
        params: list = [box["parent"]]
    else:
        which, params = "category_id = %s", [box["cat"]]
    adapt = connection.ops.adapt_datetimefield_value
    params += [adapt(box["t0"]), adapt(box["t1"])]
    params += [box["lat0"], box["lat1"], box["lng0"], box["lng1"]]
    params += [*_OPEN, case.pk or 0, MAX_SCAN]
    return rows_fetch(_NEARBY_SQL.format(which=which), params)


def search_box(case: Case) -> dict | None:
    """PostgreSQL's batch intake (services/intake_write.py): the same search as `_nearby`, as
    one JSON row `k` of `NEARBY_LATERAL`; None when the case cannot be compared."""
    if not comparable(case):
        return None
    box = _box(case)
    box["t0"], box["t1"] = box["t0"].isoformat(), box["t1"].isoformat()
    return box


_OPEN = sorted(OPEN_STATUSES)
_NEARBY_SQL = (
    "SELECT id, lat, lng, text_tokens, category_id FROM cases_case WHERE {which} "
    "AND created_at BETWEEN %s AND %s AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s "
    f"AND status IN ({', '.join(['%s'] * len(_OPEN))}) AND id <> %s "
    "ORDER BY created_at DESC LIMIT %s"
)
_OPEN_LITERALS = ", ".join(f"'{status.value}'" for status in _OPEN)  # plain ASCII words
# `_NEARBY_SQL` for a whole batch (services/intake_write.py), so that one statement reads the
# candidates of every intake of a batch. `SEARCH_CATEGORIES` turns each row `k` of
# `search_box` into its categories (its own, or every minor class of its major one), and
# `NEARBY_LATERAL` searches one of them (`s.cat`) with `_NEARBY_SQL`'s conditions. One
# category per search, as in `_NEARBY_SQL`: with the set as an array PostgreSQL took the
# created_at index for the window and filtered 30,000 rows of other categories (34 ms for a
# batch of three) instead of reading the (category, lat, lng, created_at) index.
SEARCH_CATEGORIES = (
    "unnest(CASE WHEN k.parent IS NULL THEN ARRAY[k.cat] "
    "ELSE ARRAY(SELECT id FROM cases_category WHERE parent_id = k.parent) END)"
)
NEARBY_LATERAL = (
    "SELECT id, lat, lng, text_tokens, category_id FROM cases_case WHERE category_id = s.cat "
    "AND created_at BETWEEN s.t0 AND s.t1 AND lat BETWEEN s.lat0 AND s.lat1 "
    "AND lng BETWEEN s.lng0 AND s.lng1 "
    f"AND status IN ({_OPEN_LITERALS}) "
    f"ORDER BY created_at DESC LIMIT {MAX_SCAN}"
)


def _words_of(rows: list[tuple]) -> dict[int, frozenset[str]]:
    """Each candidate's words: stored ones as they are, legacy rows (NULL) cut now."""
    words = {row[0]: stored_tokens(row[3]) for row in rows if row[3] is not None}
    legacy = [row[0] for row in rows if row[3] is None]
    if legacy:
        texts = Case.objects.filter(pk__in=legacy).values_list("pk", "title", "description")
        words.update((pk, tokens(_text(t, d))) for pk, t, d in texts)
    return words


def _own_words(case: Case) -> frozenset[str]:
    if case.text_tokens is not None:
        return stored_tokens(case.text_tokens)
    return tokens(_text(case.title, case.description))


def comparable(case: Case) -> bool:
    """Whether `case` can have duplicates at all: it needs a category and a point."""
    return case.category_id is not None and case.lat is not None and case.lng is not None


def duplicates_find(case: Case, *, limit: int = 10) -> list[Match]:
    """Suspected duplicates of `case`, best first (nothing without a category or a point)."""
    if not comparable(case):
        return []
    return matches_among(case, _nearby(case), limit=limit)


def matches_among(case: Case, rows: list[tuple], *, limit: int = 10) -> list[Match]:
    """The suspected duplicates among candidate rows (id, lat, lng, words, category), as
    `_nearby` or `NEARBY_LATERAL` read them, best first."""
    radius = max(1, case.category.duplicate_radius_m)
    threshold = float(settings.CASES_DUPLICATE_MIN_SIMILARITY)
    mine = _own_words(case)
    words = _words_of(rows)
    found = []
    for pk, lat, lng, _stored, category_id in rows:
        distance = haversine_m(case.lat, case.lng, lat, lng)
        if distance > radius:
            continue
        sim = similarity(mine, words[pk])
        if sim is not None and sim < threshold:
            continue
        closeness = 1 - distance / radius
        text_part = 0.5 if sim is None else sim
        score = 0.6 * text_part + 0.3 * closeness + 0.1 * (category_id == case.category_id)
        found.append(Match(pk, round(score, 3), sim, round(distance, 1)))
    found.sort(key=lambda m: (-m.score, m.candidate_id))
    return found[:limit]


# --- for the centre's queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class Suspect:
    case: Case
    score: float
    similarity: float | None
    distance_m: float


def case_duplicates(*, user, case: Case) -> list[Suspect]:
    """Cases the operator may merge `case` with, computed now (so a report that came in after
    this one shows too), limited to cases the user can see."""
    require_visible(user, case)
    matches = {m.candidate_id: m for m in duplicates_find(case)}
    if not matches:
        return []
    visible = Case.objects.for_scope(scope_of(user)).filter(pk__in=list(matches))
    cases = {c.pk: c for c in visible.select_related("category__parent")}
    return [
        Suspect(cases[pk], m.score, m.similarity, m.distance_m)
        for pk, m in matches.items()
        if pk in cases
    ]


def case_duplicates_dismiss(*, case: Case, actor, reason: str = "") -> Case:
    """The operator says "不是重复": the flag is cleared, the links stay as history."""
    require_visible(actor, case)
    if not is_centre(scope_of(actor), case):
        raise PermissionDenied("只有负责该区域的指挥中心人员可以执行此操作")
    from .services._core import timeline_note

    now = timezone.now()
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(duplicate_suspected=False, updated_at=now)
        DuplicateCandidate.objects.filter(case=case, dismissed_at__isnull=True).update(
            dismissed_at=now
        )
        timeline_note(case=case, actor=actor, action=Action.NOTE, reason=reason or "排除疑似重复")
        audit_record(
            action=AuditAction.CHANGE, obj=case, actor=actor,
            changes={"duplicate_suspected": [True, False]},
        )  # fmt: skip
    case.duplicate_suspected = False
    return case
