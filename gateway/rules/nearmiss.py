"""Near-miss help: the registered code one keystroke away from a mistyped one.

A keystroke is one substituted character or two swapped neighbours. A suggestion is made only
when exactly one registered key is that close, so it is never a guess among several.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from gateway.domain import LookupStatus
from gateway.rules.context import CodeItem, RuleContext

# How many leading characters a candidate must share: a GS1 company prefix is at least 6
# digits, and "01:" + 6 digits keeps the candidate list small without missing later typos.
_PREFIX = 9
_GB_PREFIX = 5  # manufacturer code + product type + chemistry
_MAX_CANDIDATES = 5000


@runtime_checkable
class NearMissIndex(Protocol):
    """Registered unit keys, searchable by prefix (a registry or the platform may offer it)."""

    def candidates(self, prefix: str) -> Iterable[str]:
        """Registered keys that start with `prefix` (may be capped by the implementation)."""
        ...


class KeyIndex:
    """A `NearMissIndex` over a known set of keys (a local registry, a shipment's look-ups)."""

    def __init__(self, keys: Iterable[str]) -> None:
        """Index `keys` for prefix search."""
        self._keys = sorted(set(keys))

    def candidates(self, prefix: str) -> Iterable[str]:
        """Keys starting with `prefix`, in order, at most a few thousand."""
        start = bisect.bisect_left(self._keys, prefix)
        out: list[str] = []
        for key in self._keys[start : start + _MAX_CANDIDATES]:
            if not key.startswith(prefix):
                break
            out.append(key)
        return out


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


def suggest(ctx: RuleContext, item: CodeItem) -> str | None:
    """The one registered key one keystroke from this code's key, or None."""
    key = typed_key(item)
    if not key:
        return None
    indexes: list[NearMissIndex] = []
    if isinstance(ctx.near_miss, NearMissIndex):
        indexes.append(ctx.near_miss)
    else:
        # Without an index, the shipment's own positive look-ups are the candidates.
        indexes.append(shipment_index(ctx))
    matches: set[str] = set()
    prefix = key[:_PREFIX] if key.startswith(("01:", "00:")) else key[:_GB_PREFIX]
    for index in indexes:
        for candidate in index.candidates(prefix):
            if one_keystroke(key, candidate):
                matches.add(candidate)
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


def shipment_index(ctx: RuleContext) -> KeyIndex:
    """The keys of a shipment that the platform found: typos copy their neighbours."""
    return KeyIndex(
        other.key
        for other in ctx.items
        if other.key and other.lookup is not None and other.lookup.status is LookupStatus.FOUND
    )


class CombinedIndex:
    """Several indexes searched as one."""

    def __init__(self, *indexes: NearMissIndex) -> None:
        """Search `indexes` in order."""
        self._indexes = indexes

    def candidates(self, prefix: str) -> Iterable[str]:
        """Candidates of every index."""
        for index in self._indexes:
            yield from index.candidates(prefix)
