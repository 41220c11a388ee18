"""The record the reader returns for one physical symbol."""

from __future__ import annotations

from dataclasses import dataclass

Quad = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Symbol:
    """One barcode found on an image.

    `text` is the element string for GS1 symbols, without symbology identifier and without the
    leading FNC1, with GS (U+001D) where FNC1 separates fields; plain text otherwise.
    """

    text: str
    gs1: bool  # FNC1 in first position: GS1-128, GS1 DataMatrix, GS1 QR
    symbology: str  # "gs1-128", "code128", "gs1-datamatrix", "datamatrix", "gs1-qrcode", ...
    symbology_id: str | None  # AIM symbology identifier, e.g. "]d2"
    quad: Quad  # 4 corners in image pixels, clockwise from the symbol's top left

    @property
    def raw(self) -> str:
        """The text with its symbology identifier in front, as `gateway.gs1.decode` takes it."""
        return f"{self.symbology_id or ''}{self.text}"

    def bracketed(self) -> str | None:
        """The GS1 data in bracket form, "(01)09521234543213(10)ABC", or None when the symbol
        carries no GS1 element string the code engine can split into AIs."""
        if not self.gs1:
            return None
        from gateway.gs1 import decode, format_hri

        code = decode(self.raw, associations=False)
        return format_hri(code.ais) if code.ais else None


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two or more valid reads of one symbology that disagree at one place.

    None of them is reported as a `Symbol`: a damaged, overprinted or half-covered symbol can
    decode two ways, and only a second photo tells which is printed.
    """

    symbology: str
    texts: tuple[str, ...]
    quad: Quad


@dataclass(frozen=True, slots=True)
class UnreadRegion:
    """A place that looks like a symbol and was not read.

    `reason`: "time budget" (the photo's time ran out first), "step budget" or "region limit"
    (the photo has more barcode-like areas than are tried), "not decoded" (every view was
    tried: a damaged, blurred or glared symbol, or something that only looks like one).
    """

    quad: Quad
    kind: str  # "linear" or "matrix"
    reason: str


@dataclass(frozen=True, slots=True)
class LabelRead:
    """What the reader made of one photo."""

    symbols: list[Symbol]
    conflicts: list[Conflict]
    unread: list[UnreadRegion]
    elapsed_ms: float
    out_of_time: bool  # the time budget stopped escalation

    def retake(self) -> str | None:
        """Why the photo should be taken again, as a code of `gateway.barcodes.hints`, or None.

        "conflict": a symbol read two ways; "unreadable": nothing read, but barcode-like
        areas are there; "no_barcode": nothing read and nothing that looks like a symbol;
        "partial": symbols read, and barcode-like areas left unread.
        """
        if self.conflicts:
            return "conflict"
        if not self.symbols:
            return "unreadable" if self.unread else "no_barcode"
        if self.unread:
            return "partial"
        return None
