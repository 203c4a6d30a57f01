"""Device keys of the cameras (J5), for administrators and command-centre operators.

The list shows each camera's key prefix only. "更换密钥" rotates the key through
`camera_key_rotate` (compare-and-set on the key the page showed, audited): the old key stops
working at once and the new one is shown on the answer page once, never stored in clear and
never shown again. "停用" switches a camera off (its key is refused until the next rotation),
with the same compare-and-set. Out-of-scope cameras are 404, users without a key role 403, a
key that someone else rotated (or a camera switched off) since the page was drawn 409.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..cameras import KeyChanged, camera_key_get, camera_key_list, camera_key_rotate, camera_revoke
from ..cameras import may_manage_keys as _may_manage

PAGE_SIZE = 50


def _require_key_role(request: HttpRequest) -> None:
    if not _may_manage(request.user):
        raise PermissionDenied("只有系统管理员和指挥中心人员可以管理监控设备密钥")


def _listing(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    q = (request.GET.get("q") or request.POST.get("q", "")).strip()[:30]  # kept after a 409
    qs = camera_key_list(user=request.user)
    if q:
        qs = qs.filter(code__icontains=q) | qs.filter(name__icontains=q)
    page = Paginator(qs.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "q": q, "error": error}
    return render(request, "cases/cameras/keys.html", context, status=status)


@login_required
@require_GET
def camera_keys(request: HttpRequest) -> HttpResponse:
    _require_key_role(request)
    return _listing(request)


@never_cache
@login_required
@require_POST
def camera_key_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Rotate and show the new key once. The answer is not cached and a reload re-posts with
    the old prefix, which is refused (409): the key cannot be shown a second time."""
    _require_key_role(request)
    camera = camera_key_get(user=request.user, pk=pk)
    expected = request.POST.get("expected_prefix", "")[:12]
    try:
        raw = camera_key_rotate(camera=camera, actor=request.user, expected_prefix=expected)
    except KeyChanged as exc:
        return _listing(request, error=f"{camera.code}:{exc.message}", status=409)
    events_url = request.build_absolute_uri(reverse("api-1:camera_event"))
    context = {"camera": camera, "raw_key": raw, "events_url": events_url}
    return render(request, "cases/cameras/key_shown.html", context)


@login_required
@require_POST
def camera_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a camera off, then back to the list (with the search kept) and a message."""
    _require_key_role(request)
    camera = camera_key_get(user=request.user, pk=pk)
    expected = request.POST.get("expected_prefix", "")[:12]
    try:
        camera_revoke(camera=camera, actor=request.user, expected_prefix=expected)
    except KeyChanged as exc:
        return _listing(request, error=f"{camera.code}:{exc.message}", status=409)
    messages.success(request, _("%(code)s 已停用,更换密钥后恢复上报。") % {"code": camera.code})
    q = request.POST.get("q", "").strip()[:30]
    return redirect(reverse("cases:camera_keys") + (f"?q={quote(q)}" if q else ""))
