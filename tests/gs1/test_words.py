"""The engine's problems in Chinese: made from the problem code and its parameters."""

from __future__ import annotations

import re

import pytest

from gateway.gs1 import decode
from gateway.gs1.words import ZH, problem_text, problem_zh

BAD_CODES = [
    "(01)06901234567893(21)PK0102",  # check digit
    "(01)0690123456789(21)X",  # too short
    "(17)261340(01)06901234567892(21)A",  # a date that is not one
    "(01)06901234567892(21)A B",  # a character AI 21 does not allow
    "(01)0690123456789A",  # a letter in a numeric AI
    "(01)06901234567892(21)A(21)B",  # the same AI twice, different values
    "(01)06901234567892(9Z)X",  # not an AI
    "(21)SN1",  # a serial without its GTIN
    "0106901234567893",  # raw element string, check digit
    "https://id.gs1.org/01/06901234567893/21/SN1",  # Digital Link, check digit
    "hello world",  # nothing a gateway reads
]
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")
_ALLOWED = {"AI", "GS", "GS1", "GB", "GTIN", "SSCC"}


@pytest.mark.parametrize("raw", BAD_CODES)
def test_problems_read_in_chinese(raw: str) -> None:
    decoded = decode(raw)
    errors = [p for p in decoded.problems if p.severity == "error"]
    assert errors, raw
    for problem in errors:
        text = problem_zh(problem, decoded.raw)
        assert problem.code in ZH, problem.code
        bad = set(raw[problem.span[0] : problem.span[1]]) if problem.span[1] else set(raw)
        words = {w for w in _LATIN_WORD.findall(text) if w not in _ALLOWED}
        # Latin letters may only be the code's own characters, quoted.
        assert all(set(w) <= set(raw) | bad for w in words), (text, words)
        assert "incorrect" not in text
        assert "expected" not in text


def test_parameters_are_kept() -> None:
    decoded = decode("(01)06901234567893(21)PK0102")
    (problem,) = [p for p in decoded.problems if p.severity == "error"]
    assert dict(problem.params) == {"ai": "01", "value": "06901234567893"}
    assert problem_text(problem, decoded.raw, "zh") == "AI (01) 校验位不正确：'06901234567893'"
    assert problem_text(problem, decoded.raw, "en") == problem.message.rstrip(".")


def test_every_documented_problem_code_has_a_chinese_text() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "gs1.md").read_text(encoding="utf-8")
    section = doc.split("## Problem codes", 1)[1].split("Spans are", 1)[0]
    codes = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", section))
    assert len(codes) > 40
    assert codes <= set(ZH), sorted(codes - set(ZH))
