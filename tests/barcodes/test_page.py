"""A rendered page costs what it shows: sharp regions get no deblurring, a bare page stops early."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from gateway.barcodes import read_labels, reader
from gateway.barcodes.regions import find_regions
from samples.manifests import build_pdf


def _page(*, barcodes: bool, turns: int = 0) -> np.ndarray:
    """The scanned page of a generated packing list, rendered as extraction renders it."""
    import pypdfium2 as pdfium

    from gateway.parsers.limits import Limits
    from gateway.parsers.scan import render_page

    data, _ = build_pdf(
        seed=5, rotated_page=False, scanned_page=True, scan_turns=turns, scan_barcodes=barcodes
    )
    doc = pdfium.PdfDocument(data)
    image, _ = render_page(doc[len(doc) - 1], Limits())
    doc.close()
    return np.ascontiguousarray(np.rot90(image, turns))


def _count_deblurring(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("defocus_views", "motion_views", "estimate_motion"):
        real = getattr(reader, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(reader, name, spy)
    return calls


def test_a_text_page_is_settled_without_deblurring_what_a_photo_would(monkeypatch):
    image = _page(barcodes=False)
    calls = _count_deblurring(monkeypatch)
    photo = read_labels(image, budget_s=None)
    assert photo.symbols == []
    assert calls
    calls.clear()
    page = read_labels(image, budget_s=None, page=True)
    assert page.symbols == []
    assert page.unread == []
    assert calls == []


def test_a_page_with_barcodes_reads_what_it_reads_as_a_photo():
    image = _page(barcodes=True, turns=1)
    photo = sorted(s.text for s in read_labels(image, budget_s=None).symbols)
    page = sorted(s.text for s in read_labels(image, budget_s=None, page=True).symbols)
    assert len(photo) == 6
    assert page == photo


def test_a_blurred_page_still_gets_the_deblurring_views(monkeypatch):
    gray = cv2.cvtColor(_page(barcodes=True), cv2.COLOR_RGB2GRAY)
    sharp = find_regions(gray)
    assert sharp
    assert not any(reader._blurred(gray, region) for region in sharp)
    soft = cv2.GaussianBlur(gray, (0, 0), 1.5)  # a defocused photo of the page
    assert all(reader._blurred(soft, region) for region in find_regions(soft))
    expected = sorted(s.text for s in read_labels(gray, budget_s=None).symbols)
    assert sorted(s.text for s in read_labels(soft, budget_s=None, page=True).symbols) == expected


def test_a_page_read_stopped_by_its_budget_names_the_regions_left():
    gray = cv2.cvtColor(_page(barcodes=True), cv2.COLOR_RGB2GRAY)
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.5)  # past what the whole-image read reads
    result = read_labels(blurred, budget_s=0.0, page=True)
    assert result.out_of_time
    assert result.symbols == []
    assert len(result.unread) == 6
    assert {u.reason for u in result.unread} == {"time budget"}
