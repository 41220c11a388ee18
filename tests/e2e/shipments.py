"""Shipments for the end-to-end tests, built from the sample generators' bytes.

Every shipment is what a user uploads: documents written by `samples.shipments` (XLSX with
openpyxl, CSV, text PDF with reportlab, label photos with the barcode writers of
`samples.labels`) and the registry export the exporter downloads (`registry_csv`).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

from gateway.domain import RegistrationRecord
from samples import shipments as s
from samples.manifests import gb_code
from tests.doors import Shipment

GTIN = s.GTIN_PACK
BAD_GTIN = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)  # the check digit off by one

# A title block that states everything the German rules ask for (the samples' wording).
HEADER_DE = {
    "shipper": "Shanghai Example Power Co., Ltd. USCC 91310000MA1K4ABC2X",
    "consignee": "Example Energy GmbH, Hamburg, EORI DE123456789012345",
    "destination": "DE",
    "invoice_no": "INV-2026-1120",
    "dg_packaging_cert": "CIQ-DG-2026-0815",
    "msds": "SDS-EVP75-2026",
    "dg_declaration": "DGD-2026-1120",
    "declaration_elements": (
        "品牌类型:1|出口享惠情况:3|用途:电动汽车用|电极材料:NCM|比能量:166.7Wh/kg|"
        f"品牌:EXAMPLE|型号:EVP-75|容量:206Ah|汞含量:无汞|额定电压:364V|GTIN:{GTIN}|CAS:无"
    ),
}
# The codes column of `samples.shipments.COLUMNS` is J; the quantity column D, gross I.
CODES, QTY, NET, GROSS = "J", "D", "H", "I"
FIRST_ROW = s.header_row(HEADER_DE) + 1  # the first line's row under HEADER_DE


def code(serial: str, gtin: str = GTIN) -> str:
    """A pack's GS1 element string in HRI."""
    return f"(01){gtin}(21){serial}"


def row(line: int, serial: str, **changes: object) -> s.Row:
    """A manifest row of one registered pack (the samples' pack row)."""
    return s._pack_row(line, serial, **changes)


def ascii_row(line: int, serial: str, **changes: object) -> s.Row:
    """A pack row with an English-only description, for PDF manifests."""
    return dataclasses.replace(row(line, serial, **changes), description="Lithium-ion battery pack")


def registry(records: Sequence[RegistrationRecord]) -> tuple[str, bytes]:
    """The exporter's registry export (CSV) of these records."""
    return ("registry.csv", s.registry_csv(records))


def packs(*serials: str, **changes: object) -> tuple[RegistrationRecord, ...]:
    """Complete registrations of these packs (to Germany)."""
    return tuple(s.pack_record(serial, **changes) for serial in serials)


def document(
    fmt: str,
    filename: str,
    header: dict[str, str],
    rows: Sequence[s.Row],
    columns: Sequence[tuple[str, str, str]] = s.COLUMNS,
    title: str = "PACKING LIST 装箱单",
) -> tuple[str, bytes]:
    """A manifest as XLSX, CSV or text PDF: (filename with extension, bytes)."""
    name = f"{filename}.{fmt}"
    if fmt == "xlsx":
        return name, s.build_manifest("doc", name, header, rows, columns, title)[0].data
    if fmt == "csv":
        return name, s.manifest_csv(header, rows, columns, title)
    if fmt == "pdf":
        english = title.split(" ")[0] if title.isascii() else "PACKING LIST"
        return name, s.manifest_pdf(header, rows, columns, english)
    raise ValueError(fmt)


def shipment(name: str, documents: Sequence[tuple[str, bytes]], **facts: object) -> Shipment:
    """A shipment to Germany by sea unless the facts say otherwise."""
    values: dict[str, object] = {"destination": "DE", "transport_mode": "sea", "reference": name}
    values.update(facts)
    return Shipment(name=name, documents=tuple(documents), **values)  # type: ignore[arg-type]


def gb_code_of(serial: int) -> str:
    """A GB/T 34014 code of a battery pack, the same for the same serial number."""
    drawn = gb_code(random.Random(serial), serial)
    return drawn[:3] + "P" + drawn[4:]  # the product type: a pack, as registered
