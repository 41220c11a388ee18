"""`gateway check`: the whole pipeline offline, for a broker before submission.

Exit status: 0 clear, 1 hold, 2 block, 3 unusable input (no usable document, bad arguments).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import sys
from pathlib import Path
from typing import Any

import click

from gateway.domain import Document, Extraction, Report, Verdict
from gateway.pipeline import DocumentInput

EXIT = {Verdict.CLEAR: 0, Verdict.HOLD: 1, Verdict.BLOCK: 2}
EXIT_UNUSABLE = 3
_MAGIC = (
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"\xd0\xcf\x11\xe0", "application/vnd.ms-excel"),
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class _Usage(click.UsageError):
    """Bad arguments: exit status 3, as for unusable input."""

    exit_code = EXIT_UNUSABLE


def _media_type(data: bytes, filename: str) -> str:
    """The type sniffed from the bytes; "application/octet-stream" when unknown."""
    try:
        parsers: Any = importlib.import_module("gateway.parsers")
        return str(parsers.sniff(data, filename))
    except ImportError:
        pass
    except Exception:  # an unsupported type is reported by the extractor, per document
        return "application/octet-stream"
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return "text/csv" if filename.lower().endswith(".csv") else "application/octet-stream"


def _extract_one(item: DocumentInput) -> Extraction:
    """Read one document in a child process when the sandbox is installed."""
    from gateway.pipeline import sandboxed_extract

    return sandboxed_extract(item)


def _progress(enabled: bool) -> Any:
    def show(stage: str, fraction: float) -> None:
        click.echo(f"\r\x1b[K{stage} {fraction:4.0%}", nl=False, err=True)

    return show if enabled else None


def _render(report: Report, fmt: str, lang: str) -> bytes:
    from gateway import reports

    if fmt == "json":
        return reports.render_json(report).encode()
    if fmt == "html":
        return reports.render_html(report, lang).encode()
    if fmt == "csv":
        return ("\ufeff" + reports.render_csv(report, lang)).encode()  # BOM: Excel reads UTF-8
    return reports.render_xlsx(report, lang)


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Registry export (CSV/XLSX) to verify codes against; without it, codes stay "
    "unverified and the verdict is HOLD at best.",
)
@click.option("--destination", default=None, help="Destination country, ISO 3166 alpha-2.")
@click.option("--transport-mode", type=click.Choice(["sea", "air", "road", "rail"]), default=None)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html", "csv", "xlsx"]),
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
    default=False,
    show_default=True,
    help="Read each document in a child process with memory and time limits "
    "(slower; for files from untrusted senders).",
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

    Exit status: 0 clear, 1 hold, 2 block, 3 unusable input.
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
    if destination is not None and (len(destination) != 2 or not destination.isalpha()):
        msg = f"--destination {destination!r}: expected an ISO 3166 alpha-2 code such as DE."
        raise _Usage(msg)
    if ruleset not in available_rulesets():
        msg = f"--ruleset {ruleset!r}: expected one of {list(available_rulesets())}."
        raise _Usage(msg)

    documents: list[DocumentInput] = []
    for index, path in enumerate(files, start=1):
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"Cannot read {str(path)!r}: {exc.strerror}."
            raise _Usage(msg) from None
        document = Document(
            id=f"doc-{index}",
            filename=path.name,
            media_type=_media_type(data, path.name),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        documents.append(DocumentInput(document, data))

    platform: Any
    if registry is None:
        platform = UnverifiedPlatform()
        click.echo(
            "No --registry given: codes cannot be verified, the verdict is HOLD at best.",
            err=True,
        )
    else:
        try:
            local: Any = importlib.import_module("gateway.platform_client.local")
            platform = local.InMemoryRegistry.from_file(registry)
        except Exception as exc:
            msg = f"Cannot use registry {str(registry)!r}: {exc}"
            raise _Usage(msg) from None

    facts = ShipmentFacts(
        shipment_id=shipment_id or (files[0].stem if len(files) == 1 else "shipment"),
        destination=destination.upper() if destination else None,
        transport_mode=transport_mode,
    )
    interactive = sys.stderr.isatty()
    try:
        report = check_shipment(
            documents,
            platform=platform,
            facts=facts,
            extract=_extract_one if sandbox else None,
            clock=clock,
            progress=_progress(interactive),
            ruleset=ruleset,
        )
    except RulesetError as exc:
        raise _Usage(str(exc)) from None

    if interactive:
        click.echo("\r\x1b[K", nl=False, err=True)
    payload = _render(report, fmt, lang)
    if out is not None:
        out.write_bytes(payload)
    elif fmt == "xlsx" and sys.stdout.isatty():
        msg = "--format xlsx writes binary data: pass --out FILE."
        raise _Usage(msg)
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
    if report.counts.get("documents_rejected", 0) == len(documents):
        sys.exit(EXIT_UNUSABLE)
    sys.exit(EXIT[report.verdict])
