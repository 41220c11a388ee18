"""Extraction <-> JSON, so the sandbox child can hand its result to the parent faithfully.

Two forms:

* the dict form (`extraction_to_dict`, `extraction_from_dict`) is `gateway.codec`'s, the one
  conversion of the domain records, used where an extraction is shown (`gateway extract`);
* the wire form (`dumps`, `loads`, `to_wire`, `from_wire`) is what the child sends the
  parent. A 20,000-line workbook holds 200,000 locations, nearly all of them "the line's
  row, another cell", and the dict form spelt each one out as a seven-key object (30 MB of
  JSON, most of the trip's time on both sides). The wire form writes the lines positionally,
  every distinct location once in a table (`refs`), and a code's or field's location as the
  bare cell text when it differs from its line's location only in the cell, or else as an
  index into the table. Everything but the lines goes through the codec as before.

Reading the wire form checks every value's type as the codec does (the child is not trusted):
anything else raises `gateway.codec.CodecError`. The field lists below are checked against the
records when this module is imported, so a field added to `ManifestLine`, `CodeOccurrence` or
`SourceRef` cannot silently drop out of the trip. The fork server imports this module before
it forks, so the converters are built here, once, and every forked child has them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

from gateway.codec import CodecError, from_data, prepare, to_data
from gateway.domain import CodeOccurrence, Extraction, ExtractionMethod, ManifestLine, SourceRef
from gateway.parsers.table import FieldSources

prepare(Extraction)

WIRE_VERSION = 1

_REF_FIELDS = ("document_id", "page", "sheet", "row", "cell", "bbox", "line")
_LINE_FIELDS = (
    "source",
    "line_no",
    "description",
    "model",
    "quantity",
    "unit",
    "lot",
    "hs_code",
    "un_number",
    "net_kg",
    "gross_kg",
    "carton",
    "pallet",
    "container",
    "destination",
    "extra",
    "codes",
    "field_sources",
)
# the optional scalars of a line, by position in the wire list (after the source)
_LINE_KINDS = (
    str,  # line_no
    str,  # description
    str,  # model
    float,  # quantity
    str,  # unit
    str,  # lot
    str,  # hs_code
    str,  # un_number
    float,  # net_kg
    float,  # gross_kg
    str,  # carton
    str,  # pallet
    str,  # container
    str,  # destination
)
_CODE_FIELDS = ("raw", "source", "method", "symbology", "quad", "confidence")


def _check_fields() -> None:
    for cls, names in (
        (SourceRef, _REF_FIELDS),
        (ManifestLine, _LINE_FIELDS),
        (CodeOccurrence, _CODE_FIELDS),
    ):
        found = tuple(f.name for f in dataclasses.fields(cls))
        if found != names:
            msg = f"The sandbox wire form of {cls.__name__} lists {names}, the record {found}."
            raise RuntimeError(msg)


_check_fields()


def extraction_to_dict(ex: Extraction) -> dict[str, Any]:
    """A JSON-ready dict holding every field of the extraction."""
    return to_data(ex)


def extraction_from_dict(d: Mapping[str, Any]) -> Extraction:
    """The inverse of `extraction_to_dict`.

    Raises:
        gateway.codec.CodecError: `d` is not an extraction (a `ValueError`).
    """
    return from_data(Extraction, d)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building or reading the wire form of a large
    extraction makes hundreds of thousands of containers, none of them in a cycle, and the
    collector's passes over them took most of the trip's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dumps(ex: Extraction) -> str:
    """Compact JSON text of an extraction, in the wire form."""
    with gc_paused():
        return json.dumps(to_wire(ex), ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Extraction:
    """Parse JSON text made by `dumps`."""
    with gc_paused():
        return from_wire(json.loads(text))


# -- writing --------------------------------------------------------------------------------------


def to_wire(ex: Extraction) -> dict[str, Any]:
    """The wire form of an extraction: JSON-ready data."""
    refs: list[list[Any]] = []
    index: dict[SourceRef, int] = {}

    def ref(r: SourceRef) -> int:
        i = index.get(r)
        if i is None:
            if r.__class__ is not SourceRef:
                msg = f"expected SourceRef, got {type(r).__name__}"
                raise CodecError(msg, ("Extraction", "lines"))
            i = index[r] = len(refs)
            bbox = None if r.bbox is None else [float(v) for v in r.bbox]
            refs.append([r.document_id, r.page, r.sheet, r.row, r.cell, bbox, r.line])
        return i

    def near(r: SourceRef, base: SourceRef) -> int | str:
        if (
            r.cell is not None
            and r.row == base.row
            and r.sheet == base.sheet
            and r.page == base.page
            and r.line == base.line
            and r.bbox == base.bbox
            and r.document_id == base.document_id
            and r.__class__ is SourceRef
        ):
            return r.cell
        return ref(r)

    lines: list[list[Any]] = []
    for line in ex.lines:
        base = line.source
        codes = [
            [
                c.raw,
                near(c.source, base),
                c.method.value,
                c.symbology,
                None if c.quad is None else [[float(x), float(y)] for x, y in c.quad],
                c.confidence,
            ]
            for c in line.codes
        ]
        lines.append(
            [
                ref(base),
                line.line_no,
                line.description,
                line.model,
                line.quantity,
                line.unit,
                line.lot,
                line.hs_code,
                line.un_number,
                line.net_kg,
                line.gross_kg,
                line.carton,
                line.pallet,
                line.container,
                line.destination,
                dict(line.extra),
                codes,
                _near_sources(line.field_sources, base, near),
            ]
        )
    rest = to_data(dataclasses.replace(ex, lines=()))
    rest.pop("lines", None)
    return {"wire": WIRE_VERSION, "refs": refs, "lines": lines, "rest": rest}


class WireSources(Mapping[str, SourceRef]):
    """field -> location for one line read from the wire; the `SourceRef`s are made on access.

    Almost no field location of a large document is ever looked at (a finding about a field
    asks for one), so the parent keeps what the wire held, checked, and builds on demand.
    """

    __slots__ = ("_base", "_cells", "_refs")

    def __init__(self, base: SourceRef, cells: dict[str, int | str], refs: list[SourceRef]):
        self._base = base
        self._cells = cells  # field -> cell text in the base's row, or index into refs
        self._refs = refs

    def __getitem__(self, name: str) -> SourceRef:
        v = self._cells[name]
        if v.__class__ is str:
            b = self._base
            return SourceRef(b.document_id, b.page, b.sheet, b.row, v, b.bbox, b.line)
        return self._refs[v]  # type: ignore[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, name: object) -> bool:
        return name in self._cells

    def __repr__(self) -> str:
        return repr(dict(self))


def _near_sources(
    sources: Mapping[str, SourceRef],
    base: SourceRef,
    near: Callable[[SourceRef, SourceRef], int | str],
) -> Mapping[str, int | str]:
    if isinstance(sources, FieldSources):
        cells = sources.cells_at(base)
        if cells is not None:
            return cells
    return {name: near(r, base) for name, r in sources.items()}


# -- reading --------------------------------------------------------------------------------------


def _wrong(expected: str, value: object, *path: str) -> NoReturn:
    msg = f"expected {expected}, got {type(value).__name__} {value!r:.80}"
    raise CodecError(msg, path)


def _fail(reason: str, path: tuple[str, ...]) -> NoReturn:
    raise CodecError(reason, path)


def _opt_str(v: Any, *path: str) -> str | None:
    if v is None or v.__class__ is str:
        return v
    _wrong("str or null", v, *path)


def _opt_int(v: Any, *path: str) -> int | None:
    if v is None or v.__class__ is int:
        return v
    _wrong("int or null", v, *path)


def _opt_float(v: Any, *path: str) -> float | None:
    if v is None or v.__class__ is float:
        return v
    if v.__class__ is int:
        return float(v)
    _wrong("float or null", v, *path)


def _list(v: Any, length: int | None, *path: str) -> list[Any]:
    if v.__class__ is not list:
        _wrong("a list", v, *path)
    if length is not None and len(v) != length:
        _fail(f"expected {length} items, got {len(v)}", path)
    return v


def _ref_from(item: Any, i: int) -> SourceRef:
    doc, page, sheet, row, cell, bbox, line = _list(item, 7, "refs", str(i))
    if doc.__class__ is not str:
        _wrong("str", doc, "refs", str(i), "document_id")
    box: tuple[float, float, float, float] | None = None
    if bbox is not None:
        values = _list(bbox, 4, "refs", str(i), "bbox")
        x0, y0, x1, y1 = (_opt_float(v, "refs", str(i), "bbox") for v in values)
        if x0 is None or y0 is None or x1 is None or y1 is None:
            _fail("expected a number, got null", ("refs", str(i), "bbox"))
        box = (x0, y0, x1, y1)
    return SourceRef(
        doc,
        _opt_int(page, "refs", str(i), "page"),
        _opt_str(sheet, "refs", str(i), "sheet"),
        _opt_int(row, "refs", str(i), "row"),
        _opt_str(cell, "refs", str(i), "cell"),
        box,
        _opt_str(line, "refs", str(i), "line"),
    )


def from_wire(data: Any) -> Extraction:
    """The extraction `to_wire` turned into `data`.

    Raises:
        gateway.codec.CodecError: `data` is not the wire form of an extraction.
    """
    if data.__class__ is not dict:
        _wrong("a mapping", data, "wire")
    if data.get("wire") != WIRE_VERSION:
        _fail(f"unknown wire version {data.get('wire')!r:.20}", ("wire",))
    refs = [_ref_from(item, i) for i, item in enumerate(_list(data.get("refs"), None, "refs"))]
    count = len(refs)
    methods = {m.value: m for m in ExtractionMethod}

    def at(v: Any, base: SourceRef | None, *path: str) -> SourceRef:
        if v.__class__ is str and base is not None:
            return SourceRef(
                base.document_id, base.page, base.sheet, base.row, v, base.bbox, base.line
            )
        if v.__class__ is int and 0 <= v < count:
            return refs[v]
        _wrong("a location (cell text or table index)", v, *path)

    lines: list[ManifestLine] = []
    for n, item in enumerate(_list(data.get("lines"), None, "lines")):
        where = ("lines", str(n))
        row = _list(item, len(_LINE_FIELDS), *where)
        base = at(row[0], None, *where, "source")
        values: list[Any] = []
        for k, kind in enumerate(_LINE_KINDS, start=1):
            v = row[k]
            if v is None or v.__class__ is kind:
                values.append(v)  # the common case, checked without building the path
            elif kind is str:
                values.append(_opt_str(v, *where, _LINE_FIELDS[k]))
            else:
                values.append(_opt_float(v, *where, _LINE_FIELDS[k]))
        extra = row[15]
        if extra.__class__ is not dict:
            _wrong("a mapping", extra, *where, "extra")
        for key, value in extra.items():
            if value.__class__ is not str:
                _wrong("str", value, *where, "extra", key)
        codes: list[CodeOccurrence] = []
        for m, code in enumerate(_list(row[16], None, *where, "codes")):
            cw = (*where, "codes", str(m))
            raw, source, method, symbology, quad, confidence = _list(code, 6, *cw)
            if raw.__class__ is not str:
                _wrong("str", raw, *cw, "raw")
            kind_of = methods.get(method) if method.__class__ is str else None
            if kind_of is None:
                _wrong("an extraction method", method, *cw, "method")
            corners: tuple[tuple[float, float], ...] | None = None
            if quad is not None:
                points: list[tuple[float, float]] = []
                for point in _list(quad, None, *cw, "quad"):
                    x, y = (_opt_float(v, *cw, "quad") for v in _list(point, 2, *cw, "quad"))
                    if x is None or y is None:
                        _fail("expected a number, got null", (*cw, "quad"))
                    points.append((x, y))
                corners = tuple(points)
            codes.append(
                CodeOccurrence(
                    raw,
                    at(source, base, *cw, "source"),
                    kind_of,
                    _opt_str(symbology, *cw, "symbology"),
                    corners,
                    _opt_float(confidence, *cw, "confidence"),
                )
            )
        sources = row[17]
        if sources.__class__ is not dict:
            _wrong("a mapping", sources, *where, "field_sources")
        for name, v in sources.items():
            if v.__class__ is not str and not (v.__class__ is int and 0 <= v < count):
                _wrong("a location (cell text or table index)", v, *where, name)
        field_sources = WireSources(base, sources, refs)
        lines.append(ManifestLine(base, *values, extra, tuple(codes), field_sources))  # type: ignore[call-arg]
    rest = data.get("rest")
    if rest.__class__ is not dict:
        _wrong("a mapping", rest, "rest")
    return dataclasses.replace(from_data(Extraction, rest), lines=tuple(lines))
