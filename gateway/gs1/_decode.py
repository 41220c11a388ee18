"""`decode`: recognise the form of one code, repair capture artefacts (unless strict), parse,
validate, and build the `DecodedCode`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from gateway.domain import DecodedCode, GbCode, Problem, Scheme
from gateway.gs1._engine import (
    GS,
    Element,
    RawProblem,
    check_associations,
    check_elements,
    check_signed_serials,
    params_of,
    parse_bracketed,
    parse_raw,
)
from gateway.gs1.checksums import has_valid_check_digit
from gateway.gs1.digital_link import is_digital_link, looks_like_url, parse_digital_link
from gateway.gs1.gb import GB34014_RE, GB45565_RE, decode_gb34014, decode_gb45565

# AIM symbology identifiers (ISO/IEC 15424) by the two characters after "]".
GS1_SYMBOLOGIES: Final = frozenset({"C1", "e0", "d2", "Q3", "J1"})
PLAIN_SYMBOLOGIES: Final = frozenset({"C0", "d1", "Q1", "J0"})
EAN_SYMBOLOGIES: Final = frozenset({"E0", "E4"})

# Characters that may end or start a code by accident: whitespace, BOM, ideographic space.
_TRIM: Final = " \t\r\n\v\f\u00a0\u3000\ufeff\u200b"
# FNC1 written as text by keyboard wedges, encoders and people (GS1.md §5).
_STAND_IN: Final = re.compile(
    r"(?i:\\x1d|\\u001d|<GS>|\{GS\}|\[GS\]|<FNC1>|\{FNC1\}|\[FNC1\]|\\F|~1)|\u241d|\^|\||@"
)
_STAND_IN_TRIGGERS: Final = frozenset("\\<{[~\u241d^|@")
# The separator between the linear and the composite component of one symbol, as the GS1
# reference engine writes it: "|" then the composite's own FNC1 (GS in raw data) or, in scan
# data, its symbology identifier ]e0.
_COMPOSITE_IN_SCAN: Final = "|]e0"
_COMPOSITE_SCAN_RE: Final = re.compile(r"\|\]e0")
_COMPOSITE_RAW_RE: Final = re.compile("\\|\x1d")
_HRI_SPACE: Final = re.compile(r"\)[ \t]+|[ \t]+(?=\()")
_DESTROYED: Final = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
# Full-width ASCII forms (U+FF01-U+FF5E) and the ideographic space, as CJK input methods type them.
_FULLWIDTH: Final = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

Mapper = Callable[[int], int]


class Text:
    """The text being parsed and the map of its offsets back to the raw input."""

    __slots__ = ("index", "notes", "shift", "text")

    def __init__(self, text: str, shift: int = 0) -> None:
        self.text = text
        self.shift = shift
        self.index: list[int] | None = None
        # repairs already reported with spans in the raw input
        self.notes: list[Problem] = []

    def note(self, code: str, message: str, start: int, end: int) -> None:
        """Record a repair (a warning) whose span is already in raw-input offsets."""
        self.notes.append(Problem(code, message, (start, end), "warning"))

    def copy(self) -> Text:
        """An independent copy, to try a second reading."""
        other = Text(self.text, self.shift)
        other.index = None if self.index is None else list(self.index)
        other.notes = list(self.notes)
        return other

    def raw_pos(self, pos: int) -> int:
        if self.index is None:
            return pos + self.shift
        return self.index[min(pos, len(self.index) - 1)]

    def substitute(
        self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], start: int = 0
    ) -> list[tuple[int, int, str]]:
        """Replace matches at or after `start`; keep the offset map; return (raw start, raw end, "
        "matched)."""
        text = self.text
        pieces: list[str] = []
        index: list[int] = []
        done: list[tuple[int, int, str]] = []
        last = 0
        for m in pattern.finditer(text, start):
            s, e = m.span()
            pieces.append(text[last:s])
            index.extend(self.raw_pos(i) for i in range(last, s))
            new = repl(m)
            pieces.append(new)
            index.extend([self.raw_pos(s)] * len(new))
            done.append((self.raw_pos(s), self.raw_pos(e - 1) + 1, m.group()))
            last = e
        if not done:
            return done
        pieces.append(text[last:])
        index.extend(self.raw_pos(i) for i in range(last, len(text) + 1))
        self.text = "".join(pieces)
        self.index = index
        return done


def normalise(raw: str) -> Text:
    """Repairs that apply to every form: full-width characters, surrounding whitespace and BOM."""
    text = raw
    notes: list[Problem] = []
    if not text.isascii():
        mapped = text.translate(_FULLWIDTH)
        if mapped != text:
            first = next(i for i, (a, b) in enumerate(zip(text, mapped, strict=True)) if a != b)
            notes.append(
                Problem(
                    "FULLWIDTH_NORMALISED",
                    "Full-width characters (as typed by CJK input methods) were read as their "
                    "ASCII forms.",
                    (first, len(raw)),
                    "warning",
                )
            )
            text = mapped
    stripped = text.strip(_TRIM)
    if len(stripped) != len(text):
        message = "Whitespace, BOM or ideographic space around the code was removed."
        lead = len(text) - len(text.lstrip(_TRIM))
        if lead:
            notes.append(Problem("WHITESPACE_TRIMMED", message, (0, lead), "warning"))
        if lead + len(stripped) < len(text):
            span = (lead + len(stripped), len(text))
            notes.append(Problem("WHITESPACE_TRIMMED", message, span, "warning"))
        t = Text(stripped, lead)
    else:
        t = Text(text)
    t.notes = notes
    return t


def _repair_stand_ins(t: Text, start: int) -> None:
    """Turn FNC1 stand-ins typed as text into GS, and drop an FNC1 in first position."""
    text = t.text
    if _STAND_IN_TRIGGERS.isdisjoint(text[start:]) and not text.startswith(GS, start):
        return
    done = t.substitute(_STAND_IN, lambda m: GS, start)
    for s, e, found in done:
        t.note("FNC1_STAND_IN_REPLACED", f"{found!r} was read as the FNC1 separator (GS).", s, e)
    if t.text.startswith(GS, start):
        s = t.raw_pos(start)
        if t.index is None:
            t.index = [t.raw_pos(i) for i in range(len(t.text) + 1)]
        del t.index[start]
        t.text = t.text[:start] + t.text[start + 1 :]
        t.note(
            "LEADING_FNC1_REMOVED",
            "A separator before the first element string (FNC1 in first position) was removed.",
            s,
            s + 1,
        )


def failed(raw: object, code: str, message: str) -> DecodedCode:
    """An invalid result that carries one error over the whole input: for input that is no
    text, or a bug reported as data instead of raised."""
    text = str(raw)
    span = (0, 0) if code == "INVALID_INPUT" else (0, len(text))
    return DecodedCode(
        raw=text,
        scheme=Scheme.UNKNOWN,
        valid=False,
        ais={},
        problems=(Problem(code, message, span),),
    )


def _key(ais: dict[str, str]) -> tuple[str | None, str | None]:
    gtin = ais.get("01")
    if gtin is not None and "21" in ais:
        return f"01:{gtin}/21:{ais['21']}", "sgtin"
    if "00" in ais:
        return f"00:{ais['00']}", "sscc"
    if "8004" in ais:
        return f"8004:{ais['8004']}", "giai"
    if "8003" in ais:
        return f"8003:{ais['8003']}", "grai"
    if gtin is not None and "10" in ais:
        return f"01:{gtin}/10:{ais['10']}", "lot"
    if gtin is not None:
        return f"01:{gtin}", "gtin"
    return None, None


def _finish(
    raw: str,
    scheme: Scheme,
    t: Text,
    problems: list[RawProblem],
    ais: dict[str, str] | None = None,
    symbology_id: str | None = None,
    gb: GbCode | None = None,
) -> DecodedCode:
    ais = ais or {}
    key: str | None
    kind: str | None
    if gb is not None:
        key, kind = gb.code, gb.scheme.value
    else:
        key, kind = _key(ais)
    if not problems and not t.notes:
        return DecodedCode(raw, scheme, True, ais, (), key, kind, gb, symbology_id)
    records = (
        *t.notes,
        *(
            Problem(
                code,
                msg,
                (t.raw_pos(s), max(t.raw_pos(s), t.raw_pos(e - 1) + 1 if e > s else t.raw_pos(e))),
                sev,
                params_of(msg),
            )
            for code, msg, s, e, sev in problems
        ),
    )
    valid = not any(p[4] == "error" for p in problems)
    repaired = bool(t.notes) or any(p[0] == "GB_NORMALISED" for p in problems)
    return DecodedCode(
        raw=raw,
        scheme=scheme,
        valid=valid,
        ais=ais,
        problems=records,
        key=key,
        key_kind=kind,
        gb=gb,
        symbology_id=symbology_id,
        repaired=repaired,
    )


def _gs1(
    raw: str,
    t: Text,
    elements: Sequence[Element],
    problems: list[RawProblem],
    associations: bool,
    scheme: Scheme,
    symid: str | None,
    bracketed: bool = False,
) -> DecodedCode:
    parse_failed = bool(problems) and any(p[4] == "error" for p in problems)
    ais = check_elements(elements, problems)
    if problems and any(p[4] == "error" for p in problems):
        for ai, value, vpos in elements:
            if _DESTROYED.fullmatch(value):
                problems.append(
                    (
                        "IDENTIFIER_DESTROYED",
                        f"AI ({ai}): {value!r} is a number in scientific notation, as a "
                        "spreadsheet writes it; the identifier is lost and must be re-captured.",
                        vpos,
                        vpos + len(value),
                        "error",
                    )
                )
    if associations and not parse_failed and elements:
        bracket = 2 if bracketed else 0

        def span_of(ai: str) -> tuple[int, int]:
            for e_ai, value, vpos in elements:
                if e_ai == ai:
                    return (vpos - len(ai) - bracket, vpos + len(value))
            return (0, 0)

        check_associations(list(ais), span_of, problems)
        check_signed_serials(ais, span_of, problems)
    return _finish(raw, scheme, t, problems, ais, symid)


def _ean(
    raw: str, t: Text, symid: str, problems: list[RawProblem], strict: bool, associations: bool
) -> DecodedCode:
    """EAN-13 (]E0, 13 digits: UPC-A is sent with its leading 0) or EAN-8 (]E4, 8 digits),
    optionally followed by a GS1 Composite component as "|]e0…" (ISO/IEC 24723 sends the two
    components as two messages; the GS1 reference engine joins them with "|")."""
    text = t.text
    cut = text.find(_COMPOSITE_IN_SCAN, 3)
    end = len(text) if cut == -1 else cut
    data = text[3:end]
    want = 13 if symid == "]E0" else 8
    if not (data.isascii() and data.isdigit()):
        problems.append(
            ("NON_NUMERIC", f"EAN/UPC data {data!r} must be digits only.", 3, end, "error")
        )
        return _finish(raw, Scheme.GS1, t, problems, {}, symid)
    if len(data) != want:
        hint = " (UPC-A is sent as 13 digits with a leading 0)" if symid == "]E0" else ""
        problems.append(
            (
                "WRONG_LENGTH",
                f"EAN/UPC data {data!r} after {symid}: expected {want} digits{hint}, got "
                f"{len(data)}.",
                3,
                end,
                "error",
            )
        )
        return _finish(raw, Scheme.GS1, t, problems, {}, symid)
    gtin = data.zfill(14)
    if not has_valid_check_digit(gtin):
        problems.append(
            (
                "INCORRECT_CHECK_DIGIT",
                f"The check digit of GTIN {data!r} is incorrect.",
                end - 1,
                end,
                "error",
            )
        )
        return _finish(raw, Scheme.GS1, t, problems, {"01": gtin}, symid)
    if cut == -1:
        return _finish(raw, Scheme.GS1, t, problems, {"01": gtin}, symid)
    start = cut + len(_COMPOSITE_IN_SCAN)
    if not strict:
        _repair_stand_ins(t, start)
    if start >= len(t.text):
        problems.append(
            ("EMPTY_INPUT", "No data follows the composite component's ]e0.", cut, start, "error")
        )
        return _finish(raw, Scheme.GS1, t, problems, {"01": gtin}, symid)
    elements = [("01", gtin, 3), *parse_raw(t.text, start, problems)]
    return _gs1(raw, t, elements, problems, associations, Scheme.GS1, symid)


def _gb(
    raw: str, t: Text, pos: int, strict: bool, problems: list[RawProblem], symid: str | None
) -> DecodedCode | None:
    """Decode a GB/T code at `pos`, or return None if the text is not one."""
    body = t.text[pos:]
    candidate = body
    if not strict and not candidate.isupper() and candidate.upper() != candidate:
        candidate = candidate.upper()
    if len(candidate) == 24 and GB34014_RE.fullmatch(candidate):
        if candidate != body:
            problems.append(
                (
                    "GB_NORMALISED",
                    "The GB/T 34014 code was read in upper case.",
                    pos,
                    len(t.text),
                    "warning",
                )
            )
        gb = decode_gb34014(candidate, pos, problems)
        return _finish(raw, Scheme.GB34014, t, problems, {}, symid, gb)
    m = GB45565_RE.fullmatch(candidate)
    if m is not None:
        if candidate != body:
            problems.append(
                (
                    "GB_NORMALISED",
                    "The GB/T 45565 code was read in upper case.",
                    pos,
                    len(t.text),
                    "warning",
                )
            )
        return _finish(raw, Scheme.GB45565, t, problems, {}, symid, decode_gb45565(candidate, m))
    return None


def decode_text(raw: str, strict: bool, associations: bool) -> DecodedCode:
    """The body of `decode`; may raise on a bug, which `decode` turns into a problem."""
    problems: list[RawProblem] = []
    t = Text(raw) if strict else normalise(raw)
    text = t.text
    if not text:
        t.shift = 0
        problems.append(("EMPTY_INPUT", "The code is empty.", 0, len(raw), "error"))
        return _finish(raw, Scheme.UNKNOWN, t, problems)
    first = text[0]
    if first == "]" and len(text) >= 3:
        symid = text[:3]
        sym = symid[1:]
        if sym in GS1_SYMBOLOGIES:
            if looks_like_url(text, 3):
                problems.append(
                    (
                        "URI_IN_GS1_SYMBOL",
                        f"{symid} announces GS1 element strings, but the data is a URI: Digital "
                        "Link URIs are plain data (]Q1, ]d1).",
                        0,
                        3,
                        "error",
                    )
                )
                return _finish(raw, Scheme.UNKNOWN, t, problems, None, symid)
            if _COMPOSITE_IN_SCAN in text:
                # the composite component of a GS1-128 or DataBar symbol sent as "|]e0…"
                t.substitute(_COMPOSITE_SCAN_RE, lambda m: GS, 3)
            if not strict:
                _repair_stand_ins(t, 3)
            if len(t.text) == 3:
                problems.append(
                    (
                        "EMPTY_INPUT",
                        f"No data follows the symbology identifier {symid}.",
                        0,
                        3,
                        "error",
                    )
                )
                return _finish(raw, Scheme.GS1, t, problems, None, symid)
            elements = parse_raw(t.text, 3, problems)
            return _gs1(raw, t, elements, problems, associations, Scheme.GS1, symid)
        if sym in EAN_SYMBOLOGIES:
            return _ean(raw, t, symid, problems, strict, associations)
        if sym in PLAIN_SYMBOLOGIES:
            if is_digital_link(text, 3):
                elements = parse_digital_link(text, 3, problems)
                return _gs1(raw, t, elements, problems, associations, Scheme.DIGITAL_LINK, symid)
            gb = _gb(raw, t, 3, strict, problems, symid)
            if gb is not None:
                return gb
            problems.append(
                (
                    "NOT_GS1_SYMBOLOGY",
                    f"{symid} carries plain data, not GS1 element strings, and the data is "
                    "neither a Digital Link URI nor a GB/T battery code.",
                    0,
                    len(text),
                    "error",
                )
            )
            return _finish(raw, Scheme.UNKNOWN, t, problems, None, symid)
        problems.append(
            ("UNSUPPORTED_SYMBOLOGY", f"Unsupported symbology identifier {symid!r}.", 0, 3, "error")
        )
        return _finish(raw, Scheme.UNKNOWN, t, problems, None, symid)
    if first == "(":
        if not strict and (" " in text or "\t" in text):
            for s, e, _found in t.substitute(_HRI_SPACE, lambda m: m.group().strip(" \t")):
                t.note(
                    "HRI_WHITESPACE_REMOVED",
                    "Spaces around the bracketed AIs of the human-readable form were removed.",
                    s,
                    e,
                )
        elements = parse_bracketed(t.text, 0, problems)
        return _gs1(raw, t, elements, problems, associations, Scheme.GS1, None, bracketed=True)
    if first in "hH":
        if is_digital_link(text):
            elements = parse_digital_link(text, 0, problems)
            return _gs1(raw, t, elements, problems, associations, Scheme.DIGITAL_LINK, None)
        if looks_like_url(text):
            parse_digital_link(text, 0, problems)
            return _finish(raw, Scheme.DIGITAL_LINK, t, problems)
    if _DESTROYED.fullmatch(text):
        problems.append(
            (
                "IDENTIFIER_DESTROYED",
                f"{text!r} is a number in scientific notation, as a spreadsheet writes it; the "
                "identifier is lost and must be re-captured.",
                0,
                len(text),
                "error",
            )
        )
        return _finish(raw, Scheme.UNKNOWN, t, problems)
    if not ("0" <= first <= "9"):
        gb = _gb(raw, t, 0, strict, problems, None)
        if gb is not None:
            return gb
        if first not in GS and first not in "^<{[\\~\u241d|@":
            problems.append(
                (
                    "UNRECOGNISED_FORMAT",
                    f"{text[:12]!r} is not a GS1 element string, Digital Link URI or GB/T battery "
                    "code.",
                    0,
                    len(text),
                    "error",
                )
            )
            return _finish(raw, Scheme.UNKNOWN, t, problems)
    elif not text.isdigit():
        # A GB/T code may start with digits (manufacturer or enterprise code); read it as GB/T
        # only when the GS1 reading fails, since digit-led GS1 strings are far more common.
        # A valid GS1 reading that identifies nothing (only company-internal AIs 90-99, e.g.
        # "982WJB1-..." read as AI 98) loses to a GB/T reading of the same text.
        if len(text) == 24 and text[3] in "PMC" and GB34014_RE.fullmatch(text):
            # No GS1 reading of this shape identifies anything: its fourth character is no
            # digit, so the first AI is not a key (00, 01, 02, 8003, 8004 and every other
            # fixed-length AI are digits there) and, with no GS, takes the whole text.
            return _gb(raw, t, 0, strict, problems, None) or _raw_gs1(
                raw, t, problems, associations, strict
            )
        attempt = _raw_gs1(raw, t, list(problems), associations, strict)
        if attempt.valid and attempt.key is not None:
            return attempt
        gb = _gb(raw, t.copy(), 0, strict, list(problems), None)
        return attempt if gb is None else gb
    return _raw_gs1(raw, t, problems, associations, strict)


def _raw_gs1(
    raw: str, t: Text, problems: list[RawProblem], associations: bool, strict: bool
) -> DecodedCode:
    work = t.copy()
    if "|" in work.text:
        # "linear|composite": the composite component starts with FNC1, sent as GS
        work.substitute(_COMPOSITE_RAW_RE, lambda m: GS)
    if not strict:
        _repair_stand_ins(work, 0)
    elements = parse_raw(work.text, 0, problems)
    return _gs1(raw, work, elements, problems, associations, Scheme.GS1, None)


def decode(raw: str, *, strict: bool = False, associations: bool = True) -> DecodedCode:
    """Read one code: a GS1 element string (bracketed, raw, scanner data with a symbology
    identifier), a GS1 Digital Link URI, or a GB/T 34014 / GB/T 45565 battery code.

    Args:
        raw: the code exactly as captured (GS kept as "\\x1d").
        strict: repair nothing; capture artefacts then make the code invalid.
        associations: check mandatory associations and invalid pairs within this one code.
            Pass False for one symbol of a multi-symbol label and call `validate_together`.

    Returns:
        A `DecodedCode`; `valid` is False when any problem has severity "error".
        Never raises.

    An element string, as scanner data with its symbology identifier (GS ends a field):

    >>> code = decode("]d2010952123454321321A1\x1d10L1")
    >>> code.scheme.value, code.valid, dict(code.ais), code.symbology_id
    ('gs1', True, {'01': '09521234543213', '21': 'A1', '10': 'L1'}, ']d2')

    A GS1 Digital Link URI gives the same key as the element string:

    >>> code = decode("https://id.gs1.org/01/09521234543213/21/A1?17=271231")
    >>> code.scheme.value, code.key
    ('gs1-digital-link', '01:09521234543213/21:A1')
    >>> dict(code.ais)
    {'01': '09521234543213', '21': 'A1', '17': '271231'}

    A GB/T 34014 traction-battery code, split into its segments:

    >>> code = decode("001PEAD0P4T1JBC901234567")
    >>> code.key_kind, code.gb.product_level, code.gb.chemistry_name, code.gb.serial
    ('gb34014', 'pack', 'NCM/NCA', '1234567')

    A wrong check digit is a problem with a code and the span of the bad character:

    >>> code = decode("(01)09521234543214(21)A1")
    >>> code.valid, [(p.code, p.span) for p in code.problems]
    (False, [('INCORRECT_CHECK_DIGIT', (17, 18))])
    """
    if not isinstance(raw, str):
        return failed(raw, "INVALID_INPUT", f"Expected a str, got {type(raw).__name__}.")
    try:
        return decode_text(raw, strict, associations)
    except Exception as exc:  # a bug must not stop a manifest: report it as data
        return failed(
            raw, "INTERNAL_ERROR", f"The code could not be read: {type(exc).__name__}: {exc}"
        )
