"""The report as PDF: the HTML page in one language, laid out for paper by WeasyPrint.

Brokers attach it to filings and emails, so it is the same content as the page (verdict,
what blocks, every finding with place and fix, the documents). Chinese text needs a CJK font
on the machine (`scripts/setup.sh` installs `fonts-wqy-microhei`); the page asks for Noto Sans
CJK first, then WenQuanYi Micro Hei. Nothing outside the page is ever fetched: the page is
self-contained, and a fetch of any URL is refused.
"""

from __future__ import annotations

from typing import Any, NoReturn

from gateway.domain import Report
from gateway.errors import GatewayError
from gateway.reports.html_report import render_print_html


class PdfUnavailable(GatewayError):
    """The PDF renderer (WeasyPrint and its system libraries) is not installed here."""

    status = 503
    code = "pdf_unavailable"


def _no_fetch(url: str, *_args: Any, **_kwargs: Any) -> NoReturn:
    msg = f"The report page may not load {url[:80]!r}."
    raise ValueError(msg)


def render_pdf(report: Report, lang: str = "en") -> bytes:
    """The report as PDF bytes in `lang` ("en" or "zh").

    Raises:
        ValueError: unknown language.
        PdfUnavailable: WeasyPrint or Pango is missing on this machine.
    """
    html = render_print_html(report, lang)
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango/HarfBuzz libraries missing
        msg = f"PDF reports need WeasyPrint and Pango on the server ({exc}); run scripts/setup.sh."
        raise PdfUnavailable(msg) from None
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    pdf: bytes = document.write_pdf()
    return pdf
