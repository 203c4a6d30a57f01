"""Which staff tools the navigation bar offers, from the user's scope (decided lazily, only
when a page draws the bar)."""

from django.utils.functional import SimpleLazyObject

from .scope import scope_of


def nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"NAV_REGIONS": SimpleLazyObject(lambda: scope_of(user).can_view_regions())}
