"""`python -m workers`: the rq worker for shipment jobs (same as `gateway worker`)."""

from __future__ import annotations

from gateway.workers.command import worker

if __name__ == "__main__":
    worker(prog_name="python -m workers")
