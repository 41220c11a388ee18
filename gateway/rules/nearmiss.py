"""Near-miss help: the registered code one keystroke away from a mistyped one.

A keystroke is one substituted character or two swapped neighbours, anywhere in the code (the
first characters and the check digit included). A suggestion is made only when exactly one
registered key is that close, so it is never a guess among several.

`KeySet` holds the registered keys of each kind (GTIN + serial, SSCC, GIAI, GB/T code) in hash
sets and answers `near(key)` by generating the key's one-keystroke neighbours over the
characters the registered keys of that kind use, testing each for membership: exact, about a
thousand set look-ups per query, and nothing to build but the sets (built on the first query,
so a shipment without typos pays nothing). A platform that can only list keys by prefix
(`NearMissIndex.candidates`) is searched under the key's first characters instead.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from gateway.domain import LookupStatus
from gateway.rules.context import CodeItem, RuleContext

# How many leading characters a prefix-searched candidate must share (platforms that only
# offer prefix search): "01:" + a 6-digit company prefix keeps the list small.
_PREFIX = 9
_GB_PREFIX = 5  # manufacturer code + product type + chemistry
_MAX_CANDIDATES = 5000


@runtime_checkable
class NearMissIndex(Protocol):
    """Registered unit keys, searchable by prefix (a registry or the platform may offer it)."""

    def candidates(self, prefix: str) -> Iterable[str]:
        """Registered keys that start with `prefix` (may be capped by the implementation)."""
        ...


@runtime_checkable
class NeighbourIndex(Protocol):
    """Registered unit keys one keystroke away from a key, wherever the keystroke is."""

    def near(self, key: str) -> Iterable[str]:
        """Registered keys that differ from `key` by one substitution or adjacent swap."""
        ...


def key_kind_of(key: str) -> str:
    """The kind of a normalized key: its first AI ("01", "00", "8004"), or "gb" for GB/T.

    >>> key_kind_of("01:06901234567892/21:SN1"), key_kind_of("ABCPE0110000011B10000001")
    ('01', 'gb')
    """
    head, sep, _ = key.partition(":")
    return head if sep else "gb"


class KeySet:
    """A `NeighbourIndex` (and `NearMissIndex`) over known keys, grouped by kind."""

    def __init__(self, keys: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        """Index `keys`, or the keys a callable returns when they are first needed."""
        self._source = keys
        self._kinds: dict[str, tuple[frozenset[str], str]] | None = None
        self._sorted: list[str] | None = None

    def _load(self) -> dict[str, tuple[frozenset[str], str]]:
        if self._kinds is None:
            source = self._source
            keys = source() if callable(source) else source
            by_kind: dict[str, set[str]] = {}
            for key in keys:
                by_kind.setdefault(key_kind_of(key), set()).add(key)
            # A neighbour can only differ in a character some registered key of the kind
            # uses, so only those characters are tried.
            self._kinds = {
                kind: (frozenset(members), "".join(sorted(set("".join(members)))))
                for kind, members in by_kind.items()
            }
        return self._kinds

    def near(self, key: str) -> set[str]:
        """Registered keys of the same kind one substitution or adjacent swap from `key`."""
        entry = self._load().get(key_kind_of(key))
        if entry is None:
            return set()
        members, alphabet = entry
        found: set[str] = set()
        for i, typed in enumerate(key):
            head, tail = key[:i], key[i + 1 :]
            for char in alphabet:
                if char != typed and (candidate := head + char + tail) in members:
                    found.add(candidate)
            if i + 1 < len(key) and key[i + 1] != typed:
                swapped = head + key[i + 1] + typed + key[i + 2 :]
                if swapped in members:
                    found.add(swapped)
        return found

    def candidates(self, prefix: str) -> Iterable[str]:
        """Keys starting with `prefix`, in order, at most a few thousand."""
        if self._sorted is None:
            self._sorted = sorted(k for members, _ in self._load().values() for k in members)
        start = bisect.bisect_left(self._sorted, prefix)
        out: list[str] = []
        for key in self._sorted[start : start + _MAX_CANDIDATES]:
            if not key.startswith(prefix):
                break
            out.append(key)
        return out


# The earlier name of the key index, kept for callers that import it.
KeyIndex = KeySet


def one_keystroke(a: str, b: str) -> bool:
    """True when `b` differs from `a` by one substituted character or one adjacent swap."""
    if len(a) != len(b) or a == b:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 1:
        return True
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
        i = diffs[0]
        return a[i] == b[i + 1] and a[i + 1] == b[i]
    return False


def typed_key(item: CodeItem) -> str | None:
    """The key the user meant to type, also when the code failed its check digit."""
    gtin = item.decoded.ais.get("01")
    serial = item.decoded.ais.get("21")
    if gtin and serial:
        return f"01:{gtin}/21:{serial}"
    if item.key:
        return item.key
    if item.decoded.gb is not None:
        return item.decoded.gb.code
    return None


def neighbours(index: object, key: str) -> set[str]:
    """Registered keys one keystroke from `key`, by whatever search the index offers."""
    if isinstance(index, NeighbourIndex):
        return {k for k in index.near(key) if one_keystroke(key, k)}
    if isinstance(index, NearMissIndex):
        prefix = key[:_PREFIX] if key.startswith(("01:", "00:")) else key[:_GB_PREFIX]
        return {k for k in index.candidates(prefix) if one_keystroke(key, k)}
    return set()


def suggest(ctx: RuleContext, item: CodeItem) -> str | None:
    """The one registered key one keystroke from this code's key, or None."""
    key = typed_key(item)
    if not key:
        return None
    # Without an index, the shipment's own positive look-ups are the candidates.
    index = ctx.near_miss if ctx.near_miss is not None else shipment_index(ctx)
    matches = neighbours(index, key)
    return key_to_hri(matches.pop()) if len(matches) == 1 else None


def key_to_hri(key: str) -> str:
    """A GS1 key as people read it: "01:0690.../21:SN1" -> "(01)0690...(21)SN1"."""
    if ":" not in key:
        return key  # GB/T codes are their own key
    return "".join(f"({part.partition(':')[0]}){part.partition(':')[2]}" for part in key.split("/"))


def diff_span(a: str, b: str) -> tuple[int, int] | None:
    """The [start, end) range where two equally long strings differ, for highlighting."""
    if len(a) != len(b) or a == b:
        return None
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (diffs[0], diffs[-1] + 1)


def shipment_index(ctx: RuleContext) -> KeySet:
    """The keys of a shipment that the platform found: typos copy their neighbours."""
    return KeySet(
        [
            other.key
            for other in ctx.items
            if other.key and other.lookup is not None and other.lookup.status is LookupStatus.FOUND
        ]
    )


class CombinedIndex:
    """Several indexes searched as one, each by the search it offers."""

    def __init__(self, *indexes: object) -> None:
        """Search `indexes` (each a NeighbourIndex or a NearMissIndex) in order."""
        self._indexes = indexes

    def near(self, key: str) -> set[str]:
        """Neighbours found by any of the indexes."""
        found: set[str] = set()
        for index in self._indexes:
            found |= neighbours(index, key)
        return found
