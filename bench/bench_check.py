"""Benchmark: a 20,000-unit shipment (generated XLSX) through `gateway check`, end to end.

Runs the real command in a fresh interpreter (import time included) with the local registry,
and compares it with a baseline measured in the same run: loading the same workbook with
openpyxl in read-only mode and touching every cell, the least any checker must do. Prints
the stage timings, the peak RSS of the largest process of the check (the command or its
parser child), and the ratio to the baseline. Target: at most 5 s end to end on a quiet
machine, peak RSS at most 250 MB. The parsed registry is kept between runs (by content), so
the first run of a new registry reads it and later runs load it: `--cold` measures a read.
The gateway's modules are compiled to byte code first, as an install does (an environment
with PYTHONDONTWRITEBYTECODE would otherwise compile them on every run, about 0.5 s), and the
stages outside the pipeline's own timings are measured beside the run: the command's imports
in a fresh interpreter, the registry's load, and the JSON and XLSX report writers.

    .venv/bin/python bench/bench_check.py [--units 20000]
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from gateway.domain import Document, Extraction, RegistrationRecord, RegistrationStatus
from gateway.pipeline import DocumentInput
from gateway.rules.reference import level_in_text
from samples.shipments import FIXED_CLOCK as CLOCK
from samples.shipments import large_shipment, registry_csv

TARGET_S = 5.0
TARGET_MB = 250.0


def baseline(data: bytes) -> float:
    started = time.perf_counter()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    cells = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells += sum(1 for v in row if v is not None)
    wb.close()
    return time.perf_counter() - started


def _truth_records(truth: dict[str, Any]) -> list[RegistrationRecord]:
    """Registry records for every unit a dev manifest's truth lists."""
    records: dict[str, RegistrationRecord] = {}
    for row in truth["records"]:
        code = row["code"]
        info = row.get("info") or {}
        description = str(info.get("description") or "")
        ess = any(w in description.lower() for w in ("storage", "ess", "储能", "cabinet"))
        common = {
            "status": RegistrationStatus.REGISTERED,
            "lot": row.get("lot"),
            "destination_country": row.get("destination"),
            "category": "ci_ess" if ess else "nev_traction",
            "level": level_in_text(description),
            "un_number": row.get("un_number"),
        }
        if isinstance(code, str):
            records[code] = RegistrationRecord(record_id=f"R-{code}", gb_code=code, **common)
        elif "01" in code and "21" in code:
            key = f"{code['01']}/{code['21']}"
            records[key] = RegistrationRecord(
                record_id=f"R-{len(records)}", gtin=code["01"], serial=code["21"], **common
            )
    return list(records.values())


def dev_corpus(folder: Path) -> int:
    """Verdicts of the whole pipeline on the dev manifests, with registries built from truth.

    Per file: the full registry (no registration finding expected), the registry without
    its first unit (UNIT_NOT_REGISTERED and block expected), and with the first unit revoked
    (REGISTRATION_STATUS_BLOCKING and block expected).
    """
    from collections import Counter

    from gateway.pipeline import ShipmentFacts, check_shipment
    from gateway.platform_client.local import InMemoryRegistry

    hits: Counter[str] = Counter()
    total: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    for truth_path in sorted((folder / "truth").glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        path = folder / truth["file"]
        data = path.read_bytes()
        document = Document(
            id="doc-1",
            filename=path.name,
            media_type=_sniff(data, path.name),
            sha256="",
            size=len(data),
        )
        cache: dict[str, object] = {}

        def extract(item: DocumentInput, cache: dict[str, object] = cache) -> Extraction:
            if "x" not in cache:
                from gateway.parsers import extract as real

                try:
                    cache["x"] = real(item.data, filename=item.document.filename)
                except Exception as exc:
                    cache["x"] = exc
            if isinstance(cache["x"], Exception):
                raise cache["x"]
            return cache["x"]  # type: ignore[return-value]

        records = _truth_records(truth)
        if not records:
            continue
        first = records[0]
        variants = {
            "full": records,
            "removed": records[1:],
            "revoked": [
                dataclasses.replace(first, status=RegistrationStatus.REVOKED),
                *records[1:],
            ],
        }
        expected = {"removed": "UNIT_NOT_REGISTERED", "revoked": "REGISTRATION_STATUS_BLOCKING"}
        line = [f"{path.name:34}"]
        for name, recs in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                reg_path = Path(tmp) / "registry.csv"
                reg_path.write_bytes(registry_csv(recs))
                registry = InMemoryRegistry.from_file(reg_path)
            report = check_shipment(
                [DocumentInput(document, data)],
                platform=registry,
                extract=extract,
                facts=ShipmentFacts(shipment_id=path.stem),
                clock=lambda: CLOCK,
            )
            found = {f.code for f in report.findings}
            total[name] += 1
            if name == "full":
                ok = not found & set(expected.values())
                noted = sorted(
                    {f"{f.severity}:{f.code}" for f in report.findings if str(f.severity) != "info"}
                )
                verdicts[str(report.verdict)] += 1
            else:
                ok = expected[name] in found and str(report.verdict) == "block"
            hits[name] += ok
            line.append(f"{name}={report.verdict}{'' if ok else '(!)'}")
        print(" ".join(line), " ".join(noted))
    for name in ("full", "removed", "revoked"):
        print(f"{name:8} as expected: {hits[name]}/{total[name]}")
    print(f"verdicts with the full registry: {dict(verdicts)}")
    return 0


def near_miss(records: tuple[RegistrationRecord, ...], queries: int = 200) -> None:
    """Near-miss index over the registry's keys: build time and time per mistyped code."""
    from gateway.platform_client.local import InMemoryRegistry
    from gateway.rules.nearmiss import KeySet

    registry = InMemoryRegistry(records)
    keys = registry.keys()
    step = max(len(keys) // queries, 1)

    # typos in the first character of the GTIN, in its check digit (key position 16) and in
    # the serial's first character: each has exactly one registered neighbour
    def typo(key: str, at: int) -> str:
        return key[:at] + ("7" if key[at] != "7" else "3") + key[at + 1 :]

    sample = keys[::step]
    typos = [typo(k, 3) for k in sample] + [typo(k, 16) for k in sample]
    typos += [typo(k, k.index("/21:") + 4) for k in sample]
    started = time.perf_counter()
    index = KeySet(registry.keys)
    index.near(typos[0])
    built = time.perf_counter() - started
    started = time.perf_counter()
    found = sum(1 for typo in typos if len(index.near(typo)) == 1)
    per_query = (time.perf_counter() - started) / len(typos)
    print(
        f"near-miss index:  built over {len(keys)} keys in {built:.3f} s; "
        f"{per_query * 1000:.2f} ms per mistyped code; unique suggestion for {found}/{len(typos)}"
    )


def _best(seconds: list[float]) -> float:
    return min(seconds)


def outside_stages(registry: Path, report_path: Path, env: dict[str, str]) -> dict[str, float]:
    """The stages of the check outside the pipeline's timings, each the best of three."""
    from gateway.platform_client.memory import InMemoryRegistry
    from gateway.reports.formats import render
    from gateway.reports.json_report import report_from_dict

    if "GATEWAY_CACHE_DIR" in env:  # --cold: this process reads the file too
        os.environ["GATEWAY_CACHE_DIR"] = env["GATEWAY_CACHE_DIR"]
    stages: dict[str, list[float]] = {"imports": [], "registry": [], "json": [], "xlsx": []}
    report = report_from_dict(json.loads(report_path.read_text(encoding="utf-8")))
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import gateway.cli.check"], check=True, env=env)
        stages["imports"].append(time.perf_counter() - started)
        started = time.perf_counter()
        InMemoryRegistry.from_file(registry)
        stages["registry"].append(time.perf_counter() - started)
        for fmt in ("json", "xlsx"):
            started = time.perf_counter()
            render(report, fmt, "en")
            stages[fmt].append(time.perf_counter() - started)
    return {name: round(_best(values), 3) for name, values in stages.items()}


def _sniff(data: bytes, name: str) -> str:
    from gateway.cli.check import _media_type

    return _media_type(data, name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--cold", action="store_true", help="no registry cache (read the file)")
    parser.add_argument(
        "--dev-corpus",
        type=Path,
        default=None,
        help="measure verdicts on a dev manifest set (folder with truth/)",
    )
    args = parser.parse_args()
    if args.dev_corpus is not None:
        return dev_corpus(args.dev_corpus)
    document, records = large_shipment(args.units)
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / document.document.filename
        manifest.write_bytes(document.data)
        registry = Path(tmp) / "registry.csv"
        registry.write_bytes(registry_csv(records))
        base = baseline(document.data)
        command = [
            str(Path(sys.executable).with_name("gateway")),
            "check",
            str(manifest),
            "--registry",
            str(registry),
            "--today",
            "2026-11-20",
            "--out",
            str(Path(tmp) / "report.json"),
        ]
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        import gateway

        compileall.compile_dir(Path(gateway.__file__).parent, quiet=1)
        if args.cold:
            env["GATEWAY_CACHE_DIR"] = ""
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
        outside = outside_stages(registry, Path(tmp) / "report.json", env)
    print(f"units:            {args.units}")
    print(f"manifest size:    {len(document.data) / 1e6:.1f} MB")
    print(f"exit status:      {result.returncode} (verdict {report['verdict']})")
    print(f"verified units:   {report['counts']['verified']} of {report['counts']['units']}")
    print(f"stage timings:    {report['timings']}")
    rest = elapsed - sum(report["timings"].values())
    print(f"start-up, registry import, report writing: {rest:.2f} s")
    print(
        f"  of which, measured beside the run (best of 3): imports {outside['imports']:.2f} s, "
        f"registry load {outside['registry']:.2f} s, JSON report {outside['json']:.2f} s "
        f"(XLSX report {outside['xlsx']:.2f} s)"
    )
    print(f"gateway check:    {elapsed:.2f} s (target <= {TARGET_S:.0f} s)")
    print(f"peak RSS:         {peak_mb:.0f} MB (largest process; target <= {TARGET_MB:.0f} MB)")
    print(f"baseline (openpyxl read-only scan): {base:.2f} s")
    print(f"ratio check / baseline: {elapsed / base:.1f}x")
    near_miss(records)
    ok = elapsed <= TARGET_S and peak_mb <= TARGET_MB and report["counts"]["verified"] == args.units
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
