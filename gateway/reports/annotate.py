"""The user's own Excel manifest handed back with the problem cells coloured and commented.

The workbook goes to the whole tenant and to e-mail recipients, so nothing active of the
upload survives in it: every formula is replaced by the value it had when the file was last
saved (or, when it kept none, by its text as plain text); macros (vbaProject), external
links and DDE links, OLE objects, hyperlinks, defined names, data validations and
conditional formats are dropped. A legend sheet says what the colours mean and what to do,
in the reader's language (the comments are in it too); a sheet at the end says what was
removed, and the output is checked part by part before it is handed out (`active_content`).
Cell values, styles, column widths and merged cells stay; an .xlsm comes back as a plain .xlsx.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidationList
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from gateway.domain import Finding, Report, Severity
from gateway.errors import CorruptDocument, InputError
from gateway.parsers.excel import check_zip
from gateway.parsers.limits import Limits
from gateway.reports import model
from gateway.reports.messages import check_lang, t

# A manifest unpacking beyond this is not one we annotate (a ZIP bomb, or not a manifest):
# openpyxl holds the whole workbook in memory, so the cap is below the reader's.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_ZIP_LIMITS = Limits(zip_max_total_uncompressed=MAX_UNPACKED_BYTES)
MAX_COMMENT_CHARS = 2000
_FILL = {
    Severity.BLOCK: PatternFill("solid", fgColor="F4C7C3"),
    Severity.WARN: PatternFill("solid", fgColor="FCE8B2"),
    Severity.INFO: PatternFill("solid", fgColor="E3E8EE"),
}
_RANK = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


def _document_id(data: bytes, report: Report, document_id: str | None) -> str:
    if document_id is not None:
        return document_id
    digest = hashlib.sha256(data).hexdigest()
    for document in report.documents:
        if document.sha256 == digest:
            return document.id
    msg = (
        f"The workbook (sha256 {digest[:16]}...) is not one of the report's documents: "
        f"expected one of {[d.filename for d in report.documents]}."
    )
    raise InputError(msg)


def _check_zip(data: bytes) -> None:
    """The document reader's own ZIP guard (entries, sizes, ratio, member paths)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip(archive, _ZIP_LIMITS)
    except zipfile.BadZipFile:
        msg = "Cannot annotate: expected an XLSX workbook (a ZIP container), got other bytes."
        raise CorruptDocument(msg) from None


def annotate_workbook(
    xlsx_bytes: bytes, report: Report, lang: str = "en", *, document_id: str | None = None
) -> bytes:
    """Colour and comment the cells the report's findings point at; return the new workbook.

    The document is found by its SHA-256 among the report's documents unless `document_id`
    names it.

    Raises:
        InputError: the bytes are not an XLSX workbook of this report.
    """
    lang = check_lang(lang)
    doc_id = _document_id(xlsx_bytes, report, document_id)
    _check_zip(xlsx_bytes)
    try:
        wb = load_workbook(io.BytesIO(xlsx_bytes), keep_vba=False, keep_links=False)
        removed = _make_inert(wb, xlsx_bytes)
    except Exception as exc:  # openpyxl raises many types on damaged files
        msg = f"Cannot annotate: the workbook cannot be read ({type(exc).__name__})."
        raise CorruptDocument(msg) from None
    at: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.findings:
        if finding.severity is Severity.INFO:
            continue  # a remark for the report, not a problem in the user's cell
        for ref in finding.refs:
            if ref.document_id != doc_id or ref.sheet is None:
                continue
            cell = ref.cell or (f"A{ref.row}" if ref.row is not None else None)
            if cell is not None:
                at[(ref.sheet, cell)].append(finding)
    for (sheet, cell), findings in at.items():
        if sheet not in wb.sheetnames:
            continue
        try:
            coordinate_from_string(cell)
        except ValueError:
            continue
        ws = wb[sheet]
        target = ws[cell]
        unique = list({id(f): f for f in findings}.values())
        findings = sorted(unique, key=lambda f: _RANK[f.severity])
        target.fill = _FILL[findings[0].severity]
        text = "\n".join(
            f"[{t('sev_' + str(f.severity), lang)}] {f.code}: {model.message(f, lang)}"
            f" -> {model.fix(f, lang)}"
            for f in findings
        )
        comment = Comment(text[:MAX_COMMENT_CHARS], "gateway")
        comment.width = 420
        comment.height = 160
        target.comment = comment
    _add_legend(wb, report, at, lang)
    _add_note(wb, removed, lang)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    left = active_content(data)
    if left:  # never hand out what could act: refuse rather than serve it
        msg = f"Cannot annotate this workbook safely: {', '.join(left)} would remain."
        raise CorruptDocument(msg)
    return data


# -- active content --------------------------------------------------------------------------

_ACTIVE_PARTS = (
    ("macros (VBA project)", re.compile(r"vbaProject|vbaData", re.IGNORECASE)),
    ("external links", re.compile(r"externalLinks?/", re.IGNORECASE)),
    ("OLE objects", re.compile(r"embeddings/|oleObject", re.IGNORECASE)),
    ("ActiveX controls", re.compile(r"activeX|ctrlProps", re.IGNORECASE)),
)


def _parts_found(names: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for name in names:
        for label, pattern in _ACTIVE_PARTS:
            if pattern.search(name):
                found[label] = found.get(label, 0) + 1
    return found


def _uses_dde(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                small = info.file_size < 10_000_000
                if "externalLink" in info.filename and small and b"ddeLink" in archive.read(info):
                    return True
    except (zipfile.BadZipFile, OSError):
        return False
    return False


def active_content(data: bytes) -> list[str]:
    """What in a workbook could act when it is opened (empty: nothing).

    Macro, external-link, DDE, OLE and ActiveX parts; a macro-enabled content type;
    formulas in any sheet; defined names and external references; links that point outside
    the file.
    """
    left: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        left.extend(f"{label} ({count})" for label, count in _parts_found(names).items())
        for name in names:
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            text = archive.read(name)
            if name == "[Content_Types].xml" and b"macroEnabled" in text:
                left.append("a macro-enabled content type")
            if name.startswith("xl/worksheets/") and re.search(rb"<(\w+:)?f[ >/]", text):
                left.append(f"formulas in {name}")
            if name == "xl/workbook.xml" and re.search(
                rb"<(\w+:)?(definedName|externalReference)\b", text
            ):
                left.append("defined names or external references")
            if name.endswith(".rels") and b'TargetMode="External"' in text:
                left.append(f"links to outside the file in {name}")
            if re.search(rb"ddeLink|oleLink|<(\w+:)?oleObjects?\b|<(\w+:)?controls\b", text):
                left.append(f"DDE, OLE or control elements in {name}")
    return left


def _formula_text(value: Any) -> str:
    if isinstance(value, ArrayFormula):
        return str(value.text or "")
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    return str(value)


def _cached_values(data: bytes, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The values the formulas had when the file was last saved (None: not stored)."""
    found: dict[tuple[str, str], Any] = {}
    sheets = {sheet for sheet, _cell in wanted}
    values = load_workbook(io.BytesIO(data), data_only=True, read_only=True, keep_links=False)
    try:
        for ws in values.worksheets:
            if ws.title not in sheets:
                continue
            for row in ws.iter_rows():
                for cell in row:
                    coordinate = getattr(cell, "coordinate", None)
                    if coordinate is not None and (ws.title, coordinate) in wanted:
                        found[(ws.title, coordinate)] = cell.value
    finally:
        values.close()
    return found


def _make_inert(wb: Workbook, data: bytes) -> dict[str, int]:
    """Strip everything that could act from `wb`; returns what was removed, by kind."""
    removed: dict[str, int] = {}

    def count(kind: str, n: int = 1) -> None:
        if n:
            removed[kind] = removed.get(kind, 0) + n

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for label, n in _parts_found(archive.namelist()).items():
            count(label, n)
    if _uses_dde(data):
        count("DDE links")
    formulas: dict[tuple[str, str], Any] = {}
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            if cell.data_type == "f" or isinstance(cell.value, ArrayFormula | DataTableFormula):
                formulas[(ws.title, cell.coordinate)] = cell
    cached = _cached_values(data, set(formulas)) if formulas else {}
    for place, cell in formulas.items():
        value = cached.get(place)
        if value is None:
            value = _formula_text(cell.value)
            count("formulas without a stored value, kept as text")
        else:
            count("formulas replaced by their stored values")
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # text, whatever it looks like
            cell.quotePrefix = True  # and it stays text when someone edits the cell
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            if isinstance(cell.value, str) and model.neutralize(cell.value) != cell.value:
                cell.quotePrefix = True  # text that looks like a formula stays text if edited
        links = sum(1 for cell in ws._cells.values() if cell.hyperlink is not None)
        for cell in ws._cells.values():
            if cell.hyperlink is not None:
                cell.hyperlink = None
        ws._hyperlinks = []
        count("hyperlinks", links)
        count("data validations", len(ws.data_validations.dataValidation))
        ws.data_validations = DataValidationList()
        count("conditional formats", len(list(ws.conditional_formatting)))
        ws.conditional_formatting = ConditionalFormattingList()
        count("defined names", len(ws.defined_names))
        ws.defined_names.clear()
    count("defined names", len(wb.defined_names))
    wb.defined_names.clear()
    wb._external_links = []
    return removed


_NOTE = {
    "en": {
        "title": "Gateway note",
        "intro": (
            "This copy of your workbook holds values only: nothing in it can run or reach "
            "outside the file."
        ),
        "removed": "The gateway removed or replaced, from the upload:",
        "none": "Nothing active was found in the upload.",
        "original": "Your original file is unchanged; fix problems there, not in this copy.",
    },
    "zh": {
        "title": "网关说明",
        "intro": "此工作簿副本仅含数值，不含任何可运行或链接到文件之外的内容。",
        "removed": "网关从上传的文件中删除或替换了：",
        "none": "上传的文件中未发现可运行的内容。",
        "original": "您的原始文件未被修改；请在原文件中更正问题，而不是在此副本中。",
    },
}
_KINDS_ZH = {
    "formulas replaced by their stored values": "公式已替换为保存的数值",
    "formulas without a stored value, kept as text": "无保存数值的公式，以文本保留",
    "macros (VBA project)": "宏（VBA 项目）",
    "external links": "外部链接",
    "DDE links": "DDE 链接",
    "OLE objects": "OLE 对象",
    "ActiveX controls": "ActiveX 控件",
    "hyperlinks": "超链接",
    "data validations": "数据验证",
    "conditional formats": "条件格式",
    "defined names": "定义的名称",
}


_LEGEND: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Legend",
        "heading": "What the colours and comments in this workbook mean",
        "verdict": "Verdict of the check",
        "columns": ("Colour", "Severity", "What it means", "What to do", "Cells marked"),
        "block": (
            "Blocks export: customs or the platform will refuse the shipment.",
            "Fix the cell (or the registration) before you submit; then upload again.",
        ),
        "warn": (
            "A person must look: the shipment may go, but only after someone decides.",
            "Check the cell; correct it, or note why it is right.",
        ),
        "info": (
            "For information only; not marked in the cells.",
            "Nothing; the full report lists these.",
        ),
        "comments": (
            "Each marked cell has a comment: the severity, the finding code, what is wrong "
            "-> how to fix it. Hover over the cell (or use Review > Show comments) to read it."
        ),
        "report": "The full report (PDF, HTML) lists every finding with its place.",
    },
    "zh": {
        "title": "图例",
        "heading": "本工作簿中颜色和批注的含义",
        "verdict": "核查结论",
        "columns": ("颜色", "级别", "含义", "处理方法", "标记的单元格"),
        "block": (
            "阻断出口：海关或平台会拒绝本票货物。",
            "申报前请更正该单元格（或备案信息），然后重新上传。",
        ),
        "warn": (
            "需人工确认：货物可以出口，但需有人确认后方可申报。",
            "请核对该单元格；予以更正，或注明其正确的理由。",
        ),
        "info": (
            "仅供参考；不在单元格中标记。",
            "无需处理；完整报告中列出了这些提示。",
        ),
        "comments": (
            "每个标记的单元格都有批注：级别、问题代码、问题内容 -> 处理建议。"
            "将鼠标悬停在单元格上（或使用“审阅 > 显示批注”）即可查看。"
        ),
        "report": "完整报告（PDF、HTML）列出了每个问题及其位置。",
    },
}


def _unique_title(wb: Workbook, wanted: str) -> str:
    title, n = wanted, 2
    while title in wb.sheetnames:
        title = f"{wanted} {n}"
        n += 1
    return title


def _add_legend(
    wb: Workbook, report: Report, at: dict[tuple[str, str], list[Finding]], lang: str
) -> None:
    """A sheet that says what each colour means and what to do about it, in `lang`."""
    text = _LEGEND[lang]
    ws = wb.create_sheet(_unique_title(wb, text["title"]))
    for column, width in zip("ABCDE", (10, 12, 60, 60, 14), strict=True):
        ws.column_dimensions[column].width = width
    ws.append([text["heading"]])
    ws.append([text["verdict"], t(f"verdict_{report.verdict}", lang)])
    ws.append([])
    ws.append(list(text["columns"]))
    marked: dict[Severity, int] = defaultdict(int)
    for findings in at.values():
        marked[min((f.severity for f in findings), key=lambda s: _RANK[s])] += 1
    for severity in (Severity.BLOCK, Severity.WARN, Severity.INFO):
        meaning, todo = text[str(severity)]
        ws.append(["", t(f"sev_{severity}", lang), meaning, todo, marked.get(severity, 0)])
        ws.cell(row=ws.max_row, column=1).fill = _FILL[severity]
    ws.append([])
    ws.append([text["comments"]])
    ws.append([text["report"]])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def _add_note(wb: Workbook, removed: dict[str, int], lang: str) -> None:
    """A last sheet saying what was removed (its name never clashes with the user's)."""
    text = _NOTE[lang]
    ws = wb.create_sheet(_unique_title(wb, text["title"]))
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 12
    ws.append([text["intro"]])
    ws.append([])
    if removed:
        ws.append([text["removed"]])
    for kind, number in removed.items():
        ws.append([_KINDS_ZH.get(kind, kind) if lang == "zh" else kind, number])
    if not removed:
        ws.append([text["none"]])
    ws.append([])
    ws.append([text["original"]])
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
