"""Template filters of the workbenches."""

from django import template
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def age(value, now=None) -> str:
    """How long ago, in its largest unit only ("6 日"): a queue column must stay narrow."""
    if not value:
        return ""
    return timesince(value, now, depth=1)
