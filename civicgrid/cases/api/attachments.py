"""`POST /cases/{number}/attachments`: photos through the JSON API (multipart, field `files`,
one or more images), with the pages' validation and machine-readable refusals.

The stored attachments can then be named in `attachment_ids` of `handle` and `verify`, which
links them to that move's timeline row (cases/services/uploads.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from ninja import File, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from civicgrid.api import ApiError

from ..services.uploads import case_attachments_upload
from . import router
from .actions import NumberPath
from .common import _attachment, visible_case
from .schemas import AttachmentOut

# The validation layer's codes (cases/attachments.py) → (HTTP status, API code).
REFUSALS = {
    "too_large": (413, "attachment_too_large"),
    "unsupported_type": (400, "attachment_bad_type"),
    "corrupt_image": (400, "attachment_corrupt"),
    "too_many_files": (400, "attachment_too_many"),
    "missing": (400, "attachment_missing"),
}

DESCRIPTION = """
multipart/form-data,字段 `files`(可重复,一次最多 `CASE_UPLOAD_MAX_FILES` 张,默认 9)。

谁可以上传:待受理时的上报人(照片类型 `before`)、处置环节的承办人员(`after`)、
核查环节的本网格网格员(`verify`)。看不到该案件的用户得到 404,看得到但此刻不能上传的得到 403。

校验与页面相同:按内容识别类型(JPEG、PNG、WebP,安装 pillow-heif 时含 HEIC),单张大小与像素上限,
全部重新编码并去除 EXIF(含 GPS 位置);文件名不被使用,存储名随机。同一人向同一案件再次上传同一张
图片不会存两份,返回原附件且 `duplicate` 为 true(全部重复时状态码 200)。

错误代码:`attachment_too_large`(413)、`attachment_bad_type`、`attachment_corrupt`、
`attachment_too_many`、`attachment_missing`(400)、`forbidden`(403)、`not_found`(404)、
`conflict`(409,案件在上传过程中已变化)。

上传后可在 `POST /cases/{number}/handle` 或 `/verify` 的 `attachment_ids` 中引用这些附件,
它们随该操作一起记入时间线。
"""


class UploadedOut(AttachmentOut):
    duplicate: bool = Field(description="同一张图片此前已由您上传,返回的是原附件")


class UploadOut(Schema):
    number: str
    attachments: list[UploadedOut]


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | list | None = None


def _refused(exc: ValidationError) -> ApiError:
    errors = exc.error_dict.get("photos", []) if hasattr(exc, "error_dict") else exc.error_list
    first = errors[0] if errors else None
    status, code = REFUSALS.get(getattr(first, "code", ""), (400, "attachment_invalid"))
    message = ";".join(exc.messages) or "图片无效"
    return ApiError(status, code, message, {"files": exc.messages})


@router.post(
    "/{number}/attachments",
    response={
        200: UploadOut,
        201: UploadOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
    },  # fmt: skip
    summary="上传案件照片",
    description=DESCRIPTION,
)
def upload_attachments(request, number: str = NumberPath, files: File[list[UploadedFile]] = None):
    case = visible_case(request.user, number)
    try:
        uploaded = case_attachments_upload(case=case, actor=request.user, files=files or [])
    except ValidationError as exc:
        raise _refused(exc) from exc
    body = {
        "number": case.number,
        "attachments": [dict(_attachment(u.attachment), duplicate=u.duplicate) for u in uploaded],
    }
    return Status(201 if any(not u.duplicate for u in uploaded) else 200, body)
