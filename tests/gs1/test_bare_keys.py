"""Bare GS1 keys: `decode_key` reads a value as the key its context names; `bare_key_readings`
lists the keys a digit string may be (GS1 General Specifications §3.3.2, §3.3.3, §3.7.9, §7.9).
"""

import pytest

from gateway.gs1 import bare_key_readings, check_digit, decode, decode_key

GTIN13 = "590123412345" + check_digit("590123412345")
GTIN8 = "9638507" + check_digit("9638507")
GTIN12 = "61414100003" + check_digit("61414100003")
GTIN14 = "1952123454321" + check_digit("1952123454321")
SSCC = "10614141123456789" + check_digit("10614141123456789")
GLN = "952123400001" + check_digit("952123400001")


def bad(digits: str) -> str:
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("text", "kind", "ais", "key", "key_kind"),
    [
        (GTIN13, "gtin", {"01": GTIN13.zfill(14)}, f"01:{GTIN13.zfill(14)}", "gtin"),
        (GTIN8, "gtin", {"01": GTIN8.zfill(14)}, f"01:{GTIN8.zfill(14)}", "gtin"),
        (GTIN12, "gtin", {"01": GTIN12.zfill(14)}, f"01:{GTIN12.zfill(14)}", "gtin"),
        (GTIN14, "gtin", {"01": GTIN14}, f"01:{GTIN14}", "gtin"),
        (SSCC, "sscc", {"00": SSCC}, f"00:{SSCC}", "sscc"),
        # a GLN names a party or place, not a unit: no unit key, as for (414) in any form
        (GLN, "gln", {"414": GLN}, None, None),
        # the other forms are read as usual when they carry the key
        (f"(01){GTIN14}(21)S1", "gtin", {"01": GTIN14, "21": "S1"}, f"01:{GTIN14}/21:S1", "sgtin"),
        (f"01{GTIN14}", "gtin", {"01": GTIN14}, f"01:{GTIN14}", "gtin"),
    ],
)
def test_decode_key_reads_the_value_as_the_named_key(text, kind, ais, key, key_kind):
    got = decode_key(text, kind)
    assert got.valid, got.problems
    assert dict(got.ais) == ais
    assert (got.key, got.key_kind) == (key, key_kind)


def test_without_context_bare_keys_keep_their_element_string_meaning():
    # the rule of `decode` and of `gateway codes` without --as: digits are an element string
    assert [p.code for p in decode(GTIN13).problems] == ["UNKNOWN_AI"]
    assert dict(decode(GTIN8).ais) == {"96": GTIN8[2:]}


@pytest.mark.parametrize(
    ("text", "kind", "code", "span"),
    [
        (bad(GTIN13), "gtin", "INCORRECT_CHECK_DIGIT", (12, 13)),
        (f"  {bad(SSCC)}", "sscc", "INCORRECT_CHECK_DIGIT", (19, 20)),
        ("12345", "gtin", "WRONG_LENGTH", (0, 5)),
        (GTIN13, "sscc", "WRONG_LENGTH", (0, 13)),
        (f"(00){SSCC}", "gtin", "MISSING_KEY", (0, 22)),
        ("(01)123", "gtin", "WRONG_LENGTH", (4, 7)),
        (GTIN13, "ean", "INVALID_INPUT", (0, 0)),
    ],
)
def test_decode_key_says_what_is_wrong(text, kind, code, span):
    got = decode_key(text, kind)
    assert not got.valid
    errors = [p for p in got.problems if p.severity == "error"]
    assert (errors[0].code, errors[0].span) == (code, span)
    assert errors[0].message.startswith("Expected") or "expected" in errors[0].message


def test_decode_key_keeps_the_key_of_a_wrong_check_digit_and_repairs_like_decode():
    got = decode_key(bad(GTIN13), "gtin")
    assert got.key == f"01:{bad(GTIN13).zfill(14)}"
    assert f"expected {GTIN13[-1]!r}" in got.problems[0].message
    fullwidth = GTIN13.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    repaired = decode_key(f" {fullwidth}\u3000", "gtin")
    assert repaired.valid
    assert repaired.repaired
    assert {p.code for p in repaired.problems} == {"FULLWIDTH_NORMALISED", "WHITESPACE_TRIMMED"}
    assert not decode_key(f" {GTIN13}", "gtin", strict=True).valid


def test_decode_key_never_raises():
    assert decode_key(None, "gtin").problems[0].code == "INVALID_INPUT"  # type: ignore[arg-type]
    assert not decode_key("", "gtin").valid


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        (GTIN13, [("gtin", {"01": GTIN13.zfill(14)}), (None, {"414": GTIN13})]),
        (GTIN8, [("gtin", {"01": GTIN8.zfill(14)})]),
        (GTIN12, [("gtin", {"01": GTIN12.zfill(14)})]),
        (GTIN14, [("gtin", {"01": GTIN14})]),
        (SSCC, [("sscc", {"00": SSCC})]),
        (bad(GTIN13), []),  # no check digit fits
        ("1234567", []),  # no key has 7 digits
        (f"(01){GTIN14}", []),  # not a bare key
        ("", []),
    ],
)
def test_bare_key_readings_lists_every_key_that_fits(text, readings):
    got = bare_key_readings(text)
    assert [(r.key_kind, dict(r.ais)) for r in got] == readings
    assert all(r.valid for r in got)


def test_bare_key_readings_and_decode_disagree_on_an_ambiguous_gtin_8():
    # "96385074" is a GTIN-8 and, as an element string, AI (96) = "385074": both plausible
    element_string = decode(GTIN8)
    assert element_string.valid
    assert [r.key for r in bare_key_readings(GTIN8)] == [f"01:{GTIN8.zfill(14)}"]
