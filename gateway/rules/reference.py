"""Small reference tables the rules read: EU members, levels, UN numbers.

Countries are `gateway.countries` (one table for the whole gateway)."""

from __future__ import annotations

import functools
import re
import unicodedata


def _codes(text: str) -> list[str]:
    return text.split()


EU_MEMBERS = frozenset(
    _codes(
        """
    AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE HU
"""
    )
)

# UN numbers of lithium and sodium batteries (UN Model Regulations, 2025 editions).
LITHIUM_ION_UN = frozenset({"UN3480", "UN3481"})
LITHIUM_METAL_UN = frozenset({"UN3090", "UN3091"})
SODIUM_ION_UN = frozenset({"UN3551", "UN3552"})
INSTALLED_UN = frozenset({"UN3536", "UN3171", "UN3556", "UN3557", "UN3558"})
BATTERY_UN = LITHIUM_ION_UN | LITHIUM_METAL_UN | SODIUM_ION_UN | INSTALLED_UN
# Chinese customs requires a DG packaging appraisal (危包证) for these (not for UN3536/UN3171).
PACKAGING_APPRAISAL_UN = LITHIUM_ION_UN | LITHIUM_METAL_UN

# Words on a manifest line that name the product level, English and Chinese.
_LEVEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cell", ("cell", "cells", "电芯", "单体")),
    ("module", ("module", "modules", "模组", "模块")),
    ("cluster", ("cluster", "rack", "簇", "电池簇")),
    ("system", ("system", "container", "cabinet", "bess", "储能系统", "集装箱", "储能柜")),
    ("pack", ("pack", "packs", "电池包", "pack包")),
)

_UNLOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


_LEVEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (
        level,
        re.compile(
            "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in words)
        ),
    )
    for level, words in _LEVEL_WORDS
)


@functools.lru_cache(maxsize=4096)
def level_in_text(text: str | None) -> str | None:
    """The product level a description names, when exactly one level is named."""
    if not text:
        return None
    lowered = text.lower()
    found = {level for level, pattern in _LEVEL_PATTERNS if pattern.search(lowered)}
    return found.pop() if len(found) == 1 else None


def looks_like_unlocode(text: str) -> bool:
    """True when the text has the shape of a UN/LOCODE ("CNSHA", "DE HAM")."""
    return bool(_UNLOCODE.match(text.replace(" ", "").upper()))


@functools.lru_cache(maxsize=1024)
@functools.lru_cache(maxsize=1024)
def digits(text: str) -> str:
    """The digits of a code as written (`8507.60.00` -> `85076000`), remembered: every rule
    reading HS codes or GTINs reads the same few texts on every line."""
    return "".join(c for c in text if c.isdigit())


@functools.lru_cache(maxsize=1024)
def normalize_un(text: str | None) -> str | None:
    """ "UN 3480", "3480", "UN No. 3480" -> "UN3480"; None when there is no 4-digit number.

    Remembered: several rules read the UN number of every line, and a shipment states a few.
    """
    if not text:
        return None
    match = re.search(r"(\d{4})", text)
    return f"UN{match.group(1)}" if match else None


def same_text(a: str | None, b: str | None) -> bool:
    """Equal ignoring case, spaces, hyphens and full-width forms."""
    if a is None or b is None:
        return False
    return _squash(a) == _squash(b)


def text_key(text: str) -> str:
    """A comparison key: upper case, NFKC, without spaces, hyphens, slashes or dots."""
    return _squash(text)


@functools.lru_cache(maxsize=8192)
def _squash(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).upper()
    return re.sub(r"[\s\-_/.]", "", folded)
