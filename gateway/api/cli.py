"""`gateway serve | worker | demo | tenants | keys | db`: running and administering the service."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any

import click

from gateway.config import Settings


def _services(settings: Settings | None = None) -> Any:
    from gateway.services import build_services

    return build_services(settings or Settings.from_env())


def _migrate(svc: Any) -> None:
    from gateway.storage.db import upgrade

    upgrade(svc.engine)


# -- db ------------------------------------------------------------------------------------------


@click.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Run the migrations up to REVISION on GATEWAY_DATABASE_URL (or the SQLite default)."""
    from gateway.storage.db import upgrade

    svc = _services()
    upgrade(svc.engine, revision)
    click.echo(f"database at {revision}")


@db.command("purge")
def db_purge() -> None:
    """Delete document bytes older than GATEWAY_RETENTION_DAYS (reports and rows stay)."""
    from gateway.storage.purge import purge_documents

    svc = _services()
    _migrate(svc)
    click.echo(f"purged {purge_documents(svc)} documents")


# -- tenants and keys ----------------------------------------------------------------------------


def _load_mapping(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        msg = f"Ruleset override {str(path)!r} must hold a mapping, got {type(data).__name__}."
        raise click.BadParameter(msg)
    return data


@click.group("tenants")
def tenants() -> None:
    """Customers of the gateway."""


@tenants.command("create")
@click.argument("name")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--ruleset",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON or YAML mapping that overrides the ruleset for this tenant.",
)
@click.option("--webhook-url", help="Called (signed POST) when a report is ready.")
@click.option("--webhook-secret", help="HMAC secret for X-Gateway-Signature.")
def tenants_create(
    name: str,
    language: str,
    ruleset: Path | None,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> None:
    """Create tenant NAME and print its id."""
    from gateway.errors import InputError
    from gateway.mail import check_webhook_url
    from gateway.storage.repo import Admin

    svc = _services()
    _migrate(svc)
    try:
        if webhook_url:
            check_webhook_url(webhook_url, allow_private=svc.options.webhook_allow_private)
            if not webhook_secret:
                msg = "--webhook-secret is required with --webhook-url."
                raise click.UsageError(msg)
        with svc.sessions.begin() as session:
            tenant = Admin(session, svc.pepper).create_tenant(
                name,
                language=language,
                ruleset_override=_load_mapping(ruleset) if ruleset else None,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret,
            )
            click.echo(f"{tenant.id}\t{tenant.name}")
    except InputError as exc:
        raise click.ClickException(str(exc)) from None


@tenants.command("list")
def tenants_list() -> None:
    """List tenants: id, name, language."""
    from gateway.storage.repo import Admin

    svc = _services()
    _migrate(svc)
    with svc.sessions() as session:
        for tenant in Admin(session, svc.pepper).tenants():
            click.echo(f"{tenant.id}\t{tenant.name}\t{tenant.language}")


@click.group("keys")
def keys() -> None:
    """API keys."""


def _tenant_id(session: Any, admin: Any, tenant: str) -> str:
    from gateway.storage.models import Tenant

    row = admin.tenant_by_name(tenant) or session.get(Tenant, tenant)
    if row is None:
        msg = f"No tenant named or with id {tenant!r}; see `gateway tenants list`."
        raise click.ClickException(msg)
    return str(row.id)


@keys.command("create")
@click.argument("tenant")
@click.option("--label", default="", help="A note to recognise the key by.")
def keys_create(tenant: str, label: str) -> None:
    """Create an API key for TENANT (name or id). The key is printed once and never stored."""
    from gateway.storage.repo import Admin

    svc = _services()
    _migrate(svc)
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        row, key = admin.create_key(_tenant_id(session, admin, tenant), label)
        click.echo(f"key id: {row.id}", err=True)
        click.echo(key)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key whose id is KEY_ID (the part between `gw_` and the next `_`)."""
    from gateway.errors import NotFound
    from gateway.storage.repo import Admin

    svc = _services()
    parts = key_id.split("_")
    if len(parts) >= 3 and parts[0] == "gw":  # a whole key was pasted: use its id only
        key_id = parts[1]
    try:
        with svc.sessions.begin() as session:
            Admin(session, svc.pepper).revoke_key(key_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {key_id}")


# -- serve ---------------------------------------------------------------------------------------


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
        from gateway.jobs import Maintenance, QueueRecovery, resubmit_received

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
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="GATEWAY_WEB_WORKERS",
    help="Web processes; scans are CPU-bound, so about one per core.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="GATEWAY_WEB_THREADS",
    help="Threads per web process (requests in flight per process).",
)
@click.option(
    "--keepalive",
    default=0,
    show_default=True,
    type=click.IntRange(0, 300),
    envvar="GATEWAY_WEB_KEEPALIVE",
    help="Seconds an idle HTTP connection is kept; 0 shares waiting requests fairly "
    "between the web processes (put a reverse proxy in front for client keep-alive).",
)
@click.option("--timeout", default=60, show_default=True, help="Worker timeout (s).")
def serve(bind: str, workers: int, threads: int, keepalive: int, timeout: int) -> None:
    """Run the HTTP API and web pages (migrations first)."""
    global _QUEUE_REACHED_AT_START
    settings = Settings.from_env()
    svc = _services(settings)
    _migrate(svc)
    if settings.redis_url:
        from gateway.jobs import start_resubmission

        # with Redis down the server still starts: uploads are durable without the queue,
        # /readyz says not ready, and each web process resubmits once Redis answers
        _QUEUE_REACHED_AT_START = start_resubmission(svc)
    svc.close()
    run_gunicorn(bind, workers, timeout, settings, threads, keepalive)


# read by the web processes gunicorn forks from this one
_QUEUE_REACHED_AT_START = True


# -- worker --------------------------------------------------------------------------------------


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork per job).")
def worker(burst: bool, simple: bool) -> None:
    """Run an rq worker for shipment jobs (needs GATEWAY_REDIS_URL), with the scheduler,
    the reconciler and the outbox sender."""
    from redis import Redis
    from rq import SimpleWorker, Worker

    from gateway.jobs import deliver_outbox, queue_name, reconcile, warm_up
    from gateway.parsers.sandbox import shared_fork_server, stop_shared_fork_server

    settings = Settings.from_env()
    if not settings.redis_url:
        msg = "`gateway worker` needs GATEWAY_REDIS_URL; without it `gateway serve` runs jobs."
        raise click.ClickException(msg)
    svc = _services(settings)
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

    from gateway.jobs import Maintenance

    svc = _services(Settings.from_env())
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


# -- demo ----------------------------------------------------------------------------------------


def _demo_key(svc: Any, folder: Path) -> str:
    """The demo tenant's key: reused while still valid, else a new one (kept mode 0600)."""
    from gateway.storage.repo import Admin

    path = folder / "demo-key.txt"
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.tenant_by_name("demo") or admin.create_tenant("demo")
        if path.exists():
            key = path.read_text().strip()
            principal = admin.authenticate(key)
            if principal is not None and principal.tenant_id == tenant.id:
                return key
        _row, key = admin.create_key(tenant.id, "demo")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _demo_samples(svc: Any, folder: Path) -> list[str]:
    """Import the sample registry and write sample documents, when those modules exist."""
    import importlib

    notes = []
    samples_dir = folder / "samples"
    try:
        registry = importlib.import_module("samples.registry")
        from gateway.platform_client.local import import_registry_file

        paths = registry.write_samples(samples_dir / "registry")
        result = import_registry_file(paths[0], svc.engine)
        notes.append(f"registry: {result.inserted} new, {result.unchanged} unchanged records")
    except ImportError:
        notes.append("registry: sample generator not installed")
    try:
        # shipments whose registrations are known: a demo upload shows clear, hold and block
        shipments = importlib.import_module("samples.shipments")
        from gateway.platform_client.local import import_registry_file

        records = []
        for make in (
            shipments.clean_to_germany,
            shipments.problems_to_germany,
            shipments.ess_by_air,
        ):
            sample = make()
            for item in sample.documents:
                target = samples_dir / "shipments" / f"{sample.name}.xlsx"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item.data)
            records.extend(sample.records)
        # label photos of registered units of the clear shipment: what a warehouse uploads
        # with its packing list, or a scanner posts to /v1/scans
        labels = samples_dir / "labels"
        labels.mkdir(parents=True, exist_ok=True)
        clean = shipments.clean_to_germany()
        for record in clean.records[:3]:
            hri = record.gs1_element_string
            photo = shipments.label_photo([("gs1-128", hri), ("gs1-datamatrix", hri)])
            (labels / f"label_{record.serial}.png").write_bytes(photo)
        registry_file = samples_dir / "registry" / "demo-shipments.csv"
        registry_file.parent.mkdir(parents=True, exist_ok=True)
        registry_file.write_bytes(shipments.registry_csv(records))
        result = import_registry_file(registry_file, svc.engine)
        notes.append(
            f"sample shipments: {samples_dir / 'shipments'} ({result.inserted} new registrations);"
            f" label photos of their units: {labels}"
        )
    except ImportError:
        notes.append("sample shipments: generator not installed")
    try:
        manifests = importlib.import_module("samples.manifests")
        # how each format is read; their units are of no registry, so they show "not registered"
        written = manifests.write_samples(samples_dir / "formats")
        notes.append(
            f"format samples (their units are not registered): {len(written)} in "
            f"{samples_dir / 'formats'}"
        )
    except ImportError:
        notes.append("sample documents: generator not installed")
    return notes


@click.command("demo")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the data folder and exit.")
def demo(bind: str, no_serve: bool) -> None:
    """The embedded default under ./instance: migrations, demo tenant and key, sample data,
    then the web server."""
    env_settings = Settings.from_env()
    host, _, port = bind.rpartition(":")
    base_url = env_settings.base_url
    if "GATEWAY_BASE_URL" not in os.environ:
        base_url = f"http://{host or '127.0.0.1'}:{port}"
    from dataclasses import replace

    settings = replace(env_settings, base_url=base_url)
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    svc = _services(settings)
    _migrate(svc)
    key = _demo_key(svc, folder)
    notes = _demo_samples(svc, folder)
    svc.close()
    click.echo(f"Gateway demo at {base_url}/  (API docs: {base_url}/docs)")
    click.echo(f"Demo API key (sign in with it, or send 'Authorization: Bearer ...'): {key}")
    for note in notes:
        click.echo(f"  {note}")
    sys.stdout.flush()
    if not no_serve:
        # one process for pages, polls and jobs; the browser's keep-alive is welcome here
        run_gunicorn(bind, 1, 120, settings, threads=8, keepalive=2)
