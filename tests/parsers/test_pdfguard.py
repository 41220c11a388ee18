"""The PDF stream guard refuses compression bombs before any PDF library inflates them."""

import zlib

import pytest

from gateway.errors import DocumentTooLarge
from gateway.parsers import extract
from gateway.parsers.pdfguard import check_pdf_streams
from samples.manifests import build_pdf

MIB = 1024 * 1024


def _pdf_with_stream(payload: bytes, filters: str) -> bytes:
    head = f"%PDF-1.7\n1 0 obj\n<< /Length {len(payload)} /Filter {filters} >>\nstream\n"
    return head.encode() + payload + b"\nendstream\nendobj\n%%EOF\n"


def test_a_single_flate_bomb_is_refused_naming_the_limit():
    bomb = zlib.compress(b"\0" * (8 * MIB), 9)
    pdf = _pdf_with_stream(bomb, "/FlateDecode")
    with pytest.raises(DocumentTooLarge, match="inflates past the limit"):
        check_pdf_streams(pdf, max_stream=4 * MIB, max_total=64 * MIB)


def test_stacked_flate_filters_are_inflated_layer_by_layer():
    inner = zlib.compress(b"\0" * (8 * MIB), 9)
    outer = zlib.compress(inner, 9)
    pdf = _pdf_with_stream(outer, "[/FlateDecode /FlateDecode]")
    # the outer layer alone inflates to a few KiB: only the second layer shows the bomb
    assert len(inner) < 64 * 1024
    with pytest.raises(DocumentTooLarge):
        check_pdf_streams(pdf, max_stream=4 * MIB, max_total=64 * MIB)


def test_the_document_total_counts_every_stream():
    one = _pdf_with_stream(zlib.compress(b"a" * (3 * MIB)), "/FlateDecode")
    pdf = one + one[len(b"%PDF-1.7\n") :] * 3
    check_pdf_streams(one, max_stream=4 * MIB, max_total=8 * MIB)
    with pytest.raises(DocumentTooLarge):
        check_pdf_streams(pdf, max_stream=4 * MIB, max_total=8 * MIB)


def test_streams_that_are_not_zlib_are_left_to_the_pdf_library():
    pdf = _pdf_with_stream(b"not zlib at all", "/FlateDecode")
    check_pdf_streams(pdf, max_stream=MIB, max_total=MIB)


def test_ordinary_manifests_pass_the_guard_and_are_read():
    data, _expected = build_pdf()
    check_pdf_streams(data, max_stream=MIB * 64, max_total=MIB * 256)
    extraction = extract(data, filename="manifest.pdf")
    assert extraction.lines


def test_extract_refuses_a_bomb_before_parsing():
    bomb = zlib.compress(b"\0" * (80 * MIB), 9)
    with pytest.raises(DocumentTooLarge):
        extract(_pdf_with_stream(bomb, "/FlateDecode"), filename="bomb.pdf")
