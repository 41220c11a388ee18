"""GS1 Digital Link URIs: primary key and key qualifiers in the path, data attributes in the query.

References: GS1 Digital Link URI Syntax 1.6.0, §4 (URI structure), §6 (key qualifier order),
§7 (percent-encoding).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

from gateway.gs1._engine import Element, RawProblem
from gateway.gs1.ai_table import ENTRIES

_PERCENT_OK: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 characters (unreserved, reserved and "%"); anything else must be percent-encoded
_NOT_URI_CHAR: Final = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
# characters that are URI characters but not allowed in a host (with port): no userinfo, no
# percent-encoding, so also no IPv6 zone identifier ("%25" in "[fe80::1%25eth0]")
_NOT_HOST_CHAR: Final = re.compile(r"[_~?#@!$&'()*+,;=%]")
# A compressed DL path is one long base64url-like segment and no numeric AI segments.
_COMPRESSED: Final = re.compile(r"[A-Za-z0-9_\-]{12,}")


def is_digital_link(text: str, pos: int = 0) -> bool:
    """True if the text at `pos` starts with http:// or https:// (all lower or all upper case).

    >>> is_digital_link("https://id.gs1.org/01/09521234543213"), is_digital_link("(01)0952")
    (True, False)
    """
    head = text[pos : pos + 8]
    return head.startswith(("https://", "http://", "HTTPS://", "HTTP://"))


def looks_like_url(text: str, pos: int = 0) -> bool:
    """True for any letter case of an http(s) scheme, to name a mixed-case scheme as the problem."""
    return text[pos : pos + 8].lower().startswith(("https://", "http://"))


def _decode_component(
    raw: str, start: int, plus_is_space: bool, problems: list[RawProblem]
) -> str | None:
    if plus_is_space and "+" in raw:
        raw = raw.replace("+", " ")
    if "%" not in raw:
        return raw
    bad = _PERCENT_OK.search(raw)
    if bad is not None:
        problems.append(
            (
                "DL_BAD_PERCENT_ENCODING",
                f"Invalid percent-escape {raw[bad.start() : bad.start() + 3]!r} in {raw!r}.",
                start + bad.start(),
                start + bad.start() + 1,
                "error",
            )
        )
        return None
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        problems.append(
            (
                "DL_BAD_PERCENT_ENCODING",
                f"Percent-escapes in {raw!r} are not UTF-8.",
                start,
                start + len(raw),
                "error",
            )
        )
        return None


def parse_digital_link(text: str, pos: int, problems: list[RawProblem]) -> list[Element]:
    """Read the AIs of a Digital Link URI starting at `pos`.

    Returns elements in path-then-query order; the value offsets point at the encoded value in
    the text (percent-decoding can shorten a value, so spans cover the encoded form).
    """
    end = len(text)
    if not is_digital_link(text, pos):
        colon = text.find(":", pos, pos + 8)
        stop = colon if colon != -1 else pos + 4
        problems.append(
            (
                "DL_BAD_SCHEME",
                f"The URI scheme {text[pos:stop]!r} must be http or https, all lower or all upper "
                "case.",
                pos,
                stop,
                "error",
            )
        )
        return []
    bad = _NOT_URI_CHAR.search(text, pos)
    host_start = text.index("//", pos) + 2
    domain_end = text.find("/", host_start)
    if bad is not None:
        char = bad.group()
        code = "INVALID_CHARACTER"
        why = (
            f"Expected only URI characters (others percent-encoded), got {char!r} "
            f"(U+{ord(char):04X}) at offset {bad.start()}."
        )
    elif domain_end != -1:
        bad = _NOT_HOST_CHAR.search(text, host_start, domain_end)
        code = "DL_INVALID_HOST"
        why = (
            f"Expected a host name, IP address or port, got {bad.group()!r} at offset "
            f"{bad.start()} (IPv6 zone identifiers and user names are not allowed)."
            if bad is not None
            else ""
        )
    if bad is not None:
        problems.append((code, why, bad.start(), bad.start() + 1, "error"))
        return []
    frag = text.find("#", host_start)
    if frag != -1:
        end = frag
    qmark = text.find("?", host_start, end)
    path_end = end if qmark == -1 else qmark
    slash = text.find("/", host_start, path_end)
    host_end = path_end if slash == -1 else slash
    if host_end == host_start:
        problems.append(
            (
                "DL_EMPTY_HOST",
                "The URI has no host name.",
                host_start,
                min(host_start + 1, len(text)),  # "https://" ends where the host should be
                "error",
            )
        )
        return []
    # Path segments with their offsets.
    segments: list[tuple[str, int]] = []
    i = host_end
    while i < path_end:
        j = text.find("/", i + 1, path_end)
        j = path_end if j == -1 else j
        # empty segments are kept: "/01//123" and a trailing "/" break the AI/value pairs
        segments.append((text[i + 1 : j], i + 1))
        i = j
    # Find the primary key from the end, pair by pair (AI, value): everything after it must be
    # key qualifiers, everything before it is a free path prefix.
    key_index = -1
    k = len(segments) - 2
    while k >= 0:
        seg = segments[k][0]
        entry = ENTRIES.get(seg)
        if entry is None:
            break
        if entry.dl_key is not None:
            key_index = k
            break
        k -= 2
    if key_index == -1:
        last = segments[-1][0] if segments else ""
        if len(segments) <= 2 and _COMPRESSED.fullmatch(last) and not last.isdigit():
            problems.append(
                (
                    "DL_COMPRESSED",
                    "The URI looks like a compressed GS1 Digital Link, which this engine does not "
                    "decompress.",
                    segments[-1][1],
                    segments[-1][1] + len(last),
                    "error",
                )
            )
        else:
            empty = len(segments) > 1 and any(not seg for seg, _ in segments)
            problems.append(
                (
                    "DL_NO_PRIMARY_KEY",
                    "Expected a GS1 Digital Link primary key (e.g. /01/<GTIN>) in the URI path, "
                    + (
                        "got an empty path segment ('//' or a trailing '/') among the AI/value "
                        "pairs."
                        if empty
                        else "got none."
                    ),
                    host_end,
                    path_end,
                    "error",
                )
            )
        return []
    elements: list[Element] = []
    key_ai = segments[key_index][0]
    key_entry = ENTRIES[key_ai]
    path_pairs = segments[key_index:]
    if len(path_pairs) % 2:
        problems.append(
            (
                "DL_INVALID_PATH",
                "The URI path ends with an AI that has no value.",
                path_pairs[-1][1],
                path_end,
                "error",
            )
        )
        return []
    qualifiers: list[str] = []
    for n in range(0, len(path_pairs), 2):
        (ai, _), (raw_value, vpos) = path_pairs[n], path_pairs[n + 1]
        if n:
            qualifiers.append(ai)
        value = _decode_component(raw_value, vpos, False, problems)
        if value is None:
            return elements
        elements.append((ai, value, vpos))
    if qualifiers and not _valid_sequence(qualifiers, key_entry.dl_key or ()):
        shown = "/".join(qualifiers)
        allowed = " or ".join("/".join(seq) for seq in key_entry.dl_key or () if seq) or "none"
        problems.append(
            (
                "DL_INVALID_KEY_QUALIFIERS",
                f"Key qualifiers {shown} are not a valid sequence for primary key ({key_ai}): "
                f"allowed, in order: {allowed}.",
                path_pairs[2][1],
                path_end,
                "error",
            )
        )
    if qmark != -1:
        _parse_query(
            text,
            qmark + 1,
            end,
            _BelongsInPath(qualifiers, key_entry.dl_qualifiers, key_entry.dl_key or ()),
            {e[0] for e in elements},
            elements,
            problems,
        )
    return elements


def _valid_sequence(qualifiers: list[str], sequences: tuple[tuple[str, ...], ...]) -> bool:
    for seq in sequences:
        at = 0
        ok = True
        for q in qualifiers:
            try:
                found = seq.index(q, at)
            except ValueError:
                ok = False
                break
            at = found + 1
        if ok:
            return True
    return False


class _BelongsInPath:
    """Whether a query AI is a key qualifier that belongs in the path: it does when putting it
    into the path's qualifiers somewhere would still give a valid sequence. So `?10=` beside
    `/01/…` alone is an error, while `/01/…/235/…?10=…` is fine: with the alternative qualifier
    (235) chosen, (10) is no qualifier but a data attribute (GS1 Digital Link URI Syntax §6;
    the GS1 reference engine writes (01)(235)(10) as exactly that URI)."""

    __slots__ = ("all", "path", "sequences")

    def __init__(
        self,
        path: list[str],
        all_qualifiers: frozenset[str],
        sequences: tuple[tuple[str, ...], ...],
    ) -> None:
        self.path = path
        self.all = all_qualifiers
        self.sequences = sequences

    def __contains__(self, ai: object) -> bool:
        if ai not in self.all:
            return False
        path = self.path
        return any(
            _valid_sequence([*path[:j], str(ai), *path[j:]], self.sequences)
            for j in range(len(path) + 1)
        )


def _parse_query(
    text: str,
    start: int,
    end: int,
    qualifiers: _BelongsInPath,
    in_path: set[str],
    elements: list[Element],
    problems: list[RawProblem],
) -> None:
    seen: set[str] = set()
    i = start
    while i <= end:
        amp = text.find("&", i, end)
        stop = end if amp == -1 else amp
        param = text[i:stop]
        if param:
            key, eq, raw_value = param.partition("=")
            if key.isascii() and key.isdigit():
                vpos = i + len(key) + len(eq)
                entry = ENTRIES.get(key)
                if entry is None:
                    problems.append(
                        (
                            "DL_UNKNOWN_AI",
                            f"Unknown AI ({key}) in the query: all-numeric parameters are "
                            "reserved for AIs.",
                            i,
                            stop,
                            "error",
                        )
                    )
                elif key in qualifiers:
                    problems.append(
                        (
                            "DL_QUALIFIER_IN_QUERY",
                            f"AI ({key}) is a key qualifier and belongs in the URI path, not the "
                            "query.",
                            i,
                            stop,
                            "error",
                        )
                    )
                elif not entry.dl_attribute:
                    problems.append(
                        (
                            "DL_NOT_ATTRIBUTE",
                            f"AI ({key}) is not a permitted Digital Link data attribute.",
                            i,
                            stop,
                            "error",
                        )
                    )
                elif key in seen or key in in_path:
                    problems.append(
                        (
                            "DL_DUPLICATE_ATTRIBUTE",
                            f"AI ({key}) is given more than once.",
                            i,
                            stop,
                            "error",
                        )
                    )
                else:
                    value = _decode_component(raw_value, vpos, True, problems)
                    if value is not None:
                        elements.append((key, value, vpos))
                seen.add(key)
        if amp == -1:
            break
        i = amp + 1
