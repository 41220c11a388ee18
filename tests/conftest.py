"""Fixtures shared by every test folder.

- Factories (`tests/factories.py`, also imported directly by tests): `make_document` (a
  shipment document from its bytes, typed as intake types it), `new_services` (migrated
  services over a temporary folder), `tenant_key` (a tenant and its API key on the running
  gateway).
- The doors a user goes through (see tests/doors.py): one running gateway (PostgreSQL, the
  in-process job runner, the real pipeline and sandbox) and one headless Chromium serve the
  whole test session; each shipment gets a fresh tenant and the registry holds exactly the
  export the shipment comes with.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.doors import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ApiDoor,
    CliRun,
    DoorResult,
    Shipment,
    WebDoor,
    agree,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

# door -> seconds per shipment, printed at the end of the run
_DOOR_SECONDS: dict[str, list[float]] = defaultdict(list)
# shipment name -> (shipment, each door's result), for the session
_RESULTS: dict[str, tuple[Shipment, dict[str, DoorResult]]] = {}


@dataclass
class DoorServer:
    """A live gateway on 127.0.0.1: its URL and the services behind it."""

    base: str
    services: Any
    workdir: Path

    def new_key(self) -> str:
        """A fresh tenant and an API key for it."""
        from tests.factories import new_tenant

        return new_tenant(self.services, f"doors-{secrets.token_hex(4)}")[1]

    def use_registry(self, registry: tuple[str, bytes] | None) -> None:
        """Make the local registry hold exactly this export (none: an empty registry)."""
        from sqlalchemy import delete

        from gateway.platform_client.local import import_registry_file
        from gateway.storage.models import RegistryKeyRow, RegistryRecordRow

        with self.services.sessions.begin() as session:
            session.execute(delete(RegistryKeyRow))
            session.execute(delete(RegistryRecordRow))
        if registry is None:
            return
        folder = Path(tempfile.mkdtemp(prefix="registry-", dir=self.workdir))
        path = folder / registry[0]
        path.write_bytes(registry[1])
        result = import_registry_file(path, self.services.engine)
        assert not result.rejected, f"registry rows rejected: {result.rejected}"


@pytest.fixture
def make_document() -> Callable[..., Any]:
    """`make_document(data, filename, doc_id="doc-1") -> DocumentInput`, typed from the bytes."""
    from tests.factories import shipment_document

    return shipment_document


@pytest.fixture
def new_services(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """`new_services(**settings, checker=..., options=...)`: migrated services over this
    test's folder (closed afterwards), jobs recorded rather than run."""
    from tests.factories import make_services as build

    built: list[Any] = []

    def make(**kwargs: Any) -> Any:
        svc = build(tmp_path / f"svc{len(built)}", **kwargs)
        built.append(svc)
        return svc

    yield make
    for svc in built:
        svc.close()


@pytest.fixture
def tenant_key(doors_server: DoorServer) -> str:
    """A fresh tenant's API key on the running gateway (`doors_server.base`)."""
    return doors_server.new_key()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own for this test run, dropped afterwards."""
    import psycopg

    name = f"gw_service_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is needed for these tests: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def doors_server(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[DoorServer]:
    """`gateway serve` as deployed with the embedded job runner, on a free port."""
    from werkzeug.serving import make_server

    from gateway.api.app import build_app
    from gateway.config import Settings
    from gateway.jobs.executors import InlineExecutor
    from gateway.services import ServiceOptions
    from gateway.storage.db import upgrade
    from gateway.wiring import build_services

    workdir = tmp_path_factory.mktemp("doors")
    settings = Settings(
        data_dir=str(workdir / "data"),
        database_url=pg_url,
        secret_key="doors-secret",
        key_pepper="doors-pepper",
        platform_backend="registry",
    )
    svc = build_services(settings, ServiceOptions())
    upgrade(svc.engine)
    app = build_app(settings, services=svc)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="doors-server", daemon=True)
    thread.start()
    try:
        yield DoorServer(f"http://127.0.0.1:{http.server_port}", svc, workdir)
    finally:
        http.shutdown()
        executor = svc._executor
        if isinstance(executor, InlineExecutor):
            executor.wait_idle(30)
        svc.close()
        registry_engine = getattr(svc.platforms.built, "_engine", None)
        if registry_engine is not None:  # the local registry's own connection pool
            registry_engine.dispose()


@pytest.fixture(scope="session")
def doors_browser() -> Iterator[Any]:
    """One headless Chromium (Debian's) for the session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM} for the web door")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Doors:
    """Runs a shipment through the CLI, the API and the web page at once.

    One tenant for the session: the web page signs in once and the API uses the same key.
    """

    def __init__(self, server: DoorServer, browser: Any, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.key = server.new_key()
        self.api = ApiDoor(server.base, self.key)
        self.web = WebDoor(browser, server.base, self.key)

    def each(self, shipment: Shipment) -> dict[str, DoorResult]:
        """The result of every door, without comparing them.

        Results are kept for the session by shipment name, so several tests may assert on
        one shipment without running it again.
        """
        if shipment.name not in _RESULTS:
            _RESULTS[shipment.name] = (shipment, self._run(shipment))
        kept, results = _RESULTS[shipment.name]
        assert kept == shipment, f"two different shipments are named {shipment.name!r}"
        return results

    def _run(self, shipment: Shipment) -> dict[str, DoorResult]:
        self.server.use_registry(shipment.registry)
        api, web = self.api, self.web
        workdir = Path(tempfile.mkdtemp(prefix="shipment-", dir=self.workdir))
        started = time.perf_counter()
        cli = CliRun(shipment, workdir)  # a subprocess: runs while the others do
        with ThreadPoolExecutor(max_workers=1) as pool:
            api_future = pool.submit(_timed, "api", api.check, shipment)
            web_result = _timed("web", web.check, shipment, workdir)
            api_result = api_future.result()
        for phase, seconds in web.phases.items():
            _DOOR_SECONDS[phase].append(seconds)
        cli_result = cli.result()
        _DOOR_SECONDS["cli"].append(cli.seconds)
        _DOOR_SECONDS["all three, at once"].append(time.perf_counter() - started)
        return {"cli": cli_result, "api": api_result, "web": web_result}

    def check(self, shipment: Shipment) -> DoorResult:
        """Every door's result, asserted equal; the common result."""
        return agree(list(self.each(shipment).values()))

    def scan(self, photo: bytes, registry: tuple[str, bytes] | None = None) -> DoorResult:
        """`POST /v1/scans` with the photo, against this registry."""
        self.server.use_registry(registry)
        return _timed("scan", self.api.scan, photo)


def _timed(door: str, run: Callable[..., DoorResult], *args: Any) -> DoorResult:
    started = time.perf_counter()
    try:
        return run(*args)
    finally:
        _DOOR_SECONDS[door].append(time.perf_counter() - started)


@pytest.fixture(scope="session")
def doors(doors_server: DoorServer, doors_browser: Any) -> Iterator[Doors]:
    """`doors.check(shipment)`: the agreed result of the CLI, the API and the web page."""
    runner = Doors(doors_server, doors_browser, doors_server.workdir)
    try:
        yield runner
    finally:
        runner.web.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Seconds per door and shipment, when door tests ran."""
    if not _DOOR_SECONDS:
        return
    terminalreporter.section("doors: seconds per shipment")
    for door, seconds in sorted(_DOOR_SECONDS.items()):
        ordered = sorted(seconds)
        median = ordered[len(ordered) // 2]
        terminalreporter.write_line(
            f"{door:26} n={len(seconds):3} median={median:.2f} max={ordered[-1]:.2f}"
            f" total={sum(seconds):.1f}"
        )
