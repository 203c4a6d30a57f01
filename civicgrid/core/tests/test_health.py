"""`/healthz`: open to load balancers, reports the database and the task queue, 503 when down."""

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_healthy(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["vendor"] == connection.vendor
    assert body["database"]["latency_ms"] >= 0
    assert body["tasks"]["status"] == "ok"
    assert "no-cache" in resp["Cache-Control"] or "max-age=0" in resp["Cache-Control"]


def test_database_task_backend_reports_queue(client, settings):
    settings.TASKS = DB_TASKS
    body = client.get("/healthz").json()
    assert body["tasks"] == {
        "backend": "DatabaseBackend", "status": "ok", "queued": 0, "failed": 0,
        "oldest_queued_age_s": 0,
    }  # fmt: skip


def test_database_down_is_503(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    resp = client.get("/healthz")
    monkeypatch.undo()
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "down"
    assert body["database"] == {"status": "down", "error": "OperationalError"}
    assert body["tasks"] == {"status": "unknown"}
    assert "connection refused" not in resp.content.decode()  # no internals leak


def test_task_queue_down_is_503(client, settings, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_TASKS

    def broken(*args, **kwargs):
        raise OperationalError("no such table")

    monkeypatch.setattr(DBTaskResult.objects, "ready", broken)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["tasks"]["status"] == "down"
    assert resp.json()["database"]["status"] == "ok"


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
