"""`gateway codes`: decode codes from arguments or, with --jsonl, one code per stdin line.

Imports nothing heavy: the command starts in the time Python and click take to start.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

import click

from gateway.domain import DecodedCode


def to_json(code: DecodedCode) -> dict[str, Any]:
    """The line-protocol object of one decoded code."""
    error = next((p.message for p in code.problems if p.severity == "error"), None)
    return {
        "valid": code.valid,
        "ais": dict(code.ais),
        "scheme": code.scheme.value,
        "error": error,
        "problems": [
            {"code": p.code, "message": p.message, "span": list(p.span), "severity": p.severity}
            for p in code.problems
        ],
        "key": code.key,
        "key_kind": code.key_kind,
    }


def _bad_line(message: str) -> dict[str, Any]:
    return {
        "valid": False,
        "ais": {},
        "scheme": "unknown",
        "error": message,
        "problems": [
            {"code": "INVALID_UTF8", "message": message, "span": [0, 0], "severity": "error"}
        ],
        "key": None,
        "key_kind": None,
    }


def run_jsonl(stdin: IO[bytes], stdout: IO[str], strict: bool) -> None:
    """Read codes one per line (split on LF only: GS and CR are data) and write JSON lines."""
    from gateway.gs1 import decode

    dumps = json.dumps
    write = stdout.write
    flush = stdout.flush
    for line in stdin:
        if line.endswith(b"\n"):
            line = line[:-1]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            obj = _bad_line(f"The line is not valid UTF-8: {exc.reason} at byte {exc.start}.")
        else:
            obj = to_json(decode(text, strict=strict))
        write(dumps(obj, ensure_ascii=False))
        write("\n")
        flush()


def _describe(code: DecodedCode) -> str:
    lines = [f"{code.raw!r}: {'valid' if code.valid else 'INVALID'} ({code.scheme.value})"]
    for ai, value in code.ais.items():
        lines.append(f"  ({ai}) {value}")
    if code.key:
        lines.append(f"  key: {code.key} [{code.key_kind}]")
    if code.gb is not None:
        gb = code.gb
        lines.append(
            f"  {gb.scheme.value}: manufacturer {gb.manufacturer}, {gb.product_level}, "
            f"chemistry {gb.chemistry} ({gb.chemistry_name or 'unknown'}), "
            f"date {gb.production_date or 'not decoded'}, serial {gb.serial}"
        )
        if gb.uncertain:
            lines.append(f"  uncertain: {', '.join(gb.uncertain)}")
    for p in code.problems:
        lines.append(f"  {p.severity}: {p.code} {list(p.span)}: {p.message}")
    return "\n".join(lines)


@click.command("codes")
@click.argument("codes", nargs=-1)
@click.option(
    "--jsonl", is_flag=True, help="Read one code per stdin line; write one JSON object per line."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines for the CODE arguments.")
@click.option(
    "--strict",
    is_flag=True,
    help="Repair no capture artefacts (full-width, FNC1 stand-ins, whitespace).",
)
def codes(codes: tuple[str, ...], jsonl: bool, as_json: bool, strict: bool) -> None:
    """Decode and validate GS1 element strings, Digital Link URIs and GB/T battery codes.

    \b
    Examples:
      gateway codes "(01)09521234543213(21)A1"
      printf '%s\\n' "(01)09521234543213" | gateway codes --jsonl
    """
    if jsonl:
        run_jsonl(sys.stdin.buffer, sys.stdout, strict)
        return
    from gateway.gs1 import decode

    if not codes:
        msg = "Give one or more CODE arguments, or --jsonl to read stdin."
        raise click.UsageError(msg)
    all_valid = True
    for raw in codes:
        decoded = decode(raw, strict=strict)
        all_valid = all_valid and decoded.valid
        if as_json:
            click.echo(json.dumps(to_json(decoded), ensure_ascii=False))
        else:
            click.echo(_describe(decoded))
    if not all_valid:
        sys.exit(1)
