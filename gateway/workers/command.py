"""`gateway worker` (also `python -m workers`): an rq worker for shipment jobs, with rq's
scheduler, the reconciler and the outbox sender."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import click

from gateway.config import Settings
from gateway.logs import configure_logging
from gateway.wiring import build_services


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork per job).")
def worker(burst: bool, simple: bool) -> None:
    """Run an rq worker for shipment jobs (needs GATEWAY_REDIS_URL), with the scheduler,
    the reconciler and the outbox sender."""
    from redis import Redis
    from rq import SimpleWorker, Worker

    from gateway.jobs.executors import queue_name
    from gateway.jobs.maintenance import reconcile
    from gateway.jobs.outbox import deliver_outbox
    from gateway.parsers.sandbox import shared_fork_server, stop_shared_fork_server
    from gateway.workers.jobs import warm_up

    settings = Settings.from_env()
    configure_logging(settings)
    if not settings.redis_url:
        msg = "`gateway worker` needs GATEWAY_REDIS_URL; without it `gateway serve` runs jobs."
        raise click.ClickException(msg)
    svc = build_services(settings)
    connection = Redis.from_url(settings.redis_url)
    # Started in this process, before any work horse is forked: every horse inherits the
    # parser fork server instead of paying an interpreter start per document.
    shared_fork_server()
    warm_up(svc)  # likewise the imports and the ruleset every job needs
    cls = SimpleWorker if simple else _forking_worker_class(Worker)
    rq_worker = cls(
        [queue_name(svc.options.queue_prefix)],
        connection=connection,
        maintenance_interval=60,  # re-queue abandoned jobs within a minute, not ten
    )
    maintenance = None
    if burst:
        reconcile(svc)
    else:
        # In a process of its own: rq forks a work horse per job from this process, and a
        # fork taken while a thread holds a lock (logging, a connection pool) leaves the horse
        # waiting on that lock forever.
        context = multiprocessing.get_context("spawn")
        maintenance = context.Process(
            target=_maintenance_main, args=(os.getpid(),), name="gateway-maintenance"
        )
        maintenance.start()
    try:
        rq_worker.work(burst=burst, with_scheduler=not burst)
    finally:
        if maintenance is not None:
            maintenance.terminate()
            maintenance.join(timeout=10)
        if burst:
            deliver_outbox(svc)
        svc.close()
        stop_shared_fork_server()


def _maintenance_main(parent: int) -> None:
    """The worker's maintenance loop (reconciler, outbox, purge), until the worker is gone."""
    import time

    from gateway.jobs.maintenance import Maintenance

    settings = Settings.from_env()
    configure_logging(settings)
    svc = build_services(settings)
    loop = Maintenance(svc).start()
    try:
        while os.getppid() == parent:
            time.sleep(1.0)
    finally:
        loop.stop()
        svc.close()


def _forking_worker_class(base: type[Any]) -> type[Any]:
    """rq's forking worker, checking the parser fork server before each job."""
    from gateway.parsers.sandbox import shared_fork_server

    class ShipmentWorker(base):  # type: ignore[misc]
        def execute_job(self, job: Any, queue: Any) -> Any:
            # restarted here, in the parent, if it died: the horse forked next inherits it
            shared_fork_server()
            return super().execute_job(job, queue)

    return ShipmentWorker
