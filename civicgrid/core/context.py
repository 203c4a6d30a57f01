"""Per-request context (request id, acting user) for audit rows and log lines.

Context variables rather than thread-locals so that the same code works under ASGI and in
background tasks, where a task sets the actor explicitly with `acting_as`.
"""

import contextlib
import uuid
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
actor_var: ContextVar[Any] = ContextVar("actor", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current_request_id() -> str:
    return request_id_var.get()


def current_actor() -> Any:
    return actor_var.get()


@contextlib.contextmanager
def acting_as(user: Any, request_id: str | None = None):
    """Run a block (a task, a command) as `user` so audit rows name who did it."""
    t1 = actor_var.set(user)
    t2 = request_id_var.set(request_id or new_request_id())
    try:
        yield
    finally:
        actor_var.reset(t1)
        request_id_var.reset(t2)
