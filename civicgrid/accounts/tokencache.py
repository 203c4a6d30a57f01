"""Per-process memory of which user an API token belongs to, and that user's scope.

Why: every API call with a token looked its user up (a join of tokens and users) and then
built the user's scope (a join of role assignments and regions): two queries and a User row
per request, a tenth of a case intake's CPU time (docs/BENCHMARKS.md, "Case intake").

How it stays correct: it is a `RefCache` (core/refcache.py) named "accounts.auth". Every
save or delete of a user, token, role assignment or region bumps that counter in the same
transaction (signals in apps.py; `api_token_revoke` bumps it itself, since it updates with a
queryset), so a revoked token, a deactivated user or a changed role is seen by every process
at its next request. Expiry is checked against the clock on every use, and "last used" is
still written at most every 5 minutes.

What is kept is the row, not the object: each request gets a fresh `User` (requests may set
attributes on theirs) sharing one immutable `UserScope`.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from civicgrid.core.refcache import RefCache, refcache_bump

from .models import User
from .scope import UserScope, build_scope

AUTH = "accounts.auth"
MAX_ENTRIES = 10_000  # tokens remembered per process; beyond, the memory starts afresh


@dataclass
class TokenEntry:
    """A usable token: its user's row (`field_names` → `values`) and scope."""

    token_pk: int
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    field_names: tuple[str, ...]
    values: tuple
    scope: UserScope


class _Tokens:
    def __init__(self) -> None:
        self.entries: dict[str, TokenEntry] = {}
        self.lock = threading.Lock()


_memory = RefCache(AUTH, _Tokens)


def token_entry_get(token_hash: str) -> TokenEntry | None:
    return _memory.get().entries.get(token_hash)


def token_entry_put(token_hash: str, user, *, token_pk: int, expires_at, last_used_at) -> None:
    """Remember a token found in the database just now (in this request, so after the
    counters were read: a change committed since is caught by the next request's read)."""
    tokens = _memory.get()
    names = tuple(f.attname for f in user._meta.concrete_fields)
    entry = TokenEntry(
        token_pk=token_pk,
        expires_at=expires_at,
        last_used_at=last_used_at,
        field_names=names,
        values=tuple(getattr(user, name) for name in names),
        scope=build_scope(user),
    )
    with tokens.lock:
        if len(tokens.entries) >= MAX_ENTRIES:
            tokens.entries.clear()
        tokens.entries[token_hash] = entry
    user._civicgrid_scope = entry.scope


def entry_user(entry: TokenEntry) -> User:
    """A fresh User for this request from the remembered row, its scope already attached."""
    user = User.from_db("default", entry.field_names, entry.values)
    user._civicgrid_scope = entry.scope
    return user


def on_auth_change(**kwargs) -> None:
    refcache_bump(AUTH)
