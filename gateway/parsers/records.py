"""The table reader's records, made without the frozen dataclasses' `__init__`.

A 20,000-line sheet makes 20,000 `ManifestLine`s, as many `CodeOccurrence`s and twice as
many `SourceRef`s. A frozen dataclass's `__init__` must set each field through
`object.__setattr__` (the record's own `__setattr__` refuses): 2.6 µs a `ManifestLine` of
18 fields, 1.1 µs a `SourceRef`, about a tenth of the table reader's time on such a sheet.

Each record is built here by a twin: a plain class with the record's slots, whose
`__init__` sets them by plain assignment and then gives the instance the record's class
(`__class__` assignment, which Python allows between classes with the same slots). What
comes out is the record itself, not a look-alike: the same class and field values, equal
to and hashing as one the class builds, and as frozen (`tests/parsers/test_records.py`
builds each both ways and compares them). A 6th of the cost for a `ManifestLine`, a
quarter for a `SourceRef`. Every argument is positional and required, in the record's
field order; a field added to a record stops the import here until its twin has it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import cast

from gateway.domain import CodeOccurrence, ExtractionMethod, ManifestLine, SourceRef

_Box = tuple[float, float, float, float]


class _SourceRef:
    __slots__ = ("bbox", "cell", "document_id", "line", "page", "row", "sheet")

    def __init__(
        self,
        document_id: str,
        page: int | None,
        sheet: str | None,
        row: int | None,
        cell: str | None,
        bbox: _Box | None,
        line: str | None,
    ) -> None:
        self.document_id = document_id
        self.page = page
        self.sheet = sheet
        self.row = row
        self.cell = cell
        self.bbox = bbox
        self.line = line
        self.__class__ = SourceRef  # type: ignore[assignment]


class _CodeOccurrence:
    __slots__ = ("confidence", "method", "quad", "raw", "source", "symbology")

    def __init__(
        self,
        raw: str,
        source: SourceRef,
        method: ExtractionMethod,
        symbology: str | None,
        quad: tuple[tuple[float, float], ...] | None,
        confidence: float | None,
    ) -> None:
        self.raw = raw
        self.source = source
        self.method = method
        self.symbology = symbology
        self.quad = quad
        self.confidence = confidence
        self.__class__ = CodeOccurrence  # type: ignore[assignment]


class _ManifestLine:
    __slots__ = (
        "carton",
        "codes",
        "container",
        "description",
        "destination",
        "extra",
        "field_sources",
        "gross_kg",
        "hs_code",
        "line_no",
        "lot",
        "model",
        "net_kg",
        "pallet",
        "quantity",
        "source",
        "un_number",
        "unit",
    )  # fmt: skip

    def __init__(
        self,
        source: SourceRef,
        line_no: str | None,
        description: str | None,
        model: str | None,
        quantity: float | None,
        unit: str | None,
        lot: str | None,
        hs_code: str | None,
        un_number: str | None,
        net_kg: float | None,
        gross_kg: float | None,
        carton: str | None,
        pallet: str | None,
        container: str | None,
        destination: str | None,
        extra: Mapping[str, str],
        codes: tuple[CodeOccurrence, ...],
        field_sources: Mapping[str, SourceRef],
    ) -> None:
        self.source = source
        self.line_no = line_no
        self.description = description
        self.model = model
        self.quantity = quantity
        self.unit = unit
        self.lot = lot
        self.hs_code = hs_code
        self.un_number = un_number
        self.net_kg = net_kg
        self.gross_kg = gross_kg
        self.carton = carton
        self.pallet = pallet
        self.container = container
        self.destination = destination
        self.extra = extra
        self.codes = codes
        self.field_sources = field_sources
        self.__class__ = ManifestLine  # type: ignore[assignment]


def _check_twins() -> None:
    for record, twin in (
        (SourceRef, _SourceRef),
        (CodeOccurrence, _CodeOccurrence),
        (ManifestLine, _ManifestLine),
    ):
        names = tuple(f.name for f in dataclasses.fields(record))
        code = twin.__init__.__code__
        arguments = code.co_varnames[1 : code.co_argcount]
        if arguments != names or sorted(twin.__slots__) != sorted(names):
            msg = f"The fast {record.__name__} takes {arguments}, the record has {names}."
            raise RuntimeError(msg)


_check_twins()

# the twins' types as what they return: the records
_Quad = tuple[tuple[float, float], ...]
source_ref = cast(
    "Callable[[str, int | None, str | None, int | None, str | None, _Box | None, str | None], "
    "SourceRef]",
    _SourceRef,
)
code_occurrence = cast(
    "Callable[[str, SourceRef, ExtractionMethod, str | None, _Quad | None, float | None], "
    "CodeOccurrence]",
    _CodeOccurrence,
)
# built from the table reader's columns by `map`, the 18 in the record's order
manifest_line = cast("Callable[..., ManifestLine]", _ManifestLine)

__all__ = ["code_occurrence", "manifest_line", "source_ref"]
