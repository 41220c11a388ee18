"""Sample manifests with known content, for tests, the benchmark and the demo.

Every builder returns the document's bytes and what a correct extractor must read from it
(`Expected`): one record per identifier with its line fields, and the lines whose
identifiers the document itself destroyed. Nothing here reads files from outside the
project: the fixtures are written by this code.

    from samples.manifests import write_samples
    paths = write_samples(Path("out"))   # xlsx, csv, text PDF (+ .expected.json beside each)
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gateway.gs1 import check_digit

COUNTRIES = [
    ("DE", "德国", "Germany"), ("FR", "法国", "France"), ("NL", "荷兰", "Netherlands"),
    ("ES", "西班牙", "Spain"), ("IT", "意大利", "Italy"), ("PL", "波兰", "Poland"),
]  # fmt: skip


@dataclass
class Expected:
    """What a document holds: records (one per identifier) and destroyed-identifier lines."""

    records: list[dict[str, Any]] = field(default_factory=list)
    error_lines: list[int] = field(default_factory=list)


def gtin(rng: random.Random, prefix: str = "0690") -> str:
    """A 14-digit GTIN with a correct check digit (leading zero: a GTIN-13 in 14 digits)."""
    body = prefix + "".join(rng.choice("0123456789") for _ in range(13 - len(prefix)))
    return body + check_digit(body)


def sscc(rng: random.Random) -> str:
    body = "0" + "690123" + "".join(rng.choice("0123456789") for _ in range(10))
    return body + check_digit(body)


def gb_code(rng: random.Random, serial: int) -> str:
    """A 24-character GB/T 34014 code: maker, type, chemistry, spec, trace, date, serial."""
    alnum = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    return (
        "0" + rng.choice("ABCDEFGH") + rng.choice("0123456789") + rng.choice("PMC") + "B"
        + "".join(rng.choice(alnum) for _ in range(9)) + "R4P" + f"{serial:07d}"
    )  # fmt: skip


def gb45565_code(rng: random.Random, serial: int, *, reused: bool = False) -> str:
    """A GB/T 45565 code: enterprise code (4), product type and type codes, `-`, `R-` for a
    re-used battery, the unique part."""
    alnum = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    enterprise = "".join(rng.choice(alnum) for _ in range(4))
    kind = (
        rng.choice("ABCDEFGHJKMPS")
        + rng.choice("ABCDE")
        + "".join(rng.choice(alnum) for _ in range(4))
    )
    return f"{enterprise}{kind}-{'R-' if reused else ''}25{rng.choice('ABCDEF')}{serial:07d}"


def _record(line: int, code: dict[str, str] | str, lot: str | None, qty: float, dest: str,
            hs: str = "85076000", un: str = "UN3480") -> dict[str, Any]:  # fmt: skip
    return {"line": line, "code": code, "lot": lot, "qty": qty, "destination": dest,
            "hs_code": hs, "un_number": un}  # fmt: skip


# ----------------------------------------------------------------------------- xlsx


def build_xlsx(seed: int = 1) -> tuple[bytes, Expected]:
    """Bilingual packing list: title block, two-row header, merged cells, mixed code forms,
    a GTIN stored as a number, an SSCC destroyed by Excel, a second sheet per container."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "CNTR1"
    exp = Expected()
    ws["A1"] = "示例储能有限公司 Example Energy Storage Co., Ltd."
    ws.merge_cells("A1:J1")
    ws["A2"] = "装箱单 PACKING LIST"
    ws.merge_cells("A2:J2")
    ws["A4"], ws["B4"] = "发货人 Shipper:", "Example Energy Storage Co., Ltd."
    ws["F4"], ws["G4"] = (
        "报关单号 Customs Decl. No.:",
        "".join(rng.choice("0123456789") for _ in range(18)),
    )
    ws["A5"], ws["B5"] = "目的国 Country of Destination:", "德国 Germany"
    ws["A6"], ws["B6"] = "备注 Remarks:", "UN 3480, Class 9"
    headers = ["序号", "品名", "条码", "批次号", "数量", "重量", None, "HS编码", "箱号", "Pkg"]
    headers2 = ["No.", "Description", "Battery ID", "Lot No.", "Q'ty", "毛重 Gross", "净重 Net",
                "HS Code", "Carton No.", None]  # fmt: skip
    ws.append([])
    ws.append(headers)
    ws.append(headers2)
    ws.merge_cells("F8:G8")
    row = 10
    g = gtin(rng)
    forms = ["hri", "hri_sp", "raw", "dl", "gb", "gb45565", "sscc_grp", "multi", "vmerge"]
    for line, form in enumerate(forms, start=1):
        lot = f"L25{line:02d}A"
        serial = f"SN25{rng.randint(100000, 999999)}"
        cells: list[Any] = [line, "Battery pack 储能电池包", None, lot, 1, 500.0 + line, 450.0,
                            "8507.60.00", f"C{line:03d}", None]  # fmt: skip
        codes: list[dict[str, str] | str] = []
        if form == "hri":
            cells[2] = f"(01){g}(10){lot}(21){serial}"
            codes.append({"01": g, "10": lot, "21": serial})
        elif form == "hri_sp":
            cells[2] = f"(01) {g} (21) {serial}"
            codes.append({"01": g, "21": serial})
        elif form == "raw":
            cells[2] = f"01{g}10{lot}_x001D_21{serial}"
            codes.append({"01": g, "10": lot, "21": serial})
        elif form == "dl":
            cells[2] = f"https://id.example.com/01/{g}/21/{serial}"
            codes.append({"01": g, "21": serial})
        elif form == "gb":
            a, b = gb_code(rng, line * 10), gb_code(rng, line * 10 + 1)
            cells[2] = f"{a[:3]} {a[3:12]} {a[12:]}\n{b}"
            codes += [a, b]
            cells[4] = 2
        elif form == "gb45565":
            a, b = gb45565_code(rng, line), gb45565_code(rng, line + 1, reused=True)
            cells[2] = f"{a}; {b}"
            codes += [a, b]
            cells[4] = 2
        elif form == "sscc_grp":
            s = sscc(rng)
            cells[2] = f"(00) {s[0]} {s[1:8]} {s[8:17]} {s[17]}"
            codes.append({"00": s})
        elif form == "multi":
            s1, s2 = f"{serial}1", f"{serial}2"
            cells[2] = f"(01){g}(21){s1}, (01){g}(21){s2}"
            codes += [{"01": g, "21": s1}, {"01": g, "21": s2}]
            cells[4] = 2
        elif form == "vmerge":
            cells[4] = 3
            extra = [f"{serial}{k}" for k in range(3)]
            cells[2] = f"(01){g}(21){extra[0]}"
            codes += [{"01": g, "21": s} for s in extra]
        ws.append(cells)
        if form == "vmerge":
            for s in extra[1:]:
                ws.append([None, None, f"(01){g}(21){s}"])
            for col in "ABDEFGHI":
                ws.merge_cells(f"{col}{row}:{col}{row + 2}")
            row += 2
        qty = float(cells[4])
        for code in codes:
            exp.records.append(_record(line, code, lot, qty, "DE"))
        row += 1
    # an SSCC that Excel stored as a float: its digits are gone
    destroyed = len(forms) + 1
    ws.append([destroyed, "Pallet", float(sscc(rng)), "L25XX", 1, 900.0, 800.0, "85076000"])
    exp.error_lines.append(destroyed)
    ws.append([None, "合计 TOTAL", None, None, 99])
    # a second sheet (one per container) with a GTIN column stored as a number
    ws2 = wb.create_sheet("CNTR2")
    ws2.append(["Item", "Product Code", "Serial No.", "Lot No.", "Qty", "Destination"])
    g2 = gtin(rng)
    for line in range(1, 4):
        serial = f"S{rng.randint(10000000, 99999999)}"
        ws2.append([line, int(g2), serial, f"B{line}", 1, "Hamburg, Germany"])
        # GTIN, serial and lot columns make one element string, as the label carries it
        rec = _record(line, {"01": g2, "10": f"B{line}", "21": serial}, f"B{line}", 1, "DE", hs="")
        rec["hs_code"] = None  # this sheet gives no HS code; the UN number is document-wide
        exp.records.append(rec)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), exp


# ----------------------------------------------------------------------------- csv


def build_csv_gbk(seed: int = 2) -> tuple[bytes, Expected]:
    """GBK, semicolon-delimited, decimal commas, Chinese headers, a GTIN in `6.9E+12` form."""
    rng = random.Random(seed)
    exp = Expected()
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow(["装箱单 PACKING LIST"])
    w.writerow(["发货人：", "示例电池有限公司"])
    w.writerow([])
    w.writerow(["序号", "品名", "商品条码", "序列号", "批号", "数量", "毛重", "目的地", "HS编码",
                "UN编号"])  # fmt: skip
    g = gtin(rng)
    for line in range(1, 7):
        code_cell = str(int(g))  # leading zero lost, as Excel exports it
        serial = f"SN{rng.randint(1000000, 9999999)}"
        dest = COUNTRIES[line % len(COUNTRIES)]
        if line == 4:
            code_cell = f"{int(g) / 1e12:.5f}E+12"
            exp.error_lines.append(line)
        else:
            code = {"01": g, "10": f"LOT{line}", "21": serial}  # the columns, joined
            exp.records.append(_record(line, code, f"LOT{line}", 1.0, dest[0], un="UN3481"))
        w.writerow([line, "电池包", code_cell, serial, f"LOT{line}", "1", f"{500 + line},50",
                    dest[1], "85076000", "UN 3481"])  # fmt: skip
    w.writerow(["", "合计", "", "", "", "6"])
    return out.getvalue().encode("gbk"), exp


# ----------------------------------------------------------------------------- pdf


def _pdf_table(c: Any, rows: list[list[str]], widths: list[float], x: float, y: float,
               *, ruled: bool) -> None:  # fmt: skip
    from reportlab.platypus import Table, TableStyle

    t = Table(rows, colWidths=widths)
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if ruled:
        style.append(("GRID", (0, 0), (-1, -1), 0.5, (0, 0, 0)))
    t.setStyle(TableStyle(style))
    _, h = t.wrapOn(c, 800, 600)
    t.drawOn(c, x, y - h)


def build_pdf(seed: int = 3, *, rotated_page: bool = True, scanned_page: bool = False,
              scan_turns: int = 0, scan_barcodes: bool = False
              ) -> tuple[bytes, Expected]:  # fmt: skip
    """A text PDF packing list over 2-3 pages: ruled first page, unruled second page (laid
    sideways with /Rotate 90), and optionally a third page that is only an image (a scan).

    The scan may lie turned by `scan_turns` quarter turns (fed sideways into the scanner)
    and may carry a QR code (a Digital Link of the line's code) at the end of every line.
    """
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    exp = Expected()
    g = gtin(rng)
    header = ["No.", "Description", "Battery Code", "Lot No.", "Qty", "Gross Weight (kg)",
              "HS Code", "UN No.", "Destination"]  # fmt: skip
    widths: list[float] = [30, 120, 230, 60, 30, 70, 60, 50, 70]
    pages: list[list[list[str]]] = []
    line = 0
    for _page in range(3 if scanned_page else 2):
        rows = [header]
        for _ in range(6):
            line += 1
            serial = f"SN{rng.randint(10000000, 99999999)}"
            lot = f"LOT{line:03d}"
            dest = COUNTRIES[line % len(COUNTRIES)]
            rows.append([str(line), "EV traction battery pack", f"(01){g}(21){serial}", lot, "1",
                         f"{480 + line}.00", "85076000", "UN3480", dest[2]])  # fmt: skip
            exp.records.append(_record(line, {"01": g, "21": serial}, lot, 1.0, dest[0]))
        pages.append(rows)
    buf = io.BytesIO()
    size = landscape(A4)
    c = canvas.Canvas(buf, pagesize=size)
    for index, rows in enumerate(pages[:2]):
        if index == 0:
            c.setFont("Helvetica", 9)
            c.drawString(30, size[1] - 40, "PACKING LIST")
            c.drawString(30, size[1] - 55, "Shipper: Example Energy Co., Ltd.")
            c.drawString(30, size[1] - 70, "Invoice No.: INV-2025-001")
        if index == 1 and rotated_page:
            c.setPageRotation(90)
        _pdf_table(c, rows, widths, 30, size[1] - 90, ruled=index == 0)
        c.showPage()
    if scanned_page:
        c.setPageRotation(0)
        scan_size = (size[1], size[0]) if scan_turns % 2 else size
        c.setPageSize(scan_size)
        image = _scan_image(pages[2], widths, turns=scan_turns, barcodes=scan_barcodes)
        c.drawImage(image, 0, 0, width=scan_size[0], height=scan_size[1])
        c.showPage()
        for rec in exp.records[-6:]:
            rec["source"] = "scan"
    c.save()
    return buf.getvalue(), exp


def _scan_image(rows: list[list[str]], widths: list[float], *, turns: int = 0,
                barcodes: bool = False) -> Any:  # fmt: skip
    """A page with this table, rendered to pixels: what a scanner hands over."""
    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    size = landscape(A4)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    if barcodes:
        cells: list[list[Any]] = [[*rows[0], "QR"]]
        for row in rows[1:]:
            # the line's code as a GS1 Digital Link in a QR code, beside its printed HRI
            dl = "https://id.example.com/" + row[2].replace("(", "/").replace(")", "/")[1:]
            cells.append([*row, _qr(dl.replace("//", "/").replace("https:/", "https://"))])
        _pdf_table(c, cells, [*widths[:1], widths[1] - 20, *widths[2:], 56], 20, size[1] - 30,
                   ruled=True)  # fmt: skip
    else:
        _pdf_table(c, rows, widths, 30, size[1] - 40, ruled=True)
    c.save()
    doc = pdfium.PdfDocument(buf.getvalue())
    image = doc[0].render(scale=2.4).to_pil().convert("L")
    doc.close()
    if turns % 4:
        image = image.rotate(90 * turns, expand=True)
    return ImageReader(image)


def _qr(text: str) -> Any:
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    side = 48.0
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


# ----------------------------------------------------------------------------- demo set


def write_samples(out_dir: Path) -> list[Path]:
    """Write the demo manifests (xlsx, csv, text PDF) and their expected content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, (data, exp) in {
        "packing_list_bilingual.xlsx": build_xlsx(),
        "packing_list_gbk.csv": build_csv_gbk(),
        "packing_list.pdf": build_pdf(),
    }.items():
        path = out_dir / name
        path.write_bytes(data)
        (out_dir / f"{name}.expected.json").write_text(
            json.dumps(asdict(exp), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        paths.append(path)
    return paths
