"""Cost of one scanned page: seconds, peak RSS, and the OCR models' own time as the floor.

    .venv/bin/python bench/bench_scan.py            # generated pages, 3 rounds
    .venv/bin/python bench/bench_scan.py --rounds 5
    .venv/bin/python bench/bench_scan.py PDF_OR_IMAGE ...

Each document is one page: an upright scan of a packing list (text only), the same scan
laid sideways with a QR code on every line, and an upright scan saved as a PNG (a
photographed packing list without barcodes takes the same road). Every run is a fresh
process, as `gateway extract` is, so peak RSS (ru_maxrss) belongs to that run alone and the
models are loaded in the time measured, and the gateway's imports too. The baseline has the
OCR package's session module imported before its clock starts, as this bench always had for
both (it patched that module's session class): that import is most of the package's cost,
0.7-0.8 s of CPU on the loaded machine, and the gateway no longer pays it at all, so
`gateway extract` gains more than these figures show.

Per run it reports:
* `gateway`: `gateway.parsers.extract` on the document's bytes (render, orientation, OCR,
  barcodes, table reading): wall-clock seconds, peak RSS, and `onnx`, the seconds spent
  inside onnxruntime's `run` (detector and recognizer): the library floor of this road.
* `whole-page`: the baseline, measured in the same rounds and alternated with ours: the
  same page at the same resolution through the OCR package's own one-call pipeline (detect
  the whole page in one pass, recognise every box, as the gateway read scans before), with
  the same engine settings (set here: the gateway no longer uses the package's pipeline).
  It reads no barcodes and builds no table, so it is a floor for the old road rather than
  all of it.

The ratios are gateway / onnx (our overhead over the models) and gateway / whole-page.
Targets: a scanned page <= 4 s and <= 400 MB peak on a quiet 2-core machine; the machine
this runs on may be shared, so compare within one run.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_SECONDS = 4.0
TARGET_MB = 400.0

RUN = r"""
import json, resource, sys, time
path, mode = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
import onnxruntime
if mode != "gateway":
    # off the clock, as this bench always had it
    import rapidocr.inference_engine.onnxruntime.main
spent = [0.0, 0]
_run = onnxruntime.InferenceSession.run
def timed(self, *args, **kwargs):
    t0 = time.perf_counter()
    try:
        return _run(self, *args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - t0
        spent[1] += 1
onnxruntime.InferenceSession.run = timed
t = time.perf_counter()
c = time.process_time()
if mode == "gateway":
    from gateway.parsers import extract
    ex = extract(data, filename=path)
    items = sum(len(l.codes) for l in ex.lines)
    assert "rapidocr.main" not in sys.modules
else:
    # the OCR package's whole-page call on the page as the gateway renders it, with the
    # gateway's engine settings (one thread, no arena, detector at 1600 pixels)
    import logging
    from rapidocr import RapidOCR
    from gateway.parsers import scan
    from gateway.parsers.limits import Limits
    if path.endswith(".pdf"):
        import pypdfium2 as pdfium
        image, _ = scan.render_page(pdfium.PdfDocument(data)[0], Limits())
    else:
        from gateway.parsers.image import open_image
        image = open_image(data, Limits())
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    engine = RapidOCR(params={
        "Global.use_cls": False, "Global.log_level": "warning", "Global.max_side_len": 2400,
        "Det.limit_type": "max", "Det.limit_side_len": scan.DETECT_SIDE, "Det.box_thresh": 0.3,
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
        "Rec.rec_img_shape": [3, 48, int(scan.REC_MIN_WIDTH)],
    })
    # the detector at basic graph optimisation, as the gateway's (and as before)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    from gateway.parsers.ocr import DET_MODEL, model_dir
    engine.cfg.Det._set_flag("allow_objects", True)
    engine.cfg.Det.session = onnxruntime.InferenceSession(
        str(model_dir() / DET_MODEL), options, providers=["CPUExecutionProvider"])
    result = engine(image, use_det=True, use_cls=False, use_rec=True)
    items = len(result.txts or ())
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "cpu": time.process_time() - c, "items": items,
                  "onnx": spent[0], "onnx_runs": spent[1],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(path: Path, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(path), mode], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def generated(tmp: Path) -> list[Path]:
    """One-page scans made by the project's sample generator."""
    import pypdfium2 as pdfium

    from samples.manifests import build_pdf

    paths = []
    for name, turns, barcodes in (("scan_upright", 0, False), ("scan_sideways_qr", 1, True)):
        data, _ = build_pdf(
            seed=5, rotated_page=False, scanned_page=True, scan_turns=turns,
            scan_barcodes=barcodes,
        )  # fmt: skip
        src = pdfium.PdfDocument(data)
        one = pdfium.PdfDocument.new()
        one.import_pages(src, [len(src) - 1])  # the scanned page alone
        path = tmp / f"{name}.pdf"
        one.save(str(path))
        paths.append(path)
        if name == "scan_upright":
            bitmap = one[0].render(scale=200 / 72)
            png = io.BytesIO()
            bitmap.to_pil().convert("L").save(png, format="PNG")
            image = tmp / "scan_upright.png"
            image.write_bytes(png.getvalue())
            paths.append(image)
    return paths


def report(path: Path, ours: list[dict[str, float]], base: list[dict[str, float]]) -> None:
    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    seconds, peak, onnx = med(ours, "seconds"), med(ours, "peak_mb"), med(ours, "onnx")
    b_seconds, b_peak, b_onnx = med(base, "seconds"), med(base, "peak_mb"), med(base, "onnx")
    ok = seconds <= TARGET_SECONDS and max(r["peak_mb"] for r in ours) <= TARGET_MB
    print(
        f"{path.name}: gateway {seconds:.2f} s ({med(ours, 'cpu'):.2f} s CPU), "
        f"peak {peak:.0f} MB, onnx {onnx:.2f} s in {med(ours, 'onnx_runs'):.0f} runs, "
        f"{med(ours, 'items'):.0f} codes | whole-page {b_seconds:.2f} s, peak {b_peak:.0f} MB, "
        f"onnx {b_onnx:.2f} s in {med(base, 'onnx_runs'):.0f} runs | "
        f"gateway/onnx {seconds / onnx:.2f}x, gateway/whole-page {seconds / b_seconds:.2f}x | "
        f"target <= {TARGET_SECONDS:g} s, <= {TARGET_MB:g} MB: {'ok' if ok else 'MISSED'}"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.paths or generated(Path(tmp))
        for path in paths:
            ours: list[dict[str, float]] = []
            base: list[dict[str, float]] = []
            for i in range(args.rounds):
                # alternate which goes first, so neither always meets the busier moment
                order = ("gateway", "whole-page") if i % 2 == 0 else ("whole-page", "gateway")
                for mode in order:
                    (ours if mode == "gateway" else base).append(measure(path, mode))
            report(path, ours, base)


if __name__ == "__main__":
    main(sys.argv[1:])
