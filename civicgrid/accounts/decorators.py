"""View decorators that turn a user's scope into "may this person open this page at all".

Selectors already narrow every read to the user's scope, so a resident opening the register
would only see an empty list. But an empty register with "登记人员" and "Excel导入" buttons
is still the wrong page to offer someone who reports problems: the tools of the grid's staff
answer 403 with the reason, and the navigation (`context_processors.nav`) hides them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .scope import scope_of


def region_viewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first (anonymous → login page), then require a role that sees region-wide
    data (`UserScope.can_view_regions`: every role but resident)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not scope_of(request.user).can_view_regions():
            reason = _("此页面供网格和部门工作人员使用,您的账号没有辖区数据的查看权限")
            raise PermissionDenied(reason)
        return view(request, *args, **kwargs)

    return login_required(wrapped)
