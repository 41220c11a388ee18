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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.domain import (
    CodeOccurrence,
    ExtractionMethod,
    ExtractionProblem,
    ManifestLine,
    Severity,
    SourceRef,
)
from gateway.parsers.codes import find_codes, format_hri, looks_like_lost_number, mod10_ok
from gateway.parsers.columns import map_column, map_header_label
from gateway.parsers.countries import normalize_country

Value = str | int | float | dt.datetime | dt.date | None

HEADER_SEARCH_ROWS = 80
_CODE_FIELDS = ("code", "gtin", "sscc")
_TOTAL = re.compile(
    r"^\s*(total|totals|grand\s*total|sub-?\s*total|合计|小计|总计|共计|总数)\b", re.IGNORECASE
)
_UN = re.compile(r"\bUN\s*(?:No\.?|Number|编号)?\s*[:#]?\s*(\d{4})\b", re.IGNORECASE)
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
    fields: dict[str, object] = field(default_factory=dict)
    codes: list[CodeOccurrence] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    field_sources: dict[str, SourceRef] = field(default_factory=dict)


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
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    m = re.match(r"^[-+]?[\d.,]+", text)
    if not m:
        return None
    num = m.group(0)
    if "," in num and "." in num:
        num = num.replace(",", "") if num.rfind(".") > num.rfind(",") else num.replace(".", "")
        num = num.replace(",", ".")
    elif "," in num:
        # "584,00" is a decimal comma; "1,234" is a thousands separator
        num = num.replace(",", ".") if re.search(r",\d{1,2}$", num) else num.replace(",", "")
    try:
        return float(num)
    except ValueError:
        return None


def parse_line_no(value: Value) -> str | None:
    """The printed line number (`1`, `1.0`, `12.`, `A-3`), or None for totals and blanks."""
    if value is None or isinstance(value, bool):
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
    text = cell_text(value)
    digits = re.sub(r"[\s.\-]", "", text)
    if re.fullmatch(r"\d{4,10}", digits):
        return digits
    m = re.search(r"\d{4}(?:[.\s]?\d{2}){1,3}", text)
    return re.sub(r"\D", "", m.group(0)) if m else None


def parse_un(value: Value) -> str | None:
    """`UN3480`, `UN 3480`, `3480`, `UN No. 3480` -> `UN3480`."""
    text = cell_text(value)
    if re.fullmatch(r"\d{4}", text):
        return f"UN{text}"
    m = _UN.search(text)
    return f"UN{m.group(1)}" if m else None


def _row_texts(row: Sequence[Value]) -> list[str]:
    return [cell_text(v) for v in row]


def _header_fields(texts: Sequence[str]) -> dict[int, str]:
    fields: dict[int, str] = {}
    for i, text in enumerate(texts):
        if text and not find_codes(text):
            name = map_column(text)
            if name is not None:
                fields[i] = name
    return fields


def _header_score(fields: Mapping[int, str]) -> int:
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
        score = _header_score(fields)
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


def read_header_block(rows: Sequence[Sequence[Value]]) -> dict[str, str]:
    """Label/value pairs such as `发货人 Shipper: | ACME` or `Invoice No.: X1` in one cell."""
    header: dict[str, str] = {}
    for row in rows:
        texts = _row_texts(row)
        i = 0
        while i < len(texts):
            text = texts[i]
            name = map_header_label(text.split(":")[0].split("：")[0]) if text else None
            if name is None:
                i += 1
                continue
            value = ""
            for sep in (":", "："):
                if sep in text:
                    value = text.split(sep, 1)[1].strip()
                    break
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
    return header


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
    for r in range(data_start, len(grid.rows)):
        leftover = reader.feed(r)
        if leftover:
            footer.append(leftover)
    block = [" ".join(_row_texts(row)) for row in grid.rows[:hdr_index]]
    wide = document_wide_values(footer + block)
    for key, value in wide.items():
        doc.setdefault(key, value)
    header.update({k: v for k, v in wide.items() if k not in header})
    lines = [reader.finish(line, doc) for line in reader.lines]
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
        self.document_id = document_id
        self.columns = columns
        self.problems = problems
        self.lines: list[_Line] = []
        self.by_field: dict[str, list[int]] = {}
        for col, name in sorted(columns.items()):
            self.by_field.setdefault(name, []).append(col)
        self.header_names = set(columns.values())
        line_cols = self.by_field.get("line_no") or []
        self.line_col: int | None = line_cols[0] if line_cols else None

    def _ref(self, r: int, col: int | None, line_no: str | None = None) -> SourceRef:
        row_no, page = (None, None)
        if self.grid.row_refs is not None:
            row_no, page = self.grid.row_refs[r]
        else:
            row_no = r + 1
        bbox = self.grid.row_boxes[r] if self.grid.row_boxes is not None else None
        cell = (
            f"{column_letter(col)}{row_no}"
            if col is not None and row_no is not None and page is None
            else None
        )
        return SourceRef(
            document_id=self.document_id,
            page=page,
            sheet=self.grid.sheet,
            row=row_no,
            cell=cell,
            bbox=bbox,
            line=line_no,
        )

    def _value(self, row: Sequence[Value], name: str) -> tuple[Value, int | None]:
        for col in self.by_field.get(name, ()):
            if col < len(row) and row[col] not in (None, ""):
                return row[col], col
        return None, None

    def feed(self, r: int) -> str | None:
        """Read grid row `r`; returns the row's text when it is not table data."""
        row = self.grid.rows[r]
        texts = _row_texts(row)
        if not any(texts):
            return None
        joined = " ".join(t for t in texts if t)
        if any(_TOTAL.match(t) for t in texts if t):
            return None
        line_value = (
            row[self.line_col] if self.line_col is not None and self.line_col < len(row) else None
        )
        line_no = parse_line_no(line_value)
        # a header repeated on a later page or above a second block; checked only for rows
        # without a line number, because it is the costliest test per row
        if line_no is None and _header_score(_header_fields(texts)) >= 3:
            return None
        if line_no is None and self.line_col is None and self._has_fields(row):
            line_no = None  # a table without line numbers: every row with data is a line
            new_line = True
        else:
            new_line = line_no is not None
        codes, destroyed = self._codes(
            r, row, line_no or (self.lines[-1].line_no if (self.lines and not new_line) else None)
        )
        if not new_line:
            if not codes and not destroyed:
                return joined
            if not self.lines:
                line = _Line(None, self._ref(r, None))
                self.lines.append(line)
            self.lines[-1].codes.extend(codes)
            self._report_destroyed(destroyed, self.lines[-1].line_no)
            return None
        line = _Line(line_no, self._ref(r, self.line_col, line_no))
        self._read_fields(r, row, line)
        line.codes.extend(codes)
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

    def _codes(
        self, r: int, row: Sequence[Value], line_no: str | None
    ) -> tuple[list[CodeOccurrence], list[tuple[str, str, SourceRef]]]:
        codes: list[CodeOccurrence] = []
        destroyed: list[tuple[str, str, SourceRef]] = []
        method = self.grid.method
        conf = self.grid.confidence[r] if self.grid.confidence is not None else None
        gtin_value, gtin_col = self._value(row, "gtin")
        gtin: str | None = None
        if gtin_col is not None:
            gtin, lost = _read_gtin(gtin_value)
            if lost:
                destroyed.append(("GTIN", cell_text(gtin_value), self._ref(r, gtin_col, line_no)))
        serial_texts: list[tuple[str, int]] = []
        for name in ("code", "sscc"):
            for col in self.by_field.get(name, ()):
                if col >= len(row) or row[col] in (None, ""):
                    continue
                value = row[col]
                ref = self._ref(r, col, line_no)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    digits = cell_text(value)
                    if gtin_col is not None and name == "code":
                        serial_texts.append((digits, col))  # a serial stored as a number
                    elif abs(value) >= 1e15 or not float(value).is_integer():
                        destroyed.append(("Identifier", digits, ref))
                    elif len(digits) in (12, 13) and mod10_ok(digits.zfill(14)):
                        gtin_digits = digits.zfill(14)
                        codes.append(_occ(f"(01){gtin_digits}", ref, method, conf))
                    continue
                text = cell_text(value)
                if looks_like_lost_number(text):
                    destroyed.append(("Identifier", text, ref))
                    continue
                found = find_codes(text, code_column=True)
                if found:
                    codes.extend(
                        _occ(f.raw if f.kind == "raw" else f.normalized, ref, method, conf)
                        for f in found
                    )
                elif gtin_col is not None and name == "code":
                    serial_texts.append((text, col))
        if gtin is not None:
            lot_value, _ = self._value(row, "lot")
            ref = self._ref(r, gtin_col, line_no)
            if serial_texts:
                for text, _col in serial_texts:
                    for serial in re.split(r"[,;\n]+", text):
                        if serial.strip():
                            ais = {"01": gtin, "21": re.sub(r"\s+", "", serial)}
                            codes.append(_occ(format_hri(ais), ref, method, conf))
            elif lot_value not in (None, ""):
                ais = {"01": gtin, "10": cell_text(lot_value)}
                codes.append(_occ(format_hri(ais), ref, method, conf))
            else:
                codes.append(_occ(f"(01){gtin}", ref, method, conf))
        return codes, destroyed

    def _read_fields(self, r: int, row: Sequence[Value], line: _Line) -> None:
        for name in self.by_field:
            if name in _CODE_FIELDS or name == "line_no":
                continue
            value, col = self._value(row, name)
            if value is None or col is None:
                continue
            parsed: object | None
            if name in ("quantity", "gross_kg", "net_kg"):
                parsed = parse_number(value)
            elif name == "hs_code":
                parsed = parse_hs(value)
            elif name == "un_number":
                parsed = parse_un(value)
            elif name == "destination":
                parsed = normalize_country(cell_text(value))
                if parsed is None:
                    self.problems.append(
                        ExtractionProblem(
                            kind="destination_unknown",
                            message=(
                                f"Destination {cell_text(value)!r} on line {line.line_no} is "
                                f"not a country the gateway knows: expected an ISO 3166 code "
                                f"or a country name."
                            ),
                            source=self._ref(r, col, line.line_no),
                            line_no=line.line_no,
                            severity=Severity.WARN,
                        )
                    )
            elif name == "lot":
                parsed = cell_text(value) or None
            else:
                parsed = cell_text(value) or None
            if parsed is None:
                continue
            if name in _LINE_FIELDS:
                line.fields[name] = parsed
            else:
                line.extra[name] = str(parsed)
            line.field_sources[name] = self._ref(r, col, line.line_no)

    def finish(self, line: _Line, doc: Mapping[str, str]) -> ManifestLine:
        f = line.fields
        for key in ("hs_code", "un_number"):
            if key not in f and key in doc:
                value = parse_hs(doc[key]) if key == "hs_code" else parse_un(doc[key])
                if value:
                    f[key] = value
        if "destination" not in f and "destination" in doc:
            country = normalize_country(doc["destination"])
            if country:
                f["destination"] = country
        if "lot" not in f:
            for occ in line.codes:
                m = re.search(r"\(10\)([^()]+)", occ.raw)
                if m:
                    f["lot"] = m.group(1)
                    break
        qty = f.get("quantity")
        return ManifestLine(
            source=line.source,
            line_no=line.line_no,
            description=_str(f.get("description")),
            model=_str(f.get("model")),
            quantity=qty if isinstance(qty, float) else None,
            unit=_str(f.get("unit")),
            lot=_str(f.get("lot")),
            hs_code=_str(f.get("hs_code")),
            un_number=_str(f.get("un_number")),
            net_kg=_float(f.get("net_kg")),
            gross_kg=_float(f.get("gross_kg")),
            carton=_str(f.get("carton")),
            pallet=_str(f.get("pallet")),
            container=_str(f.get("container")),
            destination=_str(f.get("destination")),
            extra=dict(line.extra),
            codes=tuple(line.codes),
            field_sources=dict(line.field_sources),
        )


_LINE_FIELDS = frozenset(
    {"description", "model", "quantity", "unit", "lot", "hs_code", "un_number", "net_kg",
     "gross_kg", "carton", "pallet", "container", "destination"}
)  # fmt: skip


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float(value: object) -> float | None:
    return value if isinstance(value, float) else None


def _occ(
    raw: str, ref: SourceRef, method: ExtractionMethod, confidence: float | None
) -> CodeOccurrence:
    return CodeOccurrence(raw=raw, source=ref, method=method, confidence=confidence)


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
    digits = re.sub(r"[\s\-]", "", text)
    if not digits.isascii() or not digits.isdigit():
        found = find_codes(text, code_column=True)
        gtin = next((f.ais["01"] for f in found if "01" in f.ais), None)
        return gtin, False
    if len(digits) in (8, 12, 13, 14) and mod10_ok(digits):
        return digits.zfill(14), False
    return None, True
