"""A corpus of hostile documents, written by code, small on disk, with the outcome each must get.

Every file here attacks a parser or a report the way real hostile uploads do: compression
bombs (ZIP, FlateDecode, PNG, TIFF), XML bombs and external entities in workbooks, huge
declared dimensions, page-tree tricks in PDFs, truncated files of every type, files whose
name lies about their type, and payloads (formulas, HTML, header injection) meant for the
reports. Nothing is read from outside the project; the largest file is about 1 MB and the
whole corpus builds in a few seconds.

    from samples.hostile import build_corpus, write_corpus
    for case in build_corpus():             # HostileFile records, with `expect`
        ...
    write_corpus(Path("out"))               # one file per case plus corpus.json

`Expect.REJECT` means the gateway must answer with a clear input error (a 4xx), never a crash;
`Expect.PROCESS` means it must read the document safely (the payload stays inert data);
`Expect.REJECT_OR_PROCESS` means either is correct as long as it is bounded and clean.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gateway.gs1 import check_digit

XXE_URL = "http://127.0.0.1:9/"  # nothing may ever connect here; tests keep a listener on it

PAYLOADS: tuple[str, ...] = (
    '=HYPERLINK("http://evil.example/x","click")',
    " =1+1",
    "\t=1+1",
    "\r=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
)
# what a barcode may carry to attack a report or an e-mail built from it
BARCODE_PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example/x","click")',
    "ABC\r\nBcc: victim@example.com\r\nX-Injected: 1",
)
HOSTILE_NAMES: tuple[str, ...] = (
    "invoice\u202exslx.csv",  # right-to-left override: displays as "invoicecsv.xlsx"
    "packing\r\nX-Injected: 1.csv",
    "../../etc/passwd",
    "..\\..\\windows\\win.ini.csv",
    "A" * 4000 + ".csv",
    "nul\x00byte.csv",
    "<script>alert(1)</script>.csv",
)


class Expect(StrEnum):
    """The outcome a hostile file must get."""

    REJECT = "reject"  # a clear input error (4xx), with a message
    PROCESS = "process"  # read safely; payloads stay inert data
    REJECT_OR_PROCESS = "reject_or_process"  # either, bounded and clean


@dataclass(frozen=True, slots=True)
class HostileFile:
    """One hostile document and what must happen to it."""

    name: str  # stable case id, also the corpus file name
    filename: str  # the name it is uploaded under (may itself be hostile)
    data: bytes
    family: str  # "xlsx", "pdf", "image", "csv", "xls", "name", "barcode"
    expect: Expect
    errors: tuple[str, ...] = ()  # acceptable InputError class names when rejected
    note: str = ""  # what the file does

    @property
    def is_image(self) -> bool:
        """Whether the file is (or claims to be) a raster image the barcode reader takes."""
        return self.family in ("image", "barcode")


# -- valid codes, so that a processed document carries something to check ---------------------


GTIN = "0690123456789" + check_digit("0690123456789")
GOOD_CODE = f"(01){GTIN}(21)HOSTILE1"


def manifest_csv(extra_rows: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A small valid CSV manifest; `extra_rows` are (code, description) pairs."""
    rows = [("No.", "Code", "Description", "Qty", "Destination")]
    rows.append(("1", GOOD_CODE, "Li-ion battery pack", "1", "DE"))
    for i, (code, description) in enumerate(extra_rows, start=2):
        rows.append((str(i), code, description, "1", "DE"))
    out = io.StringIO()
    import csv

    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


# -- deflate helpers: bombs without compressing gigabytes ----------------------------------------


def _repeated_deflate(
    chunk: bytes, times: int, *, wrapper: str, prefix: bytes = b"", suffix: bytes = b""
) -> bytes:
    """`prefix + chunk * times + suffix` deflated, in O(len(chunk)) compression work.

    After a full flush the compressor forgets its history, so every identical chunk that
    follows compresses to identical bytes: compress it once and repeat the bytes. `wrapper` is
    "zlib" (PDF FlateDecode, PNG IDAT) or "raw" (ZIP entries).
    """
    wbits = 15 if wrapper == "zlib" else -15
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.compress(suffix) + comp.flush()
    if wrapper == "zlib":
        adler = zlib.adler32(prefix)
        for _ in range(times):
            adler = zlib.adler32(chunk, adler)
        tail = tail[:-4] + struct.pack(">I", zlib.adler32(suffix, adler))
    return head + block * times + tail


def _crc_repeated(chunk: bytes, times: int, prefix: bytes = b"", suffix: bytes = b"") -> int:
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    return zlib.crc32(suffix, crc)


@dataclass(frozen=True, slots=True)
class _ZipEntry:
    name: str
    deflated: bytes  # raw deflate
    crc: int
    size: int  # true uncompressed size
    declared_size: int | None = None  # what the headers claim (a lying bomb), None: the truth


def _entry(name: str, data: bytes) -> _ZipEntry:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return _ZipEntry(name, comp.compress(data) + comp.flush(), zlib.crc32(data), len(data))


def _zip(entries: list[_ZipEntry]) -> bytes:
    """A ZIP archive of pre-deflated entries, written by hand so sizes can lie."""
    out = io.BytesIO()
    central = io.BytesIO()
    for e in entries:
        name = e.name.encode()
        size = e.size if e.declared_size is None else e.declared_size
        offset = out.tell()
        fields = (20, 0, 8, 0, 0x21, e.crc, len(e.deflated), size, len(name), 0)
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", *fields))
        out.write(name)
        out.write(e.deflated)
        central.write(
            struct.pack(
                "<4s6H3I5HII",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                e.crc,
                len(e.deflated),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(name)
    start = out.tell()
    cd = central.getvalue()
    out.write(cd)
    out.write(
        struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd), start, 0)
    )
    return out.getvalue()


# -- workbooks ------------------------------------------------------------------------------------

_CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _content_types(main: str = _CT_XLSX, *, shared: bool = False, vba: bool = False) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
    ]
    if vba:
        parts.append(
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        )
    parts.append(f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>')
    parts.append(
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    )
    if shared:
        parts.append(
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    parts.append("</Types>")
    return "".join(parts).encode()


_VBA_RELATIONSHIP = (
    '<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/'
    'relationships/vbaProject" Target="vbaProject.bin"/>'
)


def _workbook_parts(*, shared: bool = False, vba: bool = False) -> list[_ZipEntry]:
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    wb_rels = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    ]
    if shared:
        wb_rels.append(
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        )
    if vba:
        wb_rels.append(_VBA_RELATIONSHIP)
    wb_rels.append("</Relationships>")
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} {_NS_R}>'
        '<sheets><sheet name="Manifest" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    main = _CT_XLSM if vba else _CT_XLSX
    return [
        _entry("[Content_Types].xml", _content_types(main, shared=shared, vba=vba)),
        _entry("_rels/.rels", rels.encode()),
        _entry("xl/workbook.xml", workbook.encode()),
        _entry("xl/_rels/workbook.xml.rels", "".join(wb_rels).encode()),
    ]


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sheet(rows: list[list[str]], *, prolog: str = "", dimension: str | None = None) -> bytes:
    """sheet1.xml with inline-string cells; `prolog` goes before the root (a DOCTYPE)."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {_NS}>']
    if dimension:
        out.append(f'<dimension ref="{dimension}"/>')
    out.append("<sheetData>")
    for r, row in enumerate(rows, start=1):
        out.append(f'<row r="{r}">')
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if value.startswith("&") and value.endswith(";"):  # an entity reference, raw
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                space = ' xml:space="preserve"' if value != value.strip() else ""
                out.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{_esc(value)}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out).encode()


_HEADER_ROW = ["No.", "Code", "Description", "Qty", "Destination"]


def _manifest_rows(extra: list[tuple[str, str]] | None = None) -> list[list[str]]:
    rows = [_HEADER_ROW, ["1", GOOD_CODE, "Li-ion battery pack", "1", "DE"]]
    for i, (code, description) in enumerate(extra or [], start=2):
        rows.append([str(i), code, description, "1", "DE"])
    return rows


def xlsx(sheet: bytes, *, shared: bytes | None = None, vba: bool = False) -> bytes:
    """A minimal workbook around `sheet` (and a shared-strings part, a macro part)."""
    entries = _workbook_parts(shared=shared is not None, vba=vba)
    entries.append(_entry("xl/worksheets/sheet1.xml", sheet))
    if shared is not None:
        entries.append(_entry("xl/sharedStrings.xml", shared))
    if vba:
        # an OLE compound file header, as a real vbaProject.bin starts; never executed
        entries.append(
            _entry("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
        )
    return _zip(entries)


def manifest_xlsx(extra_rows: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A small valid workbook manifest; `extra_rows` are (code, description) pairs."""
    return xlsx(_sheet(_manifest_rows(list(extra_rows))))


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RELS_NS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
_OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an empty OLE compound file
# (cell, type, formula, stored value): live formulas with and without stored values, a DDE
# formula, a stored value that itself looks like a formula, a shared string "=1+1"
_ACTIVE_CELLS: tuple[tuple[str, str, str, str | None], ...] = (
    ("C2", "str", 'HYPERLINK("http://attacker.example/x","Click")', "Click"),
    ("D2", "n", "1+1", "1"),
    ("C3", "str", "cmd|'/C calc'!A0", None),
    ("D3", "n", "SUM(D2:D2)", None),
    ("E3", "str", '"DE"', '=HYPERLINK("http://cached.example/")'),
)


def active_content_xlsx(*, vba: bool) -> bytes:
    """A manifest workbook full of what can act when it is opened.

    Live formulas (a HYPERLINK to an attacker, a DDE call, with and without stored values),
    a cell hyperlink to an outside address, an external link part holding a DDE link, a
    defined name calling DDE, an embedded OLE object and, with `vba`, a macro project under
    the macro-enabled content type. Its codes and lines are ordinary.
    """
    main = _CT_XLSM if vba else _CT_XLSX
    types = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>',
        '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>',
        "</Types>",
    ]
    wb_rels = [
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships {_RELS_NS}>',
        f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId2" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/>',
        f'<Relationship Id="rId4" Type="{_R}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/>',
    ]
    if vba:
        wb_rels.append(_VBA_RELATIONSHIP)
    wb_rels.append("</Relationships>")
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} {_NS_R}>'
        '<sheets><sheet name="Manifest" sheetId="1" r:id="rId1"/></sheets>'
        '<externalReferences><externalReference r:id="rId4"/></externalReferences>'
        "<definedNames><definedName name=\"Boom\">cmd|'/C calc'!A0</definedName>"
        '<definedName name="Ext">[1]Sheet1!$A$1</definedName></definedNames></workbook>'
    )
    external = (
        f'<?xml version="1.0" encoding="UTF-8"?><externalLink {_NS}>'
        '<ddeLink ddeService="cmd" ddeTopic="/C calc"><ddeItems>'
        '<ddeItem name="A0" advise="1"/></ddeItems></ddeLink></externalLink>'
    )
    shared = f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="1" uniqueCount="1">'
    shared += "<si><t>=1+1</t></si></sst>"
    cells: dict[str, str] = {}
    for r, row in enumerate(_manifest_rows([(GOOD_CODE.replace("HOSTILE1", "HOSTILE2"), "")])):
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r + 1}"
            cells[ref] = f'<c r="{ref}" t="inlineStr"><is><t>{_esc(value)}</t></is></c>'
    cells["F2"] = '<c r="F2" t="s"><v>0</v></c>'  # the shared string "=1+1"
    for ref, kind, formula, cached in _ACTIVE_CELLS:
        stored = f"<v>{_esc(cached)}</v>" if cached is not None else ""
        cells[ref] = f'<c r="{ref}" t="{kind}"><f>{_esc(formula)}</f>{stored}</c>'
    sheet = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS} {_NS_R}><sheetData>']
    for r in (1, 2, 3):
        refs = sorted((k for k in cells if k[1:] == str(r)), key=lambda k: k[0])
        sheet.append(f'<row r="{r}">' + "".join(cells[k] for k in refs) + "</row>")
    sheet.append(
        '</sheetData><hyperlinks><hyperlink ref="B2" r:id="rId9"/></hyperlinks>'
        '<oleObjects><oleObject progId="Package" shapeId="1025" r:id="rId8"/></oleObjects>'
        "</worksheet>"
    )
    sheet_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships {_RELS_NS}>'
        f'<Relationship Id="rId8" Type="{_R}/oleObject" Target="../embeddings/oleObject1.bin"/>'
        f'<Relationship Id="rId9" Type="{_R}/hyperlink" Target="http://attacker.example/link" '
        'TargetMode="External"/></Relationships>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships {_RELS_NS}>'
        f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    entries = [
        _entry("[Content_Types].xml", "".join(types).encode()),
        _entry("_rels/.rels", rels.encode()),
        _entry("xl/workbook.xml", workbook.encode()),
        _entry("xl/_rels/workbook.xml.rels", "".join(wb_rels).encode()),
        _entry("xl/worksheets/sheet1.xml", "".join(sheet).encode()),
        _entry("xl/worksheets/_rels/sheet1.xml.rels", sheet_rels.encode()),
        _entry("xl/sharedStrings.xml", shared.encode()),
        _entry("xl/externalLinks/externalLink1.xml", external.encode()),
        _entry("xl/embeddings/oleObject1.bin", _OLE_HEADER),
    ]
    if vba:
        entries.append(_entry("xl/vbaProject.bin", _OLE_HEADER))
    return _zip(entries)


def _zip_bomb(*, lie: bool) -> bytes:
    """A workbook whose one sheet inflates to 320 MiB of well-formed rows from about 1 MB."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20
    chunk = row * (1024 * 1024 // len(row))
    times = 320
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'.encode()
    foot = b"</sheetData></worksheet>"
    deflated = _repeated_deflate(chunk, times, wrapper="raw", prefix=head, suffix=foot)
    bomb = _ZipEntry(
        "xl/worksheets/sheet1.xml",
        deflated,
        _crc_repeated(chunk, times, head, foot),
        len(head) + len(chunk) * times + len(foot),
        declared_size=4096 if lie else None,
    )
    return _zip([*_workbook_parts(), bomb])


def _billion_laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        ents.append(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">')
    prolog = f"<!DOCTYPE worksheet [{''.join(ents)}]>"
    return _sheet(_manifest_rows([("&lol9;", "laughs")]), prolog=prolog)


def _quadratic_blowup() -> bytes:
    """One 50,000-character entity referenced 50,000 times in a cell: no nesting, 2.5 GB."""
    prolog = f'<!DOCTYPE worksheet [<!ENTITY a "{"A" * 50_000}">]>'
    sheet = _sheet(_manifest_rows([("&a;", "blowup")]), prolog=prolog)
    return sheet.replace(b"<t>&a;</t>", b"<t>" + b"&a;" * 50_000 + b"</t>")


def _xxe(url: str, *, parameter: bool) -> bytes:
    if parameter:
        prolog = f'<!DOCTYPE worksheet [<!ENTITY % ext SYSTEM "{url}dtd"> %ext;]>'
        return _sheet(_manifest_rows(), prolog=prolog)
    prolog = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{url}xxe">]>'
    return _sheet(_manifest_rows([("&xxe;", "external entity")]), prolog=prolog)


def _huge_dimension() -> bytes:
    sheet = _sheet(_manifest_rows(), dimension="A1:XFD1048576").replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
        b"</sheetData>",
    )
    return xlsx(sheet)


def _shared_string_bomb() -> bytes:
    """One 32,000-character shared string referenced by 200,000 cells (6.4 GB as text)."""
    big = "S" * 32_000
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="2147483647" '
        f'uniqueCount="1"><si><t>{big}</t></si></sst>'
    ).encode()
    cells = "".join(f'<c r="{chr(65 + c)}{{r}}" t="s"><v>0</v></c>' for c in range(10))
    rows = "".join(f'<row r="{r}">{cells.replace("{r}", str(r))}</row>' for r in range(1, 20_001))
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>{rows}'
    sheet += "</sheetData></worksheet>"
    return xlsx(sheet.encode(), shared=shared)


def _payload_rows() -> list[tuple[str, str]]:
    return [(p, p) for p in PAYLOADS]


# -- PDFs -----------------------------------------------------------------------------------------


def _pdf(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF of `objects` (object n is objects[n-1]) with a correct classic xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, trailer_extra))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _stream(data: bytes, filters: bytes = b"") -> bytes:
    head = b"<< /Length %d" % len(data) + (b" /Filter " + filters if filters else b"") + b" >>"
    return head + b"\nstream\n" + data + b"\nendstream"


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def _pdf_flate_bomb(*, double: bool) -> bytes:
    """A one-page PDF whose content stream inflates to 256 MiB, or 1 GiB when deflated twice."""
    chunk = b"0 0 m 1 1 l S\n" * (1024 * 1024 // 14)
    times = 1024 if double else 256
    data = _repeated_deflate(chunk, times, wrapper="zlib")
    filters = b"/FlateDecode"
    if double:
        data = zlib.compress(data, 9)
        filters = b"[/FlateDecode /FlateDecode]"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
    return _pdf(
        [_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, _stream(data, filters)]
    )


def _pdf_prev_loop() -> bytes:
    """Two xref sections whose trailers name each other as /Prev: a reader that follows the
    chain without remembering where it has been never stops."""
    base = _pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ]
    )
    cut = base.rindex(b"\nxref\n") + 1
    body = base[:cut]
    table = base[cut : base.index(b"trailer", cut)]
    first = len(body)
    second = first + len(table) + 80
    part1 = table + b"trailer\n<< /Size 4 /Root 1 0 R /Prev %010d >>\n" % second
    part1 = part1.ljust(second - first, b" ")
    part2 = table + b"trailer\n<< /Size 4 /Root 1 0 R /Prev %010d >>\n" % first
    return body + part1 + part2 + b"startxref\n%d\n%%%%EOF\n" % second


def _pdf_many_pages(count: int) -> bytes:
    """`count` pages that are all one shared page object (a page tree of 10 KB per 1,000)."""
    kids = b" ".join(b"3 0 R" for _ in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources "
    page += b"<< /Font << /F1 5 0 R >> >> >>"
    return _pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
            page,
            _stream(b"BT /F1 8 Tf 10 100 Td (page) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _pdf_count_lie() -> bytes:
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    return _pdf([_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>", page])


def _pdf_user_unit() -> bytes:
    """The largest page PDF allows (14,400 units) times a /UserUnit of 75,000: 381 km wide."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /UserUnit 75000 "
        b"/Contents 4 0 R >>"
    )
    return _pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            _stream(b"0 0 m 14400 14400 l S"),
        ]
    )


def text_pdf() -> bytes:
    """A valid one-page text PDF carrying the good code (the base of truncation cases)."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources "
    page += b"<< /Font << /F1 5 0 R >> >> >>"
    text = b"BT /F1 10 Tf 40 800 Td (No. Code Qty) Tj 0 -14 Td (1 " + GOOD_CODE.encode()
    text += b" 1) Tj ET"
    return _pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            _stream(zlib.compress(text), b"/FlateDecode"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def blank_pdf() -> bytes:
    """A valid one-page PDF with no text layer: the pages of a scan before OCR finds nothing."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    return _pdf([_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page])


# -- images ---------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_giant(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG header claiming width x height 8-bit grey pixels (3.6 G), with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(bytes(width + 1) * 4, 9)  # four rows of zeros, then nothing
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _png_bomb() -> bytes:
    """A 20,000 x 20,000 grey PNG whose full IDAT (400 MB of zeros) deflates to ~400 KB."""
    width = height = 20_000
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows_per_chunk = 50
    chunk = bytes(width + 1) * rows_per_chunk
    idat = _repeated_deflate(chunk, height // rows_per_chunk, wrapper="zlib")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_huge_header() -> bytes:
    """SOI, a SOF0 claiming 65,500 x 65,500 pixels in three components, then nothing."""
    sof = struct.pack(">BHHB", 8, 65_500, 65_500, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xda\x00"


def _tiff_frames(frames: int, *, loop: bool = False) -> bytes:
    """A little-endian TIFF of `frames` 4,000 x 4,000 grey pages all sharing ONE deflated strip.

    With `loop` the last page's next-IFD pointer goes back to the first page.
    """
    width = height = 4000
    strip = zlib.compress(bytes(width * height), 9)
    out = io.BytesIO()
    out.write(b"II*\x00")
    out.write(struct.pack("<I", 8 + len(strip) + (len(strip) % 2)))
    strip_offset = 8
    out.write(strip)
    if len(strip) % 2:
        out.write(b"\x00")
    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 8),  # Compression: Adobe deflate
        (262, 3, 1, 1),  # PhotometricInterpretation: BlackIsZero
        (273, 4, 1, strip_offset),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, len(strip)),  # StripByteCounts
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    first_ifd = out.tell()
    for i in range(frames):
        here = out.tell()
        last = i == frames - 1
        nxt = (first_ifd if loop else 0) if last else here + ifd_size
        out.write(struct.pack("<H", len(entries)))
        for tag, kind, count, value in entries:
            packed = (
                struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
            )
            out.write(struct.pack("<HHI", tag, kind, count) + packed)
        out.write(struct.pack("<I", nxt))
    return out.getvalue()


def _valid_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (320, 240), 255).save(buf, "PNG")
    return buf.getvalue()


def _valid_jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (255, 255, 255)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _valid_tiff() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (320, 240), 255).save(buf, "TIFF", compression="tiff_deflate")
    return buf.getvalue()


def barcode_png(payload: str) -> bytes:
    """A QR code carrying `payload`, as a PNG (drawn with segno)."""
    import segno

    buf = io.BytesIO()
    segno.make_qr(payload, error="m").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def noise_photo(width: int = 2000, height: int = 1500, seed: int = 7) -> bytes:
    """A JPEG of random grey noise: every region looks like a candidate symbol to a reader."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    pixels = bytes(rng.getrandbits(8) for _ in range(width * height))
    buf = io.BytesIO()
    Image.frombytes("L", (width, height), pixels).save(buf, "JPEG", quality=60)
    return buf.getvalue()


def _html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"


# -- the corpus -----------------------------------------------------------------------------------

_TOO_BIG = ("DocumentTooLarge", "ResourceLimitExceeded")
_CORRUPT = ("CorruptDocument", "UnsupportedDocument", "ResourceLimitExceeded", "DocumentTooLarge")
_ANY = ("CorruptDocument", "UnsupportedDocument", "ResourceLimitExceeded", "DocumentTooLarge")
_XML_REFUSED = ("CorruptDocument", "UnsupportedDocument", "ResourceLimitExceeded")


def _cases(xxe_url: str) -> Iterator[HostileFile]:
    r, p, e = Expect.REJECT, Expect.PROCESS, Expect.REJECT_OR_PROCESS
    good_xlsx = xlsx(_sheet(_manifest_rows()))
    pdf = text_pdf()
    yield HostileFile(
        "zip-bomb.xlsx", "zip-bomb.xlsx", _zip_bomb(lie=False), "xlsx", r, _TOO_BIG,
        "one sheet inflating to 320 MiB; honest sizes, ratio about 330:1",
    )  # fmt: skip
    yield HostileFile(
        "zip-bomb-lying-size.xlsx", "zip-bomb-lying-size.xlsx", _zip_bomb(lie=True), "xlsx", r,
        _ANY, "the same bomb with its uncompressed size declared as 4 KB",
    )  # fmt: skip
    yield HostileFile(
        "billion-laughs.xlsx", "billion-laughs.xlsx", xlsx(_billion_laughs()), "xlsx", r,
        _XML_REFUSED, "nested entities expanding to 10^9 'lol's in a cell",
    )  # fmt: skip
    yield HostileFile(
        "quadratic-blowup.xlsx", "quadratic-blowup.xlsx", xlsx(_quadratic_blowup()), "xlsx", r,
        _XML_REFUSED, "a 50,000-character entity referenced 50,000 times (2.5 GB)",
    )  # fmt: skip
    yield HostileFile(
        "xxe-general.xlsx", "xxe-general.xlsx", xlsx(_xxe(xxe_url, parameter=False)), "xlsx", r,
        _XML_REFUSED, f"an external general entity at {xxe_url}xxe used in a cell",
    )  # fmt: skip
    yield HostileFile(
        "xxe-parameter.xlsx", "xxe-parameter.xlsx", xlsx(_xxe(xxe_url, parameter=True)), "xlsx",
        r, _XML_REFUSED, f"an external parameter entity (DTD) at {xxe_url}dtd",
    )  # fmt: skip
    yield HostileFile(
        "huge-dimension.xlsx", "huge-dimension.xlsx", _huge_dimension(), "xlsx", e, _TOO_BIG,
        "dimension A1:XFD1048576 and a cell at XFD1048576 (17 billion-cell grid)",
    )  # fmt: skip
    yield HostileFile(
        "shared-string-bomb.xlsx", "shared-string-bomb.xlsx", _shared_string_bomb(), "xlsx", e,
        _TOO_BIG, "200,000 cells referencing one 32,000-character shared string",
    )  # fmt: skip
    yield HostileFile(
        "macros.xlsm", "macros.xlsm", xlsx(_sheet(_manifest_rows()), vba=True), "xlsx", p, (),
        "macro-enabled workbook with a vbaProject part: cells read, macros never run",
    )  # fmt: skip
    yield HostileFile(
        "active-content.xlsx", "active-content.xlsx", active_content_xlsx(vba=False), "xlsx",
        p, (), "live formulas, a DDE formula and name, an external DDE link, an OLE object "
        "and a hyperlink: cells read as values, nothing active handed back",
    )  # fmt: skip
    yield HostileFile(
        "active-content.xlsm", "active-content.xlsm", active_content_xlsx(vba=True), "xlsx",
        p, (), "the same with a macro project: cells read as values, the macros never reach "
        "any output",
    )  # fmt: skip
    yield HostileFile(
        "payload-cells.xlsx", "payload-cells.xlsx",
        xlsx(_sheet(_manifest_rows(_payload_rows()))), "xlsx", p, (),
        "formula, DDE-style and HTML payloads as codes and descriptions",
    )  # fmt: skip
    yield HostileFile(
        "payload-cells.csv", "payload-cells.csv", manifest_csv(tuple(_payload_rows())), "csv", p,
        (), "the same payloads in a CSV manifest",
    )  # fmt: skip
    # renamed files: the bytes decide, never the name
    yield HostileFile(
        "html-as.png", "label.png", _html(), "image", r, ("UnsupportedDocument",),
        "an HTML page with a script, named .png",
    )  # fmt: skip
    yield HostileFile(
        "html-as.xlsx", "manifest.xlsx", _html(), "xlsx", r, ("UnsupportedDocument",),
        "an HTML page named .xlsx",
    )  # fmt: skip
    yield HostileFile(
        "pdf-as.xlsx", "manifest.xlsx", pdf, "pdf", p, (), "a real PDF named .xlsx",
    )  # fmt: skip
    yield HostileFile(
        "xlsm-as.xlsx", "manifest.xlsx", active_content_xlsx(vba=True), "xlsx", p, (),
        "a macro-enabled workbook with active content named .xlsx",
    )  # fmt: skip
    # truncated files of every type
    bases: list[tuple[str, str, bytes, Callable[[bytes], bytes]]] = [
        ("xlsx", "xlsx", good_xlsx, lambda b: b[: len(b) // 2]),
        ("xls", "xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), lambda b: b),
        ("csv", "csv", manifest_csv(), lambda b: b[: len(b) - 7]),
        ("pdf", "pdf", pdf, lambda b: b[: len(b) // 2]),
        ("png", "image", _valid_png(), lambda b: b[: len(b) // 2]),
        ("jpg", "image", _valid_jpeg(), lambda b: b[: len(b) // 2]),
        ("tif", "image", _valid_tiff(), lambda b: b[: len(b) // 2]),
    ]
    for ext, family, data, cut in bases:
        # a cut CSV is still a CSV: its lines are read; every binary type must be refused
        # or read as far as it goes, never crash
        expect = p if ext == "csv" else e
        yield HostileFile(
            f"truncated.{ext}", f"truncated.{ext}", cut(data), family, expect, _CORRUPT,
            f"a valid {ext} cut short",
        )  # fmt: skip
    yield HostileFile(
        "pdf-flate-bomb.pdf", "pdf-flate-bomb.pdf", _pdf_flate_bomb(double=False), "pdf", e,
        _TOO_BIG, "a content stream inflating to 256 MiB",
    )  # fmt: skip
    yield HostileFile(
        "pdf-double-flate-bomb.pdf", "pdf-double-flate-bomb.pdf", _pdf_flate_bomb(double=True),
        "pdf", e, _TOO_BIG, "a content stream deflated twice, inflating to 1 GiB",
    )  # fmt: skip
    yield HostileFile(
        "pdf-prev-loop.pdf", "pdf-prev-loop.pdf", _pdf_prev_loop(), "pdf", e, _CORRUPT,
        "xref sections whose /Prev pointers form a loop",
    )  # fmt: skip
    yield HostileFile(
        "pdf-10000-pages.pdf", "pdf-10000-pages.pdf", _pdf_many_pages(10_000), "pdf", r,
        _TOO_BIG, "10,000 pages (one shared page object): above the page limit",
    )  # fmt: skip
    yield HostileFile(
        "pdf-count-lie.pdf", "pdf-count-lie.pdf", _pdf_count_lie(), "pdf", e, _ANY,
        "a page tree of one page claiming /Count 2147483647",
    )  # fmt: skip
    yield HostileFile(
        "pdf-user-unit.pdf", "pdf-user-unit.pdf", _pdf_user_unit(), "pdf", e, _ANY,
        "a 14,400-unit page with /UserUnit 75000, to be rendered for OCR",
    )  # fmt: skip
    yield HostileFile(
        "png-60000x60000.png", "png-60000x60000.png", _png_giant(), "image", r, _TOO_BIG,
        "a PNG header claiming 60,000 x 60,000 pixels",
    )  # fmt: skip
    yield HostileFile(
        "png-bomb.png", "png-bomb.png", _png_bomb(), "image", r, _TOO_BIG,
        "a complete 20,000 x 20,000 PNG (400 MB of pixels) in a few hundred KB",
    )  # fmt: skip
    yield HostileFile(
        "jpeg-huge-header.jpg", "jpeg-huge-header.jpg", _jpeg_huge_header(), "image", r,
        _ANY, "a truncated JPEG whose frame header claims 65,500 x 65,500 pixels",
    )  # fmt: skip
    yield HostileFile(
        "tiff-frames-bomb.tif", "tiff-frames-bomb.tif", _tiff_frames(2000), "image", e,
        _TOO_BIG, "2,000 frames of 4,000 x 4,000 pixels sharing one deflated strip",
    )  # fmt: skip
    yield HostileFile(
        "tiff-ifd-loop.tif", "tiff-ifd-loop.tif", _tiff_frames(3, loop=True), "image", e,
        _ANY, "three frames whose last next-IFD pointer returns to the first",
    )  # fmt: skip
    for i, payload in enumerate(BARCODE_PAYLOADS, start=1):
        yield HostileFile(
            f"barcode-payload-{i}.png", f"barcode-payload-{i}.png", barcode_png(payload),
            "barcode", p, (), f"a QR code carrying {payload!r}",
        )  # fmt: skip
    csv_ok = manifest_csv()
    for i, name in enumerate(HOSTILE_NAMES, start=1):
        yield HostileFile(
            f"hostile-name-{i}.csv", name, csv_ok, "name", p, (),
            f"a valid manifest uploaded as {name[:60]!r}",
        )  # fmt: skip


def build_corpus(xxe_url: str = XXE_URL) -> list[HostileFile]:
    """Every hostile case, generated in memory (a few seconds, about 4 MB in all).

    Args:
        xxe_url: base URL the external-entity cases point at; tests listen there.
    """
    return list(_cases(xxe_url))


def write_corpus(out_dir: Path, xxe_url: str = XXE_URL) -> list[Path]:
    """Write every case as a file under `out_dir`, plus `corpus.json` naming the outcomes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    index = []
    for case in build_corpus(xxe_url):
        path = out_dir / case.name
        path.write_bytes(case.data)
        paths.append(path)
        index.append(
            {
                "name": case.name,
                "upload_as": case.filename,
                "family": case.family,
                "expect": str(case.expect),
                "errors": list(case.errors),
                "note": case.note,
                "bytes": len(case.data),
            }
        )
    (out_dir / "corpus.json").write_text(json.dumps(index, indent=2, ensure_ascii=False))
    return paths
