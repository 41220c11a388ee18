"""`gateway extract FILE`: the records of one document as JSON (one record per identifier)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gateway.domain import CodeOccurrence, DecodedCode, Extraction, ManifestLine
from gateway.errors import InputError


def code_value(raw: str, decoded: DecodedCode | None = None) -> dict[str, str] | str:
    """The AI map of a GS1 code, or the code string itself (GB/T codes, unparsed text)."""
    from gateway.parsers.codes import judge

    decoded = decoded or judge(raw)
    if decoded.ais:
        return dict(decoded.ais)
    return decoded.key or raw


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _line_number(line_no: str | None) -> int | str | None:
    if line_no is None:
        return None
    return int(line_no) if line_no.isdigit() else line_no


def _record(line: ManifestLine | None, occ: CodeOccurrence) -> dict[str, Any]:
    from gateway.parsers.codes import judge

    decoded = judge(occ.raw)
    code = code_value(occ.raw, decoded)
    lot = line.lot if line is not None else None
    if lot is None and isinstance(code, dict):
        lot = code.get("10")
    record: dict[str, Any] = {
        "line": _line_number(line.line_no) if line is not None else None,
        "code": code,
        "lot": lot,
        "qty": _number(line.quantity) if line is not None else None,
        "destination": line.destination if line is not None else None,
        "hs_code": line.hs_code if line is not None else None,
        "un_number": line.un_number if line is not None else None,
        "raw": occ.raw,
        "valid": decoded.valid,
        "problems": [p.code for p in decoded.problems if p.severity == "error"],
        "method": occ.method.value,
        "where": occ.source.describe(),
    }
    if line is not None:
        record.update(
            description=line.description,
            gross_kg=line.gross_kg,
            net_kg=line.net_kg,
            container=line.container,
            carton=line.carton,
        )
    return record


def to_records(ex: Extraction) -> dict[str, Any]:
    """The scoring contract: `{"records": [...], "errors": [...]}` plus document facts."""
    records = [_record(line, occ) for line in ex.lines for occ in line.codes]
    records.extend(_record(None, occ) for occ in ex.loose_codes)
    errors = [
        {
            "line": _line_number(p.line_no),
            "kind": p.kind,
            "severity": p.severity.value,
            "message": p.message,
            "where": p.source.describe() if p.source is not None else None,
        }
        for p in ex.problems
    ]
    return {
        "document": {
            "filename": ex.document.filename,
            "media_type": ex.document.media_type,
            "sha256": ex.document.sha256,
            "method": ex.method,
            "pages": ex.pages,
        },
        "header": dict(ex.header),
        "records": records,
        "errors": errors,
    }


@click.command("extract")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sandbox/--no-sandbox", default=False, help="Parse in a child process with limits.")
@click.option(
    "--lines", "show_lines", is_flag=True, help="Also print every line, with or without codes."
)
def extract(file: Path, sandbox: bool, show_lines: bool) -> None:
    """Read FILE (xlsx, xlsm, xls, csv, pdf, image) and print its records as JSON."""
    data = file.read_bytes()
    try:
        if sandbox:
            from gateway.parsers.sandbox import extract_sandboxed, shared_fork_server

            # forked from a warm server, as the service reads uploads
            ex = extract_sandboxed(data, filename=file.name, server=shared_fork_server())
        else:
            from gateway.parsers import extract as run

            ex = run(data, filename=file.name)
    except InputError as exc:
        click.echo(f"gateway extract: {file.name}: {exc.code}: {exc}", err=True)
        sys.exit(3)
    out = to_records(ex)
    if show_lines:
        from gateway.parsers.serialize import extraction_to_dict

        out["lines"] = extraction_to_dict(ex)["lines"]
    click.echo(json.dumps(out, ensure_ascii=False))
