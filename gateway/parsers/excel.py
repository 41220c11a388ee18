"""Spreadsheets and delimited text -> `Grid`s: xlsx/xlsm, xls, csv/tsv.

Workbooks are read by python-calamine (Rust) after the ZIP container passed its checks and
each sheet's claimed used range was checked against the limits; macros are never read. Its
cells are turned into the values the table reader expects: integral numbers as ints (so a GTIN
typed as a number comes out as its digits, never with `.0` or an exponent), dates as
datetimes, text as written (a GTIN stored as text keeps its leading zero).

A workbook whose styles pad numbers with zeros (`00000000000000`, the way Excel shows a GTIN
typed as a number) is read by the own streaming reader instead, which sees each cell's style:
calamine gives no cell formats. That reader streams the sheet XML through expat with
defusedxml's guards (no DTDs, no entities, no external references) and keeps numbers as
stored. docs/extraction.md says why and what each reader costs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from defusedxml import ElementTree as SafeET

from gateway.domain import ExtractionMethod
from gateway.errors import CorruptDocument, DocumentTooLarge
from gateway.parsers.limits import Limits, library_message
from gateway.parsers.table import Grid, Value, column_letter

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_EPOCH_1900 = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - Excel serial dates are naive
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


# ----------------------------------------------------------------------------- zip checks


def check_zip(zf: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse zip bombs and odd members before any XML is parsed.

    Raises:
        DocumentTooLarge: too many entries, too large once inflated, or a ratio of a bomb.
        CorruptDocument: a member name that climbs out of the package.
    """
    infos = zf.infolist()
    if len(infos) > limits.zip_max_entries:
        msg = f"Workbook has {len(infos)} ZIP entries; expected at most {limits.zip_max_entries}."
        raise DocumentTooLarge(msg, limit="zip_max_entries")
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            msg = f"Workbook member {name!r} has an absolute or parent path; refusing it."
            raise CorruptDocument(msg)
        if info.file_size > limits.zip_max_entry_uncompressed:
            msg = (
                f"Workbook member {name!r} inflates to {info.file_size} bytes; expected at "
                f"most {limits.zip_max_entry_uncompressed}."
            )
            raise DocumentTooLarge(msg, limit="zip_max_entry_uncompressed")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > limits.zip_max_ratio:
            msg = (
                f"Workbook member {name!r} has a compression ratio of {ratio:.0f}:1; expected "
                f"at most {limits.zip_max_ratio:.0f}:1 (a decompression bomb)."
            )
            raise DocumentTooLarge(msg, limit="zip_max_ratio")
        total += info.file_size
    if total > limits.zip_max_total_uncompressed:
        msg = (
            f"Workbook inflates to {total} bytes; expected at most "
            f"{limits.zip_max_total_uncompressed}."
        )
        raise DocumentTooLarge(msg, limit="zip_max_total_uncompressed")


class _CappedReader(io.RawIOBase):
    """A member stream that stops at the declared size: a lying header cannot inflate more."""

    def __init__(self, stream: IO[bytes], cap: int, name: str) -> None:
        self._stream = stream
        self._left = cap
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            msg = f"Workbook member {self._name!r} inflates past its declared size."
            raise DocumentTooLarge(msg, limit="zip_max_entry_uncompressed")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _open_member(zf: zipfile.ZipFile, name: str, limits: Limits) -> IO[bytes]:
    info = zf.getinfo(name)
    cap = min(info.file_size, limits.zip_max_entry_uncompressed)
    return io.BufferedReader(_CappedReader(zf.open(info), cap, name), buffer_size=1 << 16)


def _parse(zf: zipfile.ZipFile, name: str, limits: Limits) -> Any:
    with _open_member(zf, name, limits) as fh:
        return SafeET.parse(fh)


# ----------------------------------------------------------------------------- xlsx


def read_xlsx(data: bytes, limits: Limits, *, compiled: bool | None = None) -> Iterator[Grid]:
    """Yield one grid per worksheet of an xlsx/xlsm workbook (macros are never touched).

    `compiled=None` chooses the reader (calamine unless the styles pad numbers with zeros);
    True or False forces one, for tests that compare them.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        msg = f"Failed to read the workbook as a ZIP container: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    with zf:
        check_zip(zf, limits)
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            msg = "Failed to read the workbook: expected 'xl/workbook.xml', found none."
            raise CorruptDocument(msg)
        sheets = _sheet_parts(zf, names, limits)
        if len(sheets) > limits.max_sheets:
            msg = f"Workbook has {len(sheets)} sheets; expected at most {limits.max_sheets}."
            raise DocumentTooLarge(msg, limit="max_sheets")
        styles = _styles(zf, names, limits)
        if compiled is None:
            compiled = not styles.zero_pad and not _strings_amplify(zf, names, limits)
        book: _Book | None = None
        if compiled and check_parts(zf, sheets, limits):
            book = _Book.open(data)
        strings: list[str] | None = None
        try:
            for title, part in sheets:
                if part not in names:
                    continue
                if part.startswith("xl/chartsheets/"):
                    # a chart sheet has no cells
                    yield Grid(rows=[], method=ExtractionMethod.CELL, sheet=title, row_refs=[])
                    continue
                grid = book.sheet(title, limits) if book is not None else None
                if grid is None:
                    if strings is None:
                        strings = _shared_strings(zf, names, limits)
                    grid = _read_sheet(zf, part, title, strings, styles, limits)
                yield grid
        finally:
            if book is not None:
                book.close()


# What calamine may spend on copies of shared strings: it gives every cell its own copy of
# the string it references, where the streaming reader shares one object between them.
_STRING_COPY_BUDGET = 256 * 1024 * 1024
_SMALLEST_CELL = len(b'<c r="A1" t="s"><v>0</v></c>')


def _strings_amplify(zf: zipfile.ZipFile, names: set[str], limits: Limits) -> bool:
    """True when copying the longest shared string into every cell a sheet could hold would
    pass the budget (one long text referenced by 200,000 cells is 6 GB of copies)."""
    if "xl/sharedStrings.xml" not in names:
        return False
    cells = sum(
        info.file_size // _SMALLEST_CELL
        for info in zf.infolist()
        if info.filename.startswith("xl/worksheets/")
    )
    if cells * zf.getinfo("xl/sharedStrings.xml").file_size <= _STRING_COPY_BUDGET:
        return False  # not even the whole part copied into every cell would pass the budget
    with _open_member(zf, "xl/sharedStrings.xml", limits) as fh:
        longest = max(len(item) for item in fh.read().split(b"<si"))
    return cells * longest > _STRING_COPY_BUDGET


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([^\"]*)\"")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_PROLOG_BYTES = 65536


def check_parts(zf: zipfile.ZipFile, sheets: list[tuple[str, str]], limits: Limits) -> bool:
    """What the compiled reader is not asked to judge, checked from the head of each part;
    True when calamine may read the workbook.

    * No XML part may declare a DTD. quick-xml expands no entities and fetches nothing, but
      a workbook never needs one, and refusing it is the policy for every XML the gateway
      reads (the streaming reader refuses it through defusedxml).
    * No sheet may claim a used range larger than the limits in its `<dimension>`: calamine
      reserves the claimed range at once, so a 3 KB sheet claiming `A1:XFD1048576` would
      abort the process instead of being refused.

    * A sheet without a `<dimension>` (Excel always writes one; openpyxl's write-only mode
      and some other generators do not) is measured from its cells (`cells_within_limits`):
      calamine sizes such a sheet from its cells, and one stray cell far from the table
      (`XFD90000`) would make it allocate the whole range and abort. A sheet whose cells
      cannot be measured that way, or lie beyond the limits, goes to the streaming reader.

    Only the head of each part is inflated (the prolog comes before the root element and the
    dimension before the sheet's data), and the whole of a sheet only when it has no
    dimension.
    """
    parts = {part: title for title, part in sheets}
    measured = True
    for info in zf.infolist():
        name = info.filename
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        with _open_member(zf, name, limits) as fh:
            head = fh.read(_PROLOG_BYTES)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", "replace").encode("utf-8")
        first = _FIRST_ELEMENT.search(head)
        prolog = head[: first.start()] if first else head
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
            msg = (
                f"Workbook part {name!r} declares a DTD (<!DOCTYPE>); spreadsheets never need "
                f"one, so it is refused (DTDForbidden). Save the workbook again from Excel."
            )
            raise CorruptDocument(msg)
        if first is None and len(head) >= _PROLOG_BYTES:
            msg = f"Workbook part {name!r} has no XML element in its first {_PROLOG_BYTES} bytes."
            raise CorruptDocument(msg)
        if name in parts:
            m = _DIMENSION.search(head)
            if m:
                _check_dimension(m.group(1).decode("ascii", "replace"), parts[name], limits)
            elif measured:
                measured = cells_within_limits(zf, name, limits)
    return measured


_SCAN_BYTES = 1 << 20


def cells_within_limits(zf: zipfile.ZipFile, part: str, limits: Limits) -> bool:
    """True when every row and cell of a sheet part names its place (`r` as its first
    attribute) and none lies beyond the limits: calamine, sizing the sheet from its cells,
    then reserves no more than a `<dimension>` within the limits would make it reserve.

    A row or cell without its reference is placed by counting, which a sheet can make as
    large as it likes, and a prefixed element (`<x:c>`) is not looked at here: either sends
    the sheet to the streaming reader. The sheet is inflated in pieces; only the references
    long enough to pass a limit are read one by one.
    """
    # references with fewer letters and digits than the limits' own are within them
    letters = len(column_letter(limits.max_columns - 1)) - 1
    digits = len(str(limits.max_rows)) - 1
    safe = b'[A-Z]{0,%d}[0-9]{1,%d}"' % (letters, digits) if digits else b"(?!)"
    # a tag that is not plainly safe (the one test per tag: most tags of a sheet are)
    suspect = re.compile(rb'<(?:c|row)(?=[\s/>])(?!\s+r="%s)' % safe)
    carry = b""
    with _open_member(zf, part, limits) as fh:
        while True:
            chunk = fh.read(_SCAN_BYTES)
            buf = carry + chunk
            # every tag before the last "<" is whole; the rest waits for the next piece
            cut = buf.rfind(b"<") if chunk else len(buf)
            if cut < 0:
                carry = b""  # text only, no tag
                continue
            # a colon is rare in a sheet's cells: its search is the fast one of a single byte
            if b":" in buf and (b":c" in buf or b":row" in buf):
                return False  # maybe a prefixed element
            for m in suspect.finditer(buf, 0, cut):
                attribute = _REF_ATTRIBUTE.match(buf, m.end(), cut)
                ref = _REF.fullmatch(attribute.group(1)) if attribute else None
                if ref is None:
                    return False  # no reference (placed by counting), or not one calamine reads
                col = _column_number(ref.group(1).decode("ascii"))
                if col > limits.max_columns or int(ref.group(2)) > limits.max_rows:
                    return False
            if not chunk:
                return True
            carry = buf[cut:]


_REF = re.compile(rb"([A-Z]{0,3})([0-9]{1,7})")
_REF_ATTRIBUTE = re.compile(rb'\s+r="([^"<>]*)"')


def _column_number(letters: str) -> int:
    """A -> 1, Z -> 26, AA -> 27 (0 for none: a row's reference)."""
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return col


class _Book:
    """A workbook opened by python-calamine; None from `open` when calamine refuses it."""

    def __init__(self, book: Any) -> None:
        self.book = book

    @classmethod
    def open(cls, data: bytes) -> _Book | None:
        from python_calamine import CalamineWorkbook

        try:
            return cls(CalamineWorkbook.from_object(io.BytesIO(data)))
        except BaseException as exc:  # a Rust panic is a BaseException
            _library_failure(exc)
            return None

    def sheet(self, title: str, limits: Limits) -> Grid | None:
        """One worksheet, or None when calamine cannot read it (the caller falls back)."""
        try:
            sheet = self.book.get_sheet_by_name(title)
            end = sheet.end
            if end is not None and end[0] >= limits.max_rows:
                msg = (
                    f"Sheet {title!r} has more than {limits.max_rows} rows; "
                    f"expected at most {limits.max_rows}."
                )
                raise DocumentTooLarge(msg, limit="max_rows")
            cells = sheet.to_python(skip_empty_area=False) if end is not None else []
        except DocumentTooLarge:
            raise
        except BaseException as exc:  # a Rust panic is a BaseException
            _library_failure(exc)
            return None
        rows, refs = _grid_rows(cells, limits)
        return Grid(rows=rows, method=ExtractionMethod.CELL, sheet=title, row_refs=refs)

    def close(self) -> None:
        self.book.close()


def _library_failure(exc: BaseException) -> None:
    """Re-raise what is not the document's fault; a library error or panic is left to the
    streaming reader, which reads (or names the fault of) the workbook calamine refused."""
    if isinstance(exc, MemoryError):
        raise exc
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc  # KeyboardInterrupt, SystemExit


def _grid_rows(
    cells: list[list[Any]], limits: Limits
) -> tuple[list[list[Value]], list[tuple[int | None, int | None]]]:
    """calamine's dense rows -> the table reader's rows: blanks as None, trailing blanks
    dropped, empty rows left out (their numbers kept in the refs), values as the streaming
    reader gives them."""
    width, most = limits.max_columns, limits.max_cell_chars
    rows: list[list[Value]] = []
    refs: list[tuple[int | None, int | None]] = []
    for number, raw in enumerate(cells, start=1):
        if len(raw) > width:
            raw = raw[:width]
        # plain text and numbers, nearly every cell, are taken here; `_cell_value` the rest
        row: list[Value] = [
            ((v or None) if v.isprintable() and len(v) <= most else _cell_value(v, most))
            if v.__class__ is str
            else (int(v) if v.is_integer() and 0 <= v < 1e15 else v)
            if v.__class__ is float
            else _cell_value(v, most)
            for v in raw
        ]
        while row and row[-1] is None:
            row.pop()
        if row:
            rows.append(row)
            refs.append((number, None))
    return rows, refs


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell_value(value: Any, most: int) -> Value:
    """One calamine value that is not plain printable text."""
    cls = value.__class__
    if cls is float:
        if value.is_integer() and 0 <= value < 1e15:
            return int(value)  # stored as "4012345678901": the digits, never "...1.0"
        return float(value)
    if cls is str:
        if not value:
            return None
        if _CONTROL.search(value):
            # calamine unescapes `_x001D_` (a GS written into a cell); the streaming reader
            # keeps the escape as written, and the code finder reads both
            value = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
        return str(value[:most])
    if cls is bool or cls is int or cls is dt.datetime:
        known: Value = value
        return known
    if cls is dt.date:
        return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - naive, as Excel
    if cls is dt.time:
        moment: dt.datetime = dt.datetime.combine(_EPOCH_1900.date(), value)
        return moment
    if cls is dt.timedelta:
        later: dt.datetime = _EPOCH_1900 + value
        return later
    return None


def _sheet_parts(zf: zipfile.ZipFile, names: set[str], limits: Limits) -> list[tuple[str, str]]:
    rels: dict[str, str] = {}
    if "xl/_rels/workbook.xml.rels" in names:
        for rel in _parse(zf, "xl/_rels/workbook.xml.rels", limits).getroot():
            target = rel.get("Target", "")
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join("xl", target))
            )
            rels[rel.get("Id", "")] = target
    sheets: list[tuple[str, str]] = []
    root = _parse(zf, "xl/workbook.xml", limits).getroot()
    for i, sheet in enumerate(root.iter(f"{_NS_MAIN}sheet")):
        rid = sheet.get(f"{_NS_REL}id", "")
        part = rels.get(rid, f"xl/worksheets/sheet{i + 1}.xml")
        sheets.append((sheet.get("name", f"Sheet{i + 1}"), part))
    return sheets


def _shared_strings(zf: zipfile.ZipFile, names: set[str], limits: Limits) -> list[str]:
    if "xl/sharedStrings.xml" not in names:
        return []
    strings: list[str] = []
    t_tag, si_tag, r_tag = f"{_NS_MAIN}t", f"{_NS_MAIN}si", f"{_NS_MAIN}r"
    with _open_member(zf, "xl/sharedStrings.xml", limits) as fh:
        for _event, elem in SafeET.iterparse(fh, events=("end",)):
            if elem.tag == si_tag:
                # rich text runs (<r><t>) and phonetic hints (<rPh>) - keep the runs only
                parts = [t.text or "" for t in elem.findall(t_tag)]
                parts += [t.text or "" for r in elem.findall(r_tag) for t in r.findall(t_tag)]
                strings.append("".join(parts)[: limits.max_cell_chars])
                elem.clear()
    return strings


class _Styles:
    def __init__(self) -> None:
        self.date: set[int] = set()
        self.zero_pad: dict[int, int] = {}


def _styles(zf: zipfile.ZipFile, names: set[str], limits: Limits) -> _Styles:
    styles = _Styles()
    if "xl/styles.xml" not in names:
        return styles
    root = _parse(zf, "xl/styles.xml", limits).getroot()
    formats: dict[int, str] = {}
    for fmt in root.iter(f"{_NS_MAIN}numFmt"):
        try:
            formats[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
        except ValueError:
            continue
    xfs = root.find(f"{_NS_MAIN}cellXfs")
    if xfs is None:
        return styles
    for index, xf in enumerate(xfs.findall(f"{_NS_MAIN}xf")):
        try:
            fmt_id = int(xf.get("numFmtId", "0"))
        except ValueError:
            continue
        code = formats.get(fmt_id, "")
        if fmt_id in _DATE_FORMAT_IDS or (code and _is_date_format(code)):
            styles.date.add(index)
        elif re.fullmatch(r"0{2,}", code):
            styles.zero_pad[index] = len(code)
    return styles


def _is_date_format(code: str) -> bool:
    bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code).lower()
    return bool(re.search(r"[ymdhs]", bare)) and not re.fullmatch(r"[0#,.%e+\-\s]*", bare)


def _column_index(ref: str) -> tuple[int, int] | None:
    m = _CELL_REF.match(ref)
    if not m:
        return None
    return _column_number(m.group(1)) - 1, int(m.group(2))


def safe_expat() -> Any:
    """A namespace-aware expat parser with defusedxml's guards installed.

    The sheet XML of a 20,000-line workbook has over a million elements; ElementTree's
    iterparse (which defusedxml wraps in pure Python) spends seconds building elements we
    throw away, so sheets are read with expat callbacks directly. The guards are
    defusedxml's own handlers: any DTD, entity declaration or external reference raises
    `DTDForbidden` / `EntitiesForbidden` / `ExternalReferenceForbidden`.
    """
    from xml.parsers import expat

    from defusedxml.expatreader import DefusedExpatParser

    guard = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = guard.defused_start_doctype_decl
    parser.EntityDeclHandler = guard.defused_entity_decl
    parser.UnparsedEntityDeclHandler = guard.defused_unparsed_entity_decl
    parser.ExternalEntityRefHandler = guard.defused_external_entity_ref_handler
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


_MAIN = _NS_MAIN[1:-1] + "}"  # expat's "uri}local" form of the main namespace
_C, _V, _T, _ROW, _IS = _MAIN + "c", _MAIN + "v", _MAIN + "t", _MAIN + "row", _MAIN + "is"
_DIM, _RPH = _MAIN + "dimension", _MAIN + "rPh"


class _SheetReader:
    """expat callbacks for one worksheet, doing as little as possible per cell.

    Only start tags and text are observed: a cell is completed when the next cell or row
    starts (or the sheet ends), which halves the number of callbacks per cell.
    """

    def __init__(self, title: str, strings: list[str], styles: _Styles, limits: Limits) -> None:
        self.title = title
        self.strings = strings
        self.styles = styles
        self.limits = limits
        self.rows: list[list[Value]] = []
        self.refs: list[tuple[int | None, int | None]] = []
        self.current: list[Value] = []
        self.row_no = 0
        self.next_row = 1
        # the open cell: column, type, style, text parts (None: no text being collected)
        self.col = -1
        self.kind = "n"
        self.style: str | None = None
        self.parts: list[str] | None = None
        self.collect = False
        self.phonetic = False
        self.columns: dict[str, int] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        # ordered by frequency: this runs for every element of the sheet
        if name in (_V, _T):
            self.collect = self.parts is not None and not self.phonetic
            return
        self.collect = False
        if name == _C:
            if self.parts is not None:
                self._close_cell()
            ref = attrs.get("r")
            col = self._column(ref) if ref else len(self.current)
            self.col = col
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.phonetic = False
            self.parts = [] if col < self.limits.max_columns else None
        elif name == _IS:
            return
        elif name == _ROW:
            self._close_row()
            number = attrs.get("r")
            self.row_no = int(number) if number and number.isdigit() else self.next_row
            self.next_row = self.row_no + 1
            if self.row_no > self.limits.max_rows:
                msg = (
                    f"Sheet {self.title!r} has more than {self.limits.max_rows} rows; "
                    f"expected at most {self.limits.max_rows}."
                )
                raise DocumentTooLarge(msg, limit="max_rows")
        elif name == _DIM:
            _check_dimension(attrs.get("ref", ""), self.title, self.limits)
        elif name == _RPH:
            self.phonetic = True  # phonetic hints (<rPh><t>) are not cell text

    def text(self, data: str) -> None:
        if self.collect and self.parts is not None:
            self.parts.append(data)

    def _column(self, ref: str) -> int:
        col = self.columns.get(ref.rstrip("0123456789"))
        if col is None:
            pos = _column_index(ref)
            col = pos[0] if pos is not None else len(self.current)
            self.columns[ref.rstrip("0123456789")] = col
        return col

    def _close_cell(self) -> None:
        parts, self.parts, self.collect = self.parts, None, False
        if not parts:
            return
        kind = self.kind
        value: Value
        if kind in ("inlineStr", "str"):
            value = "".join(parts)[: self.limits.max_cell_chars]
        else:
            value = _typed_value(
                "".join(parts), kind, self.style, self.strings, self.styles, self.limits
            )
        if value is None:
            return
        current, col = self.current, self.col
        if col >= len(current):
            current.extend([None] * (col - len(current) + 1))
        current[col] = value

    def _close_row(self) -> None:
        if self.parts is not None:
            self._close_cell()
        if self.current:
            if len(self.rows) >= self.limits.max_rows:
                msg = (
                    f"Sheet {self.title!r} has more than {self.limits.max_rows} rows; "
                    f"expected at most {self.limits.max_rows}."
                )
                raise DocumentTooLarge(msg, limit="max_rows")
            self.rows.append(self.current)
            self.refs.append((self.row_no, None))
        self.current = []


def _read_sheet(
    zf: zipfile.ZipFile,
    part: str,
    title: str,
    strings: list[str],
    styles: _Styles,
    limits: Limits,
) -> Grid:
    reader = _SheetReader(title, strings, styles, limits)
    parser = safe_expat()
    parser.StartElementHandler = reader.start
    parser.CharacterDataHandler = reader.text
    with _open_member(zf, part, limits) as fh:
        parser.ParseFile(fh)
    reader._close_row()
    return Grid(rows=reader.rows, method=ExtractionMethod.CELL, sheet=title, row_refs=reader.refs)


def _check_dimension(ref: str, title: str, limits: Limits) -> None:
    last = ref.split(":")[-1]
    pos = _column_index(last)
    if pos is None:
        return
    col, row = pos
    if row > limits.max_rows or col >= limits.max_columns:
        msg = (
            f"Sheet {title!r} claims a used range of {ref!r}; expected at most "
            f"{limits.max_rows} rows and {limits.max_columns} columns."
        )
        raise DocumentTooLarge(msg, limit="max_rows" if row > limits.max_rows else "max_columns")


def _typed_value(
    text: str, kind: str, style: str | None, strings: list[str], styles: _Styles, limits: Limits
) -> Value:
    """A cell's value from its text, type attribute and style (numbers kept as stored)."""
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError):
            return None
    if kind in ("inlineStr", "str", "e"):
        return text[: limits.max_cell_chars]
    if kind == "b":
        return text.strip() == "1"
    text = text.strip()
    try:
        # plain integers are the common case and the cheapest to recognise
        number: int | float = int(text) if text.isdigit() else float(text)
    except ValueError:
        return text[: limits.max_cell_chars] or None
    if style is not None and (styles.date or styles.zero_pad):
        index = int(style) if style.isdigit() else -1
        if index in styles.date:
            try:
                return _EPOCH_1900 + dt.timedelta(days=float(number))
            except (OverflowError, ValueError):
                return number
        pad = styles.zero_pad.get(index)
        if pad and float(number).is_integer() and abs(number) < 1e15:
            return str(int(number)).zfill(pad)
    return number


# ----------------------------------------------------------------------------- xls


def read_xls(data: bytes, limits: Limits) -> Iterator[Grid]:
    """Yield one grid per sheet of a BIFF8 `.xls` workbook (xlrd, pure Python)."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as exc:  # xlrd raises IndexError, CompDocError, XLRDError, ...
        msg = f"Failed to read the document as an .xls workbook: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    try:
        if book.nsheets > limits.max_sheets:
            msg = f"Workbook has {book.nsheets} sheets; expected at most {limits.max_sheets}."
            raise DocumentTooLarge(msg, limit="max_sheets")
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.nrows > limits.max_rows or sheet.ncols > limits.max_columns:
                msg = (
                    f"Sheet {sheet.name!r} has {sheet.nrows} rows and {sheet.ncols} columns; "
                    f"expected at most {limits.max_rows} x {limits.max_columns}."
                )
                raise DocumentTooLarge(msg, limit="max_rows")
            yield _xls_sheet(book, sheet)
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _xls_sheet(book: Any, sheet: Any) -> Grid:
    import xlrd

    rows: list[list[Value]] = []
    refs: list[tuple[int | None, int | None]] = []
    for r in range(sheet.nrows):
        row: list[Value] = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            value: Value
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                value = None
            elif cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                except (ValueError, OverflowError):
                    value = cell.value
            elif cell.ctype == xlrd.XL_CELL_NUMBER:
                number = cell.value
                value = int(number) if float(number).is_integer() and abs(number) < 1e15 else number
                fmt = _xls_format(book, cell.xf_index)
                if isinstance(value, int) and re.fullmatch(r"0{2,}", fmt):
                    value = str(value).zfill(len(fmt))
            elif cell.ctype == xlrd.XL_CELL_TEXT:
                value = str(cell.value)
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                value = bool(cell.value)
            else:
                value = None
            row.append(value)
        if any(v is not None for v in row):
            rows.append(row)
            refs.append((r + 1, None))
    return Grid(rows=rows, method=ExtractionMethod.CELL, sheet=sheet.name, row_refs=refs)


def _xls_format(book: Any, xf_index: int) -> str:
    try:
        xf = book.xf_list[xf_index]
        return str(book.format_map[xf.format_key].format_str)
    except (IndexError, KeyError, AttributeError):
        return ""


# ----------------------------------------------------------------------------- csv


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); NUL is refused."""
    if b"\x00" in data[:65536]:
        offset = data.find(b"\x00")
        msg = f"Text document contains a NUL byte at offset {offset}; expected text."
        raise CorruptDocument(msg)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as first:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            msg = (
                f"Failed to decode the text: not UTF-8 (byte offset {first.start}) and not "
                f"GB18030/GBK."
            )
            raise CorruptDocument(msg) from first


def sniff_delimiter(text: str) -> str:
    """The delimiter under which the first lines hold the best table.

    A title block above the table ("Exporter: ACME Co., Ltd., Hangzhou") has commas in its
    one-cell lines whatever the table's own delimiter is, so the delimiter is the one whose
    rows give the table header that names the most known columns; the widest consistent
    run of rows decides between delimiters whose headers tie (and when none has a header).
    """
    from gateway.parsers.table import find_header, header_score

    sample = text[:20000]
    best, best_score = ",", (-1, -1.0)
    for delim in (",", ";", "\t", "|"):
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delim))[:80]
        except csv.Error:
            continue
        filled = [r for r in rows if any(c.strip() for c in r)]
        widths = [len(r) for r in filled]
        if not widths:
            continue
        # the widest block of equally wide rows: w columns in n rows scores w * n
        table = max((w * widths.count(w) for w in set(widths) if w >= 2), default=0)
        found = find_header(filled)
        strength = header_score(found[2]) if found is not None else 0
        score = (strength, table / len(widths))
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(data: bytes, limits: Limits) -> Iterator[Grid]:
    """One grid from a CSV/TSV file; every cell is text as written."""
    text = decode_text(data)
    delimiter = sniff_delimiter(text)
    csv.field_size_limit(limits.max_cell_chars)
    rows: list[list[Value]] = []
    refs: list[tuple[int | None, int | None]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for record in reader:
            if len(rows) >= limits.max_rows:
                msg = f"CSV has more than {limits.max_rows} records; expected at most that."
                raise DocumentTooLarge(msg, limit="max_rows")
            if len(record) > limits.max_columns:
                msg = (
                    f"CSV record {reader.line_num} has {len(record)} fields; expected at most "
                    f"{limits.max_columns}."
                )
                raise DocumentTooLarge(msg, limit="max_columns")
            number += 1  # blank records count, so a row is named as a spreadsheet shows it
            if any(cell.strip() for cell in record):
                rows.append(list(record))
                refs.append((number, None))
    except csv.Error as exc:
        msg = f"Failed to read the CSV near line {reader.line_num}: {library_message(exc)}."
        raise CorruptDocument(msg) from exc
    yield Grid(rows=rows, method=ExtractionMethod.CELL, sheet=None, row_refs=refs)
