"""Every report format over the sample shipments, compared with golden files (fixed clock).

The shipments start from the sample documents' bytes and are read the way a user's upload is:
the media type sniffed from the bytes, each document through the pipeline's sandboxed
extractor (a child process with limits). What the goldens show is what users get.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json

import pytest
from openpyxl import load_workbook

from gateway.domain import Report
from gateway.parsers import sniff
from gateway.pipeline import DocumentInput, check_shipment, sandboxed_extract
from gateway.platform_client.local import InMemoryRegistry
from gateway.reports.annotate import annotate_workbook
from gateway.reports.email_report import render_email
from gateway.reports.html_report import render_html
from gateway.reports.json_report import render_json
from gateway.reports.tables import render_csv, render_xlsx
from samples.shipments import FIXED_CLOCK, SAMPLES, SampleShipment


def uploaded(document: DocumentInput) -> DocumentInput:
    """The document as the gateway receives it: its bytes and name, nothing else known."""
    data, name = document.data, document.document.filename
    record = dataclasses.replace(
        document.document,
        media_type=sniff(data, name),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    return DocumentInput(record, data)


@functools.cache
def sample_report(name: str) -> tuple[SampleShipment, Report]:
    sample = SAMPLES[name]()
    report = check_shipment(
        [uploaded(d) for d in sample.documents],
        platform=InMemoryRegistry(sample.records),
        facts=sample.facts,
        extract=sandboxed_extract,
        clock=lambda: FIXED_CLOCK,
    )
    # timings vary run to run; everything else is deterministic
    return sample, dataclasses.replace(report, timings={})


def cells(data: bytes) -> str:
    """A workbook as text: every non-empty cell with its value, fill and comment."""
    wb = load_workbook(io.BytesIO(data))
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and cell.comment is None:
                    continue
                fill = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else ""
                comment = cell.comment.text if cell.comment else ""
                out.append(f"{ws.title}!{cell.coordinate}\t{cell.value!r}\t{fill}\t{comment!r}")
    return "\n".join(out) + "\n"


NAMES = sorted(SAMPLES)


@pytest.mark.parametrize("name", NAMES)
def test_json_golden(name, golden):
    _, report = sample_report(name)
    text = render_json(report)
    assert json.loads(text)["schema_version"] == "1"
    golden(f"{name}.json", text)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_golden(name, lang, golden):
    _, report = sample_report(name)
    golden(f"{name}.{lang}.html", render_html(report, lang))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_csv_golden(name, lang, golden):
    _, report = sample_report(name)
    golden(f"{name}.{lang}.csv", render_csv(report, lang))


@pytest.mark.parametrize("name", NAMES)
def test_xlsx_golden_by_cells(name, golden):
    _, report = sample_report(name)
    golden(f"{name}.en.xlsx.txt", cells(render_xlsx(report, "en")))


@pytest.mark.parametrize("name", NAMES)
def test_annotated_manifest_golden_by_cells(name, golden):
    sample, report = sample_report(name)
    annotated = annotate_workbook(sample.documents[0].data, report, "zh")
    golden(f"{name}.annotated.zh.xlsx.txt", cells(annotated))


@pytest.mark.parametrize("name", NAMES)
def test_email_golden(name, golden):
    _, report = sample_report(name)
    subject, text, html = render_email(report, "en")
    golden(f"{name}.email.txt", f"Subject: {subject}\n\n{text}")
    assert "\n" not in subject
    assert report.shipment_id in html
