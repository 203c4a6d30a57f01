"""Account pages: personal API tokens (J10: an integrator creates a token in the browser)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import services
from .models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("令牌名称"), max_length=100, strip=True)
    days = forms.IntegerField(
        label=gettext_lazy("有效天数"), min_value=1, max_value=3650, initial=365
    )


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, raw = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-id")
    status = 400 if request.method == "POST" and raw is None else 200
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": tokens, "raw": raw}, status=status
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token)
    messages.success(request, _("令牌“%(name)s”已吊销") % {"name": token.name})
    return redirect("accounts:tokens")
