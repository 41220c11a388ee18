"""Fixtures of the hardening tests: the hostile corpus (built once per run), a listener on the
external-entity address, measured runs of the parser sandbox and the barcode reader, and the
HTTP service over a temporary folder with tenants (built by `tests/factories.py`), on real
Redis and rq worker processes."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import func, select

from gateway.services import ServiceOptions, Services
from gateway.storage.models import ReportRow, Shipment, ShipmentStatus
from samples.hostile import GTIN, HostileFile, build_corpus, manifest_csv
from tests.factories import (
    KEY_PEPPER,
    SECRET_KEY,
    TextChecker,
    app_for,
    make_services,
    new_tenant,
    post_shipment,
)

WALL_BOUND = 10.0  # seconds one hostile file may take, end to end in its sandbox
MEMORY_BOUND = 512 * 1024 * 1024  # bytes of resident memory a parser child may reach


# -- a listener where the external entities point: it must never see a connection -------------


class Listener:
    """Accepts and records every TCP connection on one 127.0.0.1 port, in a daemon thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # a free port, never the discard port 9: other tests use 127.0.0.1:9 as an address
        # where nothing listens, and their requests would show up here
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        threading.Thread(target=self._run, name="xxe-listener", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                self.connections.append(conn.recv(4096))
            except OSError:
                self.connections.append(b"")
            finally:
                conn.close()


@functools.cache
def xxe_listener() -> Listener:
    """One listener per test process (also used while collecting the parametrized cases)."""
    return Listener()


@functools.cache
def corpus() -> tuple[HostileFile, ...]:
    """The hostile corpus, generated once per test process."""
    return tuple(build_corpus(xxe_listener().url))


def cases(*, images: bool | None = None) -> list[Any]:
    """pytest params over the corpus, with readable ids."""
    chosen = [c for c in corpus() if images is None or c.is_image == images]
    return [pytest.param(c, id=c.name) for c in chosen]


# -- measured runs in fresh processes ---------------------------------------------------------

_SANDBOX_RUNNER = r"""
import json, resource, sys, time
from gateway.errors import InputError
from gateway.parsers import Limits
from gateway.parsers.sandbox import extract_sandboxed
job = json.loads(sys.argv[1])
data = sys.stdin.buffer.read()
started = time.monotonic()
try:
    ex = extract_sandboxed(
        data, filename=job["filename"], document_id="doc-1",
        limits=Limits(wall_seconds=job["wall"]),
    )
    out = {
        "ok": True,
        "media_type": ex.document.media_type,
        "filename": ex.document.filename,
        "method": ex.method,
        "lines": len(ex.lines),
        "codes": [c.raw for line in ex.lines for c in line.codes] + [c.raw for c in ex.loose_codes],
        "texts": [str(v) for line in ex.lines for v in (line.description, line.model) if v],
        "problems": [p.kind for p in ex.problems],
    }
except InputError as exc:
    out = {"ok": False, "error": type(exc).__name__, "status": exc.status, "message": str(exc)}
out["seconds"] = time.monotonic() - started
# the runner's only child is the parser sandbox: its peak resident memory
out["child_max_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps(out))
"""

_BARCODE_RUNNER = r"""
import json, resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
data = sys.stdin.buffer.read()
from gateway.barcodes import read_file
from gateway.errors import InputError
started = time.monotonic()
try:
    out = {"ok": True, "texts": [s.text for s in read_file(data)]}
except InputError as exc:
    out = {"ok": False, "error": type(exc).__name__, "status": exc.status, "message": str(exc)}
out["seconds"] = time.monotonic() - started
print(json.dumps(out))
"""


def _runner_env() -> dict[str, str]:
    env = dict(os.environ)
    # as in the parser sandbox: one thread per native pool keeps the address space small
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return env


@dataclass(frozen=True)
class Run:
    """The outcome of one measured run."""

    result: dict[str, Any]
    wall: float  # seconds, the runner process as a whole
    stderr: str


def run_sandboxed(data: bytes, filename: str, *, wall: float = 15.0) -> Run:
    """`extract_sandboxed` in a fresh runner process; reports the child's time and memory.

    The sandbox's own wall limit is set above WALL_BOUND so that an overrun is measured
    rather than cut off.
    """
    import time

    job = json.dumps({"filename": filename, "wall": wall})
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _SANDBOX_RUNNER, job],
        input=data,
        capture_output=True,
        timeout=wall + 30,
        env=_runner_env(),
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"runner crashed: {proc.stderr.decode()[-2000:]}"
    return Run(json.loads(proc.stdout), elapsed, proc.stderr.decode())


_SANDBOX_RESULTS: dict[str, Run] = {}


def sandbox_result(case: HostileFile) -> Run:
    """`run_sandboxed` for a corpus case, run once per test process and then remembered."""
    if case.name not in _SANDBOX_RESULTS:
        _SANDBOX_RESULTS[case.name] = run_sandboxed(case.data, case.filename)
    return _SANDBOX_RESULTS[case.name]


def run_barcodes(data: bytes, *, address_space: int = MEMORY_BOUND, timeout: float = 30) -> Run:
    """`gateway.barcodes.read_file` in a fresh process under RLIMIT_AS."""
    import time

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _BARCODE_RUNNER, str(address_space)],
        input=data,
        capture_output=True,
        timeout=timeout,
        env=_runner_env(),
        check=False,
    )
    elapsed = time.monotonic() - started
    result: dict[str, Any] = {"crashed": proc.returncode, "stdout": proc.stdout.decode()[-500:]}
    if proc.returncode == 0:
        result = json.loads(proc.stdout)
    return Run(result, elapsed, proc.stderr.decode())


# -- a readable error message ---------------------------------------------------------------

_INTERNALS = re.compile(r"Traceback \(most recent call|File \"/|site-packages|<_io\.|object at 0x")


def message_problems(message: str) -> list[str]:
    """What is wrong with an error message shown to a client (empty: it is fine)."""
    found = []
    if len(message.strip()) < 20:
        found.append(f"too short to act on: {message!r}")
    if _INTERNALS.search(message):
        found.append(f"shows internals: {message[:300]!r}")
    return found


# -- the HTTP service -----------------------------------------------------------------------


# the hardening tests send many requests per key; rate limits are tested in tests/service
UNLIMITED = ServiceOptions(rate_limit=1_000_000, rate_burst=1_000_000)


@pytest.fixture
def text_services(tmp_path: Path) -> Iterator[Services]:
    """Services on SQLite with the fast text checker."""
    svc = make_services(tmp_path, checker=TextChecker(), options=UNLIMITED)
    yield svc
    svc.close()


# -- real Redis and rq worker processes ------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1, without persistence.

    `start` and `kill` may be called again and again: it comes back on the same port, empty.
    """

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; the Redis outage tests need it")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except Exception:  # not up yet
                time.sleep(0.1)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database of its own (the highest free of 15..8), flushed afterwards."""
    for db in range(15, 7, -1):
        conn = Redis.from_url(f"{REDIS}/{db}")
        # claim the database atomically, so two runs side by side never share one
        if conn.dbsize() == 0 and conn.set("hardening:claim", "1", nx=True, ex=600):
            try:
                yield f"{REDIS}/{db}"
            finally:
                conn.flushdb()
                conn.close()
            return
        conn.close()
    pytest.fail("no empty Redis database among 8..15 on 127.0.0.1:6379")


def _descendants(root: int) -> list[int]:
    """Pids of every live descendant of `root` (children first found, then theirs)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the ppid follows the last ")"
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


@dataclass
class Rig:
    """The gateway's services in this process and the environment of its workers."""

    svc: Services
    env: dict[str, str]
    key: str
    client: Any
    workers: list[subprocess.Popen[bytes]]
    log: Path

    def start_worker(self) -> subprocess.Popen[bytes]:
        """`python -m workers` in its own process group (its work horses die with it)."""
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "workers"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Signal the worker and every process it started, by pid, and reap the worker.

        rq's work horse and scheduler call setsid(), so a process-group kill would miss them;
        the tree is read from /proc before the first signal.
        """
        tree = [proc.pid, *_descendants(proc.pid)]
        for pid in tree if sig == signal.SIGKILL else tree[:1]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in [proc.pid, *_descendants(proc.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def upload(self, count: int, documents: int = 3, rows: int = 0) -> list[str]:
        """`count` shipments of `documents` CSV manifests each; returns their ids.

        `rows` extra unit lines per manifest make each job last long enough to be cut.
        """
        ids = []
        extra = tuple((f"(01){GTIN}(21)L{n:06d}", "Li-ion cell") for n in range(rows))
        for i in range(count):
            files = [(f"m{i}-{d}.csv", manifest_csv(extra)) for d in range(documents)]
            response = post_shipment(self.client, self.key, files, reference=f"crash-{i}")
            assert response.status_code == 202, response.data[:300]
            ids.append(response.get_json()["id"])
        return ids

    def statuses(self, ids: list[str]) -> dict[str, str]:
        with self.svc.sessions() as session:
            rows = session.execute(select(Shipment.id, Shipment.status).where(Shipment.id.in_(ids)))
            return {row[0]: row[1] for row in rows}

    def wait(self, ids: list[str], done: Callable[[dict[str, str]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done(self.statuses(ids)):
                return True
            time.sleep(0.05)
        return False

    def assert_one_final_status_and_report(self, ids: list[str]) -> None:
        statuses = self.statuses(ids)
        with self.svc.sessions() as session:
            counted = session.execute(
                select(ReportRow.shipment_id, func.count())
                .where(ReportRow.shipment_id.in_(ids))
                .group_by(ReportRow.shipment_id)
            )
            reports = {row[0]: row[1] for row in counted}
            rows = session.execute(select(Shipment.id, Shipment.reason).where(Shipment.id.in_(ids)))
            reasons = {row[0]: row[1] for row in rows}
        for shipment_id in ids:
            status = statuses[shipment_id]
            assert status in ShipmentStatus.FINAL, (
                shipment_id,
                status,
                self.log.read_text()[-3000:],
            )
            if status == ShipmentStatus.DONE:
                assert reports.get(shipment_id) == 1, (shipment_id, reports)
            else:  # given up after repeated crashes: said so, and no half report
                assert reasons[shipment_id], shipment_id
                assert shipment_id not in reports


def gateway_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The environment of gateway processes over `tmp_path` (`values` as GATEWAY_* variables)."""
    settings = {
        "data_dir": str(tmp_path),
        "secret_key": SECRET_KEY,
        "key_pepper": KEY_PEPPER,
        "platform_backend": "registry",
        **values,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update({f"GATEWAY_{k.upper()}": v for k, v in settings.items()})
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


@pytest.fixture
def rig(tmp_path: Path, redis_url: str) -> Iterator[Rig]:
    prefix = f"hard{secrets.token_hex(3)}"
    env = gateway_env(
        tmp_path,
        redis_url=redis_url,
        queue_prefix=prefix,
        reconcile_after="2",
        reconcile_every="1",
        # short, so that a work horse that hangs is killed by rq and its job retried well
        # inside a test's wait (a hang after a finished job has been seen now and then)
        job_timeout="20",
    )
    options = ServiceOptions(queue_prefix=prefix, reconcile_after=2, reconcile_every=1)
    svc = make_services(tmp_path, options=options, redis_url=redis_url)
    svc._executor = None  # the real executor: rq on the test's own Redis database
    _tenant, key = new_tenant(svc)
    rig = Rig(svc, env, key, app_for(svc).test_client(), [], tmp_path / "workers.log")
    try:
        yield rig
    finally:
        for proc in rig.workers:
            if proc.poll() is None:
                rig.kill(proc)
        svc.close()
