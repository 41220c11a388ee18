"""`gateway check`: the whole pipeline offline, for a broker before submission.

Exit status: 0 clear, 1 hold, 2 block, 3 unusable input (no usable document, a file that
cannot be opened), 4 wrong arguments.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from gateway.domain import TRANSPORT_MODES, Document, Extraction, Report, Verdict
from gateway.parsers.sniff import XLSM, XLSX, sniff
from gateway.pipeline import DocumentInput
from gateway.platform_client.memory import InMemoryRegistry
from gateway.reports.formats import FORMATS, NAMES, annotate, render

EXIT = {Verdict.CLEAR: 0, Verdict.HOLD: 1, Verdict.BLOCK: 2}
EXIT_UNUSABLE = 3  # no document could be read, or a file named cannot be opened
EXIT_USAGE = 4  # the command's words are wrong: never a verdict's code


class _Usage(click.UsageError):
    """Bad arguments: exit status 4, apart from every verdict and from unusable input."""

    exit_code = EXIT_USAGE


class _Unusable(click.ClickException):
    """A file the command was given cannot be used: exit status 3."""

    exit_code = EXIT_UNUSABLE


class _CheckCommand(click.Command):
    """Usage errors that click finds itself (an unknown option or format) exit 4 too."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _Usage:
            raise
        except click.UsageError as exc:
            raise _Usage(exc.format_message(), ctx=exc.ctx) from None


def _media_type(data: bytes, filename: str) -> str:
    """The type sniffed from the bytes; "application/octet-stream" when unknown."""
    try:
        return sniff(data, filename)
    except Exception:  # an unsupported type is reported by the extractor, per document
        return "application/octet-stream"


def _extract_one(item: DocumentInput) -> Extraction:
    """Read one document as the service reads an upload: in a child process with limits,
    forked from a warm server that has the readers imported."""
    from gateway.parsers.sandbox import shared_fork_server
    from gateway.pipeline import sandboxed_extract

    return sandboxed_extract(item, server=shared_fork_server())


class _ReadAhead:
    """The documents read one after another in a thread of their own, started before the
    registry is loaded: the sandbox child parses while this process reads the registry, and
    the pipeline's extractor (this object) waits for each document's result in turn."""

    def __init__(self, documents: Sequence[DocumentInput]) -> None:
        self._done = {id(item): threading.Event() for item in documents}
        self._results: dict[int, Extraction | Exception] = {}
        reader = threading.Thread(target=self._read, args=(documents,), daemon=True)
        reader.start()

    def _read(self, documents: Sequence[DocumentInput]) -> None:
        for item in documents:
            try:
                self._results[id(item)] = _extract_one(item)
            except Exception as exc:  # the pipeline gets it, as from its own extractor
                self._results[id(item)] = exc
            finally:
                self._done[id(item)].set()

    def __call__(self, item: DocumentInput) -> Extraction:
        self._done[id(item)].wait()
        result = self._results.pop(id(item), None)
        if result is None:
            msg = "The document reader stopped before this document."
            raise RuntimeError(msg)
        if isinstance(result, Exception):
            raise result
        return result


class TerminalProgress:
    """Progress on a terminal: the step, which document of how many, and elapsed time.

    The document readers report no progress of their own, so while one long document is read
    a ticker redraws the line twice a second with the time spent on it: the user sees the
    check is alive. Used only when stderr is a terminal; `close()` stops the ticker and clears
    the line.
    """

    def __init__(self, stream: TextIO, documents: Sequence[DocumentInput]) -> None:
        """Draw on `stream` for a shipment of `documents`."""
        self._stream = stream
        self._numbers = {d.document.filename: i for i, d in enumerate(documents, start=1)}
        self._sizes = {d.document.filename: len(d.data) for d in documents}
        self._total = len(documents)
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._step_started = self._started
        self._text = "starting"
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="check-progress", daemon=True)
        self._ticker.start()

    def __call__(self, stage: str, fraction: float) -> None:
        """The pipeline's progress callback: a stage in its words and a fraction of it."""
        text = stage
        if stage.startswith("reading "):
            name = stage.removeprefix("reading ")
            number = self._numbers.get(name)
            size = self._sizes.get(name, 0)
            if number is not None:
                text = f"[{number}/{self._total}] reading {name} ({size / 1e6:.1f} MB)"
        elif 0.0 < fraction < 1.0:
            text = f"{stage} {fraction:.0%}"
        with self._lock:
            if text != self._text:
                self._text = text
                self._step_started = time.monotonic()
            self._draw()

    def _draw(self) -> None:
        now = time.monotonic()
        step = now - self._step_started
        total = now - self._started
        line = f"gateway check: {self._text} · {step:.1f} s (total {total:.1f} s)"
        self._stream.write(f"\r\x1b[K{line}")
        self._stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                self._draw()

    def close(self) -> None:
        """Stop the ticker and clear the progress line."""
        self._stop.set()
        self._ticker.join()
        self._stream.write("\r\x1b[K")
        self._stream.flush()


def _load_registry(path: Path) -> InMemoryRegistry:
    """The local registry read from a CSV/XLSX export; unusable files are bad arguments."""
    try:
        return InMemoryRegistry.from_file(path)
    except Exception as exc:
        msg = f"Cannot use registry {str(path)!r}: {exc}"
        raise _Unusable(msg) from None


def _render(report: Report, fmt: str, lang: str, documents: Sequence[DocumentInput]) -> bytes:
    if fmt == "annotated":
        workbook = next((d for d in documents if d.document.media_type in (XLSX, XLSM)), None)
        if workbook is None:
            msg = "--format annotated marks up an Excel (.xlsx) document: none was given."
            raise _Usage(msg)
        return annotate(report, workbook.data, workbook.document.id, lang)
    return render(report, fmt, lang)


@click.command("check", cls=_CheckCommand)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Registry export (CSV/XLSX) to verify codes against; without it, codes stay "
    "unverified and the verdict is HOLD at best.",
)
@click.option(
    "--destination",
    default=None,
    help="Destination country: ISO 3166-1 code or name in English or Chinese (DE, Germany, 德国).",
)
@click.option("--transport-mode", type=click.Choice(TRANSPORT_MODES), default=None)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(NAMES),
    default="json",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report here instead of standard output.",
)
@click.option("--today", default=None, help="Check as of this date (YYYY-MM-DD).")
@click.option("--ruleset", default="default", show_default=True)
@click.option("--shipment-id", default=None, help="Shipment id shown in the report.")
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    show_default=True,
    help="Read each document in a child process with memory and time limits, as the "
    "service reads uploads (--no-sandbox: in this process, for trusted files).",
)
def check(
    files: tuple[Path, ...],
    registry: Path | None,
    destination: str | None,
    transport_mode: str | None,
    fmt: str,
    lang: str,
    out: Path | None,
    today: str | None,
    ruleset: str,
    shipment_id: str | None,
    sandbox: bool,
) -> None:
    """Check a shipment's documents (manifests, packing lists, label photos) offline.

    Exit status: 0 clear, 1 hold, 2 block, 3 unusable input, 4 wrong arguments.
    """
    from gateway.pipeline import ShipmentFacts, UnverifiedPlatform, check_shipment
    from gateway.rules import RulesetError, available_rulesets

    clock = None
    if today is not None:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            msg = f"--today {today!r} is not a date: expected YYYY-MM-DD."
            raise _Usage(msg) from None
        moment = dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.UTC)
        clock = lambda: moment  # noqa: E731
    if destination is not None:
        from gateway.countries import normalize_country

        # the same country table as the web form, the API and the documents
        country = normalize_country(destination) if len(destination) <= 200 else None
        if country is None:
            msg = (
                f"--destination {destination[:60]!r}: expected an ISO 3166-1 code (DE, DEU) or "
                f"the country's name in English or Chinese (Germany, 德国)."
            )
            raise _Usage(msg)
        destination = country
    if ruleset not in available_rulesets():
        msg = f"--ruleset {ruleset!r}: expected one of {list(available_rulesets())}."
        raise _Usage(msg)

    documents: list[DocumentInput] = []
    for index, path in enumerate(files, start=1):
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"Cannot read {str(path)!r}: {exc.strerror}."
            raise _Unusable(msg) from None
        document = Document(
            id=f"doc-{index}",
            filename=path.name,
            media_type=_media_type(data, path.name),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        documents.append(DocumentInput(document, data))
    if sandbox:
        # the parser's fork server imports the readers in a process of its own: started now,
        # that runs beside this process's reading of the registry. It imports only what the
        # documents' kinds need: a packing list does not wait for the label reader's import.
        from gateway.parsers.sandbox import preload_for, shared_fork_server

        shared_fork_server(preload_for(d.document.media_type for d in documents))

    facts = ShipmentFacts(
        shipment_id=shipment_id or (files[0].stem if len(files) == 1 else "shipment"),
        destination=destination.upper() if destination else None,
        transport_mode=transport_mode,
    )
    if registry is None:
        click.echo(
            "No --registry given: codes cannot be verified, the verdict is HOLD at best.",
            err=True,
        )
    # Progress only on a terminal: piped or redirected stderr gets nothing extra.
    progress = TerminalProgress(sys.stderr, documents) if sys.stderr.isatty() else None
    # One check holds large records that live to the end (registry, lines, codes); the cyclic
    # collector would walk them again and again for nothing (0.7 s of a 20,000-unit check),
    # so it runs rarely until the report is written.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    # the sandbox reads the documents while this process loads the registry
    extract = _ReadAhead(documents) if sandbox else None
    try:
        platform: Any = UnverifiedPlatform()
        if registry is not None:
            if progress is not None:
                progress(f"loading the registry {registry.name}", 0.0)
            platform = _load_registry(registry)
        report = check_shipment(
            documents,
            platform=platform,
            facts=facts,
            extract=extract,
            clock=clock,
            progress=progress,
            ruleset=ruleset,
        )
        if progress is not None:
            progress("writing the report", 0.0)
        payload = _render(report, fmt, lang, documents)
    except RulesetError as exc:
        raise _Usage(str(exc)) from None
    finally:
        gc.set_threshold(*thresholds)
        if progress is not None:
            progress.close()
    if out is not None:
        out.write_bytes(payload)
    elif FORMATS[fmt].binary and sys.stdout.isatty():
        msg = f"--format {fmt} writes binary data: pass --out FILE."
        raise _Usage(msg)
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
    if report.counts.get("documents_rejected", 0) == len(documents):
        sys.exit(EXIT_UNUSABLE)
    sys.exit(EXIT[report.verdict])
