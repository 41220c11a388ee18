"""Rules the GS1 Barcode Syntax Engine's own test vectors assert, as table tests.

Each table names the rule; the inputs are built here (check digits by the project's own
`check_digit`) or are the small literal values the rule is about.
"""

import pytest

from gateway.gs1 import check_digit, decode, validate_together
from gateway.gs1._iso4217 import PUBLISHED
from gateway.gs1.linters import ISO4217_NUMERIC

GTIN = "0952123454321" + check_digit("0952123454321")
SSCC = "09521234000000001" + check_digit("09521234000000001")
GDTI = "952123400001" + check_digit("952123400001")  # 13 digits: the key without serial
GRAI = "0" + "952123400002" + check_digit("952123400002")  # 14: filler digit + 13


def codes(result):
    return [p.code for p in result.problems if p.severity == "error"]


# AI (8110), North American coupon code: primary GCP (VLI 0-6 + 6 digits), offer code (6),
# save value (VLI 1-5), primary purchase requirement (VLI 1-5), its code (0-4, 9), family code
# (3); then optional fields 1, 2, 3, 4, 5, 6, 9 in this order (coupon application guideline).
COUPON = "0" + "123456" + "123456" + "11" + "11" + "1" + "012"
COUPON_8110 = [
    (COUPON, True),
    (COUPON + "1" + "0" + "11" + "1" + "012" + "0123456", True),  # second purchase with a GCP
    (COUPON + "1" + "0" + "11" + "1" + "012" + "9", True),  # second purchase GCP VLI 9: none
    (COUPON + "3" + "251231" + "4" + "250101", True),  # expiry after start
    (COUPON + "5" + "0123456", True),  # serial number, VLI 0 -> 6 digits
    (COUPON + "6" + "1" + "1234567", True),  # retailer GCP/GLN, VLI 1 -> 7 digits
    (COUPON + "9" + "0" + "1" + "0" + "1", True),  # miscellaneous
    ("7" + "1234567890123", False),  # primary GCP VLI must be 0-6
    ("0123456", False),  # offer code missing
    ("0123456123456", False),  # save value VLI missing
    ("0123456123456" + "0", False),  # save value VLI 0
    ("0123456123456" + "6123456", False),  # save value VLI 6
    ("0123456123456" + "11" + "0", False),  # purchase requirement VLI 0
    ("0123456123456" + "11" + "11" + "5", False),  # requirement code 5
    ("0123456123456" + "11" + "11" + "1" + "01", False),  # family code of 2 digits
    (COUPON + "0", False),  # data after the last field: no optional field 0
    (COUPON + "1", False),  # optional field 1 without its rules code
    (COUPON + "1" + "4", False),  # additional purchase rules code 4
    (COUPON + "1" + "0" + "11" + "1" + "012" + "7", False),  # second purchase GCP VLI 7
    (COUPON + "2", False),  # third purchase requirement VLI missing
    (COUPON + "3" + "2512", False),  # expiry date too short
    (COUPON + "3" + "251301", False),  # expiry month 13
    (COUPON + "4" + "250230", False),  # start date 30 February
    (COUPON + "3" + "250101" + "4" + "251231", False),  # expiry precedes start
    (COUPON + "5", False),  # serial number VLI missing
    (COUPON + "5" + "012345", False),  # serial number shorter than its VLI says
    (COUPON + "6" + "0" + "123456", False),  # retailer GCP/GLN VLI must be 1-7
    (COUPON + "9" + "3", False),  # save value code 3
    (COUPON + "9" + "0" + "3", False),  # applies-to-item 3
    (COUPON + "9" + "0" + "1" + "0", False),  # don't multiply flag missing
    (COUPON + "9" + "0" + "1" + "0" + "2", False),  # don't multiply flag 2
    (COUPON + "3" + "251231" + "2" + "11" + "1" + "012" + "9", False),  # fields out of order
]


@pytest.mark.parametrize(("value", "valid"), COUPON_8110)
def test_ai_8110_coupon_structure(value, valid):
    got = decode(f"(8110){value}")
    assert got.valid is valid, got.problems
    if not valid:
        assert codes(got)[0] in ("INVALID_VALUE", "INVALID_DATE"), got.problems


# AI (8112), paperless coupon: format code 0/1, funder (VLI 0-6 + 6), offer code (6), serial
# number (VLI 0-9 + 6), nothing after it (GS1 AI (8112) Coupon Data Specification).
COUPON_8112 = [
    ("0" + "0123456" + "123456" + "0123456", True),
    ("1" + "0123456" + "123456" + "0123456", True),
    ("0" + "6123456789012" + "123456" + "9123456789012345", True),
    ("2" + "0123456" + "123456" + "0123456", False),  # format code 2
    ("0", False),  # funder VLI missing
    ("0" + "7", False),  # funder VLI 7
    ("0" + "1123456", False),  # funder shorter than its VLI says
    ("0" + "0123456", False),  # offer code missing
    ("0" + "0123456" + "123456", False),  # serial number VLI missing
    ("0" + "0123456" + "123456" + "1123456", False),  # serial number shorter than its VLI
    ("0" + "0123456" + "123456" + "0123456" + "7", False),  # data after the serial number
]


@pytest.mark.parametrize(("value", "valid"), COUPON_8112)
def test_ai_8112_coupon_structure(value, valid):
    assert decode(f"(8112){value}").valid is valid


def test_coupon_problems_point_at_the_field_and_say_what_was_expected():
    got = decode("(8110)71234567890123")
    (problem,) = got.problems
    assert problem.span == (6, 7)  # the VLI digit, in the raw input
    assert "expected the primary GS1 Company Prefix length indicator to be 0-6, got '7'" in (
        problem.message
    )
    got = decode("(8110)" + COUPON + "3" + "250101" + "4" + "251231")
    assert "expected the expiry date '250101' not to precede the start date '251231'" in (
        got.problems[0].message
    )


# AI (8030) is CSET 64 (base64url): "=" may only pad the end, at most twice, and then the
# length is a multiple of 3 (General Specifications, CSET 64 table).
CSET64_PADDING = [
    ("123", True),
    ("12", True),  # padding is optional
    ("12=", True),
    ("1==", True),
    ("=", False),
    ("===", False),
    ("123=", False),
    ("12==", False),
    ("1===", False),
    ("1234=", False),
    ("12===", False),
    ("=23", False),  # "=" not at the end is no CSET 64 character
    ("1=3", False),
    ("12=4", False),
]


@pytest.mark.parametrize(("value", "valid"), CSET64_PADDING)
def test_ai_8030_cset64_padding(value, valid):
    got = decode(f"(00){SSCC}(8030){value}")
    assert got.valid is valid, got.problems


# A digital signature (8030) signs one instance: beside a GDTI (253), GCN (255) or GRAI (8003)
# that key's optional serial component must be present.
SIGNED_SERIALS = [
    (f"(253){GDTI}(8030)ABC123", False),
    (f"(253){GDTI}X(8030)ABC123", True),
    (f"(255){GDTI}(8030)ABC123", False),
    (f"(255){GDTI}0(8030)ABC123", True),
    (f"(8003){GRAI}(8030)ABC123", False),
    (f"(8003){GRAI}X(8030)ABC123", True),
    (f"(253){GDTI}", True),  # without (8030) the serial stays optional
]


@pytest.mark.parametrize(("code", "valid"), SIGNED_SERIALS)
def test_ai_8030_needs_the_serial_of_its_key(code, valid):
    got = decode(code)
    assert got.valid is valid, got.problems
    if not valid:
        assert codes(got) == ["MISSING_ASSOCIATION"]


def test_ai_8030_serial_rule_holds_across_the_symbols_of_one_item():
    key = decode(f"(253){GDTI}", associations=False)
    signature = decode("(8030)ABC123", associations=False)
    assert [p.code for p in validate_together([key, signature])] == ["MISSING_ASSOCIATION"]


# ISO 4217 list one, as published on the date the table records: withdrawn codes (HRK 191,
# SLL 694, CUC 931, ZWL 932, BGN 975) are no currency, new ones (XAD 396, ZWG 924, VED 926) are.
@pytest.mark.parametrize(
    ("currency", "valid"),
    [
        ("978", True),
        ("396", True),
        ("924", True),
        ("926", True),
        ("191", False),
        ("694", False),
        ("931", False),
        ("932", False),
        ("975", False),
    ],
)
def test_iso4217_currency_list_is_the_current_one(currency, valid):
    got = decode(f"(415)9521234000013(8020)123(3910){currency}123")
    assert got.valid is valid, got.problems
    assert (currency in ISO4217_NUMERIC) is valid


def test_iso4217_table_records_its_publication_date():
    year, month, day = PUBLISHED.split("-")
    assert len(year) == 4
    assert 1 <= int(month) <= 12
    assert 1 <= int(day) <= 31


# AI (8011), the CPID serial: no zero prefix, so "0" alone is not allowed either.
@pytest.mark.parametrize(
    ("serial", "valid"),
    [("1", True), ("10", True), ("0", False), ("01", False), ("0123", False)],
)
def test_ai_8011_has_no_zero_prefix(serial, valid):
    assert decode(f"(8010)9521ABC(8011){serial}").valid is valid


# GS1 Digital Link URI syntax: the path is /AI/value pairs, so an empty segment or a trailing
# "/" breaks the pairs; the host takes no userinfo and no percent-encoding (so no IPv6 zone id);
# characters outside RFC 3986 must be percent-encoded.
DIGITAL_LINK = [
    (f"https://a/01/{GTIN}", True, None),
    (f"https://a/01//{GTIN}", False, "DL_NO_PRIMARY_KEY"),
    (f"https://a/stem/01/{GTIN}/", False, "DL_NO_PRIMARY_KEY"),
    (f"https://a/01/{GTIN}?", True, None),
    (f"https://[2001:db8::1]/01/{GTIN}", True, None),
    (f"https://a:65535/01/{GTIN}", True, None),
    (f"https://[fe80::1%25lo]/01/{GTIN}", False, "DL_INVALID_HOST"),
    (f"https://user@a/01/{GTIN}", False, "DL_INVALID_HOST"),
    (f"https://a/01/{GTIN}/21/A<B", False, "INVALID_CHARACTER"),
    (f'https://a/01/{GTIN}/21/A"B', False, "INVALID_CHARACTER"),
    # a query AI is a key qualifier out of place only if the path's qualifiers would take it
    (f"https://a/01/{GTIN}?10=ABC", False, "DL_QUALIFIER_IN_QUERY"),
    (f"https://a/01/{GTIN}/10/ABC?21=XYZ", False, "DL_QUALIFIER_IN_QUERY"),
    (f"https://a/01/{GTIN}/10/ABC?22=XYZ", False, "DL_QUALIFIER_IN_QUERY"),
    (f"https://a/01/{GTIN}/235/XYZ?10=ABC", True, None),  # (235) chosen: (10) is an attribute
]


@pytest.mark.parametrize(("uri", "valid", "code"), DIGITAL_LINK)
def test_digital_link_path_host_and_qualifier_rules(uri, valid, code):
    got = decode(uri)
    assert got.valid is valid, got.problems
    if code is not None:
        assert codes(got)[0] == code


def test_digital_link_alternative_qualifier_keeps_all_ais():
    assert decode(f"https://a/01/{GTIN}/235/XYZ?10=ABC").ais == {
        "01": GTIN,
        "235": "XYZ",
        "10": "ABC",
    }


# Scan data: ]E0 carries exactly 13 digits (UPC-A with its leading 0), ]E4 8; a GS1 Composite
# component follows its linear component as "|]e0..." (the reference engine's scan data form).
EAN13 = GTIN[1:]
EAN8 = "9638507" + check_digit("9638507")
SCAN_DATA = [
    (f"]E0{EAN13}", True, {"01": GTIN}),
    (f"]E0{EAN13[1:]}", False, None),  # 12 digits: too short
    (f"]E0{EAN13}|]e099COMPOSITE\x1d98XYZ", True, {"01": GTIN, "99": "COMPOSITE", "98": "XYZ"}),
    (f"]E4{EAN8}|]e099COMPOSITE", True, {"01": EAN8.zfill(14), "99": "COMPOSITE"}),
    (f"]E0{EAN13}|]e0", False, None),  # an empty composite component
    (f"]E0{EAN13}|]e010ABC", True, {"01": GTIN, "10": "ABC"}),
    (f"]C101{GTIN}10ABC|]e099X", True, {"01": GTIN, "10": "ABC", "99": "X"}),
]


@pytest.mark.parametrize(("scan", "valid", "ais"), SCAN_DATA)
def test_scan_data_lengths_and_composite_components(scan, valid, ais):
    got = decode(scan)
    assert got.valid is valid, got.problems
    if ais is not None:
        assert dict(got.ais) == ais


def test_ean_wrong_length_message_explains_upc_a():
    got = decode(f"]E0{EAN13[1:]}")
    assert "expected 13 digits (UPC-A is sent as 13 digits with a leading 0), got 12" in (
        got.problems[0].message
    )


# "|" separates the linear and the composite component. In bracketed data it stands before
# the composite's first "(" (it is in no AI character set, so it never ends a value by chance);
# in raw data the composite component starts with its own FNC1, sent as GS.
@pytest.mark.parametrize(
    ("code", "strict", "valid", "ais"),
    [
        ("(8010)9521|(8011)1", False, True, {"8010": "9521", "8011": "1"}),
        ("(8010)9521|(8011)1", True, True, {"8010": "9521", "8011": "1"}),
        (f"(01){GTIN}(10)ABC|(21)XYZ", True, True, {"01": GTIN, "10": "ABC", "21": "XYZ"}),
        ("(99)ABC|", False, False, None),
        ("(7040)1AB|", False, False, None),
        (f"01{GTIN}|\x1d99COMPOSITE", True, True, {"01": GTIN, "99": "COMPOSITE"}),
        (
            f"01{GTIN}10ABC|\x1d99COMPOSITE",
            True,
            True,
            {"01": GTIN, "10": "ABC", "99": "COMPOSITE"},
        ),
        # without the composite's FNC1: invalid when strict; repaired by default, see docs
        (f"01{GTIN}|99COMPOSITE", True, False, None),
        (f"01{GTIN}|99COMPOSITE", False, True, {"01": GTIN, "99": "COMPOSITE"}),
    ],
)
def test_composite_separator(code, strict, valid, ais):
    got = decode(code, strict=strict)
    assert got.valid is valid, got.problems
    if ais is not None:
        assert dict(got.ais) == ais


def test_composite_without_fnc1_names_the_missing_separator_when_strict():
    got = decode(f"01{GTIN}|99COMPOSITE", strict=True)
    assert codes(got) == ["MISPLACED_SEPARATOR"]
    assert got.problems[0].span == (16, 17)
    assert "Expected FNC1 (GS) at the start of the composite component" in got.problems[0].message
    repaired = decode(f"01{GTIN}|99COMPOSITE")
    assert [p.code for p in repaired.problems] == ["FNC1_STAND_IN_REPLACED"]
