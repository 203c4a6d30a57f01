from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。连续失败多次后账号将被临时锁定。"),
        "inactive": _("该账号已停用。"),
        "locked": _("登录失败次数过多,账号已临时锁定,请稍后再试或联系管理员。"),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "login_locked", False):
                raise ValidationError(self.error_messages["locked"], code="locked") from None
            raise
