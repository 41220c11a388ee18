"""The report as one self-contained HTML page, English and Chinese in the same file.

Both languages are rendered; CSS `:target` shows one (no script, so a strict CSP holds).
Jinja2 autoescaping is on and every piece of document text sits inside `<bdi>`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.domain import Finding, Report
from gateway.reports import changes, model
from gateway.reports.messages import (
    COUNT_KEYS,
    LANGS,
    check_lang,
    fact_text,
    platform_source_text,
    source_text,
    t,
)

_env = Environment(
    loader=PackageLoader("gateway.reports", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.globals["utc"] = model.utc_text


def _view(report: Report, lang: str, tz: dt.tzinfo | None = None) -> dict[str, Any]:
    documents = model.documents_by_id(report)
    zone = model.reader_zone(lang, tz)

    def where(f: Finding) -> list[str]:
        return [model.describe_ref(r, documents, lang) for r in f.refs]

    blocking = [f for f in report.findings if str(f.severity) == "block"]
    return {
        "lang": lang,
        "t": lambda key: t(key, lang),
        "groups": model.by_severity(report.findings),
        "blocking": blocking,  # all of them: what blocks is what a broker must fix
        "blocking_more": 0,
        "message": lambda f: model.message(f, lang),
        "fix": lambda f: model.fix(f, lang),
        "where": where,
        "code_view": model.code_view,
        "line_of": model.line_of,
        "places": lambda f: f.evidence.get("places"),
        "lines": model.by_line(report.findings, documents, lang),
        "source_text": lambda tag: source_text(tag, lang),
        "fact": lambda key, value: fact_text(key, value, lang),
        "when": lambda moment: model.local_text(moment, zone),
        "media": lambda media_type: model.media_words(media_type, lang),
        "platform_source": platform_source_text(report.platform_source, lang),
        "changes": _changes_view(report, lang),
    }


def _changes_view(report: Report, lang: str) -> dict[str, Any] | None:
    """What changed against the previous version, in `lang`, or None for a first report."""
    if report.changes is None:
        return None
    data = report.changes
    verdict = data.get("verdict")
    before = verdict.get("before") if isinstance(verdict, dict) else None
    return {
        "title": t("changes_title", lang).format(n=data.get("previous_version", "")),
        "verdict_before": t("changes_verdict", lang).format(before=t(f"verdict_{before}", lang))
        if before in ("clear", "hold", "block")
        else "",
        "kinds": [
            (
                kind,
                t(f"change_{kind}", lang),
                [
                    {
                        "code": e.get("code", ""),
                        "severity": e.get("severity", ""),
                        "message": (e.get("message") or {}).get(lang, ""),
                        "where": (e.get("where") or {}).get(lang, ""),
                    }
                    for e in changes.entries(data, kind)
                ],
            )
            for kind in changes.CHANGE_KINDS
        ],
    }


def _render(
    template: str,
    report: Report,
    lang: str,
    *,
    both: bool,
    tz: dt.tzinfo | None = None,
    **extra: object,
) -> str:
    first = check_lang(lang)
    other = next(code for code in LANGS if code != first)
    # The default language comes last so that `:target ~ .default` can hide it.
    sections = (
        [_view(report, other, tz), _view(report, first, tz)] if both else [_view(report, first, tz)]
    )
    return _env.get_template(template).render(
        report=report,
        sections=sections,
        default_lang=first,
        count_keys=[k for k in COUNT_KEYS if k in report.counts],
        unverified=report.counts.get("unverified", 0) > 0,
        **extra,
    )


def render_html(report: Report, lang: str = "en", tz: dt.tzinfo | None = None) -> str:
    """The report as HTML; `lang` is shown first, the other language is one click away.
    Times are shown in `tz` (default: China's time for Chinese, UTC for English)."""
    return _render("report.html", report, lang, both=True, tz=tz, for_print=False)


def render_print_html(report: Report, lang: str = "en", tz: dt.tzinfo | None = None) -> str:
    """The same page in one language, laid out for paper (A4 landscape, page numbers)."""
    return _render("report.html", report, lang, both=False, tz=tz, for_print=True)


def render_report_sections(report: Report, lang: str = "en", tz: dt.tzinfo | None = None) -> str:
    """The report's sections (both languages, `lang` shown) for a page of the web app, which
    links `report_css()` instead of the inline style."""
    return _render("_report_body.html", report, lang, both=True, tz=tz)


def report_css() -> str:
    """The report's style sheet without its page-wide rule, for the web app's pages."""
    return _env.get_template("_report_style.css").render(for_print=False, embedded=True)


def render_summary_html(report: Report, lang: str = "en") -> str:
    """Only the summary (verdict, counts, what blocks), e.g. for an e-mail body."""
    view = _view(report, check_lang(lang))
    return _env.get_template("summary.html").render(
        report=report,
        s=view,
        count_keys=[k for k in COUNT_KEYS if k in report.counts],
        unverified=report.counts.get("unverified", 0) > 0,
    )


def email_html(report: Report, views: list[dict[str, Any]]) -> str:
    """The HTML body of the report e-mail: one section per language (`email_report` views)."""
    return _env.get_template("email.html").render(report=report, views=views)
