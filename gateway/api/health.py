"""`/healthz` (the process answers), `/readyz` (database, queue, platform) and `/metrics`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select, text

from gateway.api.auth import services
from gateway.metrics import METRICS
from gateway.storage.models import OutboxMessage, Shipment

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: no dependency is consulted."""
    return jsonify({"status": "ok"})


def _platform_ok() -> tuple[bool, str]:
    try:
        platform = services().platform
    except Exception as exc:  # a missing or misconfigured platform is "not ready"
        return False, f"{type(exc).__name__}: {exc}"[:200]
    for name in ("health", "ping", "healthy", "ready"):
        probe = getattr(platform, name, None)
        if callable(probe):
            try:
                result = probe()
            except Exception as exc:
                return False, f"{type(exc).__name__}: {exc}"[:200]
            # a probe that answers nothing (None) or False means the platform is not reachable
            ok = result is not None and result is not False
            return ok, "ok" if ok else "no answer from the platform"
    return True, "no probe"


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 only when the database, the job queue and the platform answer."""
    svc = services()
    checks: dict[str, Any] = {}
    try:
        with svc.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"{type(exc).__name__}"
    checks["queue"] = "ok" if svc.executor.healthy() else "unavailable"
    ok, detail = _platform_ok()
    checks["platform"] = "ok" if ok else detail
    ready = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ready" if ready else "not_ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: this process's counters plus gauges read from the database."""
    svc = services()
    gauges: list[str] = []
    try:
        with svc.sessions() as db:
            by_status = db.execute(select(Shipment.status, func.count()).group_by(Shipment.status))
            gauges.append("# HELP gateway_shipments Shipments by status.")
            gauges.append("# TYPE gateway_shipments gauge")
            gauges.extend(f'gateway_shipments{{status="{s}"}} {n}' for s, n in by_status)
            by_outbox = db.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
            gauges.append("# HELP gateway_outbox_messages Outbox messages by status.")
            gauges.append("# TYPE gateway_outbox_messages gauge")
            gauges.extend(f'gateway_outbox_messages{{status="{s}"}} {n}' for s, n in by_outbox)
    except Exception:  # metrics must answer even when the database does not
        gauges = []
    body = METRICS.render() + ("\n".join(gauges) + "\n" if gauges else "")
    return Response(body, mimetype="text/plain; version=0.0.4")
