"""Table understanding shared by every format: header row, columns, lines, header block.

A format reader turns its document into `Grid`s (rows of cell values: text, numbers as
stored, dates) and `read_grid` turns a grid into `ManifestLine`s. The rules, in order:

* the header row is the row (among the first 80) whose cells name the most known columns;
  a second header row below it (English under Chinese, 毛重/净重 under a merged 重量) is
  merged into it;
* the rows above the header (and the remarks below the table) are the header block: labels
  such as `发货人 Shipper:` with their values, and document-wide HS code, UN number and
  destination, which apply to every line that does not give its own;
* a row with a printed line number starts a line; a row without one that carries codes
  continues the line above (vertically merged cells, a code list under its line); other
  rows (totals, empty rows, remarks, repeated headers) are skipped;
* codes are read from every code column, a GTIN column is combined with the serial (and lot)
  columns into one element string, and numbers that Excel destroyed are reported, never
  repaired by guessing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import TypeGuard, cast

from gateway.countries import normalize_country
from gateway.domain import (
    CodeOccurrence,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    Severity,
    SourceRef,
)
from gateway.gs1 import format_hri
from gateway.parsers.codes import (
    find_codes,
    gtin_from_digits,
    judge,
    looks_like_lost_number,
    possible_codes,
)
from gateway.parsers.columns import map_column, map_header_label
from gateway.parsers.records import code_occurrence, manifest_line, source_ref

Value = str | int | float | dt.datetime | dt.date | None

HEADER_SEARCH_ROWS = 80
# A quantity or weight cell that states no usable number is kept as text under this suffix in
# the line's extra fields (`quantity_raw`, `net_kg_raw`, `gross_kg_raw`).
RAW_SUFFIX = "_raw"
_CODE_FIELDS = ("code", "gtin", "sscc")
# a cell or phrase that starts a total or subtotal row (it ends the table's lines above it)
TOTAL_LABEL = re.compile(
    r"^\s*(total|totals|grand\s*total|sub-?\s*total|合计|小计|总计|共计|总数)\b", re.IGNORECASE
)
_TOTAL_MATCH = TOTAL_LABEL.match
# where a cell can start as `TOTAL_LABEL` does, searched over a row's text cells joined by
# NULs: after white space, the first letter of one of its labels in any case it matches
# (ſ is a long s); a row without such a start has no totals label
_TOTAL_START = re.compile(r"\x00\s*[tTgGsS\u017f合小总共]")
_IS_STR = cast("Callable[[object], TypeGuard[str]]", str.__instancecheck__)
_UN = re.compile(r"\bUN\s*(?:No\.?|Number|编号)?\s*[:#]?\s*(\d{4})\b", re.IGNORECASE)
_SERIALS = re.compile(r"[,;\n]+")
_SPACE = re.compile(r"\s+")
_SPACE_DASH = re.compile(r"[\s\-]+")
_HS = re.compile(r"(?:HS|H\.S\.|商品编码|海关编码)[^0-9]{0,20}(\d{4}(?:[.\s]?\d{2}){1,3})")


@dataclass(slots=True)
class Grid:
    """Rows of one sheet, one CSV file, or one PDF table, ready for `read_grid`."""

    rows: list[list[Value]]
    method: ExtractionMethod
    sheet: str | None = None
    # per row: (row number as in the document, page) - spreadsheets give the row only
    row_refs: list[tuple[int | None, int | None]] | None = None
    # per row: a bounding box for PDF rows
    row_boxes: list[tuple[float, float, float, float] | None] | None = None
    # cells of a row that were joined from wrapped fragments (PDF) may need "" joins
    confidence: list[float | None] | None = None


@dataclass(slots=True)
class _Line:
    line_no: str | None
    source: SourceRef
    row: int | None  # the grid row its fields are read from (None: codes above any line)
    codes: list[CodeOccurrence]
    code_lot: str | None  # AI 10 of the line's first code that carries one
    # how many problems the rows before had met: the line's field problems come after the
    # possible codes of its row and before its destroyed ones, as the row is read
    problems_before: int


class FieldSources(Mapping[str, SourceRef]):
    """field -> the cell it was read from, for one line; the `SourceRef`s are made on access.

    A 20,000-line sheet has a quarter of a million field cells, and almost none of their
    references is ever looked at (a finding about a field asks for one), so a line keeps the
    row facts and the field's column and builds the reference when asked.
    """

    __slots__ = ("_columns", "_row")

    def __init__(
        self,
        row: tuple[str, int | None, str | None, int | None, tuple[float, ...] | None, str | None],
        columns: dict[str, int],
    ) -> None:
        self._row = row  # document id, page, sheet, row, bbox, printed line number
        self._columns = columns

    def __getitem__(self, name: str) -> SourceRef:
        col = self._columns[name]
        doc, page, sheet, row, bbox, line_no = self._row
        cell = column_letter(col) + str(row) if page is None and row is not None else None
        box = (bbox[0], bbox[1], bbox[2], bbox[3]) if bbox is not None else None
        return SourceRef(doc, page, sheet, row, cell, box, line_no)

    def columns_at(self, base: SourceRef) -> dict[str, int] | None:
        """field -> column index, when every reference is `base` but for the cell (in the
        same row); else None."""
        doc, page, sheet, row, bbox, line_no = self._row
        if (
            page is not None
            or row is None
            or base.page is not None
            or base.row != row
            or base.sheet != sheet
            or base.line != line_no
            or base.bbox != (None if bbox is None else tuple(bbox))
            or base.document_id != doc
        ):
            return None
        return self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(slots=True)
class TableResult:
    """What one grid yielded."""

    lines: list[ManifestLine]
    problems: list[ExtractionProblem]
    header: dict[str, str]
    columns: dict[int, str]  # column index -> field
    header_row: int | None  # index in grid.rows


def cell_text(value: Value) -> str:
    """The text a cell shows: integers without `.0`, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_number(value: Value) -> float | None:
    """A quantity or weight as printed: `1`, `1,234.5`, `584,00` (decimal comma), `6 PCS`."""
    return read_number(value)[0]


# A cell that states no number on purpose: left blank in the printed form.
_NO_NUMBER = frozenset({"-", "--", "—", "–", "/", "n/a", "na", "nil", "none", "无", "／", "*"})
_NUMBER_TEXT = re.compile(r"^[-+]?[\d.,]+(?:[eE][-+]?\d+)?")


def read_number(value: Value) -> tuple[float | None, str | None]:
    """(the number a cell states, or None; the cell's text when it holds no usable number).

    The text comes back for a value that is not finite (`1e400`, `inf`, `nan`, or such a float
    stored in the cell) and for text that is not a number at all, so that a rule can name the
    cell; a blank or a placeholder (`-`, `N/A`, `无`) is no number and no problem.
    """
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        if math.isfinite(value):
            return float(value), None
        return None, cell_text(value)
    if not isinstance(value, str):
        return None, None
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if not text or text.lower() in _NO_NUMBER:
        return None, None
    m = _NUMBER_TEXT.match(text)
    if not m:
        return None, value.strip()
    num = m.group(0)
    exponent = ""
    if "e" in num or "E" in num:
        num, exponent = re.split("[eE]", num, maxsplit=1)
        exponent = "e" + exponent
    if "," in num and "." in num:
        num = num.replace(",", "") if num.rfind(".") > num.rfind(",") else num.replace(".", "")
        num = num.replace(",", ".")
    elif "," in num:
        # "584,00" is a decimal comma; "1,234" is a thousands separator
        num = num.replace(",", ".") if re.search(r",\d{1,2}$", num) else num.replace(",", "")
    try:
        number = float(num + exponent)
    except ValueError:
        return None, value.strip()
    if not math.isfinite(number):
        return None, value.strip()
    return number, None


def parse_line_no(value: Value) -> str | None:
    """The printed line number (`1`, `1.0`, `12.`, `A-3`), or None for totals and blanks."""
    if value is None:
        return None
    if value.__class__ is int:
        return str(value)  # the common case: a sheet's line numbers are numbers
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return None
        return str(int(value))
    text = str(value).strip().rstrip(".")
    if re.fullmatch(r"\d{1,6}", text):
        return str(int(text))
    if re.fullmatch(r"[A-Za-z]{0,3}-?\d{1,5}[A-Za-z]?", text) and any(c.isdigit() for c in text):
        return text
    return None


def parse_hs(value: Value) -> str | None:
    """HS code digits: `8507.60.00` -> `85076000`."""
    return _parse_hs_text(cell_text(value))


@lru_cache(maxsize=512)
def _parse_hs_text(text: str) -> str | None:
    # a manifest repeats a handful of HS codes on every line
    digits = re.sub(r"[\s.\-]", "", text)
    if re.fullmatch(r"\d{4,10}", digits):
        return digits
    m = re.search(r"\d{4}(?:[.\s]?\d{2}){1,3}", text)
    return re.sub(r"\D", "", m.group(0)) if m else None


def parse_un(value: Value) -> str | None:
    """`UN3480`, `UN 3480`, `3480`, `UN No. 3480` -> `UN3480`."""
    return _parse_un_text(cell_text(value))


@lru_cache(maxsize=512)
def _parse_un_text(text: str) -> str | None:
    if re.fullmatch(r"\d{4}", text):
        return f"UN{text}"
    m = _UN.search(text)
    return f"UN{m.group(1)}" if m else None


def _row_texts(row: Sequence[Value]) -> list[str]:
    return [cell_text(v) for v in row]


_HEADER_MAX_CHARS = 200  # a column title is a few words, in one or two languages


def _header_fields(texts: Sequence[str]) -> dict[int, str]:
    fields: dict[int, str] = {}
    for i, text in enumerate(texts):
        if not text or len(text) > _HEADER_MAX_CHARS:
            continue
        name = map_column(text)
        if name is not None and not find_codes(text):
            fields[i] = name
    return fields


def header_score(fields: Mapping[int, str]) -> int:
    """How strongly a row's cells read as a table header: the number of fields it names, or
    0 when none of them is a field that only a manifest table has."""
    names = set(fields.values())
    if not names & {"code", "gtin", "sscc", "line_no", "quantity", "description", "lot"}:
        return 0
    return len(names)


def find_header(rows: Sequence[Sequence[Value]]) -> tuple[int, int, dict[int, str]] | None:
    """(header row index, number of header rows, column -> field), or None."""
    best: tuple[int, int, dict[int, str]] | None = None
    best_score = 2
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields = _header_fields(_row_texts(row))
        score = header_score(fields)
        if score > best_score:
            best, best_score = (i, 1, fields), score
    if best is None:
        return None
    index, _, fields = best
    if index + 1 < len(rows):
        below = rows[index + 1]
        below_texts = _row_texts(below)
        below_fields = _header_fields(below_texts)
        numeric = any(isinstance(v, int | float) for v in below if not isinstance(v, bool))
        if len(below_fields) >= 2 and not numeric and parse_line_no(_first(below_texts)) is None:
            merged = dict(fields)
            for col, name in below_fields.items():
                merged[col] = name  # the lower row is the more specific (毛重 under 重量)
            return index, 2, merged
    return best


def _first(texts: Sequence[str]) -> str:
    return next((t for t in texts if t), "")


_LABEL_END = re.compile(r"[:：]")
_LABEL_REACH = 120  # characters; map_header_label takes labels of up to 60
# An EORI number inside the consignee's text: "(EORI DE123456789012345)", "EORI No.: FI27345118".
_EORI_IN_TEXT = re.compile(
    r"(?<![A-Za-z])(?i:EORI)[\s\-]*(?i:(?:no|number|nr|号码|编号|号)\.?)?\s*[:：#.\-]?\s*"
    r"((?=[A-Z]{2}[A-Z0-9]*\d)[A-Z]{2}[A-Z0-9]{1,15})\b"
)
# Stated totals: header keys whose value is a number (title-block labels and totals rows).
TOTAL_KEYS = ("total_quantity", "total_net_kg", "total_gross_kg", "total_packages")


def read_header_block(rows: Sequence[Sequence[Value]]) -> dict[str, str]:
    """Label/value pairs such as `发货人 Shipper: | ACME` or `Invoice No.: X1` in one cell.

    The value is the text after the label's first colon (`:` or `：`), else the next non-empty
    cell to the right that is not itself a label. Stated totals (`Total G.W.: 3,510 KGS`)
    keep their number only; an EORI printed inside the consignee's address becomes
    `consignee_eori` when no EORI label gives one.
    """
    header: dict[str, str] = {}
    for row in rows:
        texts = _row_texts(row)
        i = 0
        while i < len(texts):
            text = texts[i]
            # labels are short: a long cell (a remark, a hostile 32,000-character string) is
            # looked at only as far as a label can reach
            end = _LABEL_END.search(text, 0, _LABEL_REACH) if text else None
            label = text[: end.start()] if end else text
            name = map_header_label(label) if text and len(label) <= _LABEL_REACH else None
            if name is None:
                i += 1
                continue
            value = text[end.end() :].strip() if end else ""
            j = i + 1
            if not value:
                while j < len(texts) and not texts[j]:
                    j += 1
                if j < len(texts) and not texts[j].rstrip().endswith((":", "：")):
                    value = texts[j]
                    j += 1
            if value and name not in header:
                header[name] = value
            i = max(j, i + 1)
    for key in TOTAL_KEYS:
        if key in header:
            number = parse_number(header[key])
            if number is None:
                del header[key]
            else:
                header[key] = number_text(number)
    if "consignee_eori" not in header:
        m = _EORI_IN_TEXT.search(header.get("consignee", ""))
        if m:
            header["consignee_eori"] = m.group(1)
    return header


def number_text(value: float) -> str:
    """A number as the header keeps it: `3296`, `48.5`."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def document_wide_values(texts: Sequence[str]) -> dict[str, str]:
    """UN number and HS code stated once in remarks ("UN 3480", "HS code 8507.60")."""
    found: dict[str, set[str]] = {"un_number": set(), "hs_code": set()}
    for text in texts:
        for m in _UN.finditer(text):
            found["un_number"].add(f"UN{m.group(1)}")
        for m in _HS.finditer(text):
            found["hs_code"].add(re.sub(r"\D", "", m.group(1)))
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}


def read_grid(
    grid: Grid,
    document_id: str,
    *,
    defaults: Mapping[str, str] | None = None,
    header_hint: tuple[int, int, dict[int, str]] | None = None,
) -> TableResult:
    """Read the lines of one grid. Never raises on bad content: problems are returned."""
    problems: list[ExtractionProblem] = []
    found = header_hint or find_header(grid.rows)
    if found is None:
        header = read_header_block(grid.rows[:HEADER_SEARCH_ROWS])
        return TableResult([], problems, header, {}, None)
    hdr_index, hdr_rows, columns = found
    header = read_header_block(grid.rows[:hdr_index])
    data_start = hdr_index + hdr_rows
    doc: dict[str, str] = dict(defaults or {})
    for key in ("destination", "hs_code", "un_number"):
        if key in header:
            doc[key] = header[key]
    reader = _LineReader(grid, document_id, columns, problems)
    footer: list[str] = []
    footer_rows: list[Sequence[Value]] = []
    for r in range(data_start, len(grid.rows)):
        leftover = reader.feed(r)
        if leftover:
            footer.append(leftover)
            footer_rows.append(grid.rows[r])
    # remarks below the table state facts too ("SDS No.: ...", "Total packages: 12")
    for key, value in read_header_block(footer_rows).items():
        header.setdefault(key, value)
    header.update(reader.stated_totals())
    block = [" ".join(_row_texts(row)) for row in grid.rows[:hdr_index]]
    wide = document_wide_values(footer + block)
    for key, value in wide.items():
        doc.setdefault(key, value)
    header.update({k: v for k, v in wide.items() if k not in header})
    values = doc_values(doc)
    lines = reader.records(values)
    return TableResult(lines, problems, header, columns, hdr_index)


class _LineReader:
    """Consumes data rows one by one; keeps the line that continuation rows extend."""

    def __init__(
        self,
        grid: Grid,
        document_id: str,
        columns: dict[int, str],
        problems: list[ExtractionProblem],
    ) -> None:
        self.grid = grid
        # what every row asks of the grid, at hand
        self.rows, self.sheet, self.method = grid.rows, grid.sheet, grid.method
        self.row_refs, self.row_boxes = grid.row_refs, grid.row_boxes
        self.document_id = document_id
        self.columns = columns
        self.problems = problems
        self.lines: list[_Line] = []
        self.by_field: dict[str, list[int]] = {}
        for col, name in sorted(columns.items()):
            self.by_field.setdefault(name, []).append(col)
        self.header_names = set(columns.values())
        # the fields read per line: their columns, how their cells are read, and whether
        # the record has a field of that name (else it goes to the line's extra fields)
        self.field_plan = [
            (name, cols, _FIELD_KINDS.get(name, _AS_TEXT), name in _LINE_FIELDS)
            for name, cols in self.by_field.items()
            if name not in _CODE_FIELDS and name != "line_no"
        ]
        self._parsed: dict[tuple[int, type, Value], tuple[object | None, str | None]] = {}
        # the code cells of a row, in the order they are read
        self.code_columns = [
            (name, col) for name in ("code", "sscc") for col in self.by_field.get(name, ())
        ]
        self.has_gtin = "gtin" in self.by_field
        self.letters: dict[int, str] = {}
        line_cols = self.by_field.get("line_no") or []
        self.line_col: int | None = line_cols[0] if line_cols else None
        # the last totals row's numbers: field -> (number, the cell stating it)
        self.totals: dict[str, tuple[float, SourceRef]] = {}

    def _read_totals(self, r: int, row: Sequence[Value]) -> None:
        """Keep the numbers of a `合计 / TOTAL / Grand Total` row, column by column.

        Sub-totals (per carton, per page, carried forward) are not the document's totals;
        of several totals rows the last one is, as the grand total closes the table.
        """
        texts = [v for v in row if type(v) is str]
        if any(_SUBTOTAL.search(t) for t in texts):
            return
        found: dict[str, tuple[float, SourceRef]] = {}
        for name in _TOTAL_FIELDS:
            value, col = self._value(row, name)
            if col is None:
                continue
            if type(value) is str:
                value = TOTAL_LABEL.sub("", value).lstrip(" :：")  # "Total: 56" in the cell itself
            number = parse_number(value)
            if number is not None:
                found[name] = (number, self._ref(r, col))
        # "TOTAL N.W.: 3296 KGS" written out in one cell instead of under the column
        labelled = read_header_block([row])
        for name in _TOTAL_FIELDS:
            key = "total_" + name
            if name not in found and key in labelled:
                found[name] = (float(labelled[key]), self._ref(r, None))
        if found:
            self.totals = found

    def stated_totals(self) -> dict[str, str]:
        """The totals row as header fields: `total_net_kg` etc., and where it was printed.

        `totals_sheet`, `totals_row` and `totals_page` place the row; `total_<field>_cell` is
        the cell of each number (spreadsheets), `totals_box` the row's box (PDF).
        """
        out: dict[str, str] = {}
        for name, (number, ref) in self.totals.items():
            out["total_" + name] = number_text(number)
            if ref.cell:
                out[f"total_{name}_cell"] = ref.cell
            if ref.sheet is not None:
                out["totals_sheet"] = ref.sheet
            if ref.row is not None:
                out["totals_row"] = str(ref.row)
            if ref.page is not None:
                out["totals_page"] = str(ref.page)
            if ref.bbox is not None:
                out["totals_box"] = ",".join(f"{v:g}" for v in ref.bbox)
        return out

    def _ref(self, r: int, col: int | None, line_no: str | None = None) -> SourceRef:
        row_refs, boxes = self.row_refs, self.row_boxes
        row_no, page = row_refs[r] if row_refs is not None else (r + 1, None)
        cell: str | None = None
        if col is not None and row_no is not None and page is None:
            letters = self.letters.get(col)
            if letters is None:
                letters = self.letters[col] = column_letter(col)
            cell = letters + str(row_no)
        bbox = boxes[r] if boxes is not None else None
        return source_ref(self.document_id, page, self.sheet, row_no, cell, bbox, line_no)

    def _value(self, row: Sequence[Value], name: str) -> tuple[Value, int | None]:
        for col in self.by_field.get(name, ()):
            if col < len(row) and row[col] not in (None, ""):
                return row[col], col
        return None, None

    def feed(self, r: int) -> str | None:
        """Read grid row `r`; returns the row's text when it is not table data."""
        row = self.rows[r]
        line_value = (
            row[self.line_col] if self.line_col is not None and self.line_col < len(row) else None
        )
        # this runs for every row of the sheet: the raw values are tested first, and the
        # cells' display texts are built only for rows that are not plainly lines; a row
        # numbered by a number (a sheet's lines) is not empty
        if line_value.__class__ is not int and not any(
            v is not None and (type(v) is not str or v.strip()) for v in row
        ):
            return None
        # the grid's text cells are plain `str`: `filter` and `map` keep the tests in C, and
        # one search over the row's text cells at once lets pass only the rows where a cell
        # starts as a totals label can
        if _TOTAL_START.search("\x00" + "\x00".join(filter(_IS_STR, row))) and any(
            map(_TOTAL_MATCH, filter(_IS_STR, row))
        ):
            self._read_totals(r, row)
            return None
        if type(line_value) is str and "\n" in line_value:
            # the number is the cell's first line; text below it spilled in from elsewhere
            line_value = line_value.split("\n", 1)[0]
        line_no = str(line_value) if line_value.__class__ is int else parse_line_no(line_value)
        texts: list[str] = []
        if line_no is None:
            texts = _row_texts(row)
            # a header repeated on a later page or above a second block
            if header_score(_header_fields(texts)) >= 3:
                return None
        if line_no is None and self.line_col is None and self._has_fields(row):
            line_no = None  # a table without line numbers: every row with data is a line
            new_line = True
        else:
            new_line = line_no is not None
        codes, destroyed, lot = self._codes(
            r, row, line_no or (self.lines[-1].line_no if (self.lines and not new_line) else None)
        )
        if not new_line:
            if not codes and not destroyed:
                return " ".join(t for t in texts or _row_texts(row) if t)
            if not self.lines:
                line = _Line(None, self._ref(r, None), None, [], None, len(self.problems))
                self.lines.append(line)
            self.lines[-1].codes.extend(codes)
            if lot and self.lines[-1].code_lot is None:
                self.lines[-1].code_lot = lot
            if destroyed:
                self._report_destroyed(destroyed, self.lines[-1].line_no)
            return None
        # the line's fields are read for all lines at once, column by column (`records`)
        line = _Line(
            line_no, self._ref(r, self.line_col, line_no), r, codes, lot, len(self.problems)
        )
        if destroyed:
            self._report_destroyed(destroyed, line_no)
        self.lines.append(line)
        return None

    def _has_fields(self, row: Sequence[Value]) -> bool:
        filled = sum(1 for c in self.columns if c < len(row) and row[c] not in (None, ""))
        return filled >= 3

    def _report_destroyed(
        self, destroyed: list[tuple[str, str, SourceRef]], line_no: str | None
    ) -> None:
        for what, value, ref in destroyed:
            where = f"line {line_no}" if line_no else ref.describe()
            msg = (
                f"{what} on {where} ({ref.describe()}) was destroyed by the spreadsheet's "
                f"number conversion: got {value!r}; the digits cannot be recovered, so no "
                f"code is read for it."
            )
            self.problems.append(
                ExtractionProblem(
                    kind="identifier_destroyed_in_document",
                    message=msg,
                    source=ref,
                    line_no=line_no,
                    severity=Severity.BLOCK,
                )
            )

    def _report_possible(self, texts: list[tuple[str, SourceRef]], line_no: str | None) -> None:
        for text, ref in texts:
            where = f"line {line_no}" if line_no else ref.describe()
            self.problems.append(
                ExtractionProblem(
                    kind="possible_code",
                    message=(
                        f"{text!r} on {where} ({ref.describe()}) may be a battery code, but it "
                        f"is not one the gateway can read (expected a GS1 code with its GTIN, "
                        f"a Digital Link or a GB/T code); please check the cell."
                    ),
                    source=ref,
                    line_no=line_no,
                    severity=Severity.WARN,
                )
            )

    def _codes(
        self, r: int, row: Sequence[Value], line_no: str | None
    ) -> tuple[list[CodeOccurrence], list[tuple[str, str, SourceRef]], str | None]:
        """The codes of one row, the identifiers the spreadsheet destroyed, and the first
        lot (AI 10) the codes carry."""
        codes: list[CodeOccurrence] = []
        lot: str | None = None
        destroyed: list[tuple[str, str, SourceRef]] = []
        possible: list[tuple[str, SourceRef]] = []
        method = self.method
        conf = self.grid.confidence[r] if self.grid.confidence is not None else None
        gtin: str | None = None
        gtin_col: int | None = None
        if self.has_gtin:
            gtin_value, gtin_col = self._value(row, "gtin")
            if gtin_col is not None:
                gtin, lost = _read_gtin(gtin_value)
                if lost:
                    ref = self._ref(r, gtin_col, line_no)
                    destroyed.append(("GTIN", cell_text(gtin_value), ref))
        serial_texts: list[tuple[str, int]] = []
        width = len(row)
        for name, col in self.code_columns:
            if col >= width:
                continue
            value = row[col]
            if value is None or value == "":
                continue
            ref = self._ref(r, col, line_no)
            if value.__class__ is str:
                text = value.strip()
            elif isinstance(value, int | float) and not isinstance(value, bool):
                digits = cell_text(value)
                if gtin_col is not None and name == "code":
                    serial_texts.append((digits, col))  # a serial stored as a number
                elif abs(value) >= 1e15 or not float(value).is_integer():
                    destroyed.append(("Identifier", digits, ref))
                elif len(digits) in (12, 13) and (gtin_digits := gtin_from_digits(digits)):
                    # a GTIN typed into a code column that the spreadsheet made a number
                    codes.append(_occ(f"(01){gtin_digits}", ref, method, conf))
                continue
            else:
                text = cell_text(value)
            if looks_like_lost_number(text):
                destroyed.append(("Identifier", text, ref))
                continue
            found = find_codes(text, code_column=True)
            if found:
                for f in found:
                    codes.append(code_occurrence(f.raw, ref, method, None, None, conf))
                    if lot is None:
                        lot = f.decoded.ais.get("10")
            elif gtin_col is not None and name == "code":
                serial_texts.append((text, col))
            else:
                possible.extend((t, ref) for t in possible_codes(text))
        if gtin is not None:
            lot_value, _ = self._value(row, "lot")
            ref = self._ref(r, gtin_col, line_no)
            # the engine judges the element string built from the columns, as any other code
            lot_text = cell_text(lot_value).strip() if lot_value not in (None, "") else ""
            # Each unit's element string, as its label would carry it: with the lot when the
            # row gives one that AI (10) can hold, else without (the lot stays a field).
            candidates: list[list[str]] = []
            if serial_texts:
                for text, _col in serial_texts:
                    for serial in _SERIALS.split(text):
                        if serial.strip():
                            ais = {"01": gtin, "21": _SPACE.sub("", serial)}
                            plain = format_hri(ais)
                            with_lot = format_hri({"01": gtin, "10": lot_text, **ais})
                            candidates.append([with_lot, plain] if lot_text else [plain])
            elif lot_text:
                candidates.append([format_hri({"01": gtin, "10": lot_text})])
            else:
                candidates.append([format_hri({"01": gtin})])
            for forms in candidates:
                for candidate in forms:
                    decoded = judge(candidate)
                    if decoded.valid:
                        codes.append(_occ(candidate, ref, method, conf))
                        lot = lot or decoded.ais.get("10")
                        break
                else:
                    # the element string the columns make is invalid (a GTIN's check digit,
                    # a serial's characters): it is still the unit's code, judged by the rules
                    codes.append(_occ(forms[-1], ref, method, conf))
        if possible and not codes:
            self._report_possible(possible, line_no)
        return codes, destroyed, lot

    def _parse(self, kind: int, value: Value) -> tuple[object | None, str | None]:
        """A field cell's value as the line keeps it, and its text when it holds no usable
        number; remembered in `_parsed` per distinct cell value (a sheet repeats its HS code,
        UN number, destination and weights on every line)."""
        known: tuple[object | None, str | None]
        if kind == _AS_NUMBER:
            known = read_number(value)
        elif kind == _AS_HS:
            known = (parse_hs(value), None)
        elif kind == _AS_UN:
            known = (parse_un(value), None)
        else:
            known = (normalize_country(cell_text(value)), None)
        self._parsed[(kind, value.__class__, value)] = known
        return known

    def _read_column(
        self, kind: int, cells: list[Value]
    ) -> list[tuple[object | None, str | None] | None]:
        """Each cell of a field's column read as `kind` (None for a blank one)."""
        classes = set(map(type, cells))
        classes.discard(type(None))
        if len(classes) == 1:
            # cells of one class (text, or numbers): their values alone tell them apart
            cls = classes.pop()
            get = self._parsed.get
            known: dict[Value, tuple[object | None, str | None] | None] = {
                v: get((kind, cls, v)) or self._parse(kind, v)
                for v in set(cells)
                if v is not None and v != ""
            }
            known[None] = known[""] = None
            return list(map(known.__getitem__, cells))
        get = self._parsed.get
        return [
            None if v is None or v == "" else get((kind, v.__class__, v)) or self._parse(kind, v)
            for v in cells
        ]

    def records(self, doc: Mapping[str, object]) -> list[ManifestLine]:
        """The lines as records; `doc` holds the document-wide values (`doc_values`) that
        apply where a line states none.

        The fields are read column by column over all lines at once, by the sheet's plan
        (`field_plan`): per line and field, the first of the field's cells that holds a
        value, read as the field is read (a distinct value once per sheet, `_parsed`).
        A line keeps what its cells make: text, or a float for a number; a number cell
        that states none keeps its text under the `_raw` name in the line's extra fields,
        for the rules, which name the cell (`manifest.numbers`). A line's field cells
        are one mapping shared by the lines whose fields lie in the same columns.
        """
        lines = self.lines
        count = len(lines)
        rows = self.grid.rows
        none: Sequence[Value] = ()
        line_rows = [rows[line.row] if line.row is not None else none for line in lines]
        shortest = min(map(len, line_rows), default=0)
        on_record: dict[str, list[object | None]] = {}
        names: list[str] = []
        used_columns: list[list[int | None]] = []  # per field: the column read, per line
        extra_items: list[list[tuple[str, str] | None]] = []  # per field that gives extras
        late: list[tuple[int, int, ExtractionProblem]] = []  # (line, field, problem)
        for j, (name, cols, kind, on_line) in enumerate(self.field_plan):
            if len(cols) == 1:
                col = cols[0]
                cells = (
                    list(map(itemgetter(col), line_rows))
                    if col < shortest
                    else [row[col] if col < len(row) else None for row in line_rows]
                )
                chosen: list[int | None] = [col] * count
            else:
                cells, chosen = _first_filled(line_rows, cols)
            unreadable: list[str | None] | None = None
            parsed: list[object | None]
            if kind == _AS_TEXT:
                parsed = [
                    None
                    if v is None
                    else ((v.strip() if v.__class__ is str else cell_text(v)) or None)
                    for v in cells
                ]
            else:
                known = self._read_column(kind, cells)
                parsed = [None if k is None else k[0] for k in known]
                unreadable = [None if k is None else k[1] for k in known]
                if unreadable.count(None) == count:
                    unreadable = None
                if kind == _AS_COUNTRY:
                    for i, (v, got) in enumerate(zip(cells, parsed, strict=True)):
                        if got is None and v is not None and v != "":
                            late.append((i, j, self._unknown_country(lines[i], v, chosen[i])))
            names.append(name)
            if unreadable is None:
                used_columns.append(
                    chosen
                    if None not in parsed
                    else [c if p is not None else None for c, p in zip(chosen, parsed, strict=True)]
                )
            else:
                used_columns.append(
                    [
                        c if p is not None or u is not None else None
                        for c, p, u in zip(chosen, parsed, unreadable, strict=True)
                    ]
                )
            if on_line:
                on_record[name] = parsed
            items: list[tuple[str, str] | None] | None = None
            if not on_line and parsed.count(None) != count:
                items = [None if p is None else (name, str(p)) for p in parsed]
            if unreadable is not None:
                raw_name = name + RAW_SUFFIX
                raw = [None if u is None else (raw_name, u) for u in unreadable]
                items = raw if items is None else [a or b for a, b in zip(raw, items, strict=True)]
            if items is not None:
                extra_items.append(items)
        if late:
            self._merge_problems(late)
        extras: list[dict[str, str]]
        if extra_items:
            extras = [
                dict(i for i in per_line if i is not None)
                for per_line in zip(*extra_items, strict=True)
            ]
        else:
            extras = [{} for _ in lines]
        columns = [
            self._record_column(name, on_record.get(name), doc.get(name), lines)
            for name in _RECORD_FIELDS
        ]
        return list(
            map(
                manifest_line,
                [line.source for line in lines],
                [line.line_no for line in lines],
                *columns,
                extras,
                [tuple(line.codes) for line in lines],
                self._field_sources(lines, names, used_columns),
            )
        )

    def _record_column(
        self,
        name: str,
        values: list[object | None] | None,
        default: object | None,
        lines: list[_Line],
    ) -> Iterable[object | None]:
        """One field of every line: its cells' values, else the document's value, else (the
        lot) the lot of the line's codes."""
        column: Iterable[object | None]
        if values is None:
            column = repeat(default, len(lines))
        elif default is not None:
            column = [default if v is None else v for v in values]
        else:
            column = values
        if name == "lot":
            column = [
                (line.code_lot or None) if v is None else v
                for v, line in zip(column, lines, strict=True)
            ]
        return column

    def _unknown_country(self, line: _Line, value: Value, col: int | None) -> ExtractionProblem:
        assert line.row is not None  # a line without a row of its own has no field cells
        return ExtractionProblem(
            kind="destination_unknown",
            message=(
                f"Destination {cell_text(value)!r} on line {line.line_no} is not a country "
                f"the gateway knows: expected an ISO 3166 code or a country name."
            ),
            source=self._ref(line.row, col, line.line_no),
            line_no=line.line_no,
            severity=Severity.WARN,
        )

    def _merge_problems(self, late: list[tuple[int, int, ExtractionProblem]]) -> None:
        """Put the problems of the lines' fields where reading row by row meets them."""
        late.sort(key=lambda item: item[:2])
        merged: list[ExtractionProblem] = []
        done = 0
        for i, _j, problem in late:
            at = self.lines[i].problems_before
            merged.extend(self.problems[done:at])
            merged.append(problem)
            done = at
        merged.extend(self.problems[done:])
        self.problems[:] = merged

    def _field_sources(
        self, lines: list[_Line], names: list[str], used_columns: list[list[int | None]]
    ) -> list[Mapping[str, SourceRef]]:
        """Each line's field -> cell mapping (`FieldSources`), or an empty one."""
        grid = self.grid
        # only the fields whose column differs between lines tell their mappings apart
        same: list[int | None] = []
        differ: list[list[int | None]] = []
        for used in used_columns:
            first = used[0] if used else None
            same.append(first if used.count(first) == len(used) else -1)
            if same[-1] == -1:
                differ.append(used)
        shared: dict[tuple[int | None, ...], dict[str, int]] = {}
        out: list[Mapping[str, SourceRef]] = []
        layouts = zip(*differ, strict=True) if differ else repeat((), len(lines))
        for line, layout in zip(lines, layouts, strict=True):
            columns = shared.get(layout)
            if columns is None:
                cols = iter(layout)
                columns = shared[layout] = {
                    name: col
                    for name, col in zip(
                        names, [next(cols) if c == -1 else c for c in same], strict=True
                    )
                    if col is not None
                }
            if not columns:
                out.append({})
                continue
            r = line.row
            assert r is not None  # a line without a row of its own has no field cells
            row_no, page = grid.row_refs[r] if grid.row_refs is not None else (r + 1, None)
            bbox = grid.row_boxes[r] if grid.row_boxes is not None else None
            out.append(
                FieldSources(
                    (self.document_id, page, grid.sheet, row_no, bbox, line.line_no), columns
                )
            )
        return out


def _first_filled(
    rows: list[Sequence[Value]], cols: list[int]
) -> tuple[list[Value], list[int | None]]:
    """Per row, the first of `cols` that holds a value, and its column."""
    cells: list[Value] = []
    chosen: list[int | None] = []
    for row in rows:
        width = len(row)
        for col in cols:
            if col < width:
                value = row[col]
                if value is not None and value != "":
                    cells.append(value)
                    chosen.append(col)
                    break
        else:
            cells.append(None)
            chosen.append(None)
    return cells, chosen


def doc_values(doc: Mapping[str, str]) -> dict[str, object]:
    """The HS code, UN number and destination stated for the whole document, read once."""
    values: dict[str, object] = {}
    for key in ("hs_code", "un_number"):
        if key in doc:
            value = parse_hs(doc[key]) if key == "hs_code" else parse_un(doc[key])
            if value:
                values[key] = value
    if "destination" in doc:
        country = normalize_country(doc["destination"])
        if country:
            values["destination"] = country
    return values


# how a field's cell is read (`_LineReader.field_plan`)
_AS_TEXT, _AS_NUMBER, _AS_HS, _AS_UN, _AS_COUNTRY = range(5)
# the columns a totals row states, in the order header keys are written
_TOTAL_FIELDS = ("quantity", "net_kg", "gross_kg", "packages")
# per carton, per page, carried over: "Sub-total", "Total this page", "Total c/f", "本页小计"
_SUBTOTAL = re.compile(
    r"sub-?\s*totals?|小计|本页|page\s*total|this\s*page|carried\s*(forward|over)|\bc/[fo]\b"
    r"|承上页|转下页|过次页|brought\s*forward|\bb/f\b",
    re.IGNORECASE,
)
_FIELD_KINDS = {
    "quantity": _AS_NUMBER, "gross_kg": _AS_NUMBER, "net_kg": _AS_NUMBER, "hs_code": _AS_HS,
    "un_number": _AS_UN, "destination": _AS_COUNTRY,
}  # fmt: skip
# the record's fields read from cells, in the record's order: those after the source and
# line number, before the extra fields, codes and field cells (`ManifestLine`)
_RECORD_FIELDS = tuple(f.name for f in fields(ManifestLine))[2:-3]
_LINE_FIELDS = frozenset(_RECORD_FIELDS)


def _occ(
    raw: str, ref: SourceRef, method: ExtractionMethod, confidence: float | None
) -> CodeOccurrence:
    return code_occurrence(raw, ref, method, None, None, confidence)


def _read_gtin(value: Value) -> tuple[str | None, bool]:
    """A GTIN cell -> (14 digits or None, destroyed?).

    A GTIN stored as a number lost its leading zero: it is restored only when the check
    digit proves the padded value. Scientific notation (`6.90123E+12`) lost digits for good.
    """
    if value is None or value == "":
        return None, False
    if isinstance(value, float) and (not value.is_integer() or abs(value) >= 1e15):
        return None, True
    text = cell_text(value)
    if looks_like_lost_number(text):
        return None, True
    digits = _SPACE_DASH.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        found = find_codes(text, code_column=True)
        gtin = next((f.decoded.ais["01"] for f in found if f.valid and "01" in f.decoded.ais), None)
        return gtin, False
    padded = gtin_from_digits(digits)
    if padded:
        return padded, False
    if len(digits) in (8, 12, 13, 14):
        # a GTIN with a mistyped digit: the code built from it fails the check digit and
        # is reported at the cell; only a number the spreadsheet shortened is lost for good
        return digits.zfill(14), False
    return None, True
