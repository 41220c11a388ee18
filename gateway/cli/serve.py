"""`gateway serve`: the HTTP API and web pages under gunicorn."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.common import build, migrate
from gateway.config import Settings


def gunicorn_options(
    bind: str, workers: int, timeout: int, threads: int = 2, keepalive: int = 0
) -> dict[str, Any]:
    """gunicorn's settings for `gateway serve` (gthread workers).

    Without keep-alive a process takes a connection only when one of its threads is free
    (`worker_connections` = `threads`), so waiting requests stay in the kernel's accept
    queue, shared by all processes, instead of in the queue of whichever busy process
    accepted them first. That fairness is what keeps the scan p95 down.
    """
    return {
        "bind": bind,
        "workers": workers,
        "timeout": timeout,
        "graceful_timeout": 30,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": keepalive,
        # idle keep-alive connections count against worker_connections: with keep-alive
        # on, let a process hold many of them (gunicorn's default)
        "worker_connections": threads if keepalive == 0 else 1000,
        "accesslog": "-",
    }


def run_gunicorn(
    bind: str,
    workers: int,
    timeout: int,
    settings: Settings,
    threads: int = 2,
    keepalive: int = 0,
) -> None:
    """Serve the app under gunicorn, in this process (gunicorn's BaseApplication)."""
    from gunicorn.app.base import BaseApplication

    def post_worker_init(worker: Any) -> None:
        from gateway.api.codes import warm_up
        from gateway.jobs.maintenance import Maintenance, QueueRecovery, resubmit_received

        svc = worker.wsgi.extensions["gateway"]
        warm_up(svc)
        if not svc.settings.redis_url:  # embedded: this process runs the jobs too
            resubmit_received(svc)
            Maintenance(svc).start()
        else:  # the backlog goes to the queue as soon as it answers (again)
            QueueRecovery(svc, pending=not _QUEUE_REACHED_AT_START).start()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = gunicorn_options(bind, workers, timeout, threads, keepalive)
            options["post_worker_init"] = post_worker_init
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from gateway.api.app import build_app

            return build_app(settings)

    Server().run()


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Web processes; scans are CPU-bound, so about one per core.  [default: 2, or "
    "GATEWAY_WEB_WORKERS]",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Threads per web process (requests in flight per process).  [default: 2, or "
    "GATEWAY_WEB_THREADS]",
)
@click.option(
    "--keepalive",
    type=click.IntRange(0, 300),
    help="Seconds an idle HTTP connection is kept; 0 shares waiting requests fairly "
    "between the web processes (put a reverse proxy in front for client keep-alive).  "
    "[default: 0, or GATEWAY_WEB_KEEPALIVE]",
)
@click.option("--timeout", default=60, show_default=True, help="Worker timeout (s).")
def serve(
    bind: str, workers: int | None, threads: int | None, keepalive: int | None, timeout: int
) -> None:
    """Run the HTTP API and web pages (migrations first)."""
    global _QUEUE_REACHED_AT_START
    settings = Settings.from_env()
    # the flags win; without one, the setting (GATEWAY_WEB_*) within the flag's range
    workers = _flag_or_setting(workers, settings.web_workers, "WEB_WORKERS", 1, 64)
    threads = _flag_or_setting(threads, settings.web_threads, "WEB_THREADS", 1, 64)
    keepalive = _flag_or_setting(keepalive, settings.web_keepalive, "WEB_KEEPALIVE", 0, 300)
    svc = build(settings)
    migrate(svc)
    if settings.redis_url:
        from gateway.jobs.maintenance import start_resubmission

        # with Redis down the server still starts: uploads are durable without the queue,
        # /readyz says not ready, and each web process resubmits once Redis answers
        _QUEUE_REACHED_AT_START = start_resubmission(svc)
    svc.close()
    run_gunicorn(bind, workers, timeout, settings, threads, keepalive)


def _flag_or_setting(flag: int | None, setting: int, name: str, low: int, high: int) -> int:
    if flag is not None:
        return flag
    if not low <= setting <= high:
        msg = f"GATEWAY_{name}={setting}: expected {low} to {high}."
        raise click.UsageError(msg)
    return setting


# read by the web processes gunicorn forks from this one
_QUEUE_REACHED_AT_START = True
