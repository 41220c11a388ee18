"""Label photos through the one dispatch: every barcode is a code, judged the same everywhere."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from gateway.domain import Document, ExtractionMethod, SourceRef
from gateway.parsers import extract, sandbox
from gateway.parsers.child import PRELOAD_SHEETS
from gateway.parsers.cli import to_records
from gateway.parsers.image import symbol_occurrences
from gateway.parsers.sandbox import ForkServer
from gateway.pipeline import (
    DocumentInput,
    ShipmentFacts,
    check_codes,
    check_shipment,
    sandboxed_extract,
)
from gateway.platform_client.local import InMemoryRegistry
from samples.labels import LabelCode, draw_label
from samples.shipments import FIXED_CLOCK

BAD_CHECK = ("0106901234567893" + "21SN1", "(01)06901234567893(21)SN1", "gs1-128")
GTIN_ONLY = ("0106901234567892", "(01)06901234567892", "gs1-128")
EAN_13 = ("6901234567892", "6901234567892", "ean13")


def _photo(*codes: tuple[str, str, str]) -> bytes:
    label = draw_label(
        [(LabelCode(text, sym.startswith("gs1"), sym), hri) for text, hri, sym in codes],
        np.random.default_rng(3),
    )
    ok, png = cv2.imencode(".png", label)
    assert ok
    return png.tobytes()


def _doc(data: bytes, name: str = "label.png") -> DocumentInput:
    digest = hashlib.sha256(data).hexdigest()
    return DocumentInput(
        Document(id=name, filename=name, media_type="image/png", sha256=digest), data
    )


@pytest.fixture(scope="module")
def server():
    fork_server = ForkServer()
    yield fork_server
    fork_server.close()


@pytest.mark.parametrize(
    ("code", "valid", "problems"),
    [(BAD_CHECK, False, ["INCORRECT_CHECK_DIGIT"]), (GTIN_ONLY, True, []), (EAN_13, True, [])],
)
def test_every_barcode_on_a_photo_is_a_record(code, valid, problems, server):
    data = _photo(code)
    for extraction in (
        extract(data, filename="label.png"),
        sandboxed_extract(_doc(data), server=server),
    ):
        records = to_records(extraction)["records"]
        assert [(r["valid"], r["problems"]) for r in records] == [(valid, problems)]
        assert not [e for e in to_records(extraction)["errors"] if e["kind"] == "no_codes_found"]
        (occurrence,) = extraction.loose_codes
        assert occurrence.method is ExtractionMethod.BARCODE_IMAGE
        assert occurrence.quad  # where it is on the photo, for the annotated answer


def test_a_server_that_preloaded_only_the_sheet_readers_reads_a_photo_all_the_same(monkeypatch):
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cold start happened while the fork server was expected")

    monkeypatch.setattr(sandbox, "_run_cold", refuse)
    data = _photo(BAD_CHECK, EAN_13)
    sheets = ForkServer(PRELOAD_SHEETS)
    try:
        extraction = sandboxed_extract(_doc(data), server=sheets)
    finally:
        sheets.close()
    assert to_records(extraction) == to_records(extract(data, filename="label.png"))
    assert len(extraction.loose_codes) == 2


def test_an_ean13_keeps_its_symbology_identifier_and_is_judged_as_at_the_scanner(server):
    data = _photo(EAN_13)
    extraction = sandboxed_extract(_doc(data), server=server)
    (occurrence,) = extraction.loose_codes
    assert occurrence.raw == "]E06901234567892"
    facts = ShipmentFacts(shipment_id="s", destination="DE")
    by_check = check_shipment(
        [_doc(data)],
        platform=InMemoryRegistry([]),
        facts=facts,
        extract=lambda item: sandboxed_extract(item, server=server),
        clock=lambda: FIXED_CLOCK,
    )
    by_scan = check_codes(
        list(extraction.loose_codes),
        platform=InMemoryRegistry([]),
        facts=facts,
        clock=lambda: FIXED_CLOCK,
    )
    codes = {f.code for f in by_check.findings}
    assert "UNIT_IDENTIFIER_MISSING" in codes
    assert "CODE_SYNTAX_INVALID" not in codes
    identifiers = {"UNIT_IDENTIFIER_MISSING", "CODE_SYNTAX_INVALID", "CHECK_DIGIT_INVALID"}
    assert codes & identifiers == {f.code for f in by_scan.findings} & identifiers


def test_a_photo_uploaded_with_a_shipment_blocks_on_its_wrong_check_digit(server):
    report = check_shipment(
        [_doc(_photo(BAD_CHECK))],
        platform=InMemoryRegistry([]),
        facts=ShipmentFacts(shipment_id="s", destination="DE"),
        extract=lambda item: sandboxed_extract(item, server=server),
        clock=lambda: FIXED_CLOCK,
    )
    (finding,) = [f for f in report.findings if f.code == "CHECK_DIGIT_INVALID"]
    assert finding.refs[0].document_id == "label.png"
    assert report.verdict.value == "block"


def test_occurrences_carry_the_photo_scale():
    class Sym:
        raw = "]C10106901234567892"
        symbology = "gs1-128"
        quad = ((1.0, 2.0), (3.0, 2.0), (3.0, 4.0), (1.0, 4.0))

    (occ,) = symbol_occurrences([Sym()], "d", scale=2.0)
    assert occ.quad == ((2.0, 4.0), (6.0, 4.0), (6.0, 8.0), (2.0, 8.0))
    assert occ.source == SourceRef("d", page=1)
