"""decode(): forms, linters, associations, Digital Link, GB/T codes, artefacts, strict mode."""

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.domain import DecodedCode, Scheme
from gateway.gs1 import (
    check_digit,
    check_pair,
    decode,
    format_element_string,
    format_hri,
    validate_together,
)

GS = "\x1d"


def key(body: str) -> str:
    """A key with its check digit computed by the engine's own function."""
    return body + check_digit(body)


GTIN = key("0952123454321")
GTIN2 = key("0690123456789")
SSCC = key("03952123400000001")
GLN = key("952123400001")
GSRN = key("95212340000000001")


def codes(decoded: DecodedCode) -> list[str]:
    return [p.code for p in decoded.problems]


# --- forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ais", "symbology_id"),
    [
        (f"(01){GTIN}(10)L42(21)SN1", {"01": GTIN, "10": "L42", "21": "SN1"}, None),
        (f"01{GTIN}10L42{GS}21SN1", {"01": GTIN, "10": "L42", "21": "SN1"}, None),
        (f"]C101{GTIN}10L42{GS}21SN1", {"01": GTIN, "10": "L42", "21": "SN1"}, "]C1"),
        (f"]d201{GTIN}21SN1", {"01": GTIN, "21": "SN1"}, "]d2"),
        (f"]Q301{GTIN}17250101", {"01": GTIN, "17": "250101"}, "]Q3"),
        (f"]e001{GTIN}", {"01": GTIN}, "]e0"),
        (f"]J101{GTIN}", {"01": GTIN}, "]J1"),
        (f"]E0{GTIN[1:]}", {"01": GTIN}, "]E0"),
        (f"]E4{key('9521234')}", {"01": "000000" + key("9521234")}, "]E4"),
    ],
)
def test_decode_reads_every_gs1_form(raw, ais, symbology_id):
    d = decode(raw)
    assert d.valid, d.problems
    assert d.scheme is Scheme.GS1
    assert dict(d.ais) == ais
    assert d.symbology_id == symbology_id


@pytest.mark.parametrize(
    ("raw", "ais"),
    [
        (f"https://id.gs1.org/01/{GTIN}/21/A%2FB", {"01": GTIN, "21": "A/B"}),
        (f"HTTPS://EXAMPLE.COM/01/{GTIN}", {"01": GTIN}),
        (
            f"https://brand.example/p/2024/01/{GTIN}/10/L1?17=251231",
            {"01": GTIN, "10": "L1", "17": "251231"},
        ),
        (f"https://id.gs1.org/01/{GTIN}?linkType=gs1:pip&utm_source=x", {"01": GTIN}),
        (f"https://id.gs1.org/00/{SSCC}?02={GTIN}&37=5", {"00": SSCC, "02": GTIN, "37": "5"}),
        (f"]Q1https://id.gs1.org/01/{GTIN}/21/S1#frag", {"01": GTIN, "21": "S1"}),
        (f"https://id.gs1.org/414/{GLN}/254/X1", {"414": GLN, "254": "X1"}),
    ],
)
def test_decode_reads_digital_link_uris(raw, ais):
    d = decode(raw)
    assert d.valid, d.problems
    assert d.scheme is Scheme.DIGITAL_LINK
    assert dict(d.ais) == ais


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"https://id.gs1.org/01/{GTIN}/10/L1/22/V1", "DL_INVALID_KEY_QUALIFIERS"),
        (f"https://id.gs1.org/01/{GTIN}/21/S1/10/L1", "DL_INVALID_KEY_QUALIFIERS"),
        (f"https://id.gs1.org/01/{GTIN}?21=S1", "DL_QUALIFIER_IN_QUERY"),
        (f"https://id.gs1.org/01/{GTIN}?8200=x", "DL_NOT_ATTRIBUTE"),
        (f"https://id.gs1.org/01/{GTIN}?123=x", "DL_UNKNOWN_AI"),
        (f"https://id.gs1.org/01/{GTIN}?17=250101&17=250101", "DL_DUPLICATE_ATTRIBUTE"),
        (f"https://id.gs1.org/01/{GTIN}/21/A%20B", "INVALID_CHARACTER"),
        (f"https://id.gs1.org/01/{GTIN}/21/A%ZZ", "DL_BAD_PERCENT_ENCODING"),
        ("https://id.gs1.org/gtin/09521234543213", "DL_NO_PRIMARY_KEY"),
        ("https://id.gs1.org/AQnYUc1gRKnEBASKvDFaDNhCp5l8", "DL_COMPRESSED"),
        (f"https:///01/{GTIN}", "DL_EMPTY_HOST"),
        (f"Https://id.gs1.org/01/{GTIN}", "DL_BAD_SCHEME"),
        (f"https://id.gs1.org/00/{SSCC}?3103=000100", "MISSING_ASSOCIATION"),
        (f"]d2https://id.gs1.org/01/{GTIN}", "URI_IN_GS1_SYMBOL"),
    ],
)
def test_decode_reports_digital_link_rule_violations(raw, code):
    d = decode(raw)
    assert not d.valid
    assert code in codes(d)


# --- lengths, character sets, linters --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"(01){GTIN[:-1]}{(int(GTIN[-1]) + 1) % 10}", "INCORRECT_CHECK_DIGIT"),
        (f"(00){SSCC[:-1]}{(int(SSCC[-1]) + 1) % 10}", "INCORRECT_CHECK_DIGIT"),
        (f"(8017){GSRN[:-1]}{(int(GSRN[-1]) + 3) % 10}", "INCORRECT_CHECK_DIGIT"),
        (f"(01){GTIN[1:]}", "WRONG_LENGTH"),
        (f"(01){GTIN}(11)2501011", "WRONG_LENGTH"),
        (f"(01){GTIN}(17)250230", "INVALID_DATE"),
        (f"(01){GTIN}(17)251301", "INVALID_DATE"),
        (f"(01){GTIN}(17)230229", "INVALID_DATE"),
        (f"(01){GTIN}(7006)250100", "INVALID_DATE"),
        (f"(01){GTIN}(7003)2501012460", "INVALID_TIME"),
        (f"(01){GTIN}(422)000", "UNKNOWN_COUNTRY_CODE"),
        (f"(8020)A1(415){GLN}(3911)000100", "UNKNOWN_CURRENCY_CODE"),
        (f"(8006){GTIN}0302", "INVALID_PIECE_OF_TOTAL"),
        (f"(8006){GTIN}0000", "INVALID_PIECE_OF_TOTAL"),
        (f"(8003)1{GTIN[1:]}", "INVALID_VALUE"),
        ("(8010)ABC(8011)0123", "INVALID_VALUE"),
        (f"(01){GTIN}(8001)00000123450011", "INVALID_VALUE"),
        (f"(00){SSCC}(4321)2", "INVALID_VALUE"),
        ("(8013)1987654Ad4X4bL5ttr2310c2L", "INCORRECT_CHECK_PAIR"),
        ("(8013)1987654Ad4X4bL5ttr2310c2k", "INCORRECT_CHECK_PAIR"),
        ("(8004)ABC1234", "INVALID_COMPANY_PREFIX"),
        (f"(01){GTIN}(10)AB C", "INVALID_CHARACTER"),
        (f"(01){GTIN}(10)AB#C", "INVALID_CHARACTER"),
        (f"(01){GTIN}(10)ÄBC", "INVALID_CHARACTER"),
        (f"(01){GTIN}(30)12A", "NON_NUMERIC"),
        ("(8010)abc123", "INVALID_CHARACTER"),
        (f"(01){GTIN}(10)" + "L" * 21, "TOO_LONG"),
        (f"(01){GTIN}(21)", "EMPTY_VALUE"),
        (f"(01){GTIN}(23)12345", "UNKNOWN_AI"),
        (f"01{GTIN}3106000100", "UNKNOWN_AI"),
        (f"(01){GTIN}(21)A1(01){GTIN2}", "DUPLICATE_AI_CONFLICT"),
    ],
)
def test_decode_reports_value_problems(raw, code):
    d = decode(raw)
    assert not d.valid
    assert code in codes(d), d.problems


@pytest.mark.parametrize(
    "raw",
    [
        f"(01){GTIN}(17)250200",  # DD=00 allowed for yymmd0
        f"(01){GTIN}(17)280229",  # leap year
        f"(01){GTIN}(8001)01230456001910",
        f"(8006){GTIN}0102(21)S1",
        "(8013)1987654Ad4X4bL5ttr2310c2K",
        f"(01){GTIN}(422)156",
        f"(01){GTIN}(21)A1(01){GTIN}",  # same value twice is allowed
        "(99)" + "Z" * 90,
        f"(01){GTIN}(10)x:y;z%&'*+,-./<=>?_",
        f"(01){GTIN}(10)A\\(1)",  # an escaped bracket in the bracketed form
    ],
)
def test_decode_accepts_valid_values(raw):
    d = decode(raw)
    assert d.valid, d.problems


def test_gmn_built_with_the_engine_check_pair_is_valid():
    data = "4000001ABCxyz"
    assert decode(f"(8013){data}{check_pair(data)}").valid


# --- separators ------------------------------------------------------------------------------


def test_missing_separator_is_absorbed_when_still_valid():
    d = decode(f"01{GTIN}10ABC21XYZ")
    assert d.valid
    assert d.ais["10"] == "ABC21XYZ"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"01{GTIN}422156" + "10LOT7", "WRONG_LENGTH"),  # 422: fixed length, not predefined
        (f"]C18006{GTIN}0102" + "21S", "WRONG_LENGTH"),
        (f"]C101{GTIN}30123" + "3103000100", "TOO_LONG"),
        (f"01{GTIN}10A{GS}{GS}21B", "MISPLACED_SEPARATOR"),
        (f"]C1(01){GTIN}", "PARENTHESES_IN_SCAN_DATA"),
    ],
)
def test_separator_rules(raw, code):
    d = decode(raw)
    assert not d.valid
    assert code in codes(d)


@pytest.mark.parametrize("raw", [f"]C101{GTIN}{GS}10A", f"]d201{GTIN}21S{GS}"])
def test_superfluous_separator_is_accepted(raw):
    assert decode(raw).valid


# --- associations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("(17)260119", "MISSING_ASSOCIATION"),
        (f"(02){GTIN}", "MISSING_ASSOCIATION"),
        (f"(02){GTIN}(37)10", "MISSING_ASSOCIATION"),
        (f"(00){SSCC}(3103)000100", "MISSING_ASSOCIATION"),
        ("(21)S1", "MISSING_ASSOCIATION"),
        (f"(01){GTIN}(02){GTIN2}", "INVALID_PAIR"),
        (f"(01){GTIN}(37)10", "INVALID_PAIR"),
        (f"(01){GTIN}(3102)000100(3103)000100", "INVALID_PAIR"),
        (f"(00){SSCC}(420)X(421)156X", "INVALID_PAIR"),
    ],
)
def test_association_rules(raw, code):
    d = decode(raw)
    assert not d.valid
    assert code in codes(d)


def test_associations_can_be_left_to_validate_together():
    sscc_symbol = decode(f"]C100{SSCC}", associations=False)
    content_symbol = decode(f"]C102{GTIN}37{10}", associations=False)
    assert sscc_symbol.valid
    assert content_symbol.valid
    assert validate_together([sscc_symbol, content_symbol]) == ()
    alone = validate_together([content_symbol])
    assert [p.code for p in alone] == ["MISSING_ASSOCIATION"]


def test_validate_together_reports_conflicting_duplicates():
    a = decode(f"]C101{GTIN}21A", associations=False)
    b = decode(f"]C101{GTIN2}", associations=False)
    assert "DUPLICATE_AI_CONFLICT" in [p.code for p in validate_together([a, b])]


# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected_key", "kind"),
    [
        (f"(01){GTIN}(21)S1", f"01:{GTIN}/21:S1", "sgtin"),
        (f"(00){SSCC}", f"00:{SSCC}", "sscc"),
        ("(8004)9521234ABC", "8004:9521234ABC", "giai"),
        (f"(8003)0{GTIN[1:]}X1", f"8003:0{GTIN[1:]}X1", "grai"),
        (f"(01){GTIN}(10)L1", f"01:{GTIN}/10:L1", "lot"),
        (f"(01){GTIN}", f"01:{GTIN}", "gtin"),
        (f"]E0{GTIN[1:]}", f"01:{GTIN}", "gtin"),
    ],
)
def test_decode_builds_the_unit_key(raw, expected_key, kind):
    d = decode(raw)
    assert d.valid, d.problems
    assert (d.key, d.key_kind) == (expected_key, kind)


# --- artefacts and strict mode ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"01{GTIN}10AB<GS>21C", "FNC1_STAND_IN_REPLACED"),
        (f"01{GTIN}10AB{{GS}}21C", "FNC1_STAND_IN_REPLACED"),
        (f"01{GTIN}10AB[GS]21C", "FNC1_STAND_IN_REPLACED"),
        (f"01{GTIN}10AB\\x1d21C", "FNC1_STAND_IN_REPLACED"),
        (f"01{GTIN}10AB\\u001d21C", "FNC1_STAND_IN_REPLACED"),
        (f"]C101{GTIN}10AB^21C", "FNC1_STAND_IN_REPLACED"),
        (f"]C101{GTIN}10AB␝21C", "FNC1_STAND_IN_REPLACED"),
        (f"]C101{GTIN}10AB|21C", "FNC1_STAND_IN_REPLACED"),
        (f"]C101{GTIN}10AB@21C", "FNC1_STAND_IN_REPLACED"),
        (f"]C101{GTIN}10AB\\F21C", "FNC1_STAND_IN_REPLACED"),
    ],
)
def test_fnc1_stand_ins_are_repaired_with_a_warning(raw, code):
    d = decode(raw)
    assert d.valid, d.problems
    assert d.repaired
    assert dict(d.ais) == {"01": GTIN, "10": "AB", "21": "C"}
    warning = next(p for p in d.problems if p.code == code)
    assert warning.severity == "warning"
    start, end = warning.span
    assert raw[start:end] not in ("", "A", "B")
    assert not decode(raw, strict=True).valid or "<GS>" in raw


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (f"\ufeff(01){GTIN}(21)S1", "WHITESPACE_TRIMMED"),
        (f"(01){GTIN}(21)S1\u3000", "WHITESPACE_TRIMMED"),
        (f"  (01){GTIN}(21)S1\t", "WHITESPACE_TRIMMED"),
        (f"（01）{GTIN}（21）S1", "FULLWIDTH_NORMALISED"),
        (
            "(01)" + GTIN.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)}) + "(21)S1",
            "FULLWIDTH_NORMALISED",
        ),
        (f"(01) {GTIN} (21) S1", "HRI_WHITESPACE_REMOVED"),
    ],
)
def test_capture_artefacts_are_repaired_and_strict_mode_repairs_nothing(raw, code):
    d = decode(raw)
    assert d.valid, d.problems
    assert dict(d.ais) == {"01": GTIN, "21": "S1"}
    assert code in codes(d)
    assert all(p.severity == "warning" for p in d.problems)
    strict = decode(raw, strict=True)
    assert not strict.valid
    assert not strict.repaired


def test_a_repair_does_not_make_a_bad_code_valid():
    d = decode(f"（01）{GTIN[:-1]}{(int(GTIN[-1]) + 1) % 10}")
    assert not d.valid
    assert {"FULLWIDTH_NORMALISED", "INCORRECT_CHECK_DIGIT"} <= set(codes(d))


@pytest.mark.parametrize("raw", ["6.90123E+12", "9.52123e+12", f"(01){'9.52123E+12'}"])
def test_spreadsheet_scientific_notation_is_never_repaired(raw):
    d = decode(raw)
    assert not d.valid
    assert "IDENTIFIER_DESTROYED" in codes(d)


def test_digit_grouping_inside_a_value_is_not_repaired():
    assert not decode(f"(01){GTIN[:1]} {GTIN[1:7]} {GTIN[7:]}").valid


# --- spans -----------------------------------------------------------------------------------


def test_check_digit_problem_points_at_the_check_digit():
    bad = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)
    raw = f"(01){bad}(21)S1"
    problem = decode(raw).problems[0]
    assert problem.code == "INCORRECT_CHECK_DIGIT"
    assert raw[slice(*problem.span)] == bad[-1]


def test_illegal_character_span_is_in_raw_offsets_after_repairs():
    raw = f"  ]C101{GTIN}10A^21B C"
    bad = next(p for p in decode(raw).problems if p.code == "INVALID_CHARACTER")
    assert raw[slice(*bad.span)] == " "
    assert bad.span[0] == raw.rindex(" ")


# --- GB/T codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "level", "chem", "date"),
    [
        ("ABCPB0100000AAAB11200001", "pack", "LFP", dt.date(2020, 11, 1)),
        ("00MCE01000000ACC90000001", "cell", "NCM/NCA", dt.date(2022, 12, 9)),
        ("XYZME02ABCDEF1HAE0000042", "module", "NCM/NCA", dt.date(2027, 10, 14)),
    ],
)
def test_gb34014_codes_are_decoded_into_segments(raw, level, chem, date):
    d = decode(raw)
    assert d.valid, d.problems
    assert d.scheme is Scheme.GB34014
    assert d.gb is not None
    assert (d.gb.product_level, d.gb.chemistry_name, d.gb.production_date) == (level, chem, date)
    assert (d.key, d.key_kind) == (raw, "gb34014")
    assert d.gb.serial == raw[17:]


def test_gb34014_unknown_table_values_are_kept_and_flagged_not_rejected():
    d = decode("ABCPX0100000AAK3Y1200001")
    assert d.valid
    assert d.gb is not None
    assert d.gb.chemistry == "X"
    assert d.gb.chemistry_name is None
    assert d.gb.production_date is None
    assert {"chemistry", "production_date"} <= set(d.gb.uncertain)
    assert "GB_UNKNOWN_CHEMISTRY" in codes(d)


def test_gb34014_in_a_plain_symbology_and_lower_case():
    d = decode("]C0abcpb0100000aaab11200001")
    assert d.valid
    assert d.scheme is Scheme.GB34014
    assert d.key == "ABCPB0100000AAAB11200001"
    assert d.repaired
    assert decode("]C0abcpb0100000aaab11200001", strict=True).scheme is Scheme.UNKNOWN


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("A1B2HB01-000123456789", "module"),
        ("A1B2KB-R-X00000001", "system"),
        ("9ZZZJE1-12345678", "cluster"),
    ],
)
def test_gb45565_codes_are_recognised_by_structure(raw, level):
    d = decode(raw)
    assert d.valid, d.problems
    assert d.scheme is Scheme.GB45565
    assert d.gb is not None
    assert d.gb.product_level == level
    assert "production_date" in d.gb.uncertain


def test_gb45565_code_led_by_internal_ai_digits_is_not_read_as_gs1():
    # "98" is also GS1's internal AI 98, which would make the text a valid but key-less message.
    d = decode("982WJB1-00012345")
    assert d.scheme is Scheme.GB45565
    assert d.key == "982WJB1-00012345"


def test_internal_ai_alone_stays_gs1_when_no_gb_reading_exists():
    d = decode("98ABC")
    assert d.scheme is Scheme.GS1
    assert d.ais == {"98": "ABC"}


@pytest.mark.parametrize("raw", ["", "   ", "hello world", "]Z9abc", f"]J001{GTIN}"])
def test_unrecognised_inputs_are_invalid_problems(raw):
    d = decode(raw)
    assert not d.valid
    assert d.problems
    assert any(p.severity == "error" for p in d.problems)


# --- properties ------------------------------------------------------------------------------

AIS_FOR_ROUND_TRIP = st.fixed_dictionaries(
    {"01": st.builds(lambda b: key("0" + b), st.text("0123456789", min_size=12, max_size=12))},
    optional={
        "17": st.sampled_from(["250101", "261231", "280229"]),
        "10": st.text("ABCxyz0189-./()_", min_size=1, max_size=20),
        "21": st.text("ABCxyz0189-./()_", min_size=1, max_size=20),
        "3103": st.text("0123456789", min_size=6, max_size=6),
        "422": st.sampled_from(["156", "276"]),
    },
)


@given(AIS_FOR_ROUND_TRIP)
def test_bracketed_and_raw_round_trips(ais):
    hri = decode(format_hri(ais), strict=True)
    assert hri.valid, hri.problems
    assert dict(hri.ais) == ais
    raw = decode(format_element_string(ais), strict=True)
    assert raw.valid, raw.problems
    assert dict(raw.ais) == ais


@settings(max_examples=300)
@given(st.text())
@example("HTTP://")  # a URI that ends where its host should start
def test_decode_never_raises(raw):
    d = decode(raw)
    assert d.valid in (True, False)
    assert all(0 <= p.span[0] <= p.span[1] <= len(raw) for p in d.problems)


@settings(max_examples=300)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789()]CdQ1^|<>GS{}\x1d/:%?&=h tps.")), max_size=60
    )
)
def test_decode_never_raises_on_code_like_text(raw):
    for strict in (False, True):
        d = decode(raw, strict=strict)
        assert all(0 <= p.span[0] <= p.span[1] <= len(raw) for p in d.problems)
        assert not any(p.code == "INTERNAL_ERROR" for p in d.problems), d.problems
