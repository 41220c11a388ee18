"""What a shipment ends as when its documents are hostile, through `POST /v1/shipments`, the
real pipeline (parser sandbox, local registry) and the report endpoints:

- every document refused: `rejected`, with a machine-readable reason and the limit hit;
- some documents refused: `done`, with a `DOCUMENT_REJECTED` finding for each;
- a file whose content differs from its name: read by content, with a warning naming both;
- the annotated workbook and every report: values only, nothing that can act when opened,
  also for a macro-enabled workbook."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest

from gateway.jobs import run
from gateway.parsers.limits import DEFAULT_LIMITS
from gateway.reports.annotate import active_content
from gateway.services import ServiceOptions, Services
from samples.hostile import HostileFile, active_content_xlsx, manifest_csv, text_pdf
from tests.factories import app_for, bearer, make_services, new_tenant, post_shipment

from .conftest import corpus

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Any, str]]:
    options = ServiceOptions(rate_limit=1_000_000, rate_burst=1_000_000)
    svc = make_services(tmp_path_factory.mktemp("outcomes"), options=options)
    _tenant, key = new_tenant(svc)
    yield svc, app_for(svc).test_client(), key
    svc.close()


def _case(name: str) -> HostileFile:
    return next(c for c in corpus() if c.name == name)


def _run(api: tuple[Services, Any, str], files: list[tuple[str, bytes]]) -> dict[str, Any]:
    svc, client, key = api
    response = post_shipment(client, key, files, reference="outcome")
    assert response.status_code == 202, response.data[:300]
    shipment_id = response.get_json()["id"]
    run.run_shipment(svc, shipment_id)
    answer = client.get(f"/v1/shipments/{shipment_id}", headers=bearer(key))
    body: dict[str, Any] = answer.get_json()
    return body


def _report(api: tuple[Services, Any, str], body: dict[str, Any], fmt: str = "json") -> Any:
    _svc, client, key = api
    response = client.get(f"{body['report_url']}?format={fmt}", headers=bearer(key))
    assert response.status_code == 200, (fmt, response.data[:300])
    return response.get_json() if fmt == "json" else response.data


# -- every document refused -> rejected; some -> done with DOCUMENT_REJECTED --------------------


def test_a_shipment_whose_every_document_is_refused_is_rejected_with_the_limit(
    api: tuple[Services, Any, str],
) -> None:
    bomb, truncated = _case("zip-bomb.xlsx"), _case("truncated.pdf")
    body = _run(api, [(bomb.filename, bomb.data), (truncated.filename, truncated.data)])
    assert body["status"] == "rejected", body
    assert "verdict" not in body
    assert "report_url" not in body
    rejection = body["rejection"]
    assert rejection["code"] == "no_readable_document"
    assert "zip-bomb.xlsx" in rejection["message"]
    by_name = {d["filename"]: d for d in rejection["documents"]}
    assert set(by_name) == {"zip-bomb.xlsx", "truncated.pdf"}
    limit = by_name["zip-bomb.xlsx"]["limit"]
    assert by_name["zip-bomb.xlsx"]["reason"] == "document_too_large"
    assert limit["name"].startswith("zip_max_"), limit
    assert limit["value"] == getattr(DEFAULT_LIMITS, limit["name"])
    assert by_name["truncated.pdf"]["reason"] == "corrupt_document"
    assert by_name["truncated.pdf"]["limit"] is None
    for document in rejection["documents"]:
        assert document["message"].strip()
        assert document["document_id"]
    # the same shape for one refused document, whatever limit it hit
    giant = _case("png-60000x60000.png")
    one = _run(api, [(giant.filename, giant.data)])
    assert one["status"] == "rejected"
    assert one["rejection"]["code"] == "no_readable_document"
    assert one["rejection"]["documents"][0]["limit"] == {
        "name": "max_image_pixels",
        "value": DEFAULT_LIMITS.max_image_pixels,
    }


def test_a_shipment_with_some_refused_documents_is_done_naming_them(
    api: tuple[Services, Any, str],
) -> None:
    bomb = _case("zip-bomb.xlsx")
    body = _run(api, [("packing.csv", manifest_csv()), (bomb.filename, bomb.data)])
    assert body["status"] == "done", body
    assert body["counts"]["documents"] == 2
    assert body["counts"]["documents_rejected"] == 1
    report = _report(api, body)
    rejected = [f for f in report["findings"] if f["code"] == "DOCUMENT_REJECTED"]
    assert len(rejected) == 1, report["findings"]
    assert rejected[0]["evidence"]["document"] == "zip-bomb.xlsx"
    assert rejected[0]["severity"] == "block"
    assert report["verdict"] == "block"


# -- type differs from name ---------------------------------------------------------------------


def _name_warnings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        f
        for f in report["findings"]
        if f["code"] == "DOCUMENT_PROBLEM" and f["evidence"].get("kind") == "type_differs_from_name"
    ]


def test_a_pdf_named_xlsx_is_read_as_a_pdf_with_a_warning_naming_the_mismatch(
    api: tuple[Services, Any, str],
) -> None:
    body = _run(api, [("manifest.xlsx", text_pdf())])
    assert body["status"] == "done", body
    assert body["documents"][0]["media_type"] == "application/pdf"  # read by content
    warnings = _name_warnings(_report(api, body))
    assert len(warnings) == 1
    assert warnings[0]["severity"] == "warn"
    text = warnings[0]["message"]["en"]
    assert "'manifest.xlsx'" in text
    assert "Excel workbook" in text
    assert "PDF" in text
    # a workbook with macros under a plain workbook's name is named too
    macros = _run(api, [("list.xlsx", active_content_xlsx(vba=True))])
    assert "macro-enabled" in _name_warnings(_report(api, macros))[0]["message"]["en"]
    # the control: a file whose name tells the truth gets no such warning
    honest = _run(api, [("manifest.pdf", text_pdf()), ("m.csv", manifest_csv())])
    assert _name_warnings(_report(api, honest)) == []


# -- nothing active handed back -----------------------------------------------------------------

_ACTIVE_NAMES = re.compile(r"vbaProject|externalLink|embeddings/|oleObject|activeX", re.I)


def _assert_inert(data: bytes, what: str) -> None:
    """Independent of `active_content`: the parts and the XML, looked at directly."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert not [n for n in names if _ACTIVE_NAMES.search(n)], (what, names)
        for name in names:
            text = archive.read(name)
            assert b"macroEnabled" not in text, (what, name)
            assert b"ddeLink" not in text, (what, name)
            assert b"oleObject" not in text, (what, name)
            assert b'TargetMode="External"' not in text, (what, name)
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[ >/]", text), (what, name)
            if name == "xl/workbook.xml":
                # only the hidden range an autofilter needs; never a name of the upload's
                names = re.findall(rb'<definedName [^>]*name="([^"]+)"', text)
                assert set(names) <= {b"_xlnm._FilterDatabase"}, (what, names)
                assert b"!$" not in text or b"_xlnm._FilterDatabase" in text, what
                assert b"externalReference" not in text, what
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (what, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (what, cell.coordinate)


@pytest.mark.parametrize("vba", [False, True], ids=["xlsx", "xlsm"])
def test_the_annotated_workbook_holds_values_and_nothing_active(
    api: tuple[Services, Any, str], vba: bool
) -> None:
    upload = active_content_xlsx(vba=vba)
    assert active_content(upload)  # the upload is full of it
    name = "manifest.xlsm" if vba else "manifest.xlsx"
    body = _run(api, [(name, upload)])
    assert body["status"] == "done", body
    annotated = _report(api, body, "annotated")
    _assert_inert(annotated, "annotated")
    assert active_content(annotated) == []
    book = openpyxl.load_workbook(io.BytesIO(annotated))
    sheet = book["Manifest"]
    assert sheet["C2"].value == "Click"  # the formula's stored value, not the formula
    assert sheet["D2"].value == 1
    assert sheet["C3"].value == "=cmd|'/C calc'!A0"  # no stored value: its text, as text
    assert sheet["C3"].data_type == "s"
    assert sheet["E3"].value == '=HYPERLINK("http://cached.example/")'  # a value, inert
    assert sheet["F2"].value == "=1+1"
    assert sheet["F2"].data_type == "s"
    assert sheet["B2"].value.endswith("HOSTILE1")  # the user's data is all there
    # the annotation says what it removed
    note = book["Gateway note"]
    said = {row[0]: row[1] for row in note.iter_rows(values_only=True) if row and row[0]}
    assert said["formulas replaced by their stored values"] == 3
    assert said["formulas without a stored value, kept as text"] == 2
    assert said["external links"] == 1
    assert said["DDE links"] == 1
    assert said["OLE objects"] == 1
    assert said["hyperlinks"] == 1
    assert said["defined names"] == 2
    assert ("macros (VBA project)" in said) is vba
    zh = openpyxl.load_workbook(io.BytesIO(_annotated_zh(api, body)))
    assert "网关说明" in zh.sheetnames
    # the other outputs of the same shipment carry nothing of it either
    _assert_inert(_report(api, body, "xlsx"), "xlsx report")
    for fmt in ("json", "html", "csv"):
        data = _report(api, body, fmt)
        text = data if isinstance(data, bytes) else str(data).encode()
        assert b"vbaProject" not in text, fmt
        assert b"\xd0\xcf\x11\xe0" not in text, fmt


def _annotated_zh(api: tuple[Services, Any, str], body: dict[str, Any]) -> bytes:
    _svc, client, key = api
    response = client.get(f"{body['report_url']}?format=annotated&lang=zh", headers=bearer(key))
    assert response.status_code == 200
    data: bytes = response.data
    return data


def test_a_macro_enabled_workbook_is_read_as_values_and_its_macros_never_run(
    api: tuple[Services, Any, str],
) -> None:
    body = _run(api, [("manifest.xlsm", active_content_xlsx(vba=True))])
    assert body["documents"][0]["media_type"] == "application/vnd.ms-excel.sheet.macroEnabled.12"
    report = _report(api, body)
    raws = {u["raw"] for u in report["units"]}
    assert {r for r in raws if r.endswith(("HOSTILE1", "HOSTILE2"))}, raws  # cells were read
    kinds = {f["evidence"].get("kind") for f in report["findings"]}
    assert "macros_ignored" in kinds  # and the report says the macros were not run
