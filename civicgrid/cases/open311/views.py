"""Open311 GeoReport v2 endpoints (http://wiki.open311.org/GeoReport_v2) and FixMyStreet's
`servicerequestupdates` extension.

Discovery, services and service definitions are public. Writing needs `api_key`: a personal
API token (the same as `Authorization: Bearer cg_…` on /api/v1), whose user becomes the
reporter, so the case is theirs to follow and scope works as everywhere else. Reading
requests and updates also needs a key (or a signed-in session): our cases include
neighbour disputes and safety hazards that are not for anonymous listing, a deliberate
deviation from open public read; what a key sees is that user's case scope.
"""

from __future__ import annotations

import functools
import logging

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.accounts.services import api_token_authenticate
from civicgrid.core.context import actor_var

from .. import selectors, services
from ..choices import FINISHED_STATUSES, OPEN_STATUSES, TERMINAL_STATUSES, Action, Source
from ..models import Case, CaseEvent, Category
from ..services._core import timeline_note
from . import inputs
from . import serializers as ser
from .render import Open311Error, error_response, respond

log = logging.getLogger(__name__)
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_RESULTS = 1000
CLOSED = list(FINISHED_STATUSES | TERMINAL_STATUSES)


def endpoint(methods: tuple[str, ...] = ("GET",)):
    """Method check and the error shape for every refusal; never a 500 page to a client."""

    def wrap(view):
        @functools.wraps(view)
        def inner(request, fmt: str, **kwargs):
            if request.method not in methods:
                return error_response(fmt, 405, _("不支持该方法 / method not allowed"))
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.status, exc.description)
            except Exception as exc:  # noqa: BLE001 — service refusals, then the unexpected
                return _refusal(fmt, exc)

        return csrf_exempt(inner)

    return wrap


def _refusal(fmt: str, exc: Exception):
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    if isinstance(exc, ValidationError):
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        return error_response(fmt, 400, ";".join(messages) or _("数据有误 / invalid data"))
    if isinstance(exc, PermissionDenied):
        return error_response(fmt, 403, str(exc) or _("无权执行此操作 / forbidden"))
    if isinstance(exc, Http404):
        return error_response(fmt, 404, _("不存在 / not found"))
    log.exception("open311 error")
    return error_response(fmt, 500, _("服务器内部错误 / internal error"))


def _user(request, *, required: bool = True):
    """The api_key's user (also the audit actor), else a signed-in session user."""
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if key:
        user = api_token_authenticate(raw=key)
        if user is None:
            raise Open311Error(403, _("api_key 无效 / api_key is invalid"))
        request.user = user
        actor_var.set(user)
        return user
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    if required:
        raise Open311Error(403, _("缺少 api_key / api_key is required"))
    return None


def _services() -> QuerySet[Category]:
    return Category.objects.active().minors().select_related("parent").order_by("code")


# --- discovery and services ----------------------------------------------------------------


@endpoint()
def discovery(request, fmt: str):
    base = request.build_absolute_uri("/open311/v2/")
    latest = Category.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    data = ser.discovery(base, latest or timezone.now())
    return respond(data, fmt, "discovery")


@endpoint()
def service_list(request, fmt: str):
    rows = [ser.service_row(c) for c in _services()]
    return respond(rows, fmt, "services", "service")


@endpoint()
def service_definition(request, fmt: str, code: str):
    category = _services().filter(code=code).first()
    if category is None:
        raise Open311Error(
            404, _("服务不存在 / service_code %(code)s not found") % {"code": code[:16]}
        )
    return respond(ser.service_definition(category), fmt, "service_definition")


# --- requests ------------------------------------------------------------------------------


@endpoint(("GET", "POST"))
def requests(request, fmt: str):
    if request.method == "POST":
        return _create(request, fmt)
    return _list(request, fmt)


def _case_rows(user) -> QuerySet[Case]:
    media = CaseEvent.objects.filter(action=Action.NOTE, data__has_key="media_url")
    return selectors.case_list(user=user).prefetch_related(
        Prefetch("events", queryset=media, to_attr="media_notes")
    )


def _list(request, fmt: str):
    user = _user(request)
    params = request.GET
    qs = _case_rows(user)
    ids = inputs.id_list(params, "service_request_id")
    if ids:  # the specification: other parameters are ignored when ids are given
        qs = qs.filter(number__in=ids)
    else:
        qs = _filtered(qs, params)
    rows = [ser.request_row(c) for c in qs.order_by("-created_at", "-id")[:MAX_RESULTS]]
    return respond(rows, fmt, "service_requests", "request")


def _filtered(qs: QuerySet[Case], params) -> QuerySet[Case]:
    codes = inputs.id_list(params, "service_code", 16)
    if codes:
        qs = qs.filter(category__code__in=codes)
    span = inputs.window(params, DEFAULT_DAYS, MAX_DAYS)
    qs = qs.filter(created_at__gte=span.start, created_at__lte=span.end)
    wanted = inputs.statuses(params)
    if wanted == ["open"]:
        qs = qs.filter(status__in=list(OPEN_STATUSES))
    elif wanted == ["closed"]:
        qs = qs.filter(status__in=CLOSED)
    return qs


def _create(request, fmt: str):
    user = _user(request)
    params = request.POST
    code = inputs.text(params, "service_code", 16, required=True)
    key = request.headers.get("Idempotency-Key") or inputs.text(params, "idempotency_key", 64)
    key = (key or "").strip()[:64]
    category = _services().filter(code=code).first()
    if category is None:  # a client retrying after the service was withdrawn has its case
        first = services.case_of_submission(reporter=user, source=Source.OPEN311, key=key)
        if first is None:
            unknown = _("服务不存在 / unknown service_code %(code)s") % {"code": code}
            raise Open311Error(400, unknown)
        return _created(first, user, fmt)
    lat, lng, address = inputs.position(params)
    description = inputs.text(params, "description", 4000)
    title = inputs.text(params, "attribute[title]", 100) or (description or category.name)[:30]
    parts = (inputs.text(params, "last_name", 25), inputs.text(params, "first_name", 25))
    name = "".join(p for p in parts if p)  # Chinese order: family name first, no space
    media = inputs.media_url(params)
    result = services.case_report(
        source=Source.OPEN311,
        title=title,
        description=description,
        category=category,
        lat=lat,
        lng=lng,
        address=address,
        reporter=user,
        reporter_name=name or user.display_name,
        reporter_phone=inputs.text(params, "phone", 20),
        anonymous=inputs.flag(params, "attribute[anonymous]"),
        idempotency_key=key,
        actor=user,
    )
    case = result.case
    if media and result.created:
        timeline_note(case=case, actor=user, reason="外部图片链接", data={"media_url": media})
    return _created(case, user, fmt)


def _created(case, user, fmt: str):
    """The answer to a POST: the new request, or the first one of a repeated submission."""
    notice = _("已收到,正在研判")
    if not case.located:
        notice += _(";位置需人工确认 / location to be confirmed by the centre")
    row = {"service_request_id": case.number, "service_notice": notice, "account_id": str(user.pk)}
    return respond([row], fmt, "service_requests", "request")


@endpoint()
def request_detail(request, fmt: str, request_id: str):
    user = _user(request)
    case = _case_rows(user).filter(number=request_id[:20]).first()
    if case is None:
        raise Open311Error(404, _("请求不存在 / service request not found"))
    return respond([ser.request_row(case)], fmt, "service_requests", "request")


@endpoint()
def token(request, fmt: str, token: str):
    """Our POST answers the id at once; a token is the `Idempotency-Key` a client sent."""
    user = _user(request)
    case = (
        selectors.case_list(user=user)
        .filter(source=Source.OPEN311, reporter=user, idempotency_key=token[:64])
        .first()
    )
    if case is None:
        raise Open311Error(404, _("令牌不存在 / token not found"))
    return respond(
        [{"service_request_id": case.number, "token": token}], fmt, "service_requests", "request"
    )


# --- FixMyStreet servicerequestupdates -----------------------------------------------------


@endpoint(("GET", "POST"))
def request_updates(request, fmt: str):
    if request.method == "POST":
        return _add_update(request, fmt)
    user = _user(request)
    span = inputs.window(request.GET, DEFAULT_DAYS, MAX_DAYS)
    visible = selectors.case_list(user=user).values("pk")
    events = (
        CaseEvent.objects.filter(case__in=visible, action__in=list(ser.PUBLIC_ACTIONS))
        .filter(at__gte=span.start, at__lte=span.end)
        .select_related("case")
        .order_by("at", "id")[:MAX_RESULTS]
    )
    rows = [ser.update_row(e) for e in events]
    return respond(rows, fmt, "service_requests_updates", "request_update")


def _add_update(request, fmt: str):
    """A comment from the client on a request it can see: one timeline note, no move."""
    user = _user(request)
    number = inputs.text(request.POST, "service_request_id", 20, required=True)
    description = inputs.text(request.POST, "description", 2000, required=True)
    case = selectors.case_list(user=user).filter(number=number).first()
    if case is None:
        raise Open311Error(404, _("请求不存在 / service request not found"))
    event = timeline_note(case=case, actor=user, reason=description, data={"via": "open311"})
    return respond([{"update_id": str(event.pk)}], fmt, "service_request_updates", "request_update")


def not_found(request, *args, **kwargs):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error_response(fmt, 404, _("接口不存在 / unknown Open311 resource"))
