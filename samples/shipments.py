"""Sample shipments with known content: manifests (XLSX), registry records and expectations.

Each sample builds its XLSX manifest with openpyxl, the `Extraction` that manifest holds (cell
by cell, so rules and reports can be tested without a parser), the registry records the
platform would answer with, and the verdict and finding codes the check must produce.
`large_shipment(n)` builds an n-unit manifest and registry for the benchmark.

The same rows can be written as the other documents forwarders send: `manifest_csv` (the
sheet's cells as CSV, same row numbers), `manifest_pdf` (a text PDF table), `text_pdf` (free
lines of text) and `label_photo` (a label carrying barcodes, as a PNG photo).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook

from gateway.domain import (
    CodeOccurrence,
    Document,
    Extraction,
    ExtractionMethod,
    ManifestLine,
    RegistrationRecord,
    RegistrationStatus,
    SourceRef,
    Verdict,
)
from gateway.gs1 import check_digit
from gateway.pipeline import DocumentInput, ShipmentFacts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "Packing List"
# Columns of the sample manifests, left to right: (field, English header, Chinese header)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("line_no", "No.", "序号"),
    ("description", "Description", "品名"),
    ("model", "Model", "型号"),
    ("quantity", "Qty", "数量"),
    ("lot", "Lot No.", "批次号"),
    ("hs_code", "HS Code", "HS编码"),
    ("un_number", "UN No.", "UN编号"),
    ("net_kg", "N.W. (kg)", "净重"),
    ("gross_kg", "G.W. (kg)", "毛重"),
    ("codes", "Battery Code", "电池编码"),
)
# The same columns plus the carton number, for packing lists that say what is in which box.
COLUMNS_WITH_CARTON = (*COLUMNS, ("carton", "Carton No.", "箱号"))
HEADER_ROW = 7  # the table's header row, or the row below a longer title block
# Title-block labels as the sample documents print them (English and Chinese); a key not
# listed here is printed as it is, so a document may use its own wording.
HEADER_LABELS = {
    "shipper": "Shipper 发货人",
    "consignee": "Consignee 收货人",
    "destination": "Destination 目的国",
    "invoice_no": "Invoice No. 发票号",
    "dg_packaging_cert": "DG Packaging Cert 危包证",
    "msds": "MSDS No. 安全技术说明书",
    "dg_declaration": "DG Declaration 危险货物申报单",
    "declaration_elements": "Declaration elements 申报要素",
}
TODAY = dt.date(2026, 11, 20)
FIXED_CLOCK = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def gtin_with_check_digit(body13: str) -> str:
    """A 14-digit GTIN from its first 13 digits (GS1 mod-10)."""
    return body13 + check_digit(body13)


GTIN_PACK = gtin_with_check_digit("0690123456789")
GTIN_CABINET = gtin_with_check_digit("0690123400012")


@dataclass(frozen=True)
class Row:
    """One manifest row as written into the sample XLSX."""

    line_no: str
    description: str
    model: str
    quantity: float | str  # a string is written as the user typed it, e.g. "1e400"
    lot: str
    hs_code: str
    un_number: str
    net_kg: float
    gross_kg: float
    codes: tuple[str, ...]
    carton: str = ""


@dataclass(frozen=True)
class SampleShipment:
    """A shipment whose content and expected outcome are known."""

    name: str
    facts: ShipmentFacts
    documents: tuple[DocumentInput, ...]
    extractions: Mapping[str, Extraction]  # document id -> what the document holds
    records: tuple[RegistrationRecord, ...]
    expected_verdict: Verdict
    expected_codes: frozenset[str] = field(default_factory=frozenset)

    def extract(self, item: DocumentInput) -> Extraction:
        """The known content of one of this sample's documents (an extractor for tests)."""
        return self.extractions[item.document.id]


def header_row(header: Mapping[str, str]) -> int:
    """The row of the column headers: `HEADER_ROW`, or right below a longer title block."""
    return max(HEADER_ROW, len(header) + 2)


def build_manifest(
    document_id: str,
    filename: str,
    header: Mapping[str, str],
    rows: Sequence[Row],
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
    title: str = "PACKING LIST 装箱单",
) -> tuple[DocumentInput, Extraction]:
    """Write a bilingual packing list to XLSX and describe what it holds."""
    letter = {name: chr(ord("A") + i) for i, (name, _, _) in enumerate(columns)}
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws["A1"] = title
    for offset, (key, value) in enumerate(header.items()):
        ws.cell(row=2 + offset, column=1, value=HEADER_LABELS.get(key, key))
        ws.cell(row=2 + offset, column=2, value=value)
    for col, (_, en, zh) in enumerate(columns, start=1):
        ws.cell(row=header_row(header), column=col, value=f"{zh}\n{en}")
    lines: list[ManifestLine] = []
    for offset, row in enumerate(rows):
        r = header_row(header) + 1 + offset
        values = dataclasses.asdict(row)
        values["codes"] = "\n".join(row.codes)
        for col, (name, _, _) in enumerate(columns, start=1):
            written = None if values[name] == "" else values[name]
            cell = ws.cell(row=r, column=col, value=written)
            if isinstance(written, str):
                cell.data_type = "s"  # a model such as "=X" is text in the user's file too

        def ref(name: str, r: int = r) -> SourceRef:
            return SourceRef(document_id=document_id, sheet=SHEET, row=r, cell=f"{letter[name]}{r}")

        lines.append(
            ManifestLine(
                source=SourceRef(
                    document_id=document_id, sheet=SHEET, row=r, cell=f"A{r}", line=row.line_no
                ),
                line_no=row.line_no,
                description=row.description,
                model=row.model,
                quantity=row.quantity if not isinstance(row.quantity, str) else None,
                lot=row.lot,
                hs_code=row.hs_code.replace(".", ""),
                un_number=row.un_number,
                net_kg=row.net_kg,
                gross_kg=row.gross_kg,
                destination=header.get("destination"),
                carton=row.carton or None if "carton" in letter else None,
                codes=tuple(
                    CodeOccurrence(raw=code, source=ref("codes"), method=ExtractionMethod.CELL)
                    for code in row.codes
                ),
                field_sources={
                    name: ref(name)
                    for name in (
                        "description",
                        "model",
                        "quantity",
                        "lot",
                        "hs_code",
                        "un_number",
                        "net_kg",
                        "gross_kg",
                        "carton",
                    )
                    if name in letter and (name != "carton" or row.carton)
                },
            )
        )
    wb.properties.created = dt.datetime(2026, 11, 1)
    out = io.BytesIO()
    wb.save(out)
    data = _reproducible(out.getvalue())
    document = Document(
        id=document_id,
        filename=filename,
        media_type=XLSX,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    extraction = Extraction(
        document=document, header=dict(header), lines=tuple(lines), method="xlsx"
    )
    return DocumentInput(document, data), extraction


def _reproducible(xlsx: bytes) -> bytes:
    """The same workbook bytes on every run: fixed ZIP times and a fixed modified date.

    openpyxl stamps the save time, which would change the document's SHA-256 (and with it
    every golden file) from run to run.
    """
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-11-01T00:00:00Z\g<2>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return out.getvalue()


def registry_csv(records: Sequence[RegistrationRecord]) -> bytes:
    """The records as a registry export (CSV, field names as headers) for `--registry`."""
    headers = {
        "record_id": "Record ID",
        "manufacturer_name": "Manufacturer",
        "rated_capacity_ah": "Rated capacity (Ah)",
        "gtin": "GTIN",
        "serial": "Serial",
        "gb_code": "GB code",
        "status": "Status",
        "lot": "Lot",
        "category": "Category",
        "level": "Level",
        "model": "Model",
        "design_id": "Design ID",
        "chemistry": "Chemistry",
        "rated_energy_kwh": "Rated energy (kWh)",
        "mass_kg": "Mass (kg)",
        "specific_energy_wh_per_kg": "Specific energy",
        "un_number": "UN number",
        "un38_3_summary_ref": "UN38.3 summary",
        "manufacturing_date": "Manufacturing date",
        "exporter_uscc": "Exporter USCC",
        "destination_country": "Destination country",
        "passport_url": "Passport URL",
        "unique_identifier": "EU unique identifier",
        "doc_url": "DoC URL",
        "ce_marked": "CE marked",
        "reason_code": "Reason code",
        "missing_fields": "Missing fields",
        "grace_until": "Grace until",
    }
    names = list(headers)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers.values())
    for record in records:
        row = []
        for name in names:
            value = getattr(record, name)
            if isinstance(value, tuple):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            row.append("" if value is None else str(value))
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def pack_record(serial: str, **changes: object) -> RegistrationRecord:
    """A complete, registered NEV traction pack bound for Germany."""
    record = RegistrationRecord(
        record_id=f"REC-{serial}",
        status=RegistrationStatus.REGISTERED,
        source="registry",
        gtin=GTIN_PACK,
        serial=serial,
        gs1_element_string=f"(01){GTIN_PACK}(21){serial}",
        category="nev_traction",
        level="pack",
        design_id="D-P75",
        model="EVP-75",
        chemistry="NCM",
        rated_energy_kwh=75.0,
        rated_capacity_ah=206.0,
        mass_kg=450.0,
        specific_energy_wh_per_kg=166.7,
        manufacturer_name="Shanghai Example Power Co., Ltd.",
        un_number="UN3480",
        un38_3_summary_ref="UN383-EVP75-2026",
        manufacturing_date=dt.date(2026, 9, 1),
        lot="L2609A",
        exporter_uscc="91310000MA1K4ABC2X",
        destination_country="DE",
        passport_url=f"https://id.example-battery.cn/01/{GTIN_PACK}/21/{serial}",
        unique_identifier=f"(01){GTIN_PACK}(21){serial}",
        doc_url="https://docs.example-battery.cn/doc/EVP-75.pdf",
        ce_marked=True,
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def _pack_row(line_no: int, serial: str, **changes: object) -> Row:
    row = Row(
        line_no=str(line_no),
        description="Lithium-ion battery pack 锂离子电池包",
        model="EVP-75",
        quantity=1,
        lot="L2609A",
        hs_code="8507.60.0020",
        un_number="UN3480",
        net_kg=450.0,
        gross_kg=480.0,
        codes=(f"(01){GTIN_PACK}(21){serial}",),
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


_HEADER_DE = {
    "shipper": "Shanghai Example Power Co., Ltd. USCC 91310000MA1K4ABC2X",
    "consignee": "Example Energy GmbH, Hamburg, EORI DE123456789012345",
    "destination": "DE",
    "invoice_no": "INV-2026-1120",
    "dg_packaging_cert": "CIQ-DG-2026-0815",
}


# A complete title block: the DG declaration, the SDS and the declaration elements cited.
_HEADER_DE_COMPLETE = {
    **_HEADER_DE,
    "msds": "SDS-EVP75-2026",
    "dg_declaration": "DGD-2026-1120",
    "declaration_elements": (
        "品牌类型:1|出口享惠情况:3|用途:电动汽车用|电极材料:NCM|比能量:166.7Wh/kg|"
        f"品牌:EXAMPLE|型号:EVP-75|容量:206Ah|汞含量:无汞|额定电压:364V|GTIN:{GTIN_PACK}|CAS:无"
    ),
}


def clean_to_germany() -> SampleShipment:
    """Three registered NEV packs to Germany, every record and document complete: clear."""
    serials = ("PK0001", "PK0002", "PK0003")
    rows = [_pack_row(i, s) for i, s in enumerate(serials, start=1)]
    doc, extraction = build_manifest("doc-1", "packing_list_DE.xlsx", _HEADER_DE_COMPLETE, rows)
    return SampleShipment(
        name="clean_to_germany",
        facts=ShipmentFacts(
            shipment_id="SHP-CLEAN",
            reference="INV-2026-1120",
            destination="DE",
            transport_mode="sea",
        ),
        documents=(doc,),
        extractions={doc.document.id: extraction},
        records=tuple(pack_record(s) for s in serials),
        expected_verdict=Verdict.CLEAR,
        expected_codes=frozenset({"RULESET_AND_PLATFORM", "EU_CATEGORY", "VAT_REBATE_RATE"}),
    )


def problems_to_germany() -> SampleShipment:
    """A manifest with typical mistakes, one of each kind the report must explain: block."""
    good = ("PK0101", "PK0102", "PK0103", "PK0104")
    typo = f"(01){GTIN_PACK}(21)PK0110"  # registered serial is PK0101: two digits swapped
    bad_check = f"(01){GTIN_PACK[:-1]}{(int(GTIN_PACK[-1]) + 1) % 10}(21)PK0102"
    rows = [
        _pack_row(1, good[0]),
        _pack_row(2, good[1], codes=(typo,)),
        _pack_row(3, good[2], codes=(bad_check,), quantity=2),
        _pack_row(4, good[3], lot="L2609B", net_kg=490.0),
        _pack_row(5, good[0]),  # the unit of line 1 again
        _pack_row(6, "PK0199", model='=HYPERLINK("http://x")'),
    ]
    doc, extraction = build_manifest("doc-1", "packing_list_errors.xlsx", _HEADER_DE, rows)
    records = (
        pack_record(good[0]),
        pack_record(good[1]),
        pack_record(good[2], status=RegistrationStatus.REVOKED, reason_code="RECALL"),
        pack_record(good[3]),
        pack_record(
            "PK0199",
            status=RegistrationStatus.NEEDS_CORRECTION,
            missing_fields=("site_gln",),
            grace_until=dt.date(2026, 12, 31),
        ),
    )
    return SampleShipment(
        name="problems_to_germany",
        facts=ShipmentFacts(
            shipment_id="SHP-ERRORS",
            reference="INV-2026-1121",
            destination="DE",
            transport_mode="sea",
        ),
        documents=(doc,),
        extractions={doc.document.id: extraction},
        records=records,
        expected_verdict=Verdict.BLOCK,
        expected_codes=frozenset(
            {
                "UNIT_NOT_REGISTERED",
                "CHECK_DIGIT_INVALID",
                "QUANTITY_CODE_COUNT_MISMATCH",
                "LOT_MISMATCH",
                "NET_EXCEEDS_GROSS",
                "DUPLICATE_UNIT_CODE",
                "MODEL_MISMATCH",
                "REGISTRATION_NEEDS_CORRECTION",
            }
        ),
    )


def ess_by_air() -> SampleShipment:
    """Energy-storage cabinets by air to the US with a GB/T label code: block (air limits)."""
    serials = ("CAB01", "CAB02")
    header = {
        "shipper": "Example Storage Co., Ltd.",
        "consignee": "Example Grid Inc.",
        "destination": "US",
        "invoice_no": "INV-2026-2001",
    }
    rows = [
        Row(
            line_no=str(i),
            description="Energy storage cabinet 储能柜",
            model="ESS-215",
            quantity=1,
            lot="L2610C",
            hs_code="8507600090",
            un_number="UN3536",
            net_kg=2100.0,
            gross_kg=2300.0,
            codes=(f"(01){GTIN_CABINET}(21){s}",),
        )
        for i, s in enumerate(serials, start=1)
    ]
    doc, extraction = build_manifest("doc-1", "ess_air.xlsx", header, rows)
    records = tuple(
        RegistrationRecord(
            record_id=f"REC-{s}",
            status=RegistrationStatus.REGISTERED,
            source="registry",
            gtin=GTIN_CABINET,
            serial=s,
            category="ci_ess",
            level="system",
            model="ESS-215",
            chemistry="LFP",
            rated_energy_kwh=215.0,
            mass_kg=2100.0,
            specific_energy_wh_per_kg=102.0,
            lot="L2610C",
            destination_country="US",
            un38_3_summary_ref="UN383-ESS215",
        )
        for s in serials
    )
    return SampleShipment(
        name="ess_by_air",
        facts=ShipmentFacts(
            shipment_id="SHP-AIR",
            reference="INV-2026-2001",
            destination="US",
            transport_mode="air",
        ),
        documents=(doc,),
        extractions={doc.document.id: extraction},
        records=records,
        expected_verdict=Verdict.BLOCK,
        expected_codes=frozenset({"AIR_UN3536_FORBIDDEN", "AIR_PACKAGE_OVER_LIMIT"}),
    )


def details_to_poland() -> SampleShipment:
    """A packing list and its DG declaration to Poland whose paperwork disagrees: block.

    Every unit is registered and verified; what is wrong is the paperwork: the declaration
    elements are incomplete and name another GTIN, one line names no carton, and the DG
    declaration states UN3481 where the packing list says UN3480.
    """
    serials = ("PK0201", "PK0202", "PK0203")
    header = {
        "shipper": "Shanghai Example Power Co., Ltd. USCC 91310000MA1K4ABC2X",
        "consignee": "Example Magazyn Sp. z o.o., Gdansk, EORI PL1234567890",
        "destination": "PL",
        "invoice_no": "INV-2026-1201",
        "dg_packaging_cert": "CIQ-DG-2026-0901",
        "msds": "SDS-EVP75-2026",
        "declaration_elements": f"品牌类型:1|用途:电动汽车用|型号:EVP-75|GTIN:{GTIN_CABINET}",
    }
    rows = [
        _pack_row(1, serials[0], carton="C01"),
        _pack_row(2, serials[1], carton="C01"),
        _pack_row(3, serials[2]),  # no carton number
    ]
    packing, packing_extraction = build_manifest(
        "doc-1", "packing_list_PL.xlsx", header, rows, columns=COLUMNS_WITH_CARTON
    )
    dgd_rows = [dataclasses.replace(row, un_number="UN3481", carton="") for row in rows]
    dgd, dgd_extraction = build_manifest(
        "doc-2",
        "dg_declaration_PL.xlsx",
        {"shipper": header["shipper"], "destination": "PL", "dg_declaration": "DGD-2026-1201"},
        dgd_rows,
        title="DANGEROUS GOODS DECLARATION 危险货物申报单",
    )
    return SampleShipment(
        name="details_to_poland",
        facts=ShipmentFacts(
            shipment_id="SHP-DETAILS",
            reference="INV-2026-1201",
            destination="PL",
            transport_mode="sea",
        ),
        documents=(packing, dgd),
        extractions={
            packing.document.id: packing_extraction,
            dgd.document.id: dgd_extraction,
        },
        records=tuple(pack_record(s, destination_country="PL") for s in serials),
        expected_verdict=Verdict.BLOCK,
        expected_codes=frozenset(
            {
                "DECLARATION_ELEMENTS_INCOMPLETE",
                "DECLARATION_GTIN_MISMATCH",
                "UNITS_WITHOUT_PACKAGE",
                "DG_DECLARATION_INCONSISTENT",
            }
        ),
    )


SAMPLES: dict[str, Callable[[], SampleShipment]] = {
    "clean_to_germany": clean_to_germany,
    "problems_to_germany": problems_to_germany,
    "ess_by_air": ess_by_air,
    "details_to_poland": details_to_poland,
}


def large_shipment(units: int) -> tuple[DocumentInput, tuple[RegistrationRecord, ...]]:
    """An n-unit packing list (one unit per row) and the registry that knows every unit."""
    serials = [f"PK{i:07d}" for i in range(units)]
    rows = [_pack_row(i + 1, s) for i, s in enumerate(serials)]
    header = dict(_HEADER_DE)
    doc, _ = build_manifest("doc-1", f"large_{units}.xlsx", header, rows)
    return doc, tuple(pack_record(s) for s in serials)


def _cell_text(value: object) -> str:
    if isinstance(value, tuple):
        return "\n".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def manifest_table(
    header: Mapping[str, str],
    rows: Sequence[Row],
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
    title: str = "PACKING LIST 装箱单",
) -> list[list[str]]:
    """The cells `build_manifest` writes, as text rows: title, title block, table.

    Row numbers are the workbook's: the title block starts on row 2, the column headers are
    on row `header_row(header)`, so a finding's cell is the same in the XLSX and its CSV copy.
    """
    table: list[list[str]] = [[title]]
    table.extend([HEADER_LABELS.get(key, key), value] for key, value in header.items())
    table.extend([] for _ in range(header_row(header) - 1 - len(table)))
    table.append([f"{zh}\n{en}" for _, en, zh in columns])
    for row in rows:
        values = dataclasses.asdict(row)
        values["codes"] = row.codes
        table.append([_cell_text(values[name]) for name, _, _ in columns])
    return table


def manifest_csv(
    header: Mapping[str, str],
    rows: Sequence[Row],
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
    title: str = "PACKING LIST 装箱单",
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """The manifest as the CSV a spreadsheet exports (UTF-8 by default, same rows as XLSX)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(manifest_table(header, rows, columns, title))
    return out.getvalue().encode(encoding)


def manifest_pdf(
    header: Mapping[str, str],
    rows: Sequence[Row],
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
    title: str = "PACKING LIST",
) -> bytes:
    """The manifest as a text PDF (reportlab): title block lines above a ruled table.

    Only the English headers and labels are printed (the PDF's standard fonts have no Chinese
    glyphs); values are written as given, so keep them ASCII.
    """
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Table, TableStyle

    size = landscape(A4)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=True)
    c.setFont("Helvetica", 10)
    y = size[1] - 40
    c.drawString(30, y, title)
    for key, value in header.items():
        y -= 14
        label = HEADER_LABELS.get(key, key).split(" ")
        english = " ".join(word for word in label if word.isascii())
        c.drawString(30, y, f"{english}: {value}")
    table = [[en for _, en, _ in columns]]
    for row in rows:
        values = dataclasses.asdict(row)
        values["codes"] = row.codes
        table.append([_cell_text(values[name]) for name, _, _ in columns])
    widths = [230.0 if name == "codes" else 62.0 for name, _, _ in columns]
    t = Table(table, colWidths=widths)
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0)),
            ]
        )
    )
    _, height = t.wrapOn(c, size[0], size[1])
    t.drawOn(c, 20, y - 20 - height)
    c.showPage()
    c.save()
    return buf.getvalue()


def text_pdf(lines: Sequence[str], title: str = "PACKING LIST") -> bytes:
    """A one-page text PDF holding these lines of free text under a title."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setFont("Helvetica", 11)
    y = A4[1] - 60
    c.drawString(50, y, title)
    for text in lines:
        y -= 18
        c.drawString(50, y, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def label_photo(codes: Sequence[tuple[str, str]], *, seed: int = 0) -> bytes:
    """A clean label photo (PNG) carrying these symbols, top to bottom.

    Each code is (symbology, encoder input) as `samples.labels` draws them: "gs1-128",
    "gs1-datamatrix" and "gs1-qrcode" take HRI such as "(01)09506000134352(21)SN1" (the
    writer does not check the check digit, so a wrong one is drawn as given); "ean13",
    "code128", "qrcode" and "datamatrix" take the plain text.
    """
    import cv2
    import numpy as np

    from samples.labels import LabelCode, draw_label

    drawn = [
        (LabelCode(text, symbology.startswith("gs1-"), symbology), text)
        for symbology, text in codes
    ]
    image = draw_label(drawn, np.random.default_rng(seed))
    ok, png = cv2.imencode(".png", image)
    if not ok:
        msg = "the label could not be encoded as PNG"
        raise RuntimeError(msg)
    return bytes(png.tobytes())
