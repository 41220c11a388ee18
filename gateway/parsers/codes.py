"""Find battery identifiers in the text of one cell, one PDF cell or one OCR line.

A cell may hold one code or several (commas, semicolons, slashes, line breaks), a code may
be wrapped over lines, and the same code may be written as bracketed HRI (with or without
spaces), a raw element string (GS as 0x1D, Excel's `_x001D_`, a printed `<GS>`, an AIM
symbology prefix such as `]d2`), a GS1 Digital Link URL, an SSCC in label digit groups or a
GB/T 34014 code written in groups. `find_codes` returns each code as a normalized string
(bracketed HRI for GS1 data, the URL for Digital Link, 24 characters for GB/T) plus its AI
map; interpretation and validation belong to `gateway.gs1`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GS = "\x1d"

# AIs whose length is fixed by the GS1 General Specifications (figure 7.8.5-2); every other
# AI ends at a group separator or at the end of the data.
FIXED_LENGTH: dict[str, int] = {
    "00": 18, "01": 14, "02": 14, "03": 14, "04": 16,
    "11": 6, "12": 6, "13": 6, "14": 6, "15": 6, "16": 6, "17": 6, "18": 6, "19": 6,
    "20": 2, "31": 6, "32": 6, "33": 6, "34": 6, "35": 6, "36": 6, "41": 13,
}  # fmt: skip
_AI_LEN_BY_PREFIX: dict[str, int] = {
    # length of the AI itself, by its first two digits (GS1 General Specifications 3.2)
    **dict.fromkeys(("00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21",
                     "22", "30", "37", "90", "91", "92", "93", "94", "95", "96", "97", "98",
                     "99"), 2),
    **dict.fromkeys(("23", "24", "25", "40", "41", "42", "71"), 3),
}  # fmt: skip
_PRIMARY = ("00", "01", "8003", "8004", "8006")

_GS_ALIASES = re.compile(r"_x001[dD]_|<GS>|\{GS\}|\\x1[dD]|\u241d|\[GS\]", re.IGNORECASE)
_SYMBOLOGY = re.compile(r"\][A-Za-z][0-9]")
_URL = re.compile(r"https?://[^\s,;<>\"']+", re.IGNORECASE)
_HRI_AI = re.compile(r"\(\s*(\d{2,4})\s*\)")
_GB_CHARS = re.compile(r"[0-9A-Z]{24}")
# a GB/T 34014 code: maker 3, product type P/M/C, chemistry, spec 2, traceability 7,
# date 3, serial 7 (GB/T 34014-2017 section 4); the serial part is always digits here
_GB34014 = re.compile(r"[0-9A-Z]{3}[PMC][0-9A-Z]{13}[0-9A-Z]{7}")
# separators between codes written in one cell
_SPLIT = re.compile(r"[,;，；、]|\s/\s|\s\|\s")
_RAW_START = re.compile(r"(?:\][A-Za-z][0-9])?(?:00\d{18}|01\d{14}|02\d{14})")


@dataclass(frozen=True, slots=True)
class FoundCode:
    """One code found in text."""

    raw: str  # the code as written, separators of the cell removed
    normalized: str  # bracketed HRI, Digital Link URL or the 24-character GB/T code
    kind: str  # "hri", "raw", "digital_link", "gb34014", "digits"
    ais: dict[str, str] = field(default_factory=dict)  # GS1 AI -> value (empty for GB/T)


def mod10_ok(digits: str) -> bool:
    """True when the last digit is the GS1 mod-10 check digit of the others."""
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits[:-1])):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10 == int(digits[-1])


def format_hri(ais: dict[str, str]) -> str:
    """`{"01": "0690...", "21": "SN1"}` -> `(01)0690...(21)SN1`."""
    return "".join(f"({ai}){value}" for ai, value in ais.items())


def _ai_length(data: str) -> int:
    prefix = data[:2]
    if prefix in _AI_LEN_BY_PREFIX:
        return _AI_LEN_BY_PREFIX[prefix]
    if prefix[:1] in ("3",):
        return 4
    if prefix[:1] in ("7", "8"):
        return 4
    return 2


def parse_element_string(data: str) -> dict[str, str] | None:
    """Split a raw element string (GS as 0x1D) into AIs; None when it does not parse."""
    data = _SYMBOLOGY.sub("", data, count=1) if data.startswith("]") else data
    ais: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == GS:
            pos += 1
            continue
        length = _ai_length(data[pos:])
        ai = data[pos : pos + length]
        if len(ai) != length or not ai.isdigit() or ai in ais:
            return None
        pos += length
        fixed = FIXED_LENGTH.get(ai[:2])
        if fixed is not None:
            value = data[pos : pos + fixed]
            if len(value) != fixed or not value.isdigit():
                return None
            pos += fixed
        else:
            end = data.find(GS, pos)
            end = len(data) if end < 0 else end
            value = data[pos:end]
            if not value:
                return None
            pos = end
        ais[ai] = value
    return ais or None


def _valid_keys(ais: dict[str, str]) -> bool:
    """A GS1 code we accept as an identifier: a GTIN or an SSCC with a good check digit."""
    if "01" in ais:
        return mod10_ok(ais["01"])
    if "00" in ais:
        return mod10_ok(ais["00"])
    return any(ai in ais for ai in _PRIMARY)


def _parse_hri(text: str) -> list[dict[str, str]]:
    """Bracketed HRI, possibly several codes in a row; a repeated AI starts the next code."""
    codes: list[dict[str, str]] = []
    current: dict[str, str] = {}
    matches = list(_HRI_AI.finditer(text))
    for i, m in enumerate(matches):
        ai = m.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end() : end]
        if ai[:2] in FIXED_LENGTH:
            # fixed-length values may carry label digit groups: "(00) 3 6901234 000000001 8"
            compact = re.sub(r"\s+", "", value)
            digits = re.match(r"\d*", compact)
            value = digits.group(0) if digits else ""
        else:
            value = re.sub(r"\s+", "", value.replace(GS, ""))
        if ai in current or (ai in _PRIMARY and any(p in current for p in _PRIMARY)):
            codes.append(current)
            current = {}
        if value:
            current[ai] = value
    if current:
        codes.append(current)
    return [c for c in codes if c]


def _digits_only(text: str) -> str | None:
    compact = re.sub(r"[\s\-]+", "", text)
    return compact if compact.isascii() and compact.isdigit() else None


def find_codes(text: str, *, code_column: bool = False) -> list[FoundCode]:
    """Every identifier written in `text`, in reading order.

    Args:
        text: the cell text (line breaks kept).
        code_column: the text comes from a column whose header names codes; plain digit
            strings (an SSCC in label groups, a GTIN) are then accepted when their check
            digit is right.
    """
    if not text:
        return []
    text = _GS_ALIASES.sub(GS, text).replace("（", "(").replace("）", ")")
    found: list[FoundCode] = []
    # Digital Link URLs first: their paths hold AIs that must not be read twice
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".)")
        ais = _parse_digital_link(url)
        if ais and _valid_keys(ais):
            found.append(FoundCode(url, url, "digital_link", ais))
    text = _URL.sub(" ", text)
    if "(" in text and _HRI_AI.search(text):
        # a code wrapped over lines ("(01)0690...(\n10)LOT") is joined before parsing
        joined = re.sub(r"\(\s*\n\s*", "(", text)
        for part in _SPLIT.split(joined):
            for ais in _parse_hri(part):
                if _valid_keys(ais):
                    found.append(FoundCode(part.strip(), format_hri(ais), "hri", ais))
        return found
    for part in _SPLIT.split(text):
        found.extend(_find_plain(part, code_column=code_column))
    return found


def _find_plain(part: str, *, code_column: bool) -> list[FoundCode]:
    found: list[FoundCode] = []
    stripped = part.strip()
    if not stripped:
        return found
    # raw element strings: one per line or per space-separated token
    tokens = [t for t in re.split(r"[ \t\r\n]+", stripped) if t]
    leftovers: list[str] = []
    for token in tokens:
        if _RAW_START.match(token):
            ais = parse_element_string(token)
            if ais and _valid_keys(ais):
                found.append(FoundCode(token, format_hri(ais), "raw", ais))
                continue
        leftovers.append(token)
    if not leftovers:
        return found
    # GB/T codes, one per line or in printed groups ("03H PB0 55A0 ...")
    for line in re.split(r"[\r\n]+", " ".join(leftovers) if found else stripped):
        compact = re.sub(r"[\s\-]+", "", line).upper()
        if not compact:
            continue
        if len(compact) % 24 == 0 and _GB_CHARS.fullmatch(compact[:24]):
            chunks = [compact[i : i + 24] for i in range(0, len(compact), 24)]
            if all(_GB34014.fullmatch(c) and _looks_mixed(c) for c in chunks):
                found.extend(FoundCode(c, c, "gb34014") for c in chunks)
                continue
        digits = _digits_only(line)
        if code_column and digits:
            if len(digits) == 18 and mod10_ok(digits):
                found.append(FoundCode(line.strip(), f"(00){digits}", "digits", {"00": digits}))
            elif len(digits) in (13, 14) and mod10_ok(digits):
                gtin = digits.zfill(14)
                found.append(FoundCode(line.strip(), f"(01){gtin}", "digits", {"01": gtin}))
    if not found:
        # a GB/T code wrapped over two lines without a separator
        compact = re.sub(r"\s+", "", stripped).upper()
        if len(compact) == 24 and _GB34014.fullmatch(compact) and _looks_mixed(compact):
            found.append(FoundCode(stripped, compact, "gb34014"))
    return found


def _looks_mixed(code: str) -> bool:
    """GB/T codes mix letters and digits; 24 digits or 24 letters are something else."""
    return any(c.isdigit() for c in code) and any(c.isalpha() for c in code)


def _parse_digital_link(url: str) -> dict[str, str] | None:
    from urllib.parse import parse_qsl, unquote, urlsplit

    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    ais: dict[str, str] = {}
    i = 0
    while i + 1 < len(segments):
        if re.fullmatch(r"\d{2,4}", segments[i]) and (ais or segments[i] in _PRIMARY):
            ais[segments[i]] = unquote(segments[i + 1])
            i += 2
        else:
            i += 1
    for key, value in parse_qsl(parts.query):
        if re.fullmatch(r"\d{2,4}", key):
            ais[key] = value
    if "01" in ais and len(ais["01"]) in (8, 12, 13):
        ais["01"] = ais["01"].zfill(14)
    return ais or None


def looks_like_lost_number(text: str) -> bool:
    """True for a value that Excel turned into scientific notation (`6.90123E+12`)."""
    return bool(re.fullmatch(r"\s*\d(?:[.,]\d+)?[eE]\+?\d{1,2}\s*", text))
