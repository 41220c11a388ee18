"""Extraction speed and memory against naive baselines, measured in the same run.

    .venv/bin/python bench/bench_extract.py                 # generated files
    .venv/bin/python bench/bench_extract.py XLSX PDF        # e.g. the 20k-line xlsx, 200-page pdf
    .venv/bin/python bench/bench_extract.py --xlsx [XLSX]   # the workbook figures only
    .venv/bin/python bench/bench_extract.py --scan [PDF]    # OCR cost of a scanned document

The workbook is also read through the parser sandbox, cold (a fresh child interpreter) and
forked from a warm fork server (the doors' road), beside the in-process read of the same run.

Baselines: openpyxl read-only row iteration (values only) and python-calamine's raw read
(the compiled reader's own floor; target: the gateway within 4x of it) for xlsx; pdfplumber
extract_text per page for PDFs. Each run is measured in a fresh child process so peak RSS
(ru_maxrss) belongs to that run alone. Targets: xlsx 20,000 lines <= 1.5 s, 200-page PDF
<= 8 s, peak memory < 250 MB. CPU seconds are printed beside wall-clock seconds because
the development machine is shared: wall-clock time there says more about the neighbours.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = r"""
import json, resource, sys, time
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
if mode == "gateway":
    from gateway.parsers import extract  # the module import, once per process, is not timed
t = time.perf_counter()
c = time.process_time()
if mode == "gateway":
    ex = extract(data, filename=path)
    n = sum(len(l.codes) for l in ex.lines)
elif mode == "sandbox":
    from gateway.parsers.sandbox import extract_sandboxed
    ex = extract_sandboxed(data, filename=path)
    n = sum(len(l.codes) for l in ex.lines)
elif mode == "forked":
    # the doors' road: a child forked from the warm fork server, started (as `gateway check`
    # and the workers start it) before the document comes
    from gateway.parsers.sandbox import extract_sandboxed, shared_fork_server
    server = shared_fork_server()
    extract_sandboxed(b"No.,Code\n1,X\n", filename="warm.csv", server=server)
    t = time.perf_counter()
    c = time.process_time()
    ex = extract_sandboxed(data, filename=path, server=server)
    n = sum(len(l.codes) for l in ex.lines)
elif mode == "floor":
    # the least a reader of the sheet XML does: inflate every worksheet and tokenize it with
    # expat, no handlers (and python-calamine's whole read when it is installed)
    import io, zipfile
    from xml.parsers import expat
    n = 0
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                expat.ParserCreate().Parse(z.read(name), True)
                n += 1
elif mode == "calamine":
    from python_calamine import CalamineWorkbook
    wb = CalamineWorkbook.from_filelike(__import__("io").BytesIO(data))
    n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
elif mode == "openpyxl":
    import io, openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    n = sum(1 for ws in wb.worksheets for _ in ws.iter_rows(values_only=True))
else:
    import io, pdfplumber
    n = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            n += len(page.extract_text() or "")
            page.close()
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "cpu": time.process_time() - c, "items": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(path), mode], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def generated(tmp: Path) -> tuple[Path, Path]:
    """A 20,000-line xlsx and a 200-page PDF written by the project's generator code."""
    import random

    from openpyxl import Workbook

    from samples.manifests import build_pdf, gtin

    rng = random.Random(7)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Packing List")
    ws.append(["No.", "Description", "Serial No.", "Lot No.", "Qty", "G.W. (kg)", "HS Code",
               "UN No.", "Destination"])  # fmt: skip
    g = gtin(rng)
    for i in range(1, 20001):
        ws.append([i, "Battery module", f"(01){g}(21)SN{i:08d}", f"L{i % 97}", 1, 12.5,
                   "85076000", "UN3480", "DE"])  # fmt: skip
    xlsx = tmp / "gen_20k.xlsx"
    wb.save(xlsx)
    import pypdfium2 as pdfium

    one, _ = build_pdf(seed=9, rotated_page=False)
    src = pdfium.PdfDocument(one)
    dst = pdfium.PdfDocument.new()
    for _ in range(100):
        dst.import_pages(src)
    pdf = tmp / "gen_200p.pdf"
    dst.save(str(pdf))
    return xlsx, pdf


def scanned(tmp: Path) -> Path:
    """A text PDF whose third page is a scan laid sideways with a QR code on every line."""
    from samples.manifests import build_pdf

    data, _ = build_pdf(
        seed=5, rotated_page=False, scanned_page=True, scan_turns=1, scan_barcodes=True
    )
    path = tmp / "gen_scan.pdf"
    path.write_bytes(data)
    return path


def main(argv: list[str]) -> None:
    if argv[:1] == ["--scan"]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(argv[1]) if len(argv) > 1 else scanned(Path(tmp))
            ours = measure(path, "gateway")
            print(
                f"{path.name}: gateway {ours['seconds']:.2f} s wall, {ours['cpu']:.2f} s CPU, "
                f"{ours['items']:.0f} codes, peak {ours['peak_mb']:.0f} MB (sandbox limit 1024)"
            )
        return
    with tempfile.TemporaryDirectory() as tmp:
        only_xlsx = argv[:1] == ["--xlsx"]
        if only_xlsx:
            xlsx = Path(argv[1]) if len(argv) > 1 else generated(Path(tmp))[0]
            pdf = None
        else:
            xlsx, pdf = (Path(argv[0]), Path(argv[1])) if len(argv) == 2 else generated(Path(tmp))
        runs = [(xlsx, "openpyxl", 1.5)] + ([(pdf, "pdfplumber", 8.0)] if pdf else [])
        for path, baseline, target in runs:
            ours = measure(path, "gateway")
            base = measure(path, baseline)
            if path == xlsx:
                ours_xlsx, ours_xlsx_cpu = ours["seconds"], ours["cpu"]
            print(
                f"{path.name}: gateway {ours['seconds']:.2f} s ({ours['cpu']:.2f} s CPU), "
                f"{ours['items']:.0f} codes, "
                f"peak {ours['peak_mb']:.0f} MB | {baseline} {base['seconds']:.2f} s, peak "
                f"{base['peak_mb']:.0f} MB | ratio {base['seconds'] / ours['seconds']:.2f}x "
                f"| target <= {target:g} s: {'ok' if ours['seconds'] <= target else 'MISSED'}"
            )
        floor = measure(xlsx, "floor")
        print(
            f"{xlsx.name}: floor (inflate + expat tokenizing, no handlers) {floor['seconds']:.2f} s"
            f" | gateway / floor {ours_xlsx / floor['seconds']:.1f}x"
        )
        try:
            calamine = measure(xlsx, "calamine")
            # on a shared machine the CPU ratio says more: neighbours stretch wall time
            print(
                f"{xlsx.name}: python-calamine raw read {calamine['seconds']:.2f} s "
                f"({calamine['cpu']:.2f} s CPU) | gateway / calamine "
                f"{ours_xlsx / calamine['seconds']:.1f}x, "
                f"CPU {ours_xlsx_cpu / calamine['cpu']:.1f}x (target <= 4x)"
            )
        except subprocess.CalledProcessError:
            print("python-calamine is not installed: no compiled-reader baseline")
        cold = measure(xlsx, "sandbox")
        forked = measure(xlsx, "forked")
        print(f"{xlsx.name}: sandbox, cold child (start-up included) {cold['seconds']:.2f} s, "
              f"forked from the warm server {forked['seconds']:.2f} s (parent CPU "
              f"{forked['cpu']:.2f} s) | / in process {cold['seconds'] / ours_xlsx:.2f}x, "
              f"{forked['seconds'] / ours_xlsx:.2f}x; parent peak {forked['peak_mb']:.0f} MB "
              f"(the child's own is below its limit)")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
