"""The in-app inbox (everyone): newest first, unread marked; opening a message marks it read
and goes to the case in the page that suits the reader (their own report or the case page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import notify, selectors

INBOX_PAGE = 30


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notifications_for(user=request.user, unread_only=unread_only)
    page = Paginator(qs, INBOX_PAGE).get_page(request.GET.get("page"))
    return render(request, "cases/work/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    notify.notification_mark_read(user=request.user)
    return redirect("cases:inbox")


@login_required
@require_GET
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    note = selectors.notifications_for(user=request.user).filter(pk=pk).first()
    if note is None:
        raise Http404("消息不存在")
    notify.notification_mark_read(user=request.user, ids=[note.pk])
    case = note.case
    if case is None:
        return redirect("cases:inbox")
    if case.reporter_id == request.user.pk:
        return redirect("cases:mine_case", pk=case.pk)
    return redirect("cases:case", pk=case.pk)
