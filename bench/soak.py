"""Soak test with faults: uploads keep arriving while workers are killed and restarted.

The claim checked (P1): every upload answered 202 reaches exactly one final status, is listed
once, and a retried upload never creates a second shipment, even when the worker running
its job is killed with SIGKILL. The reconciler is set to re-enqueue after 20 s so killed jobs
come back within the run.

    .venv/bin/python bench/soak.py [--rate 2] [--seconds 300] [--kill-every 20] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
from pathlib import Path

import requests
from bench_load import Poller, check_history, manifest, p95, run_uploads, start_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="1/s for 40 s, a kill every 10 s")
    args = parser.parse_args()
    if args.quick:
        args.rate, args.seconds, args.kill_every = 1.0, 40.0, 10.0
    rng = random.Random(7)
    kills = 0
    env = {"GATEWAY_RECONCILE_AFTER": "20", "GATEWAY_RECONCILE_EVERY": "5"}
    with tempfile.TemporaryDirectory(prefix="gw-soak-") as tmp:
        stack = start_stack(Path(tmp), workers=2, extra_env=env)
        stop = threading.Event()

        def chaos() -> None:
            nonlocal kills
            while not stop.wait(args.kill_every):
                workers = [p for p in stack.procs[1:] if p.poll() is None]
                if workers:
                    victim = rng.choice(workers)
                    stack.kill_worker(victim)  # no warm shutdown: the job is cut
                    kills += 1
                    stack.start_worker()

        killer = threading.Thread(target=chaos, daemon=True)
        try:
            manifest()  # build once before timing
            killer.start()
            poller = Poller(stack)
            poller.start()
            uploads, retries = run_uploads(stack, args.rate, args.seconds, poller)
            stop.set()
            killer.join()
            done = poller.wait(timeout=300.0)
            history = check_history(stack, uploads, retries, done)
            missing = {u.shipment_id for u in uploads + retries if u.shipment_id} - set(done)
            for sid in sorted(missing):  # say where each unfinished shipment stands
                body = requests.get(
                    f"{stack.base}/v1/shipments/{sid}",
                    headers={"Authorization": f"Bearer {stack.key}"},
                    timeout=10,
                ).json()
                print(f"unfinished {sid}: {body.get('status')} {body.get('progress')}")
        finally:
            stop.set()
            stack.stop()
    report_p95 = p95([t for _, t in done.values()])
    print(f"soak: {len(uploads)} uploads, {kills} workers killed; history {history}")
    print(f"upload-to-final p95 {report_p95:.1f} s")
    ok = history["lost"] == 0 and history["duplicated"] == 0 and history["unfinished"] == 0
    print("PASS" if ok else "FAIL: lost, duplicated or unfinished shipments")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
