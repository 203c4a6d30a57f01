"""`/healthz`: the state of the database and the task queue, for load balancers and operators."""

import time

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return {"status": "down", "error": exc.__class__.__name__}
    return {
        "status": "ok",
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _check_tasks() -> dict:
    from django.conf import settings

    backend = settings.TASKS["default"]["BACKEND"]
    info: dict = {"backend": backend.rsplit(".", 1)[-1]}
    try:
        if backend.startswith("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            ready = DBTaskResult.objects.ready()
            oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
            info["queued"] = ready.count()
            info["failed"] = DBTaskResult.objects.failed().count()
            info["oldest_queued_age_s"] = (
                round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
            )
        elif backend.startswith("django_tasks_rq"):
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        return {**info, "status": "down", "error": exc.__class__.__name__}
    return {**info, "status": "ok"}


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database()}
    checks["tasks"] = (
        _check_tasks() if checks["database"]["status"] == "ok" else {"status": "unknown"}
    )
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )
