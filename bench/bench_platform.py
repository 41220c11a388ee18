"""Benchmark: 10,000 keys through the HTTP adapter against the simulator on 127.0.0.1.

The baseline, measured in the same run against the same simulator, is the naive loop: one
plain `requests.get` per key, no session, no batching. Target: at least 20 times faster than
the baseline and under 3 s.

    .venv/bin/python bench/bench_platform.py [--keys 10000] [--naive-sample 10000] [--repeat 3]

The simulator runs in its own process (as the platform would), so client and server do not
share one interpreter lock.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import quote

import requests

from gateway.domain import LookupStatus
from gateway.platform_client.http import HttpPlatformClient, HttpSettings
from gateway.platform_client.keys import key_to_code, sgtin_key
from gateway.platform_client.simdata import generate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(size: int, seed: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    cmd = [sys.executable, "-m", "gateway", "platform-sim", "--port", str(port)]
    cmd += ["--size", str(size), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return url, proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the simulator did not start within 60 s")


def adapter_run(url: str, keys: list[str]) -> float:
    client = HttpPlatformClient(HttpSettings(url, cache_ttl=0.0, concurrency=4))
    started = time.perf_counter()
    answers = client.lookup(keys)
    elapsed = time.perf_counter() - started
    client.close()
    found = sum(a.status == LookupStatus.FOUND for a in answers.values())
    if found != len(keys):
        raise SystemExit(f"adapter found {found} of {len(keys)} keys; expected all")
    return elapsed


def naive_run(url: str, keys: list[str]) -> float:
    started = time.perf_counter()
    found = 0
    for key in keys:
        reply = requests.get(f"{url}/v1/codes/{quote(key_to_code(key), safe='')}", timeout=10)
        found += reply.status_code == 200
    elapsed = time.perf_counter() - started
    if found != len(keys):
        raise SystemExit(f"naive loop found {found} of {len(keys)} keys; expected all")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=None,
        help="time the naive loop on this many keys and scale up (default: all keys)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="adapter runs (median reported)")
    args = parser.parse_args()

    data = generate(seed=0, size=args.keys)
    keys = [sgtin_key(r.gtin or "", r.serial or "") for r in data.records][: args.keys]
    url, proc = start(args.keys, 0)
    try:
        adapter_run(url, keys[:500])  # warm up: imports, first connections, server caches
        runs = [adapter_run(url, keys) for _ in range(max(1, args.repeat))]
        sample = min(args.naive_sample or len(keys), len(keys))
        naive = naive_run(url, keys[:sample]) * len(keys) / sample
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    adapter = statistics.median(runs)
    ratio = naive / adapter
    print(f"keys:                  {len(keys)}")
    print(f"adapter (median of {len(runs)}): {adapter:.3f} s  ({len(keys) / adapter:,.0f} keys/s)")
    print(f"adapter runs:          {', '.join(f'{r:.3f}' for r in runs)} s")
    scaled = "" if sample == len(keys) else f" (timed on {sample} keys, scaled)"
    print(f"naive baseline:        {naive:.3f} s  ({len(keys) / naive:,.0f} keys/s){scaled}")
    print(f"ratio:                 {ratio:.1f}x  (target >= 20x, adapter < 3 s)")
    verdict = "PASS" if ratio >= 20 and adapter < 3 else "FAIL"
    print(f"result:                {verdict}")


if __name__ == "__main__":
    main()
