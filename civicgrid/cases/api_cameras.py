"""`POST /api/v1/cameras/events`: events from video analytics, authenticated per device.

The device sends its key in `X-Device-Key` (missing or unknown → 401, a switched-off camera →
403, both in the API's error shape) and a multipart body: `category` (category code),
`description`, `snapshot` (image), and an idempotency key (`Idempotency-Key` header or
`idempotency_key` field) so a retried post makes one case: 201 the first time, 200 after.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import APIKeyHeader

from civicgrid.api import ApiError

from .cameras import camera_authenticate, camera_event_report
from .choices import RESIDENT_STATUS_TEXT
from .models import Camera, Category


class DeviceKeyAuth(APIKeyHeader):
    param_name = "X-Device-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Camera | None:
        if not key:
            return None  # ninja answers 401 "unauthorized"
        camera = camera_authenticate(raw=key)  # a revoked key raises → 403
        if camera is None:
            raise ApiError(401, "invalid_device_key", "设备密钥无效")
        request.camera = camera
        return camera


router = Router(tags=["cameras"], auth=DeviceKeyAuth())


class CameraEventOut(Schema):
    number: str
    status: str
    status_text: str
    camera: str
    located: bool
    locate_reason: str
    duplicate_suspected: bool
    created: bool


def _category(code: str) -> Category:
    category = Category.objects.active().minors().filter(code=(code or "").strip()).first()
    if category is None:
        raise ApiError(400, "unknown_category", "案件类别编码无效", {"category": code})
    return category


@router.post(
    "/events",
    response={200: CameraEventOut, 201: CameraEventOut},
    summary="监控设备上报事件(带截图)",
)
def camera_event(
    request: HttpRequest,
    category: Form[str],
    snapshot: File[UploadedFile],
    description: Form[str] = "",
    idempotency_key: Form[str] = "",
):
    camera: Camera = request.auth
    key = request.headers.get("Idempotency-Key") or idempotency_key
    reported = camera_event_report(
        camera=camera,
        category=_category(category),
        snapshot=snapshot,
        description=description[:2000],
        idempotency_key=key,
    )
    case = reported.case
    body = {
        "number": case.number,
        "status": case.status,
        "status_text": RESIDENT_STATUS_TEXT.get(case.status, case.get_status_display()),
        "camera": camera.code,
        "located": case.located,
        "locate_reason": case.locate_reason,
        "duplicate_suspected": case.duplicate_suspected,
        "created": reported.created,
    }
    return Status(201 if reported.created else 200, body)
