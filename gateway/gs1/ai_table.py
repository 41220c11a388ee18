"""The AI table in the shape the parser wants: one `AIEntry` per AI, resolved once at import.

The raw rows come from `_ai_table.py`, generated from the GS1 Barcode Syntax Dictionary by
scripts/gen_ai_table.py.
"""

from __future__ import annotations

import re
from typing import Final

from gateway.gs1._ai_table import AI_LENGTH_BY_PREFIX, AI_TABLE, RELEASE, Row
from gateway.gs1.linters import LINTERS, Linter

__all__ = [
    "AI_LENGTH_BY_PREFIX",
    "DICTIONARY_RELEASE",
    "ENTRIES",
    "AIEntry",
    "Component",
    "matches",
]

DICTIONARY_RELEASE: Final = RELEASE

# The first character that is outside each character set (type letter of the dictionary).
BAD_CHAR: Final[dict[str, re.Pattern[str]]] = {
    "N": re.compile(r"[^0-9]"),
    "X": re.compile(r"[^!\"%-?A-Z_a-z]"),
    "Y": re.compile(r"[^#\-/0-9A-Z]"),
    # CSET 64 (base64url); up to two "=" pad characters may end it, checked by the parser
    "Z": re.compile(r"[^A-Za-z0-9_\-]"),
}
CSET_NAME: Final = {"N": "digits", "X": "CSET 82", "Y": "CSET 39", "Z": "CSET 64"}


class Component:
    """One component of an AI value: character set, length range, optional flag, linters."""

    __slots__ = ("bad_char", "cset", "linter_names", "linters", "max", "min", "optional")

    def __init__(
        self, cset: str, min_len: int, max_len: int, optional: bool, linters: tuple[str, ...]
    ) -> None:
        self.cset = cset
        self.min = min_len
        self.max = max_len
        self.optional = optional
        self.linter_names = linters
        self.linters: tuple[Linter, ...] = tuple(LINTERS[name] for name in linters)
        self.bad_char = BAD_CHAR[cset]


def matches(ai: str, pattern: str) -> bool:
    """True if `ai` matches a dictionary AI pattern such as "310n" ("n" is any digit)."""
    stem = pattern.rstrip("n")
    return len(ai) == len(pattern) and ai.startswith(stem)


class AIEntry:
    """Everything the parser and validator need to know about one AI."""

    __slots__ = (
        "ai",
        "components",
        "dl_attribute",
        "dl_key",
        "dl_qualifiers",
        "excludes",
        "fixed_length",
        "max_length",
        "min_length",
        "predefined",
        "requires",
        "single",
        "title",
    )

    def __init__(self, ai: str, row: Row) -> None:
        title, predefined, dl_attr, components, requires, excludes, dl_key = row
        self.ai = ai
        self.title = title
        self.predefined = predefined
        self.dl_attribute = dl_attr
        self.components = tuple(Component(*c) for c in components)
        self.requires = requires
        self.excludes = excludes
        self.dl_key = dl_key
        self.dl_qualifiers = frozenset(q for seq in (dl_key or ()) for q in seq)
        self.max_length = sum(c.max for c in self.components)
        self.min_length = sum(c.min for c in self.components if not c.optional)
        fixed = all(c.min == c.max and not c.optional for c in self.components)
        self.fixed_length: int | None = self.max_length if fixed else None
        # the one component of single-component AIs, for the parser's fast path
        self.single: Component | None = self.components[0] if len(self.components) == 1 else None


ENTRIES: Final[dict[str, AIEntry]] = {ai: AIEntry(ai, row) for ai, row in AI_TABLE.items()}
