"""One shipment through every door a user has: the CLI, the HTTP API and the web page.

A `Shipment` is what a user hands over: documents as (filename, bytes), the exporter's registry
export as bytes, and the facts typed next to the upload (destination, transport mode,
reference). Each door turns it into a `DoorResult` (verdict, findings, counts) read from what
that door gives the user:

- `run_cli`: `python -m gateway check FILES --registry REG --format json` in a subprocess; the
  exit status must match the verdict;
- `ApiDoor`: the registry imported into a live server's database, `POST /v1/shipments`
  multipart, polled until done, `GET` the report JSON;
- `WebDoor`: headless Chromium signs in with an API key, uploads the files with the page's
  own form, waits for the report page, reads the verdict shown and the JSON it links to;
- `ApiDoor.scan`: `POST /v1/scans` with a label photo's bytes.

`agree` asserts the doors give the same judgement; tests then assert on one result.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from gateway.reports.messages import COUNT_KEYS

# Debian's Chromium, headless, with nothing that talks to the network on its own
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXIT = {"clear": 0, "hold": 1, "block": 2}
SEVERITY_RANK = {"info": 0, "warn": 1, "block": 2}
# the report's own figures (not timings) are compared between doors
COUNTS = COUNT_KEYS
COUNTS = (
    "documents",
    "documents_rejected",
    "lines",
    "codes",
    "codes_invalid",
    "units",
    "verified",
    "not_found",
    "unverified",
    "block",
    "warn",
    "info",
)


@dataclass(frozen=True)
class Shipment:
    """What a user hands to the gateway for one shipment."""

    name: str
    documents: tuple[tuple[str, bytes], ...]
    registry: tuple[str, bytes] | None = None  # (filename, bytes) of the registry export
    destination: str | None = None
    transport_mode: str | None = None
    reference: str | None = None


@dataclass(frozen=True, order=True)
class Found:
    """One finding as a user sees it: code, severity, document and place in it."""

    code: str
    severity: str
    document: str  # file name ("" for a shipment-wide finding)
    where: str  # "J9" for a cell, "p1 l3" for a PDF line, "" when the finding names no place
    row: int | None = None
    raw: str | None = None  # the code the finding is about, if any


@dataclass(frozen=True)
class DoorResult:
    """What one door gave for one shipment."""

    door: str
    verdict: str
    findings: frozenset[Found]
    counts: Mapping[str, int]
    destination: str | None = None
    units: tuple[Mapping[str, Any], ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    exit_code: int | None = None

    def codes(self, severity: str | None = None) -> set[str]:
        """Finding codes, optionally only those of this severity."""
        return {f.code for f in self.findings if severity is None or f.severity == severity}

    def at(self, code: str) -> list[Found]:
        """The findings with this code."""
        return sorted(f for f in self.findings if f.code == code)

    def about(self, text: str) -> list[Found]:
        """The findings whose code, message or evidence mention `text` (e.g. a GTIN)."""
        out = []
        for raw in self.report.get("findings", []):
            if text in json.dumps(raw, ensure_ascii=False):
                out.extend(_found(raw, self._names()))
        return sorted(set(out))

    def _names(self) -> dict[str, str]:
        return {d["id"]: d["filename"] for d in self.report.get("documents", [])}

    def summary(self) -> str:
        """The verdict and findings on a few lines, for assertion messages."""
        lines = [f"{self.door}: {self.verdict} counts={dict(self.counts)}"]
        lines.extend(
            f"  {f.severity:5} {f.code} {f.document} {f.where}".rstrip()
            for f in sorted(self.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f))
        )
        return "\n".join(lines)


def _where(location: Mapping[str, Any]) -> str:
    if location.get("cell"):
        return str(location["cell"])
    parts = []
    if location.get("page") is not None:
        parts.append(f"p{location['page']}")
    if location.get("line") is not None:
        parts.append(f"l{location['line']}")
    elif location.get("row") is not None:
        parts.append(f"r{location['row']}")
    return " ".join(parts)


def _found(raw: Mapping[str, Any], names: Mapping[str, str]) -> list[Found]:
    locations = raw.get("locations") or [{}]
    return [
        Found(
            code=raw["code"],
            severity=raw["severity"],
            document=names.get(loc.get("document_id") or "", ""),
            where=_where(loc),
            row=loc.get("row"),
            raw=raw.get("code_raw"),
        )
        for loc in locations
    ]


def from_report(door: str, report: Mapping[str, Any], exit_code: int | None = None) -> DoorResult:
    """The normalised result of a report JSON (schema 1) as any door returns it."""
    names = {d["id"]: d["filename"] for d in report.get("documents", [])}
    findings = frozenset(f for raw in report.get("findings", []) for f in _found(raw, names))
    units = tuple(
        {**u, "document": names.get(u.get("document_id") or "", "")}
        for u in report.get("units", [])
    )
    return DoorResult(
        door=door,
        verdict=report["verdict"],
        findings=findings,
        counts={k: int(report["counts"].get(k, 0)) for k in COUNTS},
        destination=(report.get("shipment") or {}).get("destination"),
        units=units,
        report=report,
        exit_code=exit_code,
    )


class CliRun:
    """`gateway check` running in a subprocess; `result()` waits for it."""

    def __init__(self, shipment: Shipment, workdir: Path) -> None:
        folder = Path(tempfile.mkdtemp(prefix=f"{shipment.name}-", dir=workdir))
        args = [sys.executable, "-m", "gateway", "check"]
        for filename, data in shipment.documents:
            path = folder / filename
            path.write_bytes(data)
            args.append(str(path))
        if shipment.registry is not None:
            registry = folder / "registry" / shipment.registry[0]
            registry.parent.mkdir()
            registry.write_bytes(shipment.registry[1])
            args += ["--registry", str(registry)]
        if shipment.destination is not None:
            args += ["--destination", shipment.destination]
        if shipment.transport_mode is not None:
            args += ["--transport-mode", shipment.transport_mode]
        if shipment.reference is not None:
            args += ["--shipment-id", shipment.reference]
        args += ["--format", "json"]
        self.args = args
        self.seconds = 0.0  # how long the command ran
        started = time.perf_counter()
        self._process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=folder
        )
        self._output: tuple[bytes, bytes] = (b"", b"")

        def wait() -> None:
            self._output = self._process.communicate()
            self.seconds = time.perf_counter() - started

        self._waiter = threading.Thread(target=wait, name="gateway-check", daemon=True)
        self._waiter.start()

    def result(self, timeout: float = 120) -> DoorResult:
        """The report the command printed, checked against its exit status."""
        self._waiter.join(timeout)
        if self._waiter.is_alive():
            self._process.kill()
            self._waiter.join()
            raise AssertionError(f"gateway check ran longer than {timeout} s: {self.args}")
        out, err = self._output
        code = self._process.returncode
        if code == 3 or not out.strip():
            return DoorResult(
                door="cli",
                verdict="unusable",
                findings=frozenset(),
                counts={},
                report={"stderr": err.decode(errors="replace")},
                exit_code=code,
            )
        report = json.loads(out)
        result = from_report("cli", report, exit_code=code)
        assert code == EXIT[result.verdict], (
            f"gateway check exited {code} for verdict {result.verdict}: {err.decode()}"
        )
        return result


def run_cli(shipment: Shipment, workdir: Path) -> DoorResult:
    """`gateway check` on the shipment's files, as a broker runs it."""
    return CliRun(shipment, workdir).result()


def _rejected(door: str, status: int, body: Any) -> DoorResult:
    """A door that refused the upload: the user got an error, not a report."""
    return DoorResult(
        door=door,
        verdict="refused",
        findings=frozenset(),
        counts={},
        report={"status": status, "body": body},
    )


class ApiDoor:
    """The HTTP API of a live server: shipments and label scans with an API key."""

    def __init__(self, base: str, key: str, *, timeout: float = 120) -> None:
        self.base = base
        self.key = key
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def check(self, shipment: Shipment) -> DoorResult:
        """Upload the documents, poll until the check is done, read the report JSON."""
        data: dict[str, str] = {}
        for name in ("reference", "destination", "transport_mode"):
            value = getattr(shipment, name)
            if value is not None:
                data[name] = value
        files = [("documents", (name, content)) for name, content in shipment.documents]
        response = self.http.post(
            f"{self.base}/v1/shipments",
            data=data,
            files=files,
            headers={"Idempotency-Key": f"doors-{time.monotonic_ns()}"},
            timeout=self.timeout,
        )
        if response.status_code != 202:
            return _rejected("api", response.status_code, response.json())
        status_url = self.base + response.json()["status_url"]
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            body = self.http.get(status_url, timeout=self.timeout).json()
            if body["status"] in ("done", "rejected"):
                break
            assert time.monotonic() < deadline, f"shipment still {body['status']} after timeout"
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        if body["status"] == "rejected":
            return _rejected("api", 200, body)
        report = self.http.get(
            self.base + body["report_url"], params={"format": "json"}, timeout=self.timeout
        )
        assert report.status_code == 200, report.text
        result = from_report("api", report.json())
        assert body["verdict"] == result.verdict, (body["verdict"], result.verdict)
        return result

    def scan(self, photo: bytes, content_type: str = "image/png") -> DoorResult:
        """`POST /v1/scans` with the photo's bytes, as a warehouse scanner sends it."""
        response = self.http.post(
            f"{self.base}/v1/scans",
            data=photo,
            headers={"Content-Type": content_type},
            timeout=self.timeout,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        findings = frozenset(
            Found(code=f["code"], severity=f["severity"], document="", where="", raw=c["code"])
            for c in body["codes"]
            for f in c["findings"]
        )
        return DoorResult(
            door="scan",
            verdict=body["verdict"],
            findings=findings,
            counts={"codes": len(body["codes"])},
            report=body,
        )


class WebDoor:
    """The web page in headless Chromium: sign in, upload with the form, read the report."""

    def __init__(self, browser: Any, base: str, key: str, *, timeout_ms: int = 120_000) -> None:
        self.browser = browser
        self.base = base
        self.key = key
        self.timeout_ms = timeout_ms
        self.phases: dict[str, float] = {}  # phase -> seconds, of the last check
        self._page: Any = None

    def _phase(self, name: str, started: float) -> float:
        now = time.perf_counter()
        self.phases[name] = now - started
        return now

    def _signed_in_page(self) -> Any:
        """The upload page of a browser context signed in with the key (made once)."""
        if self._page is None:
            started = time.perf_counter()
            context = self.browser.new_context()
            page = context.new_page()
            page.set_default_timeout(self.timeout_ms)
            # The page polls the shipment's status once a second; the test moves the page's
            # clock on instead of waiting (the page's own code runs, only sooner).
            page.clock.install()
            page.goto(f"{self.base}/login")
            page.fill("#api_key", self.key)
            page.click("#sign-in")
            page.wait_for_url(f"{self.base}/upload")
            self._page = page
            self._phase("web: sign in", started)
        else:
            self._page.goto(f"{self.base}/upload")
        return self._page

    def _wait_for_report_link(self, page: Any) -> None:
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not page.locator("#open-report, #stage.error").count():
            assert time.monotonic() < deadline, "the upload page never linked a report"
            page.clock.run_for(1000)  # the page's next status poll
            page.wait_for_timeout(20)

    def check(self, shipment: Shipment, workdir: Path) -> DoorResult:
        """Type the facts, choose the files, submit, open the report and read it."""
        folder = Path(tempfile.mkdtemp(prefix=f"{shipment.name}-web-", dir=workdir))
        paths = []
        for filename, data in shipment.documents:
            path = folder / filename
            path.write_bytes(data)
            paths.append(str(path))
        self.phases = {}
        page = self._signed_in_page()
        started = time.perf_counter()
        page.set_input_files("#files", paths)
        if shipment.reference is not None:
            page.fill("#reference", shipment.reference)
        if shipment.destination is not None:
            # typed key by key, as a person does: the field's own limits apply
            page.locator("#destination").press_sequentially(shipment.destination)
        if shipment.transport_mode is not None:
            page.select_option("#transport_mode", shipment.transport_mode)
        page.click("#submit")
        self._wait_for_report_link(page)
        started = self._phase("web: upload until checked", started)
        if page.locator("#stage.error").count():
            return _rejected("web", 0, page.inner_text("#stage"))
        page.click("#open-report")
        page.wait_for_selector("#shipment")
        status = page.get_attribute("#shipment", "data-status")
        if status != "done":
            return _rejected("web", 200, status)
        shown = (page.get_attribute("#verdict", "class") or "").split()
        href = page.get_attribute("a[href$='format=json']", "href")
        assert href, "the report page links no JSON report"
        response = page.request.get(self.base + href)
        assert response.ok, response.text()
        result = from_report("web", response.json())
        assert f"word-{result.verdict}" in shown, f"page shows {shown}, report {result.verdict}"
        # the report shown in the page names every blocking finding
        text = page.locator("#report").inner_text()
        missing = sorted(c for c in result.codes("block") if c not in text)
        assert not missing, f"the report on the page does not show {missing}"
        self._phase("web: report page", started)
        return result

    def close(self) -> None:
        """Close the signed-in browser context."""
        if self._page is not None:
            self._page.context.close()
            self._page = None


def agree(results: Sequence[DoorResult]) -> DoorResult:
    """Assert that every door gave the same verdict, findings and counts; return the first."""
    first = results[0]
    problems = []
    for other in results[1:]:
        if (other.verdict, other.findings, dict(other.counts), other.destination) != (
            first.verdict,
            first.findings,
            dict(first.counts),
            first.destination,
        ):
            problems.append(_difference(first, other))
    assert not problems, "\n\n".join(problems)
    return first


def _difference(a: DoorResult, b: DoorResult) -> str:
    lines = [f"{a.door} and {b.door} differ:"]
    if a.verdict != b.verdict:
        lines.append(f"  verdict {a.door}={a.verdict} {b.door}={b.verdict}")
    if a.destination != b.destination:
        lines.append(f"  destination {a.door}={a.destination} {b.door}={b.destination}")
    for key in sorted(set(a.counts) | set(b.counts)):
        if a.counts.get(key) != b.counts.get(key):
            lines.append(
                f"  counts.{key} {a.door}={a.counts.get(key)} {b.door}={b.counts.get(key)}"
            )
    lines.extend(f"  only {a.door}: {f}" for f in sorted(a.findings - b.findings))
    lines.extend(f"  only {b.door}: {f}" for f in sorted(b.findings - a.findings))
    if a.verdict in ("refused", "unusable") or b.verdict in ("refused", "unusable"):
        lines.append(
            f"  {a.door}: {dict(a.report) if a.verdict in ('refused', 'unusable') else ''}"
        )
        lines.append(
            f"  {b.door}: {dict(b.report) if b.verdict in ('refused', 'unusable') else ''}"
        )
    return "\n".join(lines)


def worst(findings: Iterable[Found]) -> str:
    """The highest severity among these findings ("" for none)."""
    ranked = sorted(findings, key=lambda f: SEVERITY_RANK[f.severity])
    return ranked[-1].severity if ranked else ""


def replace(shipment: Shipment, **changes: Any) -> Shipment:
    """The shipment with some of its facts changed."""
    return dataclasses.replace(shipment, **changes)
