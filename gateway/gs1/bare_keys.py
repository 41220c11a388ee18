"""Bare GS1 keys: a digit string that is a GTIN, SSCC or GLN by itself, with no AI in front.

A manifest column headed GTIN / EAN / 商品条码 / SSCC / 托盘码 holds keys, not element strings:
"5901234123457" there is a GTIN-13, while as an element string it starts with the unknown AI 59.
`decode_key` reads a value as the key its context names; `bare_key_readings` lists every key a
digit string could be by its length and check digit, for a cell whose context names none, so
that the caller can let the column's other values decide instead of guessing.

References: GS1 General Specifications §3.3.2 (AI 00, SSCC), §3.3.3 (AI 01, GTIN-8/12/13/14 in
a 14-digit field), §3.7.9 (AI 414, GLN) and §7.9 (check digit).
"""

from __future__ import annotations

from typing import Final

from gateway.domain import DecodedCode, Problem, Scheme
from gateway.gs1._decode import decode, failed, normalise
from gateway.gs1.checksums import check_digit, has_valid_check_digit

# kind -> (AI, the lengths a bare key of that kind may have, its name for messages)
KEY_KINDS: Final[dict[str, tuple[str, tuple[int, ...], str]]] = {
    "gtin": ("01", (8, 12, 13, 14), "a GTIN of 8, 12, 13 or 14 digits"),
    "sscc": ("00", (18,), "an SSCC of 18 digits"),
    "gln": ("414", (13,), "a GLN of 13 digits"),
}


def _reading(raw: str, kind: str, digits: str, lead: int, notes: list[Problem]) -> DecodedCode:
    """The reading of `digits` (a string of ASCII digits of an allowed length) as `kind`."""
    ai = KEY_KINDS[kind][0]
    value = digits.zfill(14) if ai == "01" else digits
    problems = list(notes)
    if not has_valid_check_digit(value):
        end = lead + len(digits)
        problems.append(
            Problem(
                "INCORRECT_CHECK_DIGIT",
                f"The check digit of {kind.upper()} {digits!r} is incorrect: expected "
                f"{check_digit(value[:-1])!r}, got {value[-1]!r}.",
                (end - 1, end),
                params=(("value", digits), ("kind", kind.upper())),
            )
        )
    key: str | None
    key_kind: str | None
    if kind == "gln":
        # a GLN names a party or a place, not a unit: no unit key, as for (414) in any form
        key, key_kind = None, None
    else:
        key, key_kind = f"{ai}:{value}", kind
    return DecodedCode(
        raw=raw,
        scheme=Scheme.GS1,
        valid=not any(p.severity == "error" for p in problems),
        ais={ai: value},
        problems=tuple(problems),
        key=key,
        key_kind=key_kind,
        repaired=bool(notes),
    )


def _digits(raw: str) -> tuple[str, int, list[Problem]]:
    """The text with the repairs `decode` makes to every form (full-width characters, whitespace
    around it); the offset of its first character in `raw`; those repairs, as warnings."""
    t = normalise(raw)
    return t.text, t.shift, t.notes


def decode_key(text: str, kind: str, *, strict: bool = False) -> DecodedCode:
    """Read `text` as the GS1 key `kind` ("gtin", "sscc" or "gln") names; see `_decode_key`.
    `strict` repairs nothing, as for `decode`. Never raises: a bug is reported as an
    `INTERNAL_ERROR` problem.

    >>> code = decode_key("9521234543213", "gtin")
    >>> code.valid, code.key
    (True, '01:09521234543213')
    """
    try:
        return _decode_key(text, kind, strict)
    except Exception as exc:  # a bug must not stop a manifest: report it as data
        return failed(
            text, "INTERNAL_ERROR", f"The code could not be read: {type(exc).__name__}: {exc}"
        )


def _decode_key(text: str, kind: str, strict: bool) -> DecodedCode:
    """Read `text` as the GS1 key `kind` ("gtin", "sscc" or "gln") names, as a column header
    or `gateway codes --as` says it is.

    A bare digit string of the kind's length is the key: a GTIN-8/12/13 is padded to the
    14 digits of AI (01). Anything else (bracketed, scan data, Digital Link, an element string
    of digits) is read by `decode` as usual; when that reading is invalid or lacks the key,
    the problem says what a key of this kind looks like.

    >>> decode_key("5901234123457", "gtin").ais
    {'01': '05901234123457'}
    """
    if not isinstance(text, str):
        return failed(text, "INVALID_INPUT", f"Expected a str, got {type(text).__name__}.")
    if kind not in KEY_KINDS:
        return failed(
            text, "INVALID_INPUT", f"Expected a key kind of gtin, sscc or gln, got {kind!r}."
        )
    ai, lengths, name = KEY_KINDS[kind]
    digits, lead, notes = (text, 0, []) if strict else _digits(text)
    if digits.isascii() and digits.isdigit() and len(digits) in lengths:
        return _reading(text, kind, digits, lead, notes)
    decoded = decode(text, strict=strict)
    if decoded.valid and ai in decoded.ais:
        return decoded
    if digits.isascii() and digits.isdigit():
        problem = Problem(
            "WRONG_LENGTH",
            f"Expected {name}, got {len(digits)} digits.",
            (lead, lead + len(digits)),
        )
        return DecodedCode(
            raw=text,
            scheme=Scheme.GS1,
            valid=False,
            ais={},
            problems=(*notes, problem),
            repaired=bool(notes),
        )
    if not decoded.valid:
        return decoded
    problem = Problem(
        "MISSING_KEY",
        f"Expected {name} or a code with AI ({ai}), got a code with AIs "
        f"{', '.join(f'({a})' for a in decoded.ais) or 'none'}.",
        (0, len(text)),
    )
    return DecodedCode(
        raw=text,
        scheme=decoded.scheme,
        valid=False,
        ais=decoded.ais,
        problems=(*decoded.problems, problem),
        key=decoded.key,
        key_kind=decoded.key_kind,
        gb=decoded.gb,
        symbology_id=decoded.symbology_id,
        repaired=decoded.repaired,
    )


def bare_key_readings(text: str) -> list[DecodedCode]:
    """Every GS1 key a bare digit string may be; see `_bare_key_readings`. Never raises."""
    try:
        return _bare_key_readings(text)
    except Exception:  # a bug must not stop a manifest: no reading is a safe answer
        return []


def _bare_key_readings(text: str) -> list[DecodedCode]:
    """Every GS1 key a bare digit string may be, by its length and check digit: a GTIN-8/12/13/14,
    a GLN-13 (a 13-digit string is both a GTIN-13 and a GLN) or an SSCC-18. Each reading is
    valid; an empty list when none fits.

    For a cell whose column names no key kind: when this gives a reading and `decode` gives
    another (a bare 8-digit GTIN is also AI 96 = 6 digits), both are plausible and the
    column's other values should decide.

    >>> [(r.key_kind, dict(r.ais)) for r in bare_key_readings("96385074")]
    [('gtin', {'01': '00000096385074'})]
    """
    if not isinstance(text, str):
        return []
    digits, lead, notes = _digits(text)
    if not (digits.isascii() and digits.isdigit()):
        return []
    found: list[DecodedCode] = []
    for kind, (_ai, lengths, _name) in KEY_KINDS.items():
        if len(digits) in lengths:
            reading = _reading(text, kind, digits, lead, notes)
            if reading.valid:
                found.append(reading)
    return found
