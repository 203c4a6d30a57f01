"""Password login that locks an account after repeated failures."""

from django.contrib.auth.backends import ModelBackend

from . import services
from .models import User


class LockoutModelBackend(ModelBackend):
    """ModelBackend plus lockout: a locked account refuses even the right password.

    Failures are counted per account; after LOGIN_MAX_FAILURES the account is locked for
    LOGIN_LOCKOUT_MINUTES, and the lock and every failure are audited.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User._default_manager.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.is_locked():
            if request is not None:
                request.login_locked = True
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            services.login_succeeded(user=user)
            return user
        locked = services.login_failed(user=user)
        if locked and request is not None:
            request.login_locked = True
        return None
