"""The JSON API under /api/v1/: one NinjaAPI, one error shape, session or token auth.

Every error answers `{"code": <machine code>, "message": <Chinese text>, "details": …}`.
"""

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from civicgrid.accounts.services import api_token_authenticate
from civicgrid.core.context import actor_var
from civicgrid.grids.geometry import BoundaryError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _token_user(request, raw: str):
    """Resolve a token and make its user the request's user *and* the audit actor.

    CurrentUserMiddleware ran before authentication and saw an anonymous session, so without
    setting the actor here writes made with a token would be audited as "system". The
    middleware's reset of its own context token restores the outer value afterwards.
    """
    user = api_token_authenticate(raw=raw or "")
    if user is not None:
        request.user = user
        actor_var.set(user)
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cg_…` with a personal API token (stored hashed)."""

    def authenticate(self, request, token):
        return _token_user(request, token)


class TokenHeaderAuth(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request, key):
        return _token_user(request, key)


class Utf8JSONRenderer(JSONRenderer):
    """Every answer as compact JSON with Chinese written as UTF-8, as the case intake writes its
    own (cases/api/cases.py `_answer`): ninja's default escaped each Chinese character as
    `\\uXXXX` and padded with spaces, so the same API answered in two styles, and an error
    message was unreadable in a log or a curl session."""

    json_dumps_params = {"ensure_ascii": False, "separators": (",", ":")}


api = NinjaAPI(
    title="civicgrid API",
    version="1.0.0",
    description="网格化社会治理平台 JSON API. Errors: {code, message, details}.",
    urls_namespace="api-1",
    auth=[TokenAuth(), TokenHeaderAuth(), SessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=Utf8JSONRenderer(),
)


def _error(request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def on_validation(request, exc: NinjaValidationError):
    details = [
        {"loc": [str(p) for p in e.get("loc", [])], "type": e.get("type"), "msg": e.get("msg")}
        for e in exc.errors
    ]
    return _error(request, 422, "validation_error", _("请求参数有误"), details)


def _error_codes(exc: DjangoValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        errors = [e for errs in exc.error_dict.values() for e in errs]
    else:
        errors = exc.error_list
    return [e.code for e in errors if getattr(e, "code", None)]


@api.exception_handler(DjangoValidationError)
def on_django_validation(request, exc: DjangoValidationError):
    """Service refusals: 400, `details` keyed by field. The machine code is the first error's
    own `code` when a service set one (e.g. "duplicate"), else "invalid"."""
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    message = ";".join(m for msgs in details.values() for m in msgs)
    codes = _error_codes(exc)
    return _error(request, 400, codes[0] if codes else "invalid", message or _("数据有误"), details)


@api.exception_handler(BoundaryError)
def on_boundary_error(request, exc: BoundaryError):
    """Geometry refusals keep their own machine code and say where the problem is."""
    return _error(request, 400, exc.code, exc.message, {"where": exc.where})


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc: SuspiciousOperation):
    """Oversized bodies (RequestDataTooBig) and similar: refused, not a 500."""
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "too_large", _("请求内容过大"))
    return _error(request, 400, "bad_request", _("请求无效"))


@api.exception_handler(AuthenticationError)
def on_auth(request, exc):
    return _error(request, 401, "unauthorized", _("未登录或令牌无效"))


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _error(request, 403, "forbidden", str(exc) or _("无权执行此操作"))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", _("对象不存在或不在您的权限范围内"))


HTTP_CODES = {
    400: ("bad_request", gettext_lazy("请求无法解析")),
    405: ("method_not_allowed", gettext_lazy("不支持该方法")),
    429: ("throttled", gettext_lazy("请求过于频繁,请稍后再试")),
}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code, message = HTTP_CODES.get(exc.status_code, (f"http_{exc.status_code}", str(exc)))
    return _error(request, exc.status_code, code, str(message), {"reason": str(exc)})


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    log.exception("unhandled API error")
    return _error(request, 500, "internal_error", _("服务器内部错误,请稍后再试"))


def register_routers() -> None:
    from civicgrid.accounts.api import router as accounts_router
    from civicgrid.cases.api import router as cases_router
    from civicgrid.cases.api_cameras import router as cameras_router
    from civicgrid.grids.api import router as grids_router
    from civicgrid.registry.api import router as registry_router

    # The busiest routes first: Django tries URL patterns in order, and the intake's path used
    # to be matched only after every grids and registry pattern had been tried.
    api.add_router("/cases", cases_router)
    api.add_router("/cameras", cameras_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/", grids_router)
    api.add_router("/registry", registry_router)


register_routers()


def api_not_found(request, *args, **kwargs):
    """Unknown URLs under /api/v1/ answer in the API's error shape, not Django's HTML page."""
    from django.http import JsonResponse

    body = {"code": "not_found", "message": _("接口不存在"), "details": {"path": request.path}}
    return JsonResponse(body, status=404, json_dumps_params=Utf8JSONRenderer.json_dumps_params)
