"""The Chinese report speaks Chinese: no English word is left in what a forwarder reads.

Every sample shipment (together they hold findings of most kinds: codes with wrong check
digits, units not registered or needing correction, declaration elements, dangerous goods,
weights, the EU category) is rendered as the Chinese HTML report, from its documents' bytes. The
Chinese section's text must hold no Latin word except:

- the shipment's own data: document and sheet names, the codes, references, models, lots and
  other values the documents state (taken from the report's own records, not guessed);
- machine identifiers inside `<code>`: finding codes, rule ids, the ruleset, hashes;
- source tags, each shown beside its explanation;
- a small list of acronyms, units and standard names a Chinese forwarder reads as they are.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from gateway.domain import Report
from gateway.reports.html_report import render_html
from gateway.reports.messages import SOURCES, source_text
from samples.shipments import SAMPLES
from tests.reports.test_golden import sample_report

# Acronyms, units and standard names written in Latin letters in Chinese customs and shipping
# paperwork, each with why it stays.
ALLOWED = {
    "AI",  # GS1 application identifier, printed on the label as "(01)"
    "GS1",  # the standards body
    "GTIN",  # the GS1 key, named so on declarations (申报要素 "GTIN")
    "SSCC",  # the GS1 package key
    "GLN",  # the GS1 location number
    "CAS",  # CAS registry number, an element of the declaration
    "HS",  # Harmonized System code
    "UN",  # UN numbers (UN3480)
    "IMO",  # the dangerous goods form's issuer
    "IMDG",  # the sea dangerous goods code
    "IATA",  # the air dangerous goods rules
    "SDS",  # safety data sheet
    "MSDS",  # material safety data sheet
    "GB",  # GB/T, Chinese national standards
    "T",  # the "T" of GB/T
    "EU",
    "EORI",  # the EU economic operator number
    "PDF",
    "Excel",
    "CSV",
    "SHA",  # SHA-256, the documents' fingerprints
    "UTC",  # the time zone of the times shown
    "kg",
    "kWh",
    "Wh",
    "Ah",
    "V",
    "English",  # the link to the English version
}
# Values of findings that are the documents' own data (what the shipment states, what the
# registry holds); every other value (elements, fields, categories, forms, engine messages)
# must be worded.
DATA_KEYS = {
    "unit",
    "key",
    "suggestion",
    "stated",
    "registered",
    "model",
    "values",
    "hs",
    "lines",
    "line",
    "expected",
    "ruleset",
    "contract",
    "grace_until",
    "document",
    "un_numbers",
    "figures",
    "value",
    "package",
    "sscc",
    "gtin",
    "decoded",
    "provision",
    "date",
    "rate",
}
# A token with a digit in it is a code or a number ("A99", "UN3480", "PK0101"), not a word.
_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])")


class _Text(HTMLParser):
    """The text of one section, leaving out `<code>` and `<style>` content."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.codes: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "style", "script"):
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        (self.codes if self._skip else self.parts).append(data)


def zh_section(page: str) -> str:
    match = re.search(r'<section class="lang[^"]*" id="report-zh".*?</section>', page, re.S)
    assert match, "no Chinese section"
    return match.group(0)


def data_words(report: Report) -> set[str]:
    """Latin words that belong to the shipment's own data."""
    texts: list[str] = [report.shipment_id, *map(str, report.shipment.values())]
    for document in report.documents:
        texts.append(document.filename)
    for finding in report.findings:
        texts.append(finding.code_raw or "")
        for ref in finding.refs:
            texts.extend([ref.sheet or "", ref.cell or "", ref.line or ""])
        texts.extend(str(v) for k, v in finding.evidence.items() if k in DATA_KEYS)
    return {w for text in texts for w in _WORD.findall(text)}


def latin_left(report: Report, earlier: tuple[Report, ...] = ()) -> list[str]:
    """Latin words left in the Chinese section; `earlier` versions' data counts as data too
    (a re-check's page lists the findings it fixed, from the version before)."""
    parser = _Text()
    parser.feed(zh_section(render_html(report, "zh")))
    text = html.unescape(" ".join(parser.parts))
    for tag in SOURCES:  # a source tag is shown with its explanation beside it
        shown = re.compile(rf"(?<![\w-]){re.escape(tag)}(?![\w-])")
        assert not shown.search(text) or source_text(tag, "zh") in text
        text = shown.sub(" ", text)
    allowed = ALLOWED | data_words(report).union(*(data_words(r) for r in earlier))
    return sorted({w for w in _WORD.findall(text) if w not in allowed})


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_chinese_report_has_no_english_words(name: str) -> None:
    _, report = sample_report(name)
    assert latin_left(report) == []


def test_code_elements_hold_identifiers_only() -> None:
    """`<code>` is left out of the check above, so it may hold only identifiers and codes."""
    _, report = sample_report("problems_to_germany")
    parser = _Text()
    parser.feed(zh_section(render_html(report, "zh")))
    identifier = re.compile(r"^[A-Z0-9_]+$|^[a-z_]+\.[a-z_0-9]+@\d+$|^[0-9a-f]{16}$|^[\w.@-]+$")
    raws = {html.unescape(f.code_raw or "") for f in report.findings}
    for text in (t.strip() for t in parser.codes):
        assert not text or identifier.match(text) or text in raws or " " not in text, text


def test_the_check_fails_on_an_english_message() -> None:
    """The check is not blind: an engine message left in English is found."""
    import dataclasses

    _, report = sample_report("problems_to_germany")
    finding = next(f for f in report.findings if f.code == "CHECK_DIGIT_INVALID")
    english = dataclasses.replace(
        finding, message_zh="校验位错误：AI (01): the check digit is incorrect"
    )
    broken = dataclasses.replace(
        report, findings=tuple(english if f is finding else f for f in report.findings)
    )
    assert {"the", "check", "digit", "is", "incorrect"} <= set(latin_left(broken))
