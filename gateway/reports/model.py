"""What every report format shares: locations as text, finding views, cell neutralising."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.domain import Document, Finding, Report, Severity, SourceRef
from gateway.reports.messages import t

SEVERITIES: tuple[Severity, ...] = (Severity.BLOCK, Severity.WARN, Severity.INFO)
_FORMULA_START = ("=", "+", "-", "@")


def neutralize(text: str) -> str:
    """Keep a spreadsheet from reading text as a formula: prefix "'" when it could be one.

    Cells that begin with = + - @, a tab or a carriage return, also after leading whitespace,
    are prefixed (OWASP CSV injection guidance).
    """
    if not text:
        return text
    if text[0] in ("\t", "\r") or text.lstrip()[:1] in _FORMULA_START:
        return "'" + text
    return text


def visible(text: str) -> str:
    """Control characters made visible one-for-one (the group separator as ␝), spans intact."""
    return "".join(chr(0x2400 + ord(c)) if ord(c) < 0x20 else c for c in text)


def documents_by_id(report: Report) -> dict[str, Document]:
    """The report's documents by id."""
    return {d.id: d for d in report.documents}


def utc_text(moment: dt.datetime) -> str:
    """A time as people read it, in UTC and saying so: "2026-11-20 09:30 UTC"."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# The reader's time zone when the renderer is not told one: China's time for Chinese readers
# (one zone for the whole country), UTC otherwise. The web page shows the browser's own zone.
_DEFAULT_ZONES: dict[str, dt.tzinfo] = {"zh": dt.timezone(dt.timedelta(hours=8)), "en": dt.UTC}


def reader_zone(lang: str, tz: dt.tzinfo | None = None) -> dt.tzinfo:
    """The time zone a report shows times in: `tz`, else the language's default."""
    return tz or _DEFAULT_ZONES.get(lang, dt.UTC)


def local_text(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A time in the reader's zone, saying which: "2026-11-20 17:30 (UTC+08:00)"."""
    local = moment.astimezone(tz)
    offset = local.utcoffset() or dt.timedelta(0)
    if not offset:
        return local.strftime("%Y-%m-%d %H:%M UTC")
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return local.strftime("%Y-%m-%d %H:%M") + f" (UTC{sign}{hours:02d}:{rest:02d})"


# What a document is, in words, by its media type.
_MEDIA_WORDS: dict[str, tuple[str, str]] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "Excel workbook",
        "Excel 工作簿",
    ),
    "application/vnd.ms-excel.sheet.macroenabled.12": (
        "Excel workbook with macros",
        "Excel 宏工作簿",
    ),
    "application/vnd.ms-excel": ("Excel 97-2003 workbook", "Excel 97-2003 工作簿"),
    "text/csv": ("CSV table", "CSV 表格"),
    "text/tab-separated-values": ("tab-separated table", "制表符分隔表格"),
    "application/pdf": ("PDF document", "PDF 文件"),
    "image/jpeg": ("photo", "照片"),
    "image/png": ("image", "图片"),
    "image/tiff": ("scanned image", "扫描图片"),
    "image/webp": ("image", "图片"),
}


def media_words(media_type: str, lang: str) -> str:
    """A document's kind in words ("Excel workbook" / "Excel 工作簿")."""
    entry = _MEDIA_WORDS.get(media_type.lower())
    if entry is None:
        return "文件" if lang == "zh" else "file"
    return entry[1] if lang == "zh" else entry[0]


def describe_ref(ref: SourceRef, documents: Mapping[str, Document], lang: str) -> str:
    """A location people can find: "packing.xlsx, sheet 'PL', cell C12", "invoice.pdf,
    page 2, line 14" / "第 3 页 序号 14"."""
    if ref.document_id == "shipment":
        return t("shipment_facts", lang)
    document = documents.get(ref.document_id)
    name = document.filename if document else ref.document_id
    parts = ref.place_parts(lang)
    # The box on the page (`ref.bbox`) stays in JSON for tools; people read page and line.
    return f"{name}, {(' ' if lang == 'zh' else ', ').join(parts)}" if parts else name


@dataclass(frozen=True)
class CodeView:
    """A code split for highlighting: text before, the bad characters, text after."""

    before: str
    bad: str
    after: str


def code_view(finding: Finding) -> CodeView | None:
    """The finding's code with its bad characters marked by `Finding.span`."""
    if finding.code_raw is None:
        return None
    raw = visible(finding.code_raw)
    if finding.span is None:
        return CodeView(raw, "", "")
    start, end = finding.span
    start = max(0, min(start, len(raw)))
    end = max(start, min(end, len(raw)))
    return CodeView(raw[:start], raw[start:end], raw[end:])


def message(finding: Finding, lang: str) -> str:
    """The finding's message in a language."""
    return finding.message_zh if lang == "zh" else finding.message_en


def fix(finding: Finding, lang: str) -> str:
    """The finding's fix hint in a language."""
    return finding.fix_zh if lang == "zh" else finding.fix_en


def line_of(finding: Finding) -> str:
    """The printed line number of the finding's first place, if any."""
    for ref in finding.refs:
        if ref.line:
            return ref.line
    return ""


def by_severity(findings: Sequence[Finding]) -> list[tuple[Severity, list[Finding]]]:
    """Findings grouped block, warn, info (empty groups left out), each in document order."""
    groups = [(s, [f for f in findings if f.severity is s]) for s in SEVERITIES]
    return [(s, fs) for s, fs in groups if fs]


_MAX_LINES_IN_INDEX = 500


def by_line(
    findings: Sequence[Finding], documents: Mapping[str, Document], lang: str
) -> list[tuple[str, list[Finding]]]:
    """Blocking and warning findings grouped by the printed line they point at, for an index.

    Lines come in document order (document, sheet, page, row); shipment-wide findings (no
    line) are left out; at most 500 lines are listed.
    """
    order = {doc_id: i for i, doc_id in enumerate(documents)}
    groups: dict[tuple[str, str], list[Finding]] = {}
    first_seen: dict[tuple[str, str], tuple[int, str, int, int]] = {}
    for finding in findings:
        if finding.severity is Severity.INFO:
            continue
        for ref in finding.refs:
            if ref.line is None:
                continue
            document = documents.get(ref.document_id)
            name = document.filename if document else ref.document_id
            place = (name, ref.line)
            rank = (
                order.get(ref.document_id, len(order)),
                ref.sheet or "",
                ref.page or 0,
                ref.row or 0,
            )
            first_seen[place] = min(first_seen.get(place, rank), rank)
            group = groups.setdefault(place, [])
            if all(f is not finding for f in group):
                group.append(finding)
    label = "序号" if lang == "zh" else "line"
    ordered = sorted(groups, key=lambda place: first_seen[place])[:_MAX_LINES_IN_INDEX]
    return [(f"{name}, {label} {line_no}", groups[(name, line_no)]) for name, line_no in ordered]
