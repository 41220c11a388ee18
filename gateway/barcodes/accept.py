"""Which raw reads become results: the rules that keep wrong reads out.

A wrong read can clear a battery that should have been held, so a read is kept only when it
is trustworthy by construction:

* text with control characters other than GS is never a label payload;
* EAN-13 and ITF-14 must have their length and a correct check digit (ITF of any other
  length is refused: a partial scan of ITF decodes as a shorter valid-looking number);
* a GS1 read (FNC1 in first position) and a Digital Link URI are checked by the code engine
  (`gateway.gs1.decode`); one that fails is kept only when two views of the unprocessed image
  produced it (a real misprinted label that the rules must report), never when only a
  sharpened or deconvolved view did;
* GS1 DataBar (every form) carries GS1 data only and goes through the engine like GS1-128;
* a linear read (Code 128, EAN-13, ITF-14, DataBar) that only processed views or ZBar produced needs
  two views that agree, because a single check character is weak against the edges that
  sharpening and deconvolution invent. QR Code and DataMatrix carry Reed-Solomon error
  correction and need no second view;
* the GS1 symbols of one image are checked together (`gateway.gs1.validate_together`): a read
  only processed views produced that gives an item (same GTIN) a second, different value of an
  AI that a trusted read carries is dropped, since one item has one lot and one serial.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.barcodes.symbol import Symbol
from gateway.domain import DecodedCode
from gateway.gs1 import decode, validate_together
from gateway.gs1.checksums import has_valid_check_digit

GS = "\x1d"
_CONTROL = re.compile(r"[\x00-\x1c\x1e\x1f\x7f]")
_DIGITAL_LINK = re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/(?:01|00|414|8003|8004|8006|8010)/")


@dataclass(frozen=True, slots=True)
class Kind:
    """The symbology of a read, as the product names it."""

    name: str  # "gs1-128", "code128", "gs1-datamatrix", ...
    gs1: bool
    family: str  # "code128", "datamatrix", "qrcode", "ean13", "itf", "databar"
    error_corrected: bool  # Reed-Solomon protected (QR Code, DataMatrix)


def classify(
    symbology_id: str | None, family: str, text: str, form: str | None = None
) -> Kind | None:
    """The product symbology of a read from its AIM identifier, or None if not one we read.

    `form` names the GS1 DataBar form (`gs1-databar`, `gs1-databar-stacked`,
    `gs1-databar-limited`, `gs1-databar-expanded`, `gs1-databar-expanded-stacked`): all of
    them share the identifier ]e0.
    """
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
    if family == "databar":
        # DataBar carries GS1 data only; its check characters are no Reed-Solomon code.
        return Kind(form or "gs1-databar", True, family, False) if sid == "]e0" else None
    return None


def structurally_ok(kind: Kind, text: str) -> bool:
    """Checks that hold whatever view produced the read; failing them drops it always."""
    if not text or _CONTROL.search(text):
        return False
    if kind.family == "ean13":
        return len(text) == 13 and has_valid_check_digit(text)
    if kind.family == "itf":
        return len(text) == 14 and has_valid_check_digit(text)
    if kind.gs1:
        # Element strings are printable ASCII; a leading GS means a reader kept the FNC1.
        return text.isascii() and not text.startswith(GS) and text[:2].isdigit()
    return True


def needs_engine(kind: Kind, text: str) -> bool:
    """True when the code engine must confirm the read (GS1 data or a Digital Link URI)."""
    return kind.gs1 or bool(_DIGITAL_LINK.match(text))


def engine_valid(symbology_id: str | None, kind: Kind, text: str) -> bool:
    """The code engine's verdict: element string or Digital Link well formed, check digits ok.

    Associations (e.g. a serial needing its GTIN) are not checked here: the codes of a label
    are spread over several symbols, so one symbol alone may lawfully lack them.
    """
    return _decode(symbology_id, kind, text).valid


def _decode(symbology_id: str | None, kind: Kind, text: str) -> DecodedCode:
    raw = f"{symbology_id}{text}" if kind.gs1 and symbology_id else text
    return decode(raw, associations=False)


def acceptable(
    kind: Kind, symbology_id: str | None, text: str, *, trusted: bool, views: int
) -> bool:
    """True when a symbol read `views` times (distinct views) can be reported.

    `trusted` is True when zxing-cpp read it on the unprocessed image or a geometric crop of
    it (nothing that can invent an edge).
    """
    if not structurally_ok(kind, text):
        return False
    if needs_engine(kind, text):
        if not engine_valid(symbology_id, kind, text):
            # A misprinted code is read the same way again; a misread rarely is.
            return trusted and views >= 2
        return kind.error_corrected or trusted or views >= 2
    if kind.error_corrected:
        return True
    return trusted or views >= 2


def consistent(symbols: Sequence[Symbol], trusted: Sequence[bool]) -> list[Symbol]:
    """The symbols of one image without untrusted reads that contradict a trusted one.

    An untrusted GS1 read that shares the GTIN (01) of a trusted read but, checked together
    with it by `validate_together`, gives one of its AIs a different value is dropped.
    """
    decoded = [decode(symbol.raw, associations=False) if symbol.gs1 else None for symbol in symbols]
    kept: list[Symbol] = []
    for index, symbol in enumerate(symbols):
        code = decoded[index]
        if trusted[index] or code is None or "01" not in code.ais:
            kept.append(symbol)
            continue
        partners = [
            other
            for other, ok in zip(decoded, trusted, strict=True)
            if ok and other is not None and other.ais.get("01") == code.ais["01"]
        ]
        conflict = any(
            problem.code == "DUPLICATE_AI_CONFLICT"
            for partner in partners
            for problem in validate_together([partner, code])
        )
        if not conflict:
            kept.append(symbol)
    return kept
