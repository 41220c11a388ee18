"""Extraction <-> JSON, so the sandbox child can hand its result to the parent faithfully.

Two forms:

* the dict form (`extraction_to_dict`, `extraction_from_dict`) is `gateway.codec`'s, the one
  conversion of the domain records, used where an extraction is shown (`gateway extract`);
* the wire form (`dumps`, `loads`, `to_wire`, `from_wire`) is what the child sends the
  parent. A 20,000-line workbook holds 200,000 locations, nearly all of them "the line's
  row, another column", and the dict form spelt each one out as a seven-key object (30 MB
  of JSON). The wire form is columnar: one list per field of the lines (and of their codes,
  flattened), a list whose values repeat sent as its distinct values once and an index per
  line (or the one value alone), a location in the line's row as its column letters, a
  line's field locations as an index into a table of distinct layouts, every other distinct
  location once in a table (`refs`). Everything but the lines goes through the codec.

Reading the wire form checks every value's type as the codec does (the child is not trusted),
a column at a time (the set of the types in it, the distinct values of an indexed column),
bounds the number of lines and codes (`max_items`) and every index, and raises
`gateway.codec.CodecError` for anything else. The field lists below are checked against the
records when this module is imported, so a field added to `ManifestLine`, `CodeOccurrence` or
`SourceRef` cannot silently drop out of the trip. The fork server imports this module before
it forks, so the converters are built here, once, and every forked child has them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
from collections.abc import Callable, Hashable, Iterator, Mapping
from operator import attrgetter
from typing import Any, NoReturn

from gateway.codec import CodecError, from_data, prepare, to_data
from gateway.domain import CodeOccurrence, Extraction, ExtractionMethod, ManifestLine, SourceRef
from gateway.parsers.table import FieldSources, column_letter

prepare(Extraction)

WIRE_VERSION = 2

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
# at most this many lines, and as many codes, in one answer: about what 64 MiB of the earlier
# positional form could carry (a line cost 60 bytes or more there); a columnar answer of a few
# bytes could otherwise name millions of lines
MAX_WIRE_ITEMS = 1 << 20


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


def loads(text: str | bytes, max_items: int = MAX_WIRE_ITEMS) -> Extraction:
    """Parse JSON text made by `dumps`."""
    with gc_paused():
        return from_wire(json.loads(text), max_items)


# -- writing --------------------------------------------------------------------------------------

_scalars = [attrgetter(name) for name in _LINE_FIELDS[1:15]]
_line_codes = attrgetter("codes")
_code_raw = attrgetter("raw")
_code_symbology = attrgetter("symbology")
_code_method = attrgetter("method._value_")  # the enum's value, without its property
_code_confidence = attrgetter("confidence")


def _column(
    values: list[Any],
    key: Callable[[Any], Hashable] | None = None,
    keys: list[Hashable] | None = None,
) -> Any:
    """`values` as a list, or `{"k": distinct values, "i": index of each}` when they repeat
    (`{"k": [value]}` when they are all one). `key` (or the `keys` it would give) tells
    values apart where `==` does not (`1.0 == 1`, `0.0 == -0.0`, lists)."""
    if not values:
        return values
    if keys is None:
        keys = values if key is None else list(map(key, values))
    distinct = dict.fromkeys(keys)
    if len(distinct) * 2 > len(values):
        return values
    if keys is values:
        kept = list(distinct)
    else:
        first = dict(zip(keys, values, strict=True))
        kept = [first[k] for k in distinct]
    if len(kept) == 1:
        return {"k": kept}
    position = {k: i for i, k in enumerate(distinct)}
    return {"k": kept, "i": list(map(position.__getitem__, keys))}


def _loc_key(v: Any) -> Hashable:
    return ("=", v[0]) if v.__class__ is list else v


def _items_key(v: Mapping[str, Any]) -> Hashable:
    return tuple((k, _loc_key(x)) for k, x in v.items())


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

    def near(r: SourceRef, base: SourceRef) -> int | str | list[str]:
        """A location relative to its line's: column letters (the line's row), [cell text]
        (the line's location but for the cell), or an index into `refs`."""
        cell = r.cell
        if (
            cell is not None
            and r.__class__ is SourceRef
            and r.row == base.row
            and r.sheet == base.sheet
            and r.page == base.page
            and r.line == base.line
            and r.bbox == base.bbox
            and r.document_id == base.document_id
        ):
            if r.row is not None:
                suffix = str(r.row)
                if cell.endswith(suffix):
                    return cell[: len(cell) - len(suffix)]
            return [cell]
        return ref(r)

    lines = ex.lines
    bases = [line.source for line in lines]
    base_cells: list[Any] = []
    for b in bases:
        if b.__class__ is not SourceRef:
            msg = f"expected SourceRef, got {type(b).__name__}"
            raise CodecError(msg, ("Extraction", "lines", "source"))
        cell = b.cell
        if cell is None:
            base_cells.append(None)
        elif b.row is not None and cell.endswith(str(b.row)):
            base_cells.append(cell[: len(cell) - len(str(b.row))])
        else:
            base_cells.append([cell])
    source = {
        "document_id": _column([b.document_id for b in bases]),
        "page": _column([b.page for b in bases]),
        "sheet": _column([b.sheet for b in bases]),
        "row": _column([b.row for b in bases]),
        "cell": _column(base_cells, _loc_key),
        "bbox": _column(
            [None if b.bbox is None else tuple(float(v) for v in b.bbox) for b in bases]
        ),
        "line": _column([b.line for b in bases]),
    }
    fields: dict[str, Any] = {}
    for name, get, kind in zip(_LINE_FIELDS[1:15], _scalars, _LINE_KINDS, strict=True):
        values = list(map(get, lines))
        fields[name] = _column(values, repr if kind is float else None)
    extras = [dict(line.extra) for line in lines]
    # their values are text: the items themselves tell them apart, made in C
    fields["extra"] = _column(extras, keys=list(map(tuple, map(dict.items, extras))))

    layouts: list[dict[str, Any]] = []
    layout_index: dict[Hashable, int] = {}
    letters: dict[int, str] = {}
    at_layout: list[int] = []
    for line, base in zip(lines, bases, strict=True):
        sources = line.field_sources
        columns = sources.columns_at(base) if isinstance(sources, FieldSources) else None
        if columns is not None:
            key: Hashable = tuple(columns.items())
            i = layout_index.get(key)
            if i is None:
                layout: dict[str, Any] = {}
                for name, col in columns.items():
                    text = letters.get(col)
                    if text is None:
                        text = letters[col] = column_letter(col)
                    layout[name] = text
                i = layout_index[key] = len(layouts)
                layouts.append(layout)
        else:
            layout = {name: near(r, base) for name, r in sources.items()}
            key = _items_key(layout)
            i = layout_index.get(key)
            if i is None:
                i = layout_index[key] = len(layouts)
                layouts.append(layout)
        at_layout.append(i)
    fields["field_sources"] = _column(at_layout)

    per_line = list(map(_line_codes, lines))
    codes = [c for group in per_line for c in group]
    code_bases = [b for b, group in zip(bases, per_line, strict=True) for _ in group]
    fields["codes"] = {
        "count": _column(list(map(len, per_line))),
        "raw": _column(list(map(_code_raw, codes))),
        "source": _column(
            [near(c.source, b) for c, b in zip(codes, code_bases, strict=True)], _loc_key
        ),
        "method": _column(list(map(_code_method, codes))),
        "symbology": _column(list(map(_code_symbology, codes))),
        "quad": _column(
            [
                None if c.quad is None else tuple((float(x), float(y)) for x, y in c.quad)
                for c in codes
            ]
        ),
        "confidence": _column(list(map(_code_confidence, codes)), repr),
    }
    rest = to_data(dataclasses.replace(ex, lines=()))
    rest.pop("lines", None)
    return {
        "wire": WIRE_VERSION,
        "refs": refs,
        "lines": {"n": len(lines), "source": source, **fields},
        "layouts": layouts,
        "rest": rest,
    }


class WireSources(Mapping[str, SourceRef]):
    """field -> location for one line read from the wire; the `SourceRef`s are made on access.

    Almost no field location of a large document is ever looked at (a finding about a field
    asks for one), so the parent keeps what the wire held, checked, and builds on demand.
    Lines of one layout share its (checked) dict.
    """

    __slots__ = ("_base", "_cells", "_refs")

    def __init__(
        self, base: SourceRef, cells: dict[str, int | str | list[str]], refs: list[SourceRef]
    ):
        self._base = base
        # field -> column letters in the base's row, [cell text], or index into refs
        self._cells = cells
        self._refs = refs

    def __getitem__(self, name: str) -> SourceRef:
        return _resolve(self._cells[name], self._base, self._refs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, name: object) -> bool:
        return name in self._cells

    def __repr__(self) -> str:
        return repr(dict(self))


def _resolve(v: Any, b: SourceRef, refs: list[SourceRef]) -> SourceRef:
    """A location `near` wrote, checked by `_locations`, relative to the line's `b`."""
    if v.__class__ is str:
        return SourceRef(b.document_id, b.page, b.sheet, b.row, v + str(b.row), b.bbox, b.line)
    if v.__class__ is list:
        return SourceRef(b.document_id, b.page, b.sheet, b.row, v[0], b.bbox, b.line)
    return refs[v]  # type: ignore[no-any-return]


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
    return SourceRef(
        doc,
        _opt_int(page, "refs", str(i), "page"),
        _opt_str(sheet, "refs", str(i), "sheet"),
        _opt_int(row, "refs", str(i), "row"),
        _opt_str(cell, "refs", str(i), "cell"),
        _box(bbox, "refs", str(i), "bbox"),
        _opt_str(line, "refs", str(i), "line"),
    )


def _box(v: Any, *path: str) -> tuple[float, float, float, float] | None:
    if v is None:
        return None
    x0, y0, x1, y1 = (_opt_float(x, *path) for x in _list(v, 4, *path))
    if x0 is None or y0 is None or x1 is None or y1 is None:
        _fail("expected a number, got null", path)
    return (x0, y0, x1, y1)


def _quad(v: Any, *path: str) -> tuple[tuple[float, float], ...] | None:
    if v is None:
        return None
    points: list[tuple[float, float]] = []
    for point in _list(v, None, *path):
        x, y = (_opt_float(c, *path) for c in _list(point, 2, *path))
        if x is None or y is None:
            _fail("expected a number, got null", path)
        points.append((x, y))
    return tuple(points)


_NONE = type(None)
_Check = Callable[[list[Any], tuple[str, ...]], list[Any]]


def _of_types(*types: type) -> _Check:
    allowed = frozenset(types)

    def check(values: list[Any], path: tuple[str, ...]) -> list[Any]:
        if not set(map(type, values)) <= allowed:
            bad = next(v for v in values if type(v) not in allowed)
            _wrong(" or ".join("null" if t is _NONE else t.__name__ for t in types), bad, *path)
        return values

    return check


_STR = _of_types(str)
_OPT_STR = _of_types(str, _NONE)
_OPT_INT = _of_types(int, _NONE)
_NUMBERS = _of_types(float, int, _NONE)


def _opt_floats(values: list[Any], path: tuple[str, ...]) -> list[Any]:
    _NUMBERS(values, path)
    if any(v.__class__ is int for v in values):
        return [float(v) if v.__class__ is int else v for v in values]
    return values


def _each(convert: Callable[..., Any]) -> _Check:
    def check(values: list[Any], path: tuple[str, ...]) -> list[Any]:
        return [convert(v, *path) for v in values]

    return check


def _extras(values: list[Any], path: tuple[str, ...]) -> list[Any]:
    for v in values:
        if v.__class__ is not dict:
            _wrong("a mapping", v, *path)
        for key, value in v.items():
            if value.__class__ is not str:
                _wrong("str", value, *path, key)
    return values


def _locations(count: int) -> _Check:
    """Checks locations as `near` writes them, `count` being the size of the refs table."""

    def check(values: list[Any], path: tuple[str, ...]) -> list[Any]:
        types = set(map(type, values))
        if not types <= {str, list, int}:
            _wrong("a location", next(v for v in values if type(v) not in (str, list, int)), *path)
        if list in types:
            for v in values:
                if v.__class__ is list and (len(v) != 1 or v[0].__class__ is not str):
                    _wrong("a location", v, *path)
        if int in types:
            numbers = [v for v in values if v.__class__ is int]
            if min(numbers) < 0 or max(numbers) >= count:
                _fail(f"a location index outside the table of {count}", path)
        return values

    return check


def _column_of(spec: Any, n: int, check: _Check, *path: str) -> list[Any]:
    """The `n` values `_column` wrote, each checked by `check` (an indexed column's
    distinct values once)."""
    if spec.__class__ is list:
        if len(spec) != n:
            _fail(f"expected {n} items, got {len(spec)}", path)
        return check(spec, path)
    if spec.__class__ is not dict:
        _wrong("a column", spec, *path)
    keys = spec.get("k")
    if keys.__class__ is not list or not keys:
        _wrong("a list of values", keys, *path, "k")
    keys = check(keys, path)
    at = spec.get("i")
    if at is None:
        if len(keys) != 1:
            _fail(f"expected an index for {len(keys)} values", path)
        return keys * n
    if at.__class__ is not list or len(at) != n:
        _fail(f"expected a list of {n} indexes", (*path, "i"))
    if at and (not set(map(type, at)) <= {int} or min(at) < 0 or max(at) >= len(keys)):
        _fail(f"expected indexes into {len(keys)} values", (*path, "i"))
    return list(map(keys.__getitem__, at))


def from_wire(data: Any, max_items: int = MAX_WIRE_ITEMS) -> Extraction:
    """The extraction `to_wire` turned into `data`.

    Args:
        max_items: at most this many lines, and as many codes (see `MAX_WIRE_ITEMS`).

    Raises:
        gateway.codec.CodecError: `data` is not the wire form of an extraction, or names
            more lines or codes than `max_items`.
    """
    if data.__class__ is not dict:
        _wrong("a mapping", data, "wire")
    if data.get("wire") != WIRE_VERSION:
        _fail(f"unknown wire version {data.get('wire')!r:.20}", ("wire",))
    refs = [_ref_from(item, i) for i, item in enumerate(_list(data.get("refs"), None, "refs"))]
    located = _locations(len(refs))
    cols = data.get("lines")
    if cols.__class__ is not dict:
        _wrong("a mapping", cols, "lines")
    n = cols.get("n")
    if n.__class__ is not int or not 0 <= n <= max_items:
        _fail(f"expected a number of lines up to {max_items}, got {n!r:.20}", ("lines", "n"))

    def column(spec: Any, check: _Check, *path: str) -> list[Any]:
        return _column_of(spec, n, check, "lines", *path)

    src = cols.get("source")
    if src.__class__ is not dict:
        _wrong("a mapping", src, "lines", "source")
    rows = column(src.get("row"), _OPT_INT, "source", "row")
    cells: list[Any] = column(src.get("cell"), _of_types(str, list, _NONE), "source", "cell")
    for i, (cell, row) in enumerate(zip(cells, rows, strict=True)):
        if cell.__class__ is str:
            if row is None:
                _fail("column letters on a location without a row", ("lines", "source", str(i)))
            cells[i] = cell + str(row)
        elif cell is not None:
            if len(cell) != 1 or cell[0].__class__ is not str:
                _wrong("a cell", cell, "lines", "source", str(i))
            cells[i] = cell[0]
    bases = list(
        map(
            SourceRef,
            column(src.get("document_id"), _STR, "source", "document_id"),
            column(src.get("page"), _OPT_INT, "source", "page"),
            column(src.get("sheet"), _OPT_STR, "source", "sheet"),
            rows,
            cells,
            column(src.get("bbox"), _each(_box), "source", "bbox"),
            column(src.get("line"), _OPT_STR, "source", "line"),
        )
    )
    scalars = [
        column(cols.get(name), _opt_floats if kind is float else _OPT_STR, name)
        for name, kind in zip(_LINE_FIELDS[1:15], _LINE_KINDS, strict=True)
    ]
    extras = list(map(dict, column(cols.get("extra"), _extras, "extra")))

    layouts: list[dict[str, Any]] = []
    for i, layout in enumerate(_list(data.get("layouts"), None, "layouts")):
        if layout.__class__ is not dict:
            _wrong("a mapping", layout, "layouts", str(i))
        located(list(layout.values()), ("layouts", str(i)))
        layouts.append(layout)
    in_row = [any(v.__class__ is str for v in layout.values()) for layout in layouts]
    chosen = column(cols.get("field_sources"), _of_types(int), "field_sources")
    if chosen and (min(chosen) < 0 or max(chosen) >= len(layouts)):
        _fail(f"expected indexes into {len(layouts)} layouts", ("lines", "field_sources"))
    field_sources: list[WireSources] = []
    for i, (base, k) in enumerate(zip(bases, chosen, strict=True)):
        if base.row is None and in_row[k]:
            _fail("column letters on a line without a row", ("lines", str(i), "field_sources"))
        field_sources.append(WireSources(base, layouts[k], refs))

    spec = cols.get("codes")
    if spec.__class__ is not dict:
        _wrong("a mapping", spec, "lines", "codes")
    counts = column(spec.get("count"), _of_types(int), "codes", "count")
    if counts and min(counts) < 0:
        _fail("a negative number of codes", ("lines", "codes", "count"))
    total = sum(counts)
    if total > max_items:
        _fail(f"more than {max_items} codes", ("lines", "codes", "count"))

    def code_column(name: str, check: _Check) -> list[Any]:
        return _column_of(spec.get(name), total, check, "lines", "codes", name)

    methods = {m.value: m for m in ExtractionMethod}

    def method_of(values: list[Any], path: tuple[str, ...]) -> list[Any]:
        _STR(values, path)
        for v in values:
            if v not in methods:
                _wrong("an extraction method", v, *path)
        return [methods[v] for v in values]

    places = code_column("source", located)
    raw = code_column("raw", _STR)
    method = code_column("method", method_of)
    symbology = code_column("symbology", _OPT_STR)
    quad = code_column("quad", _each(_quad))
    confidence = code_column("confidence", _opt_floats)
    code_bases = [b for b, c in zip(bases, counts, strict=True) for _ in range(c)]
    for i, (v, b) in enumerate(zip(places, code_bases, strict=True)):
        if v.__class__ is str and b.row is None:
            _fail("column letters on a line without a row", ("lines", "codes", str(i)))
    occurrences = list(
        map(
            CodeOccurrence,
            raw,
            [_resolve(v, b, refs) for v, b in zip(places, code_bases, strict=True)],
            method,
            symbology,
            quad,
            confidence,
        )
    )
    grouped: list[tuple[CodeOccurrence, ...]] = []
    start = 0
    for c in counts:
        grouped.append(tuple(occurrences[start : start + c]))
        start += c
    lines = list(map(ManifestLine, bases, *scalars, extras, grouped, field_sources))
    rest = data.get("rest")
    if rest.__class__ is not dict:
        _wrong("a mapping", rest, "rest")
    return dataclasses.replace(from_data(Extraction, rest), lines=tuple(lines))


__all__ = [
    "MAX_WIRE_ITEMS",
    "WIRE_VERSION",
    "WireSources",
    "dumps",
    "extraction_from_dict",
    "extraction_to_dict",
    "from_wire",
    "gc_paused",
    "loads",
    "to_wire",
]
