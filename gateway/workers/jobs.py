"""rq entry points: ids in, status out; the services are built once per process."""

from __future__ import annotations

import os

import structlog

from gateway.config import Settings
from gateway.jobs.run import run_shipment
from gateway.services import Services
from gateway.wiring import build_services

log = structlog.get_logger(__name__)


def warm_up(services: Services) -> None:
    """Load, once, what every job needs: pipeline, rules, parsers' client side, codec, ruleset.

    rq runs each job in a work horse forked from the worker: whatever the worker has loaded
    before the fork, every horse has for free. Without this each job paid ~0.4 s of imports
    and ruleset parsing. Failures are only logged: a cold horse still works.
    """
    try:
        # loaded for the horses
        import gateway.parsers.serialize
        import gateway.pipeline  # noqa: F401
        from gateway.codec import prepare
        from gateway.domain import CodeOccurrence, ExtractionMethod, Report, SourceRef

        prepare(Report)
        code = CodeOccurrence(
            raw="(01)09506000134352(21)WARMUP",
            source=SourceRef(document_id="warm-up", row=1),
            method=ExtractionMethod.INPUT,
        )
        services.code_checker([code], shipment_id="warm-up", history=None)
    except Exception:  # an optimisation, never a reason not to work
        log.warning("worker_warm_up_failed", exc_info=True)


_PROCESS_SERVICES: tuple[int, Services] | None = None


def _process_services() -> Services:
    global _PROCESS_SERVICES
    if _PROCESS_SERVICES is None or _PROCESS_SERVICES[0] != os.getpid():
        _PROCESS_SERVICES = (os.getpid(), build_services(Settings.from_env()))
    return _PROCESS_SERVICES[1]


def process_shipment(shipment_id: str) -> str:
    """rq entry point: ids in, status out. Safe to run twice (rq is at-least-once)."""
    return run_shipment(_process_services(), shipment_id)


def bind_process_services(services: Services) -> None:
    """Use `services` for rq jobs run in this process (an in-process SimpleWorker, tests)."""
    global _PROCESS_SERVICES
    _PROCESS_SERVICES = (os.getpid(), services)
