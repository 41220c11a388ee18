"""`gateway codes`: decode codes from arguments or, with --jsonl, one code per stdin line.

Imports nothing heavy: the command starts in the time Python and click take to start.
"""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring
from typing import IO, Any, Final

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


# JSON text of the line protocol, built directly: the same characters `json.dumps(to_json(c),
# ensure_ascii=False)` writes, without the dictionary per line.
_JSON_BOOL: Final = {True: "true", False: "false"}
_CACHE_LIMIT: Final = 65536


def _json_str(text: str | None) -> str:
    return "null" if text is None else encode_basestring(text)


def to_json_text(code: DecodedCode) -> str:
    """`json.dumps(to_json(code), ensure_ascii=False)`, written out directly (the line
    protocol's hot path)."""
    ais = ", ".join(
        f"{encode_basestring(ai)}: {encode_basestring(value)}" for ai, value in code.ais.items()
    )
    error = None
    parts: list[str] = []
    for p in code.problems:
        if error is None and p.severity == "error":
            error = p.message
        parts.append(
            f'{{"code": {encode_basestring(p.code)}, "message": {encode_basestring(p.message)}, '
            f'"span": [{p.span[0]}, {p.span[1]}], "severity": {encode_basestring(p.severity)}}}'
        )
    return (
        f'{{"valid": {_JSON_BOOL[code.valid]}, "ais": {{{ais}}}, '
        f'"scheme": {encode_basestring(code.scheme.value)}, "error": {_json_str(error)}, '
        f'"problems": [{", ".join(parts)}], "key": {_json_str(code.key)}, '
        f'"key_kind": {_json_str(code.key_kind)}}}'
    )


def run_jsonl(stdin: IO[bytes], stdout: IO[str], strict: bool, as_kind: str | None = None) -> None:
    """Read codes one per line (split on LF only: GS and CR are data) and write JSON lines.

    Input is taken as it arrives (up to 64 KiB at a time) and the answers to every complete
    line of it are written and flushed together: a pipe full of codes costs one write per
    chunk, while a caller that sends one line and waits gets its answer at once. A repeated
    line is answered from a bounded cache: decoding depends on the text alone.
    """
    from gateway.gs1 import decode, decode_key

    if as_kind is None:

        def read(text: str) -> DecodedCode:
            return decode(text, strict=strict)
    else:
        kind = as_kind

        def read(text: str) -> DecodedCode:
            return decode_key(text, kind, strict=strict)

    cache: dict[bytes, str] = {}
    write = stdout.write
    flush = stdout.flush
    read1 = getattr(stdin, "read1", stdin.read)

    def answer(line: bytes) -> str:
        got = cache.get(line)
        if got is not None:
            return got
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            out = json.dumps(
                _bad_line(f"The line is not valid UTF-8: {exc.reason} at byte {exc.start}."),
                ensure_ascii=False,
            )
        else:
            out = to_json_text(read(text))
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[line] = out
        return out

    pending = b""
    while True:
        chunk = read1(1 << 16)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
        pending = lines.pop()
        if lines:
            write("\n".join(map(answer, lines)))
            write("\n")
            flush()
    if pending:
        write(answer(pending))
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
@click.option(
    "--as",
    "as_kind",
    type=click.Choice(["gtin", "sscc", "gln"]),
    help="Read each code as this GS1 key: a bare GTIN-8/12/13/14, SSCC-18 or GLN-13.",
)
def codes(
    codes: tuple[str, ...], jsonl: bool, as_json: bool, strict: bool, as_kind: str | None
) -> None:
    """Decode and validate GS1 element strings, Digital Link URIs and GB/T battery codes.

    Without --as, a line of digits alone is a raw element string as it follows FNC1
    ("0109521234543213" is AI 01); with --as it is that key ("5901234123457" is a GTIN-13).

    \b
    Examples:
      gateway codes "(01)09521234543213(21)A1"
      printf '%s\\n' "(01)09521234543213" | gateway codes --jsonl
      gateway codes --as gtin 5901234123457
    """
    if jsonl:
        run_jsonl(sys.stdin.buffer, sys.stdout, strict, as_kind)
        return
    from gateway.gs1 import decode, decode_key

    if not codes:
        msg = "Give one or more CODE arguments, or --jsonl to read stdin."
        raise click.UsageError(msg)
    all_valid = True
    for raw in codes:
        if as_kind is None:
            decoded = decode(raw, strict=strict)
        else:
            decoded = decode_key(raw, as_kind, strict=strict)
        all_valid = all_valid and decoded.valid
        if as_json:
            click.echo(json.dumps(to_json(decoded), ensure_ascii=False))
        else:
            click.echo(_describe(decoded))
    if not all_valid:
        sys.exit(1)
