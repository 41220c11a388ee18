"""The report as an e-mail a client can act on: subject, plain text and HTML.

The body says, in the recipient's language first and then in the other one: which shipment
(reference, id, destination), the verdict, a link that opens the report without signing in
(when the sender gives one), the counts, and every blocking finding and warning with its
place and its fix (the first 30 of each; the attached report has the rest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gateway.domain import Finding, Report
from gateway.reports import model
from gateway.reports.html_report import email_html
from gateway.reports.messages import (
    COUNT_KEYS,
    LANGS,
    check_lang,
    fact_text,
    platform_source_text,
    t,
)

_MAX_LISTED = 30


@dataclass(frozen=True)
class EmailLink:
    """A link to the report that needs no sign-in, and when it stops working."""

    url: str
    expires: dt.datetime


def _one_line(text: str) -> str:
    # Header injection: a subject never carries a line break from document text.
    return " ".join(text.split())


def email_view(
    report: Report, lang: str, *, reference: str, link: EmailLink | None, attachments: list[str]
) -> dict[str, Any]:
    """What the text and the HTML body of one language show (shared by both)."""
    documents = model.documents_by_id(report)

    def item(f: Finding) -> dict[str, str]:
        where = (
            model.describe_ref(f.refs[0], documents, lang) if f.refs else t("whole_shipment", lang)
        )
        return {
            "code": f.code,
            "message": model.message(f, lang),
            "where": where,
            "fix": model.fix(f, lang),
        }

    groups = []
    for severity in ("block", "warn"):
        found = [f for f in report.findings if str(f.severity) == severity]
        if found:
            groups.append(
                {
                    "title": t("what_blocks" if severity == "block" else "warn", lang),
                    "severity": severity,
                    "total": len(found),
                    "items": [item(f) for f in found[:_MAX_LISTED]],
                    "more": t("email_more", lang).format(n=len(found) - _MAX_LISTED)
                    if len(found) > _MAX_LISTED
                    else "",
                }
            )
    destination = report.shipment.get("destination")
    shipment = f"{reference} ({report.shipment_id})" if reference else report.shipment_id
    headline = t("shipment", lang) + " " + shipment
    if destination:
        headline += " · " + t("email_to", lang).format(
            destination=fact_text("destination", destination, lang)
        )
    zone = model.reader_zone(lang)
    when = model.local_text(report.generated_at, zone)
    headline += " · " + t("email_checked", lang).format(when=when)
    return {
        "lang": lang,
        "headline": headline,
        "verdict": t(f"verdict_{report.verdict}", lang),
        "counts": [
            (t("count_" + k, lang), report.counts[k]) for k in COUNT_KEYS if k in report.counts
        ],
        "groups": groups,
        "nothing_blocks": t("email_nothing_blocks", lang)
        if not groups or groups[0]["severity"] != "block"
        else "",
        "link": link.url if link else "",
        "pdf_link": f"{link.url}?format=pdf" if link else "",
        "open": t("email_open", lang),
        "open_pdf": t("email_open_pdf", lang),
        "valid": t("email_valid", lang).format(when=model.local_text(link.expires, zone))
        if link
        else "",
        "attached": t("email_attached", lang).format(names=", ".join(attachments))
        if attachments
        else "",
        "fix_label": t("fix", lang),
        "where_label": t("where", lang),
        "other": t("email_other_lang", lang),
        "footer": (
            f"{t('ruleset', lang)}: {report.ruleset} · "
            f"{t('platform', lang)}: {platform_source_text(report.platform_source, lang)}"
        ),
    }


def _text(view: dict[str, Any]) -> list[str]:
    lines = [view["headline"], view["verdict"], ""]
    if view["link"]:
        lines += [
            f"{view['open']}: {view['link']}",
            f"{view['open_pdf']}: {view['pdf_link']}",
            view["valid"],
            "",
        ]
    lines.append(" · ".join(f"{name} {value}" for name, value in view["counts"]))
    if view["nothing_blocks"]:
        lines += ["", view["nothing_blocks"]]
    for group in view["groups"]:
        lines += ["", f"{group['title']} ({group['total']}):"]
        for number, entry in enumerate(group["items"], 1):
            lines += [
                f"{number:2d}. {entry['code']}: {entry['message']}",
                f"    {view['where_label']}: {entry['where']}",
            ]
            if entry["fix"]:
                lines.append(f"    {view['fix_label']}: {entry['fix']}")
        if group["more"]:
            lines.append(group["more"])
    if view["attached"]:
        lines += ["", view["attached"]]
    lines += ["", view["footer"]]
    return lines


def render_email(
    report: Report,
    lang: str = "en",
    *,
    reference: str | None = None,
    link: EmailLink | None = None,
    attachments: list[str] | None = None,
) -> tuple[str, str, str]:
    """Subject, text body and HTML body: `lang` first, then the other language."""
    first = check_lang(lang)
    reference = reference if reference is not None else str(report.shipment.get("reference") or "")
    counts = report.counts
    subject = _one_line(
        f"[{str(report.verdict).upper()}] {reference or report.shipment_id}: "
        f"{counts.get('block', 0)} {t('count_block', first)}, "
        f"{counts.get('warn', 0)} {t('count_warn', first)}"
    )
    order = [first, *(code for code in LANGS if code != first)]
    views = [
        email_view(report, code, reference=reference, link=link, attachments=attachments or [])
        for code in order
    ]
    text = ""
    for number, view in enumerate(views):
        if number:
            text += f"\n{'-' * 20} {view['other']} {'-' * 20}\n\n"
        text += "\n".join(_text(view)) + "\n"
    return subject, text, email_html(report, views)
