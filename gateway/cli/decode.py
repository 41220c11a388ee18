"""`gateway decode IMAGE_OR_PDF...`: print the barcodes of label photos, scans and PDFs."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from gateway.barcodes.limits import READ_BUDGET_S
from gateway.errors import GatewayError


def decode_path(
    path: str, annotate_dir: str | None = None, budget_s: float | None = READ_BUDGET_S
) -> dict[str, Any]:
    """The JSON record of one file: its codes, or an error; never raises on file content.

    `budget_s` is the reading time of each image or page (None: no limit).
    """
    from gateway.barcodes import annotate, read_labels

    record: dict[str, Any] = {"path": path, "codes": []}
    try:
        data = Path(path).read_bytes()
        count, pages = _pages(data)
        for number, page in enumerate(pages, start=1):
            result = read_labels(page, budget_s=budget_s)
            symbols = result.symbols
            on_page = {"page": number} if count > 1 else {}
            for symbol in symbols:
                code: dict[str, Any] = {
                    "text": symbol.text,
                    "gs1": symbol.gs1,
                    "symbology": symbol.symbology,
                    "symbology_id": symbol.symbology_id,
                    "quad": [list(point) for point in symbol.quad],
                    **on_page,
                }
                if (bracketed := symbol.bracketed()) is not None:
                    code["bracketed"] = bracketed
                record["codes"].append(code)
            for conflict in result.conflicts:
                record.setdefault("conflicts", []).append(
                    {
                        "symbology": conflict.symbology,
                        "texts": list(conflict.texts),
                        "quad": [list(point) for point in conflict.quad],
                        **on_page,
                    }
                )
            for region in result.unread:
                record.setdefault("unread", []).append(
                    {
                        "kind": region.kind,
                        "reason": region.reason,
                        "quad": [list(point) for point in region.quad],
                        **on_page,
                    }
                )
            if (retake := result.retake()) is not None:
                record.setdefault("retake", []).append({"code": retake, **on_page})
            if annotate_dir is not None:
                suffix = f"-p{number}" if count > 1 else ""
                target = Path(annotate_dir) / f"{Path(path).stem}{suffix}.annotated.png"
                target.write_bytes(annotate(page, symbols))
    except (GatewayError, OSError) as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    return record


def _pages(data: bytes) -> tuple[int, Iterator[Any]]:
    """How many pages or frames the file has, and their pixels one at a time.

    A PDF is opened and rendered as document extraction does it (`open_pdf`, `render_page`,
    within `Limits()`), one page in memory at a time.
    """
    from gateway.barcodes import load_image

    if not data.startswith(b"%PDF-"):
        images = load_image(data)
        return len(images), iter(images)
    from gateway.parsers.limits import Limits
    from gateway.parsers.pdfguard import open_pdf
    from gateway.parsers.scan import render_page

    limits = Limits()
    document = open_pdf(data, limits)

    def rendered() -> Iterator[Any]:
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    yield render_page(page, limits)[0]
                finally:
                    page.close()
        finally:
            document.close()

    return len(document), rendered()


def _decode_star(args: tuple[str, str | None, float | None]) -> dict[str, Any]:
    return decode_path(*args)


def _one_thread() -> None:
    # One OpenCV thread per worker: the pool already uses the cores, and OpenCV's own thread
    # pool on top of it only adds contention.
    import cv2

    cv2.setNumThreads(1)


def _records(
    paths: tuple[str, ...], jobs: int, annotate_dir: str | None, budget_s: float | None = None
) -> Iterator[dict[str, Any]]:
    work = [(path, annotate_dir, budget_s) for path in paths]
    if jobs <= 1 or len(paths) <= 1:
        yield from map(_decode_star, work)
        return
    # Workers come from a fork server, not from this process: forking a process whose
    # OpenCV thread pool has run (a test runner, an embedding service) can deadlock the
    # children. The server imports the reader (OpenCV, zxing-cpp, numpy: about half a second)
    # once, so the workers it forks start with it loaded.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gateway.barcodes.reader"])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_one_thread) as pool:
        yield from pool.map(_decode_star, work, chunksize=1)  # map keeps argument order


@click.command("decode")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--annotate",
    "annotate_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write an annotated PNG per image (and per PDF page) into this directory.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="CPU count",
    help="Processes reading files in parallel.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0.0),
    default=READ_BUDGET_S,
    show_default=True,
    help="Seconds spent reading one image or page before escalation stops; 0: no limit.",
)
def decode(paths: tuple[str, ...], annotate_dir: str | None, jobs: int, budget: float) -> None:
    """Print the barcodes on label photos, scans and PDFs: one JSON line per file.

    Each line is {"path", "codes": [{"text", "gs1", "symbology", "symbology_id", "quad",
    "bracketed"}]}, plus "conflicts", "unread" and "retake" when there are any, and "error"
    when the file could not be read. GS1 text is the element string without symbology
    identifier and leading FNC1, with GS (U+001D) between fields.
    """
    if annotate_dir is not None:
        Path(annotate_dir).mkdir(parents=True, exist_ok=True)
    for record in _records(paths, jobs, annotate_dir, budget or None):
        click.echo(json.dumps(record, ensure_ascii=False))
