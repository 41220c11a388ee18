"""Prometheus text exposition, written by hand (counters and histograms, with labels).

One registry per process. With rq, jobs run in worker processes, so job counters are also
added to a Redis hash (`<prefix>:metrics`) that the web process folds into `/metrics`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

HELP = {
    "gateway_http_requests_total": ("counter", "HTTP requests by method, route and status."),
    "gateway_http_request_seconds": ("histogram", "HTTP request duration by route."),
    "gateway_jobs_total": ("counter", "Shipment jobs finished, by outcome."),
    "gateway_job_seconds": ("histogram", "Shipment job duration."),
    "gateway_codes_checked_total": ("counter", "Codes checked, by entry point."),
    "gateway_platform_calls_total": ("counter", "Unit registration look-ups, by outcome."),
    "gateway_platform_failures_total": ("counter", "Registration look-ups left unverified."),
    "gateway_outbox_total": ("counter", "Outbox deliveries, by kind and outcome."),
    "gateway_scan_annotations_failed_total": (
        "counter",
        "Marked-up scan photos that could not be drawn (the verdicts were answered).",
    ),
}


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    parts = []
    for key, value in sorted(labels.items()):
        escaped = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{key}="{escaped}"')
    return "{" + ",".join(parts) + "}"


class Metrics:
    """Counters and histograms kept in memory, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._hist: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add to a counter."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0.0) + amount

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Record one observation of a histogram (buckets, then sum and count)."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            slots = self._hist.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if value <= bound:
                    slots[i] += 1
            slots[-2] += value
            slots[-1] += 1

    def snapshot(self) -> dict[str, Any]:
        """A copy of the raw values (for merging)."""
        with self._lock:
            return {
                "counters": dict(self._counters),
                "hist": {k: list(v) for k, v in self._hist.items()},
            }

    def render(self, extra_counters: Iterable[tuple[str, Mapping[str, str], float]] = ()) -> str:
        """The Prometheus text format (version 0.0.4)."""
        snap = self.snapshot()
        counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = snap["counters"]
        for name, extra_labels, value in extra_counters:
            key = (name, tuple(sorted(extra_labels.items())))
            counters[key] = counters.get(key, 0.0) + value
        lines: list[str] = []
        names = sorted({k[0] for k in counters} | {k[0] for k in snap["hist"]} | set(HELP))
        for name in names:
            kind, text = HELP.get(name, ("counter", name))
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            for (cname, labels), value in sorted(counters.items()):
                if cname == name:
                    lines.append(f"{name}{_labels(dict(labels))} {value:g}")
            for (hname, labels), slots in sorted(snap["hist"].items()):
                if hname != name:
                    continue
                base = dict(labels)
                for bound, count in zip(BUCKETS, slots, strict=False):
                    lines.append(f"{name}_bucket{_labels({**base, 'le': f'{bound:g}'})} {count:g}")
                lines.append(f"{name}_bucket{_labels({**base, 'le': '+Inf'})} {slots[-1]:g}")
                lines.append(f"{name}_sum{_labels(base)} {slots[-2]:g}")
                lines.append(f"{name}_count{_labels(base)} {slots[-1]:g}")
        return "\n".join(lines) + "\n"


METRICS = Metrics()
