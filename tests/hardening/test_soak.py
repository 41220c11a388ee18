"""The soak script in its CI size: uploads keep arriving while rq workers are SIGKILLed.

P1 over a client-observed history: every upload answered 202 reaches exactly one final
status, none is lost or duplicated, retried uploads never make a second shipment. Real
`gateway serve`, two `gateway worker`s, Redis and PostgreSQL on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(480)
def test_soak_quick_loses_and_duplicates_nothing_while_workers_are_killed() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=450,
        check=False,
    )
    out = proc.stdout + proc.stderr[-2000:]
    assert proc.returncode == 0, out
    assert "'lost': 0" in proc.stdout, out
    assert "'duplicated': 0" in proc.stdout, out
    assert "workers killed" in proc.stdout, out
