"""The unread count for the inbox badge in the navigation bar, counted only when a page
actually draws it (lazy), so partial responses and anonymous pages cost nothing."""

from django.utils.functional import SimpleLazyObject


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from .notify import unread_count

        return unread_count(user)

    return {"INBOX_UNREAD": SimpleLazyObject(count)}
