"""Scale-out across hosts: PostgreSQL + Redis, the web tier and the workers on separate hosts,
and the whole worker host killed mid-load.

A benchmark, not a CI test; run as root (it makes network namespaces):

    .venv/bin/python bench/multihost.py [--shipments 300] [--rate 3] [--kill-after 0.5]

The hosts are network namespaces the script makes itself, each with its own hostname (a UTS
namespace) and a veth into a switch namespace holding a bridge; the addresses are its own
(10.213.0.0/24 by default, `--subnet`) and exist only inside those namespaces:

    db      .2  PostgreSQL and Redis, instances of their own on the namespace's address
    web     .3  `gateway serve` (2 web processes)
    work-a  .4  two `gateway worker`s, the database blob backend: no worker reads a disk
                of another host
    work-b  .5  two more workers, started once work-a is killed
    client  .6  posts the shipments and polls them (this script, run again inside it)

Every host has a data folder of its own. The client posts `--shipments` uploads at `--rate`
per second; after `--kill-after` of them were sent, and as soon as a shipment is being
processed, every process of work-a is killed with SIGKILL (`ip netns pids`), and workers
start on work-b. At the end every accepted shipment
must be final with exactly one report (checked in PostgreSQL), and the script prints the
throughput (reports per second) and the upload-to-report p95, before and after the kill,
next to the load average. Everything is torn down, also on failure or Ctrl-C. Only loopback
and the namespaces' own addresses are used.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOSTS = ("db", "web", "work-a", "work-b", "client")


def run(*cmd: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    """A command in the root namespace (only `ip` and housekeeping)."""
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


@dataclass
class Net:
    """The namespaces, their addresses and what runs in them."""

    tag: str
    subnet: ipaddress.IPv4Network
    workdir: Path
    created: list[str] = field(default_factory=list)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def ns(self, host: str) -> str:
        return f"gwmh{self.tag}-{host}"

    def addr(self, host: str) -> str:
        return str(self.subnet.network_address + 2 + HOSTS.index(host))

    def build(self) -> None:
        switch = f"gwmh{self.tag}-sw"
        run("ip", "netns", "add", switch)
        self.created.append(switch)
        run("ip", "netns", "exec", switch, "ip", "link", "set", "lo", "up")
        run("ip", "netns", "exec", switch, "ip", "link", "add", "br0", "type", "bridge")
        run("ip", "netns", "exec", switch, "ip", "link", "set", "br0", "up")
        for index, host in enumerate(HOSTS):
            name = self.ns(host)
            run("ip", "netns", "add", name)
            self.created.append(name)
            inner, outer = f"gm{self.tag}{index}i", f"gm{self.tag}{index}o"
            run("ip", "link", "add", inner, "type", "veth", "peer", "name", outer)
            run("ip", "link", "set", inner, "netns", name)
            run("ip", "link", "set", outer, "netns", switch)
            run("ip", "netns", "exec", switch, "ip", "link", "set", outer, "master", "br0")
            run("ip", "netns", "exec", switch, "ip", "link", "set", outer, "up")
            address = f"{self.addr(host)}/{self.subnet.prefixlen}"
            run("ip", "netns", "exec", name, "ip", "addr", "add", address, "dev", inner)
            run("ip", "netns", "exec", name, "ip", "link", "set", inner, "up")
            run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")

    def start(
        self, host: str, cmd: list[str], env: dict[str, str], log: str, *, user: str | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `cmd` on `host`: in its network namespace, under a hostname of its own."""
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        inner = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host, *cmd]
        out = (self.workdir / log).open("ab")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(host), *inner],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        self.procs.append((host, proc))
        return proc

    def call(
        self, host: str, cmd: list[str], env: dict[str, str], timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run `cmd` on `host` to its end."""
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(host), *cmd],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def kill_host(self, host: str) -> int:
        """SIGKILL every process in the host's network namespace; returns how many."""
        pids = run("ip", "netns", "pids", self.ns(host), check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        for name, proc in self.procs:
            if name == host:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
        return len(pids)

    def teardown(self) -> None:
        for host in HOSTS:
            if self.ns(host) in self.created:
                self.kill_host(host)
        for _host, proc in self.procs:
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        for name in reversed(self.created):
            run("ip", "netns", "del", name, check=False)
        self.created.clear()


def wait_for(probe: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def start_db_host(net: Net) -> tuple[str, str]:
    """PostgreSQL and Redis of their own on the db host's address; returns their URLs."""
    address = net.addr("db")
    pg_dir = net.workdir / "db" / "pg"
    sock_dir = net.workdir / "db" / "sock"
    redis_dir = net.workdir / "db" / "redis"
    for folder in (pg_dir, sock_dir, redis_dir):
        folder.mkdir(parents=True)
    shutil.chown(net.workdir / "db", "postgres")
    for folder in (pg_dir, sock_dir):
        shutil.chown(folder, "postgres")
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    made = subprocess.run(
        ["runuser", "-u", "postgres", "--", "initdb", "-D", str(pg_dir), "-A", "trust",
         "-U", "postgres"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed: {made.stderr[-1000:]}")
    with (pg_dir / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {net.subnet} trust\n")
    net.start(
        "db",
        ["postgres", "-D", str(pg_dir), "-h", address, "-p", "5432", "-k", str(sock_dir),
         "-c", "max_connections=200"],
        env, "postgres.log", user="postgres",
    )  # fmt: skip
    net.start(
        "db",
        ["redis-server", "--bind", address, "--port", "6379", "--protected-mode", "no",
         "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
         "--maxmemory-policy", "noeviction", "--dir", str(redis_dir)],
        env, "redis.log",
    )  # fmt: skip
    wait_for(
        lambda: net.call("db", ["pg_isready", "-h", address, "-p", "5432"], env).returncode == 0,
        30,
        "PostgreSQL",
    )
    created = net.call(
        "db", ["psql", "-h", address, "-U", "postgres", "-c", "CREATE DATABASE gateway"], env
    )
    if created.returncode != 0:
        raise RuntimeError(f"CREATE DATABASE failed: {created.stderr}")
    wait_for(
        lambda: "PONG" in net.call("db", ["redis-cli", "-h", address, "ping"], env).stdout,
        30,
        "Redis",
    )
    return (
        f"postgresql+psycopg://postgres@{address}:5432/gateway",
        f"redis://{address}:6379/0",
    )


def wait_running(net: Net, *, address: str, timeout: float) -> int:
    """Shipments being processed right now (asked on the db host), once there is one."""
    query = "SELECT count(*) FROM shipments WHERE status IN ('extracting', 'verifying')"
    env = {"PATH": os.environ["PATH"]}
    count = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = net.call(
            "db", ["psql", "-h", address, "-U", "postgres", "-d", "gateway", "-tAc", query], env
        )
        count = int(answer.stdout.strip() or 0) if answer.returncode == 0 else 0
        if count:
            break
        time.sleep(0.05)
    return count


def gateway_env(net: Net, host: str, database: str, redis: str, secret: str) -> dict[str, str]:
    data = net.workdir / host / "data"
    data.mkdir(parents=True, exist_ok=True)
    keep = ("PATH", "LANG", "HOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        GATEWAY_DATA_DIR=str(data),  # a folder of this host's own
        GATEWAY_DATABASE_URL=database,
        GATEWAY_REDIS_URL=redis,
        GATEWAY_BLOB_BACKEND="database",
        GATEWAY_SECRET_KEY=secret,
        GATEWAY_KEY_PEPPER=secret[::-1],
        GATEWAY_QUEUE_PREFIX="multihost",
        GATEWAY_RATE_LIMIT="100000",
        GATEWAY_RATE_BURST="10000",
        GATEWAY_RECONCILE_AFTER="20",
        GATEWAY_RECONCILE_EVERY="5",
        GATEWAY_BASE_URL=f"http://{net.addr('web')}:8000",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    return env


def gateway(*args: str) -> list[str]:
    return [str(VENV_BIN / "gateway"), *args]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- the client, run inside the client namespace ------------------------------------------------


def client_main(args: argparse.Namespace) -> None:
    """Post the shipments, poll them to their end, check the database; JSON lines out."""
    import psycopg
    import requests
    from bench_load import manifest

    job = json.loads(Path(args.client).read_text())
    base, key = job["base"], job["key"]
    out = Path(job["out"])
    progress = Path(job["progress"])
    headers = {"Authorization": f"Bearer {key}"}
    data = manifest()
    records: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    failures: list[str] = []

    def post(i: int) -> None:
        idem = str(uuid.uuid4())
        sent = time.time()
        for _ in range(20):  # a careful client: retries with the same key
            try:
                answer = requests.post(
                    f"{base}/v1/shipments",
                    headers={**headers, "Idempotency-Key": idem},
                    files={"documents": ("packing_list.xlsx", data)},
                    data={"reference": f"MH-{i}", "destination": "DE", "transport_mode": "sea"},
                    timeout=30,
                )
            except requests.RequestException as exc:
                failures.append(f"upload {i}: {type(exc).__name__}")
                time.sleep(1)
                continue
            if answer.status_code == 202:
                with lock:
                    records[answer.json()["id"]] = {"i": i, "sent": sent, "accepted": time.time()}
                return
            if answer.status_code in (409, 503):
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            failures.append(f"upload {i}: {answer.status_code} {answer.text[:200]}")
            return

    def poll() -> None:
        session = requests.Session()
        while not stop.is_set():
            with lock:
                pending = [s for s, r in records.items() if "final" not in r]
            for sid in pending:
                try:
                    body = session.get(f"{base}/v1/shipments/{sid}", headers=headers, timeout=10)
                    status = body.json()["status"]
                except Exception:  # the web host answers again next round
                    continue
                if status in ("done", "rejected"):
                    with lock:
                        records[sid]["final"] = status
                        records[sid]["finished"] = time.time()
            stop.wait(0.2)

    stop = threading.Event()
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(job["shipments"]):
            delay = start + i / job["rate"] - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, i)
            progress.write_text(str(i + 1))
    deadline = time.monotonic() + job["drain_seconds"]
    while time.monotonic() < deadline:
        with lock:
            if all("final" in r for r in records.values()):
                break
        time.sleep(0.5)
    stop.set()
    poller.join(timeout=30)
    # exactly one report per accepted shipment, in the record of truth
    with psycopg.connect(job["database"].replace("+psycopg", ""), autocommit=True) as db:
        statuses: dict[str, str] = dict(db.execute("SELECT id, status FROM shipments").fetchall())
        reports: dict[str, int] = dict(
            db.execute("SELECT shipment_id, count(*) FROM reports GROUP BY shipment_id").fetchall()
        )
        attempts: dict[str, int] = dict(db.execute("SELECT id, attempts FROM shipments").fetchall())
    with lock:
        for sid, record in records.items():
            record.update(
                id=sid,
                db_status=statuses.get(sid),
                reports=reports.get(sid, 0),
                attempts=attempts.get(sid),
            )
        out.write_text(
            json.dumps(
                {"records": list(records.values()), "failures": failures, "all": len(statuses)}
            )
        )


# -- the orchestrator --------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    from bench_load import p95 as bench_p95

    return float(bench_p95(values))


def summarize(result: dict[str, Any], start: float, killed_at: float) -> dict[str, Any]:
    records = result["records"]
    finished = [r for r in records if "finished" in r]
    last = max((r["finished"] for r in finished), default=killed_at)
    before = [r for r in finished if r["finished"] <= killed_at]
    after = [r for r in finished if r["finished"] > killed_at]
    sent_before = [r for r in finished if r["sent"] <= killed_at]
    sent_after = [r for r in finished if r["sent"] > killed_at]
    return {
        "accepted": len(records),
        "final": len(finished),
        "done": sum(1 for r in records if r.get("db_status") == "done"),
        "rejected": sum(1 for r in records if r.get("db_status") == "rejected"),
        "not_final": [r["id"] for r in records if r.get("db_status") not in ("done", "rejected")],
        "wrong_report_count": [
            (r["id"], r["reports"])
            for r in records
            if (r.get("db_status") == "done") != (r["reports"] == 1) or r["reports"] > 1
        ],
        "second_attempts": sum(1 for r in records if (r.get("attempts") or 0) > 1),
        # the jobs cut by the kill: replaced once their heartbeat is lost (90 s)
        "second_attempt_upload_to_report": sorted(
            round(r["finished"] - r["sent"], 1) for r in finished if (r.get("attempts") or 0) > 1
        ),
        "shipments_in_db": result["all"],
        "throughput_before": len(before) / max(killed_at - start, 1e-9),
        "throughput_after": len(after) / max(last - killed_at, 1e-9),
        "p95_before": p95([r["finished"] - r["sent"] for r in sent_before]),
        "p95_after": p95([r["finished"] - r["sent"] for r in sent_after]),
        "seconds_after_kill_to_last_report": last - killed_at,
        "upload_failures": result["failures"][:10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=300)
    parser.add_argument("--rate", type=float, default=3.0, help="uploads per second")
    parser.add_argument("--kill-after", type=float, default=0.5, help="share of uploads sent")
    parser.add_argument("--subnet", default="10.213.0.0/24")
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the client phase, internal
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.client:
        client_main(args)
        return
    if os.geteuid() != 0:
        sys.exit("bench/multihost.py makes network namespaces: run it as root")
    for tool in ("ip", "unshare", "runuser", "initdb", "postgres", "redis-server", "psql"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/multihost.py needs {tool!r} on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="gw-multihost-"))
    os.chmod(workdir, 0o755)
    net = Net(secrets.token_hex(2), ipaddress.IPv4Network(args.subnet), workdir)

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    ok = False
    try:
        net.build()
        print(f"hosts: {', '.join(f'{h} {net.addr(h)}' for h in HOSTS)} (namespaces {net.tag})")
        database, redis = start_db_host(net)
        secret = secrets.token_hex(16)
        web_env = gateway_env(net, "web", database, redis, secret)
        for step in (
            gateway("db", "upgrade"),
            gateway("tenants", "create", "multihost"),
        ):
            done = net.call("web", step, web_env)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step[1:])} failed: {done.stderr[-1500:]}")
        made = net.call("web", gateway("keys", "create", "multihost"), web_env)
        if made.returncode != 0:
            raise RuntimeError(f"keys create failed: {made.stderr[-1500:]}")
        key = made.stdout.strip().splitlines()[-1]
        net.start(
            "web",
            gateway("serve", "--bind", f"{net.addr('web')}:8000", "--workers", "2"),
            web_env,
            "web.log",
        )
        base = f"http://{net.addr('web')}:8000"
        wait_for(
            lambda: net.call("client", ["curl", "-sf", f"{base}/healthz"], web_env).returncode == 0,
            90,
            "gateway serve",
        )
        work_a = gateway_env(net, "work-a", database, redis, secret)
        for n in range(2):
            net.start("work-a", gateway("worker"), work_a, f"work-a-{n}.log")
        job_file = workdir / "client.json"
        result_file = workdir / "client-result.json"
        progress = workdir / "client-progress"
        job_file.write_text(
            json.dumps(
                {
                    "base": base,
                    "key": key,
                    "shipments": args.shipments,
                    "rate": args.rate,
                    "drain_seconds": args.drain_seconds,
                    "database": database,
                    "out": str(result_file),
                    "progress": str(progress),
                }
            )
        )
        client_env = {**web_env, "PYTHONPATH": str(ROOT)}
        load_start = time.time()
        client = net.start(
            "client",
            [sys.executable, str(Path(__file__).resolve()), "--client", str(job_file)],
            client_env,
            "client.log",
        )
        loads = [load_average()]
        kill_at = int(args.shipments * args.kill_after)
        while client.poll() is None:
            sent = int(progress.read_text() or 0) if progress.exists() else 0
            if sent >= kill_at:
                break
            time.sleep(0.2)
        # mid-job: wait (a few seconds at most) until a shipment is being processed
        running = wait_running(net, address=net.addr("db"), timeout=20.0)
        killed_at = time.time()
        killed = net.kill_host("work-a")
        loads.append(load_average())
        print(
            f"killed host work-a ({killed} processes) after {kill_at} uploads, "
            f"{running} shipment(s) being processed"
        )
        work_b = gateway_env(net, "work-b", database, redis, secret)
        for n in range(2):
            net.start("work-b", gateway("worker"), work_b, f"work-b-{n}.log")
        client.wait(timeout=args.shipments / args.rate + args.drain_seconds + 120)
        loads.append(load_average())
        if client.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"the client failed: {(workdir / 'client.log').read_text()[-3000:]}")
        figures = summarize(json.loads(result_file.read_text()), load_start, killed_at)
        print(json.dumps(figures, indent=2))
        print(
            f"throughput before the kill {figures['throughput_before']:.2f} reports/s, "
            f"after {figures['throughput_after']:.2f} reports/s (ratio "
            f"{figures['throughput_after'] / max(figures['throughput_before'], 1e-9):.2f}); "
            f"upload-to-report p95 before {figures['p95_before']:.2f} s, after "
            f"{figures['p95_after']:.2f} s; load average {' -> '.join(loads)}"
        )
        ok = (
            figures["accepted"] == args.shipments
            and figures["final"] == figures["accepted"]
            and not figures["not_final"]
            and not figures["wrong_report_count"]
            and figures["shipments_in_db"] == figures["accepted"]
        )
        print("PASS: every accepted shipment is final with exactly one report" if ok else "FAIL")
    finally:
        net.teardown()
        if args.keep or not ok:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
