"""Spreadsheets (XLSX, XLSM, XLS, CSV, TSV) -> `Extraction`.

The workbook readers of `gateway.parsers.excel` give one `Grid` per sheet; each is read by
the shared table reader and assembled (`gateway.parsers.assembly.assemble_grids`).
"""

from __future__ import annotations

from gateway.domain import Document, Extraction, ExtractionProblem, Severity
from gateway.parsers.assembly import assemble_grids, with_problems
from gateway.parsers.excel import read_csv, read_xls, read_xlsx
from gateway.parsers.limits import Limits


def read_workbook(data: bytes, document: Document, limits: Limits) -> Extraction:
    """An Excel workbook (.xlsx): every sheet's lines."""
    return assemble_grids(document, read_xlsx(data, limits), "xlsx")


def read_macro_workbook(data: bytes, document: Document, limits: Limits) -> Extraction:
    """A workbook with macros (.xlsm): read as .xlsx, and the macros noted, never run."""
    note = ExtractionProblem(
        kind="macros_ignored",
        message="Workbook contains macros; they were not run, only cell data read.",
        severity=Severity.INFO,
    )
    return with_problems(read_workbook(data, document, limits), [note])


def read_legacy_workbook(data: bytes, document: Document, limits: Limits) -> Extraction:
    """An Excel 97-2003 workbook (.xls): every sheet's lines."""
    return assemble_grids(document, read_xls(data, limits), "xls")


def read_delimited(data: bytes, document: Document, limits: Limits) -> Extraction:
    """A CSV or TSV file: its one sheet's lines."""
    return assemble_grids(document, read_csv(data, limits), "csv")
