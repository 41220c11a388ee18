"""Which raw reads become results: the rules that keep wrong reads out.

A wrong read can clear a battery that should have been held, so a read is kept only when it
is trustworthy by construction:

* text with control characters other than GS is never a label payload;
* EAN-13 and ITF-14 must have their length and a correct check digit (ITF of any other
  length is refused: a partial scan of ITF decodes as a shorter valid-looking number);
* a GS1 read (FNC1 in first position) and a Digital Link URI are checked by the code engine;
  one that fails is kept only when the unprocessed image produced it (a real misprinted label
  that the rules must report), never when only a sharpened or deconvolved view did;
* a plain Code 128 read that only processed views produced needs two views that agree, because
  its single check character is weak against the edges that sharpening invents. QR Code and
  DataMatrix carry Reed-Solomon error correction and need no second view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

GS = "\x1d"
_CONTROL = re.compile(r"[\x00-\x1c\x1e\x1f\x7f]")
_DIGITAL_LINK = re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/(?:01|00|414|8003|8004|8006|8010)/")


@dataclass(frozen=True, slots=True)
class Kind:
    """The symbology of a read, as the product names it."""

    name: str  # "gs1-128", "code128", "gs1-datamatrix", ...
    gs1: bool
    family: str  # "code128", "datamatrix", "qrcode", "ean13", "itf"
    error_corrected: bool  # Reed-Solomon protected (QR Code, DataMatrix)


def classify(symbology_id: str | None, family: str, text: str) -> Kind | None:
    """The product symbology of a read from its AIM identifier, or None if not one we read."""
    sid = symbology_id or ""
    if family == "code128":
        gs1 = sid == "]C1"
        return Kind("gs1-128" if gs1 else "code128", gs1, family, False)
    if family == "datamatrix":
        gs1 = sid in ("]d2", "]d5")  # FNC1 first, without or with ECI
        return Kind("gs1-datamatrix" if gs1 else "datamatrix", gs1, family, True)
    if family == "qrcode":
        gs1 = sid == "]Q3"
        return Kind("gs1-qrcode" if gs1 else "qrcode", gs1, family, True)
    if family == "ean13":
        return Kind("ean13", False, family, False)
    if family == "itf":
        return Kind("itf14", False, family, False)
    return None


def mod10_ok(digits: str) -> bool:
    """True when the last digit is the GS1 mod-10 check digit of the others."""
    if not digits.isascii() or not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for index, char in enumerate(reversed(digits[:-1])):
        total += int(char) * (3 if index % 2 == 0 else 1)
    return (10 - total % 10) % 10 == int(digits[-1])


def structurally_ok(kind: Kind, text: str) -> bool:
    """Checks that hold whatever view produced the read; failing them drops it always."""
    if not text or _CONTROL.search(text):
        return False
    if kind.family == "ean13":
        return len(text) == 13 and mod10_ok(text)
    if kind.family == "itf":
        return len(text) == 14 and mod10_ok(text)
    if kind.gs1:
        # Element strings are printable ASCII; a leading GS means a reader kept the FNC1.
        return text.isascii() and not text.startswith(GS) and text[:2].isdigit()
    return True


def needs_engine(kind: Kind, text: str) -> bool:
    """True when the code engine must confirm the read (GS1 data or a Digital Link URI)."""
    return kind.gs1 or bool(_DIGITAL_LINK.match(text))


def engine_valid(symbology_id: str | None, kind: Kind, text: str) -> bool:
    """The code engine's verdict: element string or Digital Link well formed, check digits ok."""
    raw = f"{symbology_id}{text}" if kind.gs1 and symbology_id else text
    return _engine()(raw)


def _engine() -> Callable[[str], bool]:
    try:
        from gateway.gs1 import decode
    except ImportError:  # the engine is optional at import time; fall back to the local check
        from gateway.barcodes._gs1_minimal import valid

        return valid

    def check(raw: str) -> bool:
        try:
            return bool(decode(raw).valid)
        except Exception:  # the engine promises not to raise; a crash is still not a pass
            return False

    return check
