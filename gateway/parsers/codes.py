"""Spot battery identifiers in the text of one cell, one PDF cell or one OCR line.

This module only *finds* candidates; `gateway.gs1.decode` judges and normalizes them. A cell
may hold one code or several (commas, semicolons, slashes, line breaks), a code may be
wrapped over lines, and the same code may be written as bracketed HRI (with or without
spaces), a raw element string (GS as 0x1D, Excel's `_x001D_`, a printed `<GS>`, an AIM
symbology prefix such as `]d2`), a GS1 Digital Link URL, an SSCC in label digit groups, a
GB/T 34014 code written in groups or a GB/T 45565 code. Candidate finding is a handful of
precompiled regexes, and the code engine judges every candidate.

Nothing that looks like an identifier is dropped (docs/extraction.md, "What is read as a code"):

* a candidate with the shape of a battery identifier (bracketed HRI or a Digital Link URI
  that starts with a GS1 key, a raw element string that starts with (00)/(01)/(02), a GB/T
  34014 code, spaced HRI such as `01 09506000134352`, and in a code column a bare digit
  string with the length of a GTIN or SSCC) is a `FoundCode`, valid or not: an invalid one
  carries the engine's problems, and the rules report them at its cell;
* other text of a code column that the engine cannot read as a code, but that could be one
  (letters and digits, eight characters or more), is a "possible code" for a person to look
  at (`CellCodes.possible`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from gateway.domain import DecodedCode, Scheme
from gateway.gs1 import decode, has_valid_check_digit

GS = "\x1d"

# Stand-ins for the group separator that come from the document format, not from a
# scanner: Excel writes a control character as `_x001D_` in its XML. The engine reads the
# printed stand-ins (`<GS>`, `{GS}`, ...) itself.
_EXCEL_GS = re.compile(r"_x001[dD]_")
_URL = re.compile(r"https?://[^\s,;<>\"']+", re.IGNORECASE)
_HRI_AI = re.compile(r"\(\s*(\d{2,4})\s*\)")
_WRAPPED_BRACKET = re.compile(r"\(\s*\n\s*")
_SPACE = re.compile(r"\s+")
_SPACE_DASH = re.compile(r"[\s\-]+")
_LEADING_DIGITS = re.compile(r"\d*")
_TOKENS = re.compile(r"[ \t\r\n]+")
_NEWLINES = re.compile(r"[\r\n]+")
_SINGLE = re.compile(
    r"\((?:0[01]|8003|8004)\)[^\s,;，；、()]+(?:\(\d{2,4}\)[^\s,;，；、()]+)*|[0-9A-Z]{3}[PMC][0-9A-Z]{20}"
)
# separators between codes written in one cell
_SPLIT = re.compile(r"[,;，；、]|\s/\s|\s\|\s")
# a raw element string starts with a GS1 key of predefined length (SSCC, GTIN)
_RAW_START = re.compile(r"(?:\][A-Za-z][0-9])?(?:00\d{18}|01\d{14}|02\d{14})")
# GB/T 34014 in groups: 24 characters once spaces and dashes are gone, P/M/C in position 4
_GB34014_SHAPE = re.compile(r"[0-9A-Z]{3}[PMC][0-9A-Z]{20}")
# one written as a word of its own (after white space or a separator), letters and digits
_GB34014_TOKEN = re.compile(
    r"(?<=[\s,;，；、])(?=[A-Z]*\d)(?=\d*[A-Z])[0-9A-Z]{3}[PMC][0-9A-Z]{20}(?![0-9A-Za-z])"
)
# GB/T 45565: enterprise code (4) + product type letter + type codes, "-", optional "R-",
# the unique product part; the engine decides, this only spots the shape
_GB45565_SHAPE = re.compile(r"[0-9A-Z]{4}[A-Z][0-9A-Z]{1,12}-(?:R-)?[0-9A-Z]{4,40}")
# AIs with a predefined numeric length (GS1 General Specifications figure 7.8.5-2); label
# digit groups ("(00) 3 6901234 000000001 8") are closed up only inside these values
_NUMERIC_LENGTH: dict[str, int] = {
    "00": 18, "01": 14, "02": 14, "03": 14, "04": 16,
    "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2,
}  # fmt: skip
_PRIMARY = frozenset({"00", "01", "8003", "8004", "8006"})
_KEYED = frozenset({"sgtin", "sscc", "giai", "grai", "lot", "gtin", "itip", "gb34014", "gb45565"})
# the AIs a battery identifier starts with: a candidate starting with one of them is a code
# even when the engine finds it invalid
_KEY_AIS = frozenset({"00", "01", "02", "8003", "8004", "8006"})
_FIRST_AI = re.compile(r"\(\s*(\d{2,4})\s*\)")
# a Digital Link path naming a GS1 key: /01/<gtin>, /00/<sscc>, /8004/<giai>, ...
_DL_KEY = re.compile(r"/(?:00|01|02|8003|8004|8006|gtin|sscc|giai|grai)/", re.IGNORECASE)
# spaced HRI without brackets: "01 09506000134352", "00 369012340000000018"; only the key
# with its predefined length is taken (what follows, "Widget 10 pcs", is not data)
_SPACED_KEY = re.compile(r"(?<![\w(])(0[01]|02)[ \t]+(\d{14}|\d{18})(?![\w)])")
# text that could be an identifier: letters and digits (with - . /), a digit among them
_CODE_LIKE = re.compile(r"(?=[^\s]*\d)[0-9A-Za-z][0-9A-Za-z\-./]{7,}")


@dataclass(frozen=True, slots=True)
class FoundCode:
    """One identifier found in text, as the code engine read it."""

    raw: str  # the candidate given to the engine (group separator as "\x1d")
    decoded: DecodedCode  # the engine's reading: valid with a key, or invalid with problems

    @property
    def valid(self) -> bool:
        """True when the engine accepts it as an identifier with a key."""
        return self.decoded.valid and self.decoded.key is not None

    @property
    def ais(self) -> dict[str, str]:
        """GS1 AI -> value (empty for GB/T codes)."""
        return dict(self.decoded.ais)

    @property
    def value(self) -> dict[str, str] | str:
        """The AI map of a GS1 code, or the normalized GB/T code."""
        if self.decoded.ais:
            return dict(self.decoded.ais)
        return self.decoded.key or self.raw


# A document's codes, not a page's: `gateway extract` and the scan placement ask again for
# the codes extraction judged, and a 20,000-line packing list holds 20,000 distinct codes
# (at ~650 bytes a decoded code, 32,768 of them hold ~21 MB at most).
_JUDGED_CODES = 32768


@lru_cache(maxsize=_JUDGED_CODES)
def judge(candidate: str) -> DecodedCode:
    """`gateway.gs1.decode`, remembered: headers and repeated cells ask the same question."""
    return decode(candidate)


@dataclass(frozen=True, slots=True)
class CellCodes:
    """What one cell's text holds: its codes, and text that may be a code nobody can read."""

    codes: list[FoundCode]
    possible: list[str]


def _accept(candidate: str) -> FoundCode | None:
    decoded = judge(candidate)
    if decoded.valid and decoded.key is not None and decoded.key_kind in _KEYED:
        return FoundCode(candidate, decoded)
    return None


def _take(candidate: str) -> FoundCode:
    """A candidate with the shape of an identifier: kept whatever the engine says of it."""
    found = _accept(candidate)
    return found if found is not None else FoundCode(candidate, judge(candidate))


def _keyed_hri(candidate: str) -> bool:
    m = _FIRST_AI.match(candidate)
    return m is not None and m.group(1) in _KEY_AIS


def find_codes(
    text: str, *, code_column: bool = False, running_text: bool = False
) -> list[FoundCode]:
    """Every identifier written in `text`, in reading order, valid or not (`FoundCode.valid`).

    Args:
        text: the cell text (line breaks kept).
        code_column: the text comes from a column whose header names codes; plain digit
            strings (an SSCC in label groups, a GTIN) are then read as keys.
        running_text: the text is a line of prose (a page without a table), not a cell: a
            space ends a variable-length value (`(21)SN1 spare module`), since in a cell it
            comes from wrapping but in prose it ends the code.
    """
    if running_text:
        return _find(text, code_column=False, running_text=True)
    return _find(text, code_column=code_column) if text else []


def read_cell(text: str, *, code_column: bool = False) -> CellCodes:
    """The codes in `text` and, in a code column, the text that may be a code but is not
    one the engine can read (see the module's docstring)."""
    found = find_codes(text, code_column=code_column)
    return CellCodes(found, possible_codes(text) if code_column and not found else [])


def possible_codes(text: str) -> list[str]:
    """The parts of a code column's text in which no code was found that could be codes
    nobody can read (`CellCodes.possible`)."""
    return [m.group(0) for m in _CODE_LIKE.finditer(text)]


def _find(text: str, *, code_column: bool, running_text: bool = False) -> list[FoundCode]:
    # the common case, a cell holding exactly one bracketed or GB/T 34014 code, goes to the
    # engine directly; anything else (several codes, groups, wrapping) takes the long way
    if _SINGLE.fullmatch(text):
        got = _accept(text) if text[0] == "(" else _accept_gb34014(text)
        if got is not None:
            return [got]
        if text[0] == "(" and "\\" not in text:
            return [_take(text)]
    if "_x001" in text:
        text = _EXCEL_GS.sub(GS, text)
    found: list[FoundCode] = []
    if "://" in text:
        # Digital Link URLs first: their paths hold AIs that must not be read twice
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".)")
            got = _accept(url)
            if got is None and _DL_KEY.search(url):
                got = _take(url)
            if got is not None:
                found.append(got)
        text = _URL.sub(" ", text)
    text = text.replace("（", "(").replace("）", ")")
    if "(" not in text and _SPACED_KEY.search(text):
        text = _SPACED_KEY.sub(r"(\1)\2", text)
    if "(" in text and _HRI_AI.search(text):
        # a GB/T 34014 code beside the pack's GS1 code (one battery, two identifiers) is a
        # code of its own, not the end of the serial it follows
        gb_codes = [m.group(0) for m in _GB34014_TOKEN.finditer(text)]
        if gb_codes:
            text = _GB34014_TOKEN.sub(" ", text)
        # a code wrapped over lines ("(01)0690...(\n10)LOT") is joined before splitting
        joined = _WRAPPED_BRACKET.sub("(", text)
        for part in _SPLIT.split(joined):
            candidates = _hri_candidates(part, running_text=running_text)
            if not candidates:  # a part without brackets: "(01)...(21)A1, 0C9PB..."
                found.extend(_find_plain(part, code_column=code_column))
            for candidate in candidates:
                got = _accept(candidate)
                if got is None and _keyed_hri(candidate):
                    got = _take(candidate)
                if got is not None:
                    found.append(got)
        for gb in gb_codes:
            found.extend(_find_plain(gb, code_column=code_column))
        return found
    for part in _SPLIT.split(text):
        found.extend(_find_plain(part, code_column=code_column))
    return found


def _hri_candidates(part: str, *, running_text: bool = False) -> list[str]:
    """Bracketed HRI, possibly several codes in a row: a repeated AI or a second key starts
    the next code. Whitespace inside values comes from cell wrapping and label digit groups.
    """
    codes: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    seen: set[str] = set()
    matches = list(_HRI_AI.finditer(part))
    for i, m in enumerate(matches):
        ai = m.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(part)
        value = part[m.end() : end]
        if ai in _NUMERIC_LENGTH:
            digits = _LEADING_DIGITS.match(_SPACE.sub("", value))
            value = digits.group(0) if digits else ""
        elif running_text:
            value = value.replace(GS, "").strip().split(maxsplit=1)[0] if value.strip() else ""
        else:
            value = _SPACE.sub("", value.replace(GS, ""))
        if ai in seen or (ai in _PRIMARY and seen & _PRIMARY):
            codes.append(current)
            current, seen = [], set()
        if value:
            current.append((ai, value))
            seen.add(ai)
    if current:
        codes.append(current)
    # a literal "(" in a value is written "\(" in bracketed HRI
    return ["".join(f"({ai}){v.replace('(', chr(92) + '(')}" for ai, v in c) for c in codes if c]


def _find_plain(part: str, *, code_column: bool) -> list[FoundCode]:
    found: list[FoundCode] = []
    stripped = part.strip()
    if not stripped:
        return found
    # raw element strings and GB/T 45565 codes: one per line or per space-separated token
    leftovers: list[str] = []
    for token in _TOKENS.split(stripped):
        if not token:
            continue
        got: FoundCode | None = None
        if _RAW_START.match(token):
            got = _take(token)
        elif "-" in token and _GB45565_SHAPE.fullmatch(token.upper()):
            got = _accept(token.upper())
        if got is not None:
            found.append(got)
        else:
            leftovers.append(token)
    if not leftovers:
        return found
    # GB/T 34014 codes, one per line or in printed groups ("03H PB0 55A0 ..."), and plain
    # digit strings in a code column
    for line in _NEWLINES.split(" ".join(leftovers) if found else stripped):
        compact = _SPACE_DASH.sub("", line).upper()
        if not compact:
            continue
        if len(compact) % 24 == 0 and _GB34014_SHAPE.fullmatch(compact[:24]):
            chunks = [compact[i : i + 24] for i in range(0, len(compact), 24)]
            accepted = [_accept_gb34014(c) for c in chunks]
            if all(a is not None for a in accepted):
                found.extend(a for a in accepted if a is not None)
                continue
            if len(chunks) == 1 and not compact.isdigit() and not compact.isalpha():
                found.append(_take(compact))  # a GB/T 34014 code the engine finds wrong
                continue
        if code_column and compact.isascii() and compact.isdigit():
            got = _read_digits(compact)
            if got is not None:
                found.append(got)
    if not found:
        # a GB/T code wrapped over two lines without a separator
        compact = _SPACE.sub("", stripped).upper()
        if len(compact) == 24:
            got = _accept_gb34014(compact)
            if got is not None:
                found.append(got)
    return found


def _accept_gb34014(code: str) -> FoundCode | None:
    # GB/T codes mix letters and digits; 24 digits or 24 letters are something else
    if code.isdigit() or code.isalpha() or not _GB34014_SHAPE.fullmatch(code):
        return None
    got = _accept(code)
    if got is not None and got.decoded.scheme is Scheme.GB34014:
        return got
    return None


def _read_digits(digits: str) -> FoundCode | None:
    """A bare SSCC (18 digits) or GTIN (13/14 digits) of a code column, as that key: with a
    wrong check digit it is an invalid code (the engine says which digit), not nothing."""
    if len(digits) == 18:
        return _take(f"(00){digits}")
    # 8 or 12 digits in a code column are more often a serial or an order number
    if len(digits) in (13, 14):
        return _take(f"(01){digits.zfill(14)}")
    return None


def gtin_from_digits(text: str) -> str | None:
    """A GTIN column value -> 14 digits when the check digit proves it (leading zeros that a
    spreadsheet dropped are restored only then), else None."""
    digits = _SPACE_DASH.sub("", text)
    if len(digits) in (8, 12, 13, 14) and digits.isascii() and digits.isdigit():
        padded = digits.zfill(14)
        if has_valid_check_digit(padded):
            return padded
    return None


def looks_like_lost_number(text: str) -> bool:
    """True for a value that Excel turned into scientific notation (`6.90123E+12`)."""
    return bool(_LOST_NUMBER.fullmatch(text))


_LOST_NUMBER = re.compile(r"\s*\d(?:[.,]\d+)?[eE]\+?\d{1,2}\s*")
