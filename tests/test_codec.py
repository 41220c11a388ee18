"""gateway.codec: every domain record to JSON data and back, the stored and sandbox forms."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import gateway.domain
from gateway.codec import CodecError, from_data, prepare, to_data
from gateway.domain import (
    CodeOccurrence,
    DecodedCode,
    Document,
    Extraction,
    ExtractionMethod,
    ExtractionProblem,
    Finding,
    GbCode,
    Lookup,
    LookupStatus,
    ManifestLine,
    Problem,
    RegistrationRecord,
    RegistrationStatus,
    Report,
    Scheme,
    Severity,
    SourceRef,
    Verdict,
)
from gateway.parsers.serialize import dumps, extraction_from_dict, extraction_to_dict, loads
from gateway.storage.codec import report_from_data, report_to_data

GS = "\x1d"

REF = SourceRef(
    "doc-1", page=3, sheet="装箱单", row=12, cell="C12", bbox=(1.0, 2.5, 3.0, 4.25), line="序号 3"
)
OCC = CodeOccurrence(
    raw=f"]d2010690123456789221PK01{GS}10L1",
    source=REF,
    method=ExtractionMethod.BARCODE_PDF,
    symbology="gs1-datamatrix",
    quad=((0.0, 0.0), (10.5, 0.0), (10.5, 10.5), (0.0, 10.5)),
    confidence=0.93,
)
GB = GbCode(
    scheme=Scheme.GB34014,
    code="7KQ2AE1L05R25B0012345",
    manufacturer="7KQ",
    product_type="P",
    product_level="pack",
    chemistry="E",
    chemistry_name=None,
    spec="1L05",
    traceability="R",
    date_code="25B",
    production_date=dt.date(2025, 11, 1),
    serial="0012345",
    uncertain=("chemistry", "spec"),
)
RECORD = RegistrationRecord(
    record_id="rec-1",
    status=RegistrationStatus.NEEDS_CORRECTION,
    gtin="06901234567892",
    serial="PK01",
    rated_capacity_ah=280.0,
    mass_kg=None,
    ce_marked=False,
    manufacturing_date=dt.date(2026, 1, 31),
    declared_in=("DECL-1", "DECL-2"),
    missing_fields=("site_gln",),
    grace_until=dt.date(2026, 12, 31),
    updated_at=dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    manufacturer_name="宁德电池 Co.",
)

# One full example of every record in gateway.domain, and one with only what is required.
FULL = {
    Document: Document("doc-1", "装箱单 (1).xlsx", "application/pdf", "ab" * 32, 6890),
    SourceRef: REF,
    CodeOccurrence: OCC,
    Problem: Problem("INCORRECT_CHECK_DIGIT", "Check digit 3, expected 2", (16, 17), "warning"),
    GbCode: GB,
    DecodedCode: DecodedCode(
        raw=OCC.raw,
        scheme=Scheme.GS1,
        valid=False,
        ais={"01": "06901234567892", "21": "PK01", "10": f"L{GS}1"},
        problems=(Problem("X", "y", (1, 2)), Problem("Z", "中文", (0, 0), "warning")),
        key="01:06901234567892/21:PK01",
        key_kind="sgtin",
        gb=GB,
        symbology_id="]d2",
        repaired=True,
        occurrence=OCC,
    ),
    ManifestLine: ManifestLine(
        source=REF,
        line_no="3",
        description="EV traction battery pack 动力电池",
        model="EVP-75",
        quantity=2.0,
        unit="PCS",
        lot="L2609A",
        hs_code="85076000",
        un_number="UN3480",
        net_kg=490.0,
        gross_kg=480.5,
        carton="C-1",
        pallet="P-1",
        container="MSCU1234567",
        destination="DE",
        extra={"remark": "易碎", "po": ""},
        codes=(OCC, dataclasses.replace(OCC, quad=None, confidence=None)),
        field_sources={"model": REF, "lot": SourceRef("doc-1", cell="E11")},
    ),
    ExtractionProblem: ExtractionProblem(
        "identifier_destroyed_in_document", "Zeros lost", REF, "3", Severity.WARN
    ),
    Extraction: Extraction(
        document=Document("doc-1", "a.pdf", "application/pdf", "0" * 64),
        header={"shipper": "深圳", "invoice_no": f"INV{GS}1"},
        lines=(ManifestLine(source=REF, line_no=None, codes=(OCC,)),),
        loose_codes=(OCC,),
        problems=(ExtractionProblem("k", "m"),),
        pages=3,
        method="pdf_scan",
    ),
    RegistrationRecord: RECORD,
    Lookup: Lookup("01:06901234567892/21:PK01", LookupStatus.FOUND, RECORD, None, "cache"),
    Finding: Finding(
        rule_id="identifiers.check_digit",
        code="CHECK_DIGIT_INVALID",
        severity=Severity.BLOCK,
        message_en="Check digit is wrong",
        message_zh="校验位错误",
        fix_en="Copy it again",
        fix_zh="重新抄写",
        source="GS1",
        refs=(REF, SourceRef("shipment")),
        code_raw=f"(01)06901234567893{GS}21PK",
        span=(4, 18),
        evidence={
            "expected": "2",
            "count": 3,
            "ratio": 0.5,
            "ok": True,
            "none": None,
            "keys": ["a", "b"],
            "nested": {"x": [1, {"y": "z"}]},
        },
        rule_version=2,
    ),
    Report: Report(
        shipment_id="shp_1",
        verdict=Verdict.HOLD,
        generated_at=dt.datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=dt.UTC),
        ruleset="default@2026.12.1+t0a1b",
        findings=(Finding("a.b", "A_B", Severity.INFO, "m", "中"),),
        counts={"codes": 2, "block": 0},
        documents=(Document("doc-1", "f.xlsx", "x", "0" * 64, 9),),
        platform_contract="assumed-v1",
        platform_source="simulator",
        crashed_rules=("eu.passport@1: KeyError",),
        timings={"extract": 0.25, "rules": 1.0},
        shipment={"reference": "R-1", "destination": "DE"},
        units=({"key": "k", "lookup": "found", "line": None}, {}),
    ),
}
MINIMAL = {
    Document: Document("d", "", "", ""),
    SourceRef: SourceRef(""),
    CodeOccurrence: CodeOccurrence("", SourceRef("d"), ExtractionMethod.INPUT),
    Problem: Problem("", ""),
    GbCode: GbCode(Scheme.GB45565, "", "", "", None, None, None, None, None, None, None, None),
    DecodedCode: DecodedCode("", Scheme.UNKNOWN, False, {}),
    ManifestLine: ManifestLine(SourceRef("d"), None),
    ExtractionProblem: ExtractionProblem("", ""),
    Extraction: Extraction(Document("d", "", "", "")),
    RegistrationRecord: RegistrationRecord("r", RegistrationStatus.REGISTERED),
    Lookup: Lookup("k", LookupStatus.UNVERIFIED, reason="timeout"),
    Finding: Finding("", "", Severity.WARN, "", ""),
    Report: Report("s", Verdict.CLEAR, dt.datetime(2026, 1, 1), "r", (), {}),  # naive datetime
}


def test_every_domain_record_has_examples():
    records = {
        obj
        for _, obj in inspect.getmembers(gateway.domain, inspect.isclass)
        if dataclasses.is_dataclass(obj) and obj.__module__ == "gateway.domain"
    }
    assert records == set(FULL) == set(MINIMAL)


EXAMPLES = [
    *(pytest.param(v, id=f"{k.__name__}-full") for k, v in FULL.items()),
    *(pytest.param(v, id=f"{k.__name__}-minimal") for k, v in MINIMAL.items()),
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_record_round_trips_through_json_text(example):
    data = to_data(example)
    text = json.dumps(data, ensure_ascii=False)
    back = from_data(type(example), json.loads(text))
    assert back == example
    assert repr(back) == repr(example)  # the same types too: tuples, floats, enum members
    assert to_data(back) == data


def test_values_keep_their_declared_types():
    data = to_data(dataclasses.replace(RECORD, mass_kg=512))  # an int where a float is declared
    assert data["status"] == "needs_correction"
    assert data["mass_kg"] == 512.0
    assert isinstance(data["mass_kg"], float)
    assert data["manufacturing_date"] == "2026-01-31"
    assert data["updated_at"] == "2026-02-01T08:00:00+08:00"
    back = from_data(RegistrationRecord, json.loads(json.dumps(data)))
    assert back.status is RegistrationStatus.NEEDS_CORRECTION
    assert back.updated_at == RECORD.updated_at
    assert back.updated_at is not None
    assert back.updated_at.utcoffset() == dt.timedelta(hours=8)
    assert isinstance(back.mass_kg, float)
    assert back.declared_in == ("DECL-1", "DECL-2")
    assert back.ce_marked is False


def test_nested_tuples_come_back_as_tuples_and_texts_keep_gs_and_unicode():
    back = from_data(CodeOccurrence, json.loads(json.dumps(to_data(OCC))))
    assert back.quad == OCC.quad
    assert isinstance(back.quad, tuple)
    assert all(isinstance(p, tuple) for p in back.quad or ())
    assert back.raw == OCC.raw
    assert GS in back.raw
    assert back.source.sheet == "装箱单"
    assert back.source.bbox == (1.0, 2.5, 3.0, 4.25)


def test_a_record_is_a_dict_in_field_order_with_none_kept():
    assert to_data(SourceRef("d", row=2)) == {
        "document_id": "d",
        "page": None,
        "sheet": None,
        "row": 2,
        "cell": None,
        "bbox": None,
        "line": None,
    }
    assert list(to_data(FULL[Finding])) == [f.name for f in dataclasses.fields(Finding)]


def test_missing_keys_take_defaults_and_unknown_keys_are_ignored():
    ref = from_data(SourceRef, {"document_id": "d", "text_en": "sheet 'S'", "later": 1})
    assert ref == SourceRef("d")
    finding = from_data(
        Finding,
        {"rule_id": "a", "code": "A", "severity": "warn", "message_en": "", "message_zh": ""},
    )
    assert finding.evidence == {}
    assert finding.refs == ()
    assert finding.rule_version == 1


@pytest.mark.parametrize(
    ("cls", "data", "message"),
    [
        (SourceRef, {"page": 1}, "SourceRef: missing required field 'document_id'"),
        (SourceRef, {"document_id": "d", "page": "3"}, "SourceRef.page: expected int, got str"),
        (SourceRef, {"document_id": "d", "row": True}, "SourceRef.row: expected int, got bool"),
        (SourceRef, {"document_id": "d", "bbox": [1, 2]}, "SourceRef.bbox: expected 4 items"),
        (Finding, {"rule_id": "a", "code": "A", "severity": "fatal", "message_en": "",
                   "message_zh": ""}, "Finding.severity: 'fatal' is not a valid Severity"),
        (ManifestLine, {"source": None, "line_no": "1"}, "ManifestLine.source: expected SourceRef"),
        (Extraction, {"document": {"id": "d", "filename": "", "media_type": "", "sha256": ""},
                      "lines": [{"source": {"document_id": 7}, "line_no": None}]},
         "Extraction.lines.source.document_id: expected str, got int 7"),
        (Report, {"shipment_id": "s", "verdict": "hold", "generated_at": "yesterday",
                  "ruleset": "r", "findings": [], "counts": {}}, "Report.generated_at: Invalid"),
        (Document, ["d", "f", "m", "s"], "Document: expected Document data (a mapping), got list"),
    ],
)  # fmt: skip
def test_data_that_does_not_fit_is_refused_with_the_field_named(cls, data, message):
    with pytest.raises(CodecError) as info:
        from_data(cls, data)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_a_record_holding_a_value_of_the_wrong_type_is_refused():
    bad = dataclasses.replace(REF, page="3")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match=r"^SourceRef\.page: expected int, got str '3'"):
        to_data(bad)
    with pytest.raises(CodecError, match=r"^ManifestLine\.codes\.source\.page: expected int"):
        to_data(ManifestLine(REF, None, codes=(dataclasses.replace(OCC, source=bad),)))
    with pytest.raises(TypeError, match="dataclass"):
        to_data({"document_id": "d"})
    with pytest.raises(TypeError, match="dataclass"):
        from_data(dict, {})


def test_free_form_values_are_kept_as_json_gives_them_back():
    finding = dataclasses.replace(
        FULL[Finding],
        evidence={
            "on": dt.date(2026, 1, 1),
            "at": dt.datetime(2026, 1, 1, 5, 6),
            "set": {3},
            "pair": (1, ("a", None)),
            "severity": Severity.BLOCK,
            "other": object,
        },
    )
    data = json.loads(json.dumps(to_data(finding)))
    assert data["evidence"] == {
        "on": "2026-01-01",
        "at": "2026-01-01T05:06:00",
        "set": [3],
        "pair": [1, ["a", None]],
        "severity": "block",
        "other": "<class 'object'>",
    }
    assert from_data(Finding, data).evidence == data["evidence"]


def test_prepare_builds_converters_up_front():
    prepare(Report, Extraction)
    with pytest.raises(TypeError, match="dataclass"):
        prepare(dict)


# -- the stored report and the sandbox's wire form ---------------------------------------------

# A report as the service has stored it since the first version of its stored form.
STORED = (
    '{"codec": 1, "shipment_id": "shp_1", "verdict": "block", "generated_at": '
    '"2026-11-20T09:30:00+00:00", "ruleset": "default@2026.12.1", "findings": [{"rule_id": '
    '"identifiers.check_digit", "code": "CHECK_DIGIT_INVALID", "severity": "block", '
    '"message_en": "Check digit is wrong", "message_zh": "校验位错误", "fix_en": "Copy the code '
    'again", "fix_zh": "重新抄写", "source": "GS1", "refs": [{"document_id": "doc-1", "page": '
    'null, "sheet": "Packing List", "row": 10, "cell": "J10", "bbox": null, "line": "3"}, '
    '{"document_id": "doc-2", "page": 2, "sheet": null, "row": null, "cell": null, "bbox": '
    '[36.5, 109.25, 707.5, 115.875], "line": null}], "code_raw": '
    '"(01)06901234567893\\u001d21PK0102", "span": [4, 18], "evidence": {"expected": "2", '
    '"seen": "2026-01-01", "keys": ["a", "b"]}, "rule_version": 2}], "counts": {"codes": 2, '
    '"block": 1}, "documents": [{"id": "doc-1", "filename": "装箱单.xlsx", "media_type": '
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "sha256": '
    '"abababababababababababababababababababababababababababababababab", "size": 6890}], '
    '"platform_contract": "assumed-v1", "platform_source": "simulator", "crashed_rules": '
    '["eu.passport@1: KeyError"], "timings": {"extract": 0.25}, "shipment": {"reference": '
    '"PL-2026-001", "destination": "DE"}, "units": [{"key": "01:06901234567892/21:PK0101", '
    '"lookup": "found", "line": "1"}], "version": 1, "changes": null}'
)
STORED_REPORT = Report(
    shipment_id="shp_1",
    verdict=Verdict.BLOCK,
    generated_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC),
    ruleset="default@2026.12.1",
    findings=(
        Finding(
            rule_id="identifiers.check_digit",
            code="CHECK_DIGIT_INVALID",
            severity=Severity.BLOCK,
            message_en="Check digit is wrong",
            message_zh="校验位错误",
            fix_en="Copy the code again",
            fix_zh="重新抄写",
            source="GS1",
            refs=(
                SourceRef("doc-1", sheet="Packing List", row=10, cell="J10", line="3"),
                SourceRef("doc-2", page=2, bbox=(36.5, 109.25, 707.5, 115.875)),
            ),
            code_raw=f"(01)06901234567893{GS}21PK0102",
            span=(4, 18),
            evidence={"expected": "2", "seen": dt.date(2026, 1, 1), "keys": ("a", "b")},
            rule_version=2,
        ),
    ),
    counts={"codes": 2, "block": 1},
    documents=(
        Document(
            "doc-1",
            "装箱单.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "ab" * 32,
            6890,
        ),
    ),
    platform_source="simulator",
    crashed_rules=("eu.passport@1: KeyError",),
    timings={"extract": 0.25},
    shipment={"reference": "PL-2026-001", "destination": "DE"},
    units=({"key": "01:06901234567892/21:PK0101", "lookup": "found", "line": "1"},),
)


def test_the_stored_form_of_a_report_is_unchanged():
    assert json.dumps(report_to_data(STORED_REPORT), ensure_ascii=False) == STORED


def test_a_stored_report_loads():
    back = report_from_data(json.loads(STORED))
    # free-form evidence comes back as JSON carried it: the date as text, the tuple as a list
    expected = dataclasses.replace(
        STORED_REPORT.findings[0],
        evidence={"expected": "2", "seen": "2026-01-01", "keys": ["a", "b"]},
    )
    assert back == dataclasses.replace(STORED_REPORT, findings=(expected,))


# A scanned page's extraction in the codec's dict form (what `gateway extract` shows).
DICT_FORM = (
    '{"document":{"id":"doc-1","filename":"scan.pdf","media_type":"application/pdf","sha256":'
    '"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","size":1234},"header":'
    '{"shipper":"深圳电池有限公司"},"lines":[{"source":{"document_id":"doc-1","page":3,"sheet":'
    'null,"row":null,"cell":null,"bbox":[23.76,45.72,679.32,57.96],"line":"13"},"line_no":"13",'
    '"description":null,"model":null,"quantity":2.0,"unit":null,"lot":null,"hs_code":null,'
    '"un_number":null,"net_kg":null,"gross_kg":494.0,"carton":null,"pallet":null,"container":'
    'null,"destination":"NL","extra":{"remark":"易碎"},"codes":[{"raw":'
    '"]Q3010690123456789221PK\\u001d10L1","source":{"document_id":"doc-1","page":3,"sheet":null,'
    '"row":null,"cell":null,"bbox":null,"line":null},"method":"barcode_pdf","symbology":'
    '"gs1-qrcode","quad":[[2030.0,145.0],[2137.0,145.0],[2137.0,252.0],[2030.0,252.0]],'
    '"confidence":null}],"field_sources":{"quantity":{"document_id":"doc-1","page":3,"sheet":'
    'null,"row":null,"cell":null,"bbox":null,"line":"13"}}}],"loose_codes":[{"raw":'
    '"(01)06901234567892","source":{"document_id":"doc-1","page":1,"sheet":null,"row":null,'
    '"cell":null,"bbox":null,"line":null},"method":"ocr","symbology":null,"quad":null,'
    '"confidence":0.93}],"problems":[{"kind":"ocr_low_confidence","message":"Low confidence",'
    '"source":{"document_id":"doc-1","page":1,"sheet":null,"row":null,"cell":null,"bbox":null,'
    '"line":null},"line_no":"2","severity":"warn"}],"pages":3,"method":"pdf_scan"}'
)
WIRE_EXTRACTION = Extraction(
    document=Document("doc-1", "scan.pdf", "application/pdf", "cd" * 32, 1234),
    header={"shipper": "深圳电池有限公司"},
    lines=(
        ManifestLine(
            source=SourceRef("doc-1", page=3, bbox=(23.76, 45.72, 679.32, 57.96), line="13"),
            line_no="13",
            quantity=2.0,
            gross_kg=494.0,
            destination="NL",
            extra={"remark": "易碎"},
            codes=(
                CodeOccurrence(
                    f"]Q3010690123456789221PK{GS}10L1",
                    SourceRef("doc-1", page=3),
                    ExtractionMethod.BARCODE_PDF,
                    symbology="gs1-qrcode",
                    quad=((2030.0, 145.0), (2137.0, 145.0), (2137.0, 252.0), (2030.0, 252.0)),
                ),
            ),
            field_sources={"quantity": SourceRef("doc-1", page=3, line="13")},
        ),
    ),
    loose_codes=(
        CodeOccurrence(
            "(01)06901234567892",
            SourceRef("doc-1", page=1),
            ExtractionMethod.OCR,
            confidence=0.93,
        ),
    ),
    problems=(
        ExtractionProblem(
            "ocr_low_confidence",
            "Low confidence",
            SourceRef("doc-1", page=1),
            line_no="2",
            severity=Severity.WARN,
        ),
    ),
    pages=3,
    method="pdf_scan",
)


# The same extraction as the sandbox child sends it: the lines' fields as columns, each
# distinct location once in `refs`, a line's locations as indexes (or column letters for "the
# line's row, another column"), field locations as a table of layouts, everything else in the
# dict form under `rest`.
WIRE = (
    '{"wire":2,"refs":[["doc-1",3,null,null,null,null,"13"],["doc-1",3,null,null,null,null,nu'
    'll]],"lines":{"n":1,"source":{"document_id":["doc-1"],"page":[3],"sheet":[null],"row":[n'
    'ull],"cell":[null],"bbox":[[23.76,45.72,679.32,57.96]],"line":["13"]},"line_no":["13"],"'
    'description":[null],"model":[null],"quantity":[2.0],"unit":[null],"lot":[null],"hs_code"'
    ':[null],"un_number":[null],"net_kg":[null],"gross_kg":[494.0],"carton":[null],"pallet":['
    'null],"container":[null],"destination":["NL"],"extra":[{"remark":"易碎"}],"field_sources":'
    '[0],"codes":{"count":[1],"raw":["]Q3010690123456789221PK\\u001d10L1"],"source":[1],"metho'
    'd":["barcode_pdf"],"symbology":["gs1-qrcode"],"quad":[[[2030.0,145.0],[2137.0,145.0],[21'
    '37.0,252.0],[2030.0,252.0]]],"confidence":[null]}},"layouts":[{"quantity":0}],"rest":{"d'
    'ocument":{"id":"doc-1","filename":"scan.pdf","media_type":"application/pdf","sha256":"cd'
    'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","size":1234},"header":{"'
    'shipper":"深圳电池有限公司"},"loose_codes":[{"raw":"(01)06901234567892","source":{"document_id":'
    '"doc-1","page":1,"sheet":null,"row":null,"cell":null,"bbox":null,"line":null},"method":"'
    'ocr","symbology":null,"quad":null,"confidence":0.93}],"problems":[{"kind":"ocr_low_confi'
    'dence","message":"Low confidence","source":{"document_id":"doc-1","page":1,"sheet":null,'
    '"row":null,"cell":null,"bbox":null,"line":null},"line_no":"2","severity":"warn"}],"pages'
    '":3,"method":"pdf_scan"}}'
)


def test_the_dict_form_of_an_extraction_is_unchanged():
    text = json.dumps(
        extraction_to_dict(WIRE_EXTRACTION), ensure_ascii=False, separators=(",", ":")
    )
    assert text == DICT_FORM
    assert extraction_from_dict(json.loads(DICT_FORM)) == WIRE_EXTRACTION


def test_the_sandbox_wire_form_is_unchanged():
    assert dumps(WIRE_EXTRACTION) == WIRE
    assert loads(WIRE) == WIRE_EXTRACTION


def test_a_spreadsheet_line_sends_its_field_cells_as_column_letters():
    row = SourceRef("doc-1", sheet="PL", row=8, cell="A8", line="1")
    line = ManifestLine(
        source=row,
        line_no="1",
        codes=(CodeOccurrence("X", dataclasses.replace(row, cell="J8"), ExtractionMethod.CELL),),
        field_sources={
            "lot": dataclasses.replace(row, cell="E8"),
            "carton": SourceRef("doc-1", sheet="PL", row=7, cell="E7"),  # another row
        },
    )
    ex = Extraction(Document("doc-1", "a.xlsx", "x", "0" * 64), lines=(line,))
    wire = json.loads(dumps(ex))
    assert wire["refs"] == [["doc-1", None, "PL", 7, "E7", None, None]]
    assert wire["lines"]["source"]["cell"] == ["A"]
    assert wire["lines"]["codes"]["source"] == ["J"]
    assert wire["layouts"] == [{"lot": "E", "carton": 0}]
    back = loads(json.dumps(wire))
    assert back == ex
    assert back.lines[0].field_sources["lot"] == dataclasses.replace(row, cell="E8")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda w: w.update(wire=1), "wire"),
        (lambda w: w["refs"][0].__setitem__(3, "8"), "row"),
        (lambda w: w["refs"][0].__setitem__(5, [1.0, 2.0]), "bbox"),
        (lambda w: w["layouts"][0].__setitem__("lot", 5), "layouts"),
        (lambda w: w["layouts"][0].__setitem__("lot", -1), "layouts"),
        (lambda w: w["layouts"][0].__setitem__("lot", True), "layouts"),
        (lambda w: w["layouts"][0].__setitem__("lot", ["E8", "F8"]), "layouts"),
        (lambda w: w["lines"]["codes"].__setitem__("method", ["telepathy"]), "method"),
        (lambda w: w["lines"].__setitem__("quantity", ["2"]), "quantity"),
        (lambda w: w["lines"]["source"].__setitem__("row", ["8"]), "row"),
        (lambda w: w["lines"]["source"].__setitem__("row", [None]), "source"),
        (lambda w: w["lines"].__setitem__("n", 2), "lines"),
        (lambda w: w["lines"].__setitem__("n", 10**9), "n"),
        (lambda w: w["lines"].__setitem__("n", True), "n"),
        (lambda w: w["lines"].__setitem__("extra", [{"remark": 3}]), "extra"),
        (lambda w: w["lines"].__setitem__("field_sources", {"k": [0], "i": [5]}), "field"),
        (lambda w: w["lines"].__setitem__("lot", {"k": ["a", "b"]}), "lot"),
        (lambda w: w["lines"].__setitem__("lot", {"k": ["a"], "i": [-1]}), "lot"),
        (lambda w: w["lines"]["codes"].__setitem__("count", [-1]), "count"),
        (lambda w: w["lines"]["codes"].__setitem__("count", [2]), "codes"),
        (lambda w: w["lines"]["codes"].__setitem__("count", [10**9]), "count"),
        (lambda w: w["lines"]["codes"]["source"].__setitem__(0, 7), "codes"),
        (lambda w: w["lines"].pop("model"), "model"),
    ],
)
def test_the_parent_refuses_a_wire_form_that_does_not_fit(change, where):
    ex = Extraction(
        Document("doc-1", "a.xlsx", "x", "0" * 64),
        lines=(
            ManifestLine(
                source=SourceRef("doc-1", sheet="PL", row=8, cell="A8"),
                line_no="1",
                quantity=2.0,
                extra={"remark": "ok"},
                codes=(CodeOccurrence("X", SourceRef("doc-1"), ExtractionMethod.CELL),),
                field_sources={"lot": SourceRef("doc-1", sheet="PL", row=8, cell="E8")},
            ),
        ),
    )
    wire = json.loads(dumps(ex))
    change(wire)
    with pytest.raises(CodecError) as caught:
        loads(json.dumps(wire))
    assert where in str(caught.value)


TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.just(GS), max_size=20)
REFS = st.builds(
    SourceRef,
    document_id=TEXT,
    page=st.none() | st.integers(1, 10_000),
    sheet=st.none() | TEXT,
    row=st.none() | st.integers(1, 1_048_576),
    cell=st.none() | TEXT,
    bbox=st.none() | st.tuples(*[st.floats(allow_nan=False, allow_infinity=False)] * 4),
    line=st.none() | TEXT,
)
CODES = st.builds(
    CodeOccurrence,
    raw=TEXT,
    source=REFS,
    method=st.sampled_from(ExtractionMethod),
    symbology=st.none() | TEXT,
    quad=st.none()
    | st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), max_size=4).map(tuple),
    confidence=st.none() | st.floats(0, 1),
)
LINES = st.builds(
    ManifestLine,
    source=REFS,
    line_no=st.none() | TEXT,
    quantity=st.none() | st.floats(0, 1e6),
    extra=st.dictionaries(TEXT, TEXT, max_size=3),
    codes=st.lists(CODES, max_size=3).map(tuple),
    field_sources=st.dictionaries(TEXT, REFS, max_size=3),
)


@given(
    st.builds(
        Extraction,
        document=st.builds(Document, TEXT, TEXT, TEXT, TEXT, st.integers(0, 2**40)),
        header=st.dictionaries(TEXT, TEXT, max_size=3),
        lines=st.lists(LINES, max_size=3).map(tuple),
        loose_codes=st.lists(CODES, max_size=2).map(tuple),
        problems=st.lists(
            st.builds(ExtractionProblem, TEXT, TEXT, st.none() | REFS, st.none() | TEXT,
                      st.sampled_from(Severity)),
            max_size=2,
        ).map(tuple),
        pages=st.none() | st.integers(0, 5000),
        method=st.none() | TEXT,
    )
)  # fmt: skip
def test_any_extraction_survives_the_sandbox_trip(ex):
    assert loads(dumps(ex)) == ex
