"""Template filter: may this user manage camera device keys (for the link on camera pages)."""

from django import template

from ..cameras import may_manage_keys

register = template.Library()


@register.filter
def may_manage_camera_keys(user) -> bool:
    return may_manage_keys(user)
