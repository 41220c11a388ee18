"""The report as an e-mail: subject, plain text and HTML (the summary, not every finding)."""

from __future__ import annotations

from gateway.domain import Report
from gateway.reports import model
from gateway.reports.html_report import render_summary_html
from gateway.reports.messages import COUNT_KEYS, check_lang, t

_MAX_LISTED = 10


def _one_line(text: str) -> str:
    # Header injection: a subject never carries a line break from document text.
    return " ".join(text.split())


def render_email(report: Report, lang: str = "en") -> tuple[str, str, str]:
    """Subject, text body and HTML body of the report e-mail."""
    lang = check_lang(lang)
    counts = report.counts
    verdict = t(f"verdict_{report.verdict}", lang)
    subject = _one_line(
        f"[{str(report.verdict).upper()}] {report.shipment_id}: "
        f"{counts.get('block', 0)} {t('count_block', lang)}, "
        f"{counts.get('warn', 0)} {t('count_warn', lang)}"
    )
    documents = model.documents_by_id(report)
    lines = [
        t("email_intro", lang).format(shipment=report.shipment_id),
        "",
        f"{t('verdict', lang)}: {verdict}",
        f"{t('ruleset', lang)}: {report.ruleset}",
        f"{t('platform', lang)}: {report.platform_source}",
        "",
    ]
    lines += [f"{t('count_' + k, lang)}: {counts[k]}" for k in COUNT_KEYS if k in counts]
    blocking = [f for f in report.findings if str(f.severity) == "block"]
    if blocking:
        lines += ["", t("what_blocks", lang) + ":"]
        for f in blocking[:_MAX_LISTED]:
            where = model.describe_ref(f.refs[0], documents, lang) if f.refs else ""
            lines.append(f"- {f.code}: {model.message(f, lang)} ({where})")
        if len(blocking) > _MAX_LISTED:
            lines.append(f"+ {len(blocking) - _MAX_LISTED}")
    text = "\n".join(lines) + "\n"
    return subject, text, render_summary_html(report, lang)
