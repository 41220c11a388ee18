"""Element string parsing and validation: the core of the GS1 engine.

Positions are offsets into the text being parsed; `decode` maps them back to the raw input.
Problems are collected as tuples (code, message, start, end, severity) and turned into
`Problem` records once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from gateway.gs1.ai_table import AI_LENGTH_BY_PREFIX, CSET_NAME, ENTRIES, AIEntry, matches
from gateway.gs1.linters import Linter

GS: Final = "\x1d"
RawProblem = tuple[str, str, int, int, str]


class Said(str):
    """A problem's English message that also keeps its parameters (AI, value, character), so
    that other languages render the problem from its code and parameters, not from the text."""

    params: tuple[tuple[str, str], ...]

    def __new__(cls, text: str, **params: object) -> Said:
        said = super().__new__(cls, text)
        said.params = tuple((k, str(v)) for k, v in params.items())
        return said


def params_of(message: str) -> tuple[tuple[str, str], ...]:
    """The parameters a message was said with (none for a plain string)."""
    return message.params if isinstance(message, Said) else ()


Element = tuple[str, str, int]  # AI, value, offset of the value in the text


def _ai_at(text: str, pos: int) -> tuple[str | None, int]:
    """The AI starting at `pos`, by the 2-digit prefix rule; (None, length tried) if none."""
    prefix = text[pos : pos + 2]
    length = AI_LENGTH_BY_PREFIX.get(prefix)
    if length is None:
        return None, 2
    ai = text[pos : pos + length]
    return (ai if ai in ENTRIES else None), length


def parse_raw(text: str, pos: int, problems: list[RawProblem]) -> list[Element]:
    """Split unbracketed element strings (GS between fields) starting at `pos`.

    References: GS1 General Specifications §7.8.5 (predefined-length element strings and
    FNC1 separators).
    """
    elements: list[Element] = []
    end = len(text)
    while pos < end:
        ai, length = _ai_at(text, pos)
        if ai is None:
            if text[pos] == GS:
                problems.append(
                    (
                        "MISPLACED_SEPARATOR",
                        f"A separator (GS) at offset {pos} is not followed by an element string.",
                        pos,
                        pos + 1,
                        "error",
                    )
                )
                return elements
            shown = text[pos : pos + 8]
            if text[pos] == "|":
                problems.append(
                    (
                        "MISPLACED_SEPARATOR",
                        f"Expected FNC1 (GS) at the start of the composite component after '|' "
                        f"at offset {pos}, got {text[pos + 1 : pos + 2]!r}.",
                        pos,
                        pos + 1,
                        "error",
                    )
                )
            elif text[pos] == "(":
                problems.append(
                    (
                        "PARENTHESES_IN_SCAN_DATA",
                        f"Scan data holds HRI parentheses at {shown!r}: brackets are never "
                        "encoded in a symbol.",
                        pos,
                        pos + 1,
                        "error",
                    )
                )
            else:
                problems.append(
                    (
                        "UNKNOWN_AI",
                        f"No known AI is a prefix of {shown!r}.",
                        pos,
                        min(end, pos + length),
                        "error",
                    )
                )
            return elements
        entry = ENTRIES[ai]
        vstart = pos + len(ai)
        if entry.predefined and entry.fixed_length is not None:
            vend = vstart + entry.fixed_length
            if vend > end or GS in text[vstart:vend]:
                cut = text.find(GS, vstart, vend)
                stop = end if cut == -1 else cut
                value = text[vstart:stop]
                problems.append(
                    (
                        "WRONG_LENGTH",
                        f"AI ({ai}): value {value!r} is too short: expected {entry.fixed_length} "
                        f"characters, got {len(value)}.",
                        pos,
                        stop,
                        "error",
                    )
                )
                elements.append((ai, value, vstart))
                return elements
            elements.append((ai, text[vstart:vend], vstart))
            pos = vend
            # A GS after a predefined-length field is superfluous but harmless.
            if pos < end and text[pos] == GS:
                pos += 1
                _note_trailing_separator(pos, end, problems)
            continue
        cut = text.find(GS, vstart)
        vend = end if cut == -1 else cut
        elements.append((ai, text[vstart:vend], vstart))
        pos = vend
        if cut != -1:
            pos += 1
            _note_trailing_separator(pos, end, problems)
    return elements


def _note_trailing_separator(pos: int, end: int, problems: list[RawProblem]) -> None:
    """A GS just read (ending at `pos`) that ends the text is ignored, with a warning."""
    if pos == end:
        problems.append(
            (
                "SUPERFLUOUS_SEPARATOR",
                "A trailing separator (GS) was ignored.",
                pos - 1,
                pos,
                "warning",
            )
        )


def parse_bracketed(text: str, pos: int, problems: list[RawProblem]) -> list[Element]:
    r"""Split bracketed element strings "(01)...(21)..." starting at `pos`.

    A literal "(" inside a value is written "\(", as in GS1's own bracketed syntax.
    """
    elements: list[Element] = []
    end = len(text)
    while pos < end:
        if text[pos] != "(":
            problems.append(
                (
                    "MALFORMED_HRI",
                    f"Expected '(' at offset {pos}, got {text[pos]!r}.",
                    pos,
                    pos + 1,
                    "error",
                )
            )
            return elements
        close = text.find(")", pos + 1, pos + 6)
        ai = text[pos + 1 : close] if close != -1 else ""
        if close == -1 or not (2 <= len(ai) <= 4 and ai.isascii() and ai.isdigit()):
            problems.append(
                (
                    "MALFORMED_HRI",
                    f"Expected an AI of 2-4 digits in brackets at offset {pos}, got "
                    f"{text[pos : pos + 7]!r}.",
                    pos,
                    min(end, pos + 6),
                    "error",
                )
            )
            return elements
        if ai not in ENTRIES:
            problems.append(
                ("UNKNOWN_AI", Said(f"Unrecognised AI ({ai}).", ai=ai), pos, close + 1, "error")
            )
            return elements
        vstart = close + 1
        nxt = text.find("(", vstart)
        while nxt > 0 and text[nxt - 1] == "\\":
            nxt = text.find("(", nxt + 1)
        vend = end if nxt == -1 else nxt
        value = text[vstart:vend]
        if value.endswith("|"):
            # "|" separates the linear component from the composite one, "(01)…|(21)…"; it is
            # in no AI character set, so it never ends a value by accident
            if nxt == -1:
                problems.append(
                    (
                        "MALFORMED_HRI",
                        "Expected a bracketed AI after the composite separator '|', got the end "
                        "of the data.",
                        vend - 1,
                        vend,
                        "error",
                    )
                )
                elements.append((ai, value[:-1], vstart))
                return elements
            value = value[:-1]
        if "\\(" in value:
            value = value.replace("\\(", "(")
        elements.append((ai, value, vstart))
        pos = vend
    return elements


def check_value(ai: str, entry: AIEntry, value: str, vpos: int, problems: list[RawProblem]) -> bool:
    """Check one AI value: length, character set and linters of each component."""
    n = len(value)
    single = entry.single
    # Most AIs have one component: skip the component walk when the value fits it.
    if single is not None and single.min <= n <= single.max and not single.bad_char.search(value):
        return _linted(single.linters, value, ai, value, vpos, problems)
    if n == 0:
        problems.append(
            (
                "EMPTY_VALUE",
                Said(f"AI ({ai}): the value is empty.", ai=ai),
                vpos - len(ai),
                vpos,
                "error",
            )
        )
        return False
    if n > entry.max_length:
        code = "WRONG_LENGTH" if entry.fixed_length is not None else "TOO_LONG"
        want = (
            f"{entry.fixed_length}"
            if entry.fixed_length is not None
            else f"at most {entry.max_length}"
        )
        problems.append(
            (
                code,
                Said(
                    f"AI ({ai}): value {value!r} is too long: expected {want} characters, got {n}.",
                    ai=ai,
                    value=value,
                    most=entry.max_length,
                    got=n,
                ),
                vpos + entry.max_length,
                vpos + n,
                "error",
            )
        )
        return False
    if n < entry.min_length:
        want = (
            f"{entry.fixed_length}"
            if entry.fixed_length is not None
            else f"at least {entry.min_length}"
        )
        problems.append(
            (
                "WRONG_LENGTH",
                Said(
                    f"AI ({ai}): value {value!r} is too short: expected {want} characters, "
                    f"got {n}.",
                    ai=ai,
                    value=value,
                    least=entry.min_length,
                    got=n,
                ),
                vpos,
                vpos + n,
                "error",
            )
        )
        return False
    i = 0
    for comp in entry.components:
        if i >= n:
            if comp.optional:
                break
            problems.append(
                (
                    "WRONG_LENGTH",
                    Said(f"AI ({ai}): value {value!r} is too short.", ai=ai, value=value),
                    vpos,
                    vpos + n,
                    "error",
                )
            )
            return False
        part = value[i : i + comp.max]
        if len(part) < comp.min:
            problems.append(
                (
                    "WRONG_LENGTH",
                    Said(f"AI ({ai}): value {value!r} is too short.", ai=ai, value=value),
                    vpos + i,
                    vpos + n,
                    "error",
                )
            )
            return False
        body = part
        if comp.cset == "Z" and part.endswith("="):
            body = part.rstrip("=")
            pads = len(part) - len(body)
            # "=" pads only at the end, at most two, and then the length is a multiple of 3
            # (GS1 General Specifications, CSET 64 table; the reference engine's cset64 linter)
            if pads > 2 or len(part) % 3:
                problems.append(
                    (
                        "INVALID_VALUE",
                        Said(
                            f"AI ({ai}): expected at most two '=' pad characters making the "
                            f"length a multiple of 3, got {pads} in {value!r}.",
                            ai=ai,
                            value=value,
                        ),
                        vpos + i + len(body),
                        vpos + i + len(part),
                        "error",
                    )
                )
                return False
        bad = comp.bad_char.search(body)
        if bad is not None:
            at = i + bad.start()
            char = value[at]
            if comp.cset == "N":
                code, what = "NON_NUMERIC", "a digit"
            else:
                code, what = "INVALID_CHARACTER", f"a {CSET_NAME[comp.cset]} character"
            problems.append(
                (
                    code,
                    Said(
                        f"AI ({ai}): expected {what}, got {char!r} (U+{ord(char):04X}) at "
                        f"position {at + 1} of {value!r}.",
                        ai=ai,
                        value=value,
                        char=char,
                        position=at + 1,
                    ),
                    vpos + at,
                    vpos + at + 1,
                    "error",
                )
            )
            return False
        if not _linted(comp.linters, part, ai, value, vpos + i, problems):
            return False
        i += len(part)
    return True


def _linted(
    linters: Sequence[Linter], part: str, ai: str, value: str, at: int, problems: list[RawProblem]
) -> bool:
    """Run the linters of one component (`part`, at `at` in the raw text) of AI `ai`'s `value`;
    the first error is reported and makes it False."""
    for linter in linters:
        err = linter(part)
        if err is not None:
            lcode, lmsg, s, e = err
            message = Said(f"AI ({ai}): {lmsg}: {value!r}.", ai=ai, value=value)
            problems.append((lcode, message, at + s, at + e, "error"))
            return False
    return True


def check_elements(
    elements: Sequence[Element], problems: list[RawProblem], offset: int = 0
) -> dict[str, str]:
    """Check every value and repeated AIs; return the AI -> value map (first value wins)."""
    ais: dict[str, str] = {}
    for ai, value, vpos in elements:
        entry = ENTRIES[ai]
        if ai in ais:
            if ais[ai] != value:
                problems.append(
                    (
                        "DUPLICATE_AI_CONFLICT",
                        Said(
                            f"AI ({ai}) appears twice with different values: {ais[ai]!r} and "
                            f"{value!r}.",
                            ai=ai,
                            value=value,
                            first=ais[ai],
                        ),
                        vpos - len(ai),
                        vpos + len(value),
                        "error",
                    )
                )
            continue
        ais[ai] = value
        if (ai, value) in _clean_values:
            continue
        count = len(problems)
        if check_value(ai, entry, value, vpos, problems) and len(problems) == count:
            if len(_clean_values) >= _CACHE_LIMIT:
                _clean_values.clear()
            _clean_values.add((ai, value))
    return ais


# (AI, value) pairs that passed `check_value` without a problem: a document repeats its
# GTINs and lots on every line, and a value's check depends on the AI and the value alone
_clean_values: set[tuple[str, str]] = set()


def _present(pattern: str, present: Iterable[str]) -> bool:
    if "n" not in pattern:
        return pattern in present
    return any(matches(ai, pattern) for ai in present)


# (code, message, AI the problem is about) found for one combination of AIs. Labels repeat the
# same few combinations, so the rules are evaluated once per combination, not once per code.
_AssociationFinding = tuple[str, str, str]
_association_cache: dict[tuple[str, ...], tuple[_AssociationFinding, ...]] = {}
_CACHE_LIMIT: Final = 4096


def _association_findings(present: tuple[str, ...]) -> tuple[_AssociationFinding, ...]:
    found: list[_AssociationFinding] = []
    seen_pairs: set[tuple[str, str]] = set()
    for ai in present:
        entry = ENTRIES.get(ai)
        if entry is None:
            continue
        for group in entry.requires:
            if not any(all(_present(p, present) for p in alt) for alt in group):
                alternatives = ["+".join(f"({p})" for p in alt) for alt in group]
                wanted = " or ".join(alternatives)
                found.append(
                    (
                        "MISSING_ASSOCIATION",
                        Said(
                            f"AI ({ai}) requires {wanted}, which is missing.",
                            ai=ai,
                            wanted="、".join(alternatives),
                        ),
                        ai,
                    )
                )
        for pattern in entry.excludes:
            for other in present:
                # "An AI is not exclusive of itself even if it matches a pattern" [DICT]
                if other == ai or not matches(other, pattern):
                    continue
                pair = (min(ai, other), max(ai, other))
                if pair in seen_pairs:
                    continue
                seen_pairs.add(pair)
                found.append(
                    (
                        "INVALID_PAIR",
                        Said(
                            f"AI ({ai}) must not appear together with AI ({other}).",
                            ai=ai,
                            other=other,
                        ),
                        ai,
                    )
                )
    return tuple(found)


def check_associations(
    present: Sequence[str],
    span_of: Callable[[str], tuple[int, int]],
    problems: list[RawProblem],
) -> None:
    """Mandatory associations (req) and invalid pairs (ex) over the AIs of one item.

    References: GS1 General Specifications §4.14 (mandatory associations, invalid pairs).
    """
    combo = tuple(sorted(present))
    findings = _association_cache.get(combo)
    if findings is None:
        findings = _association_findings(combo)
        if len(_association_cache) >= _CACHE_LIMIT:
            _association_cache.clear()
        _association_cache[combo] = findings
    for code, message, ai in findings:
        start, end = span_of(ai)
        problems.append((code, message, start, end, "error"))


# Keys whose serial component is optional, by the length of the key without it. A digital
# signature (8030) signs one instance, so beside (8030) the serial must be there.
_SERIAL_AFTER: Final = {"253": 13, "255": 13, "8003": 14}


def check_signed_serials(
    ais: dict[str, str],
    span_of: Callable[[str], tuple[int, int]],
    problems: list[RawProblem],
) -> None:
    """AI (8030) beside a GDTI (253), GCN (255) or GRAI (8003) needs that key's serial.

    References: GS1 General Specifications §3.9 (AI 8030, digital signature: it goes with a
    key that identifies one instance); the GS1 reference engine's "Serial component must be
    present for AI (253) when used with AI (8030)".
    """
    if "8030" not in ais:
        return
    for ai, bare in _SERIAL_AFTER.items():
        value = ais.get(ai)
        if value is not None and len(value) <= bare:
            start, end = span_of(ai)
            problems.append(
                (
                    "MISSING_ASSOCIATION",
                    f"AI (8030) requires the serial component of AI ({ai}): expected more than "
                    f"{bare} characters, got {value!r}.",
                    start,
                    end,
                    "error",
                )
            )
