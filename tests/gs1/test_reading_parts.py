"""A reading rebuilt from its parts (how the parser sandbox sends one) is the reading itself."""

from __future__ import annotations

import pytest

from gateway.gs1 import decode, reading_from_parts

GS = "\x1d"


@pytest.mark.parametrize(
    "raw",
    [
        "(01)09521234543213(21)A1",
        "(01)09521234543214(21)A1",  # wrong check digit
        "(01) 09521234543213 (21) A1",  # spaces repaired
        f"]d2010952123454321321A1{GS}10L1",
        "010952123454321321A1<GS>10L1",  # a printed stand-in for GS
        "https://id.gs1.org/01/09521234543213/21/A%2F1?17=271231",
        "(00)369012340000000018",
        "(8004)0952123456ABC",
        "(01)09521234543213(10)L1",
        "(01)09521234543213",
        "001PEAD0P4T1JBC901234567",  # GB/T 34014
        "001peAD0P4T1JBC901234567",
        "1.23457E+13",  # destroyed by a spreadsheet
        "",
        "hello world",
        "]C1",
    ],
)
def test_a_reading_rebuilt_from_its_parts_is_the_reading(raw):
    r = decode(raw)
    rebuilt = reading_from_parts(
        raw, r.scheme, dict(r.ais), r.problems, r.gb, r.symbology_id, r.repaired
    )
    assert rebuilt == r
