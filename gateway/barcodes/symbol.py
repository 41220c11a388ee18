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
