"""Photos uploaded on their own (the JSON API's `POST /cases/{number}/attachments`) and claimed
later by the handle or verify move that took them.

Who may upload follows the pages: the reporter while the case is reported ("before" photos),
the handler while the case is theirs to handle ("after"), the grid staff while it waits for
verification ("verify"). Everyone else who can see the case is refused (403); those who
cannot see it get 404 (`require_visible`). An upload is all or nothing: every file is
validated first (cases/attachments.py: type by content, size, pixels, EXIF stripped), then the
rows are written in one transaction with the permission checked again against the case row
as it is at commit time (compare-and-set), so a case that moved meanwhile answers 409 and
leaves no row and no file. The same picture uploaded again by the same person to the same case
is not stored twice: the first attachment is returned, marked as a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from civicgrid.core.audit import audit_record
from civicgrid.core.models import AuditAction

from ..attachments import (
    PreparedImage,
    attachment_files,
    attachment_store,
    files_delete,
    images_prepare,
)
from ..choices import Action, AttachmentKind, Status
from ..models import Attachment, Case, CaseEvent
from ..permissions import is_handler, is_reporter, is_verifier, require_visible
from ..workflow import CaseConflict, allowed_actions
from ._core import authorize
from .transitions import case_handle, case_verify

FIELD = "attachment_ids"
NOT_NOW = "此刻您不能为该案件上传照片(上报后待受理时由上报人、处置时由承办人员、核查时由网格员上传)"


@dataclass(frozen=True)
class Uploaded:
    attachment: Attachment
    duplicate: bool


def upload_kind(*, user, case: Case) -> str | None:
    """The kind of photo `user` may add to `case` now, or None. Raises CaseNotFound when the
    case is outside the user's scope."""
    scope = require_visible(user, case)
    if case.status == Status.REPORTED and is_reporter(scope, case):
        return AttachmentKind.BEFORE
    allowed = allowed_actions(case.status)
    if Action.HANDLE in allowed and is_handler(scope, case):
        return AttachmentKind.AFTER
    if Action.VERIFY_PASS in allowed and is_verifier(scope, case):
        return AttachmentKind.VERIFY
    return None


def _per_case_limit() -> int:
    return int(getattr(settings, "CASE_UPLOAD_MAX_PER_CASE", 50))


def _too_many(message: str) -> ValidationError:
    return ValidationError({"photos": [ValidationError(message, code="too_many_files")]})


def _same_picture(image: PreparedImage, earlier: Attachment) -> bool:
    """Re-encoding is deterministic, so the same upload gives the same stored bytes; compare
    cheap fields first and read the stored file only when they all match."""
    if (earlier.size, earlier.width, earlier.height, earlier.content_type) != (
        len(image.variants["file"]), image.width, image.height, image.content_type,
    ):  # fmt: skip
        return False
    try:
        with earlier.file.open("rb") as fh:
            return fh.read() == image.variants["file"]
    except OSError:
        return False


def case_attachments_upload(*, case: Case, actor, files: Sequence) -> list[Uploaded]:
    """Validate and store photos for `case` (see the module docstring for who and when)."""
    kind = upload_kind(user=actor, case=case)
    if kind is None:
        raise PermissionDenied(NOT_NOW)
    images = images_prepare(files)
    if not images:
        raise ValidationError({"photos": [ValidationError("请选择要上传的图片", code="missing")]})
    earlier = list(case.attachments.filter(uploaded_by=actor, kind=kind))
    if case.attachments.count() + len(images) > _per_case_limit():
        raise _too_many(f"每个案件最多 {_per_case_limit()} 张图片")
    written: list[str] = []
    try:
        with transaction.atomic():
            out = _store_all(case, actor, kind, images, earlier, written)
            _recheck(case, actor, kind)
            new = [u.attachment.pk for u in out if not u.duplicate]
            audit_record(action=AuditAction.CREATE, obj=case, actor=actor,
                         changes={"attachments": new, "kind": kind})  # fmt: skip
    except Exception:
        files_delete(written)
        raise
    return out


def _store_all(case, actor, kind, images, earlier, written) -> list[Uploaded]:
    out: list[Uploaded] = []
    for image in images:
        seen = next((a for a in earlier if _same_picture(image, a)), None)
        if seen is not None:
            out.append(Uploaded(seen, True))
            continue
        att = attachment_store(case=case, image=image, kind=kind, uploaded_by=actor)
        written.extend(attachment_files(att))
        earlier.append(att)
        out.append(Uploaded(att, False))
    return out


def _recheck(case: Case, actor, kind: str) -> None:
    """Compare-and-set: after the rows are written (on SQLite the write lock is held from the
    first insert; on PostgreSQL the case row is locked here), the case must still be in a
    state where this user may add this kind of photo."""
    fresh = Case.objects.select_for_update().filter(pk=case.pk).first()
    if fresh is None or upload_kind(user=actor, case=fresh) != kind:
        raise CaseConflict("案件已变化,请刷新后重新上传")


# --- claimed by a move -------------------------------------------------------------------------


def _claimable(*, case: Case, actor, ids: Sequence[int], kind: str) -> list[int]:
    """Ids of the actor's own unclaimed photos of this kind on this case; anything else is a
    400 `attachment_unknown` before the move is tried."""
    wanted = sorted(set(ids))
    if len(wanted) > int(settings.CASE_UPLOAD_MAX_FILES):
        raise _too_many(f"一次最多关联 {settings.CASE_UPLOAD_MAX_FILES} 张图片")
    found = set(
        case.attachments.filter(
            pk__in=wanted, uploaded_by=actor, kind=kind, event__isnull=True
        ).values_list("pk", flat=True)
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        message = f"附件 {', '.join(map(str, missing))} 不存在、已被使用或不是您为此环节上传的照片"
        raise ValidationError({FIELD: [ValidationError(message, code="attachment_unknown")]})
    return wanted


def _link(case: Case, ids: list[int], actions: Sequence[str]) -> None:
    event = CaseEvent.objects.filter(case=case, action__in=actions).order_by("-id").first()
    rows = Attachment.objects.filter(pk__in=ids, case=case, event__isnull=True).update(event=event)
    if rows != len(ids):  # claimed by another move meanwhile
        raise CaseConflict("照片已被其他操作使用,请刷新后重试")


def case_handle_with_uploads(
    *, case: Case, actor, note: str, attachment_ids: Sequence[int] = (), version=None
) -> Case:
    """处置 with "after" photos uploaded beforehand; the move and the claim commit together."""
    if attachment_ids:
        authorize(case, actor, Action.HANDLE)  # a wrong move or actor says so before the ids
    ids = _claimable(case=case, actor=actor, ids=attachment_ids, kind=AttachmentKind.AFTER)
    with transaction.atomic():
        case_handle(case=case, actor=actor, note=note, version=version)
        if ids:
            _link(case, ids, [Action.HANDLE])
    return case


def case_verify_with_uploads(
    *,
    case: Case,
    actor,
    passed: bool,
    reason: str = "",
    attachment_ids: Sequence[int] = (),
    version=None,
) -> Case:
    """核查 with photos uploaded beforehand; the move and the claim commit together."""
    if attachment_ids:
        authorize(case, actor, Action.VERIFY_PASS if passed else Action.VERIFY_FAIL)
    ids = _claimable(case=case, actor=actor, ids=attachment_ids, kind=AttachmentKind.VERIFY)
    with transaction.atomic():
        case_verify(case=case, actor=actor, passed=passed, reason=reason, version=version)
        if ids:
            _link(case, ids, [Action.VERIFY_PASS, Action.VERIFY_FAIL])
    return case
