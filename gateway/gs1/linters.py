"""Value checks ("linters") of the GS1 Barcode Syntax Dictionary, one function per linter name.

A linter looks at one component of an AI value whose length and character set are already
known to be right, and returns None when the value is fine or a `LintError` (problem code,
message, start, end) whose offsets are relative to the component.

References: GS1 General Specifications §3 (AI definitions) and §7.9 (check digits); the
dictionary's linter list (GS1 Barcode Syntax Tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.countries import ALPHA2
from gateway.gs1._iso4217 import ISO4217_NUMERIC
from gateway.gs1.checksums import CSET82, has_valid_check_digit, has_valid_check_pair
from gateway.gs1.coupons import lint_couponcode, lint_couponposoffer

LintError = tuple[str, str, int, int]


def _codes(text: str) -> list[str]:
    return text.split()


Linter = Callable[[str], LintError | None]

# ISO 3166-1 numeric country codes.
ISO3166_NUMERIC: Final = frozenset(
    _codes(
        """004 008 010 012 016 020 024 028 031 032 036 040 044 048 050 051 052 056 060 064 068 070
    072 074 076 084 086 090 092 096 100 104 108 112 116 120 124 132 136 140 144 148 152 156 158
    162 166 170 174 175 178 180 184 188 191 192 196 203 204 208 212 214 218 222 226 231 232 233
    234 238 239 242 246 248 250 254 258 260 262 266 268 270 275 276 288 292 296 300 304 308 312
    316 320 324 328 332 334 336 340 344 348 352 356 360 364 368 372 376 380 384 388 392 398 400
    404 408 410 414 417 418 422 426 428 430 434 438 440 442 446 450 454 458 462 466 470 474 478
    480 484 492 496 498 499 500 504 508 512 516 520 524 528 531 533 534 535 540 548 554 558 562
    566 570 574 578 580 581 583 584 585 586 591 598 600 604 608 612 616 620 624 626 630 634 638
    642 643 646 652 654 659 660 662 663 666 670 674 678 682 686 688 690 694 702 703 704 705 706
    710 716 724 728 729 732 740 744 748 752 756 760 762 764 768 772 776 780 784 788 792 795 796
    798 800 804 807 818 826 831 832 833 834 840 850 854 858 860 862 876 882 887 894"""
    )
)
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_IMPORTER_INDEX: Final = frozenset(
    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_HEX: Final = frozenset("0123456789ABCDEFabcdef")


def _whole(value: str, code: str, message: str) -> LintError:
    return (code, message, 0, len(value))


def _date_error(value: str, year: int, month: int, day: int, day_zero: bool) -> LintError | None:
    if not 1 <= month <= 12:
        return ("INVALID_DATE", f"month {month:02d} is not 01-12", 0, len(value))
    if day == 0 and day_zero:
        return None
    # February 29 needs a leap year; for two-digit years every multiple of 4 is one, because
    # the sliding century window puts YY=00 in 2000 (a leap year) for the decades around now.
    limit = 28 if month == 2 and year % 4 != 0 else _DAYS_IN_MONTH[month]
    if year % 100 == 0 and year % 400 != 0 and month == 2 and year > 99:
        limit = 28
    if not 1 <= day <= limit:
        return ("INVALID_DATE", f"day {day:02d} is not valid in month {month:02d}", 0, len(value))
    return None


def lint_yymmd0(value: str) -> LintError | None:
    """YYMMDD where DD=00 means "the end of the month" (GenSpecs §3.4.x dates)."""
    return _date_error(value, int(value[0:2]), int(value[2:4]), int(value[4:6]), True)


def lint_yymmdd(value: str) -> LintError | None:
    """YYMMDD with a real day: DD=00 is not allowed."""
    return _date_error(value, int(value[0:2]), int(value[2:4]), int(value[4:6]), False)


def lint_yyyymmdd(value: str) -> LintError | None:
    """YYYYMMDD with a real day."""
    return _date_error(value, int(value[0:4]), int(value[4:6]), int(value[6:8]), False)


def lint_yyyymmd0(value: str) -> LintError | None:
    """YYYYMMDD where DD=00 is allowed."""
    return _date_error(value, int(value[0:4]), int(value[4:6]), int(value[6:8]), True)


def lint_hh(value: str) -> LintError | None:
    """Hour 00-23."""
    return None if int(value) <= 23 else _whole(value, "INVALID_TIME", "hour is not 00-23")


def lint_mi(value: str) -> LintError | None:
    """Minute 00-59."""
    return None if int(value) <= 59 else _whole(value, "INVALID_TIME", "minute is not 00-59")


def lint_ss(value: str) -> LintError | None:
    """Second 00-59."""
    return None if int(value) <= 59 else _whole(value, "INVALID_TIME", "second is not 00-59")


def lint_hhmi(value: str) -> LintError | None:
    """HHMI: hour 00-23 and minute 00-59."""
    if int(value[0:2]) > 23:
        return ("INVALID_TIME", "hour is not 00-23", 0, 2)
    if int(value[2:4]) > 59:
        return ("INVALID_TIME", "minute is not 00-59", 2, 4)
    return None


def lint_csum(value: str) -> LintError | None:
    """The last digit is the GS1 mod-10 check digit."""
    if has_valid_check_digit(value):
        return None
    return ("INCORRECT_CHECK_DIGIT", "the check digit is incorrect", len(value) - 1, len(value))


def lint_csumalpha(value: str) -> LintError | None:
    """The last two characters are the GMN check character pair."""
    if has_valid_check_pair(value):
        return None
    return (
        "INCORRECT_CHECK_PAIR",
        "the check character pair is incorrect",
        max(0, len(value) - 2),
        len(value),
    )


def lint_gcppos1(value: str) -> LintError | None:
    """The value starts with a GS1 Company Prefix: offline, at least 4 leading digits."""
    head = value[:4]
    if len(head) == 4 and head.isascii() and head.isdigit():
        return None
    bad = next((i for i, c in enumerate(head) if c not in "0123456789"), len(head))
    return (
        "INVALID_COMPANY_PREFIX",
        "a GS1 Company Prefix (4+ digits) must start the value",
        bad,
        max(bad + 1, 1),
    )


def lint_gcppos2(value: str) -> LintError | None:
    """The GS1 Company Prefix starts at the second digit (numeric fields: always digits)."""
    return None


def lint_iso3166(value: str) -> LintError | None:
    """An ISO 3166-1 numeric country code."""
    return (
        None
        if value in ISO3166_NUMERIC
        else _whole(value, "UNKNOWN_COUNTRY_CODE", "not an ISO 3166 numeric country code")
    )


def lint_iso3166999(value: str) -> LintError | None:
    """An ISO 3166-1 numeric country code, or 999 (unknown)."""
    return None if value == "999" else lint_iso3166(value)


def lint_iso3166alpha2(value: str) -> LintError | None:
    """An ISO 3166-1 alpha-2 country code."""
    return (
        None
        if value in ALPHA2
        else _whole(value, "UNKNOWN_COUNTRY_CODE", "not an ISO 3166 alpha-2 country code")
    )


def lint_iso4217(value: str) -> LintError | None:
    """A current ISO 4217 numeric currency code (list one, dated in `_iso4217.PUBLISHED`)."""
    return (
        None
        if value in ISO4217_NUMERIC
        else _whole(value, "UNKNOWN_CURRENCY_CODE", "not an ISO 4217 numeric currency code")
    )


def lint_iso5218(value: str) -> LintError | None:
    """ISO/IEC 5218 sex code: 0, 1, 2 or 9."""
    return (
        None
        if value in "0129"
        else _whole(value, "INVALID_VALUE", "not an ISO/IEC 5218 code (0, 1, 2, 9)")
    )


def lint_nonzero(value: str) -> LintError | None:
    """Not all zeros."""
    return _whole(value, "INVALID_VALUE", "must not be zero") if value.strip("0") == "" else None


def lint_zero(value: str) -> LintError | None:
    """Exactly the digit 0 (the GRAI filler digit)."""
    return None if value == "0" else _whole(value, "INVALID_VALUE", "must be the filler digit 0")


def lint_nozeroprefix(value: str) -> LintError | None:
    """No leading zero, and so not "0" alone either (AI 8011, the CPID serial, is a number
    written without zero prefix; the GS1 reference engine rejects "0" with "a zero prefix is
    not permitted")."""
    if value[:1] == "0":
        return ("INVALID_VALUE", "expected no zero prefix, got a leading '0'", 0, 1)
    return None


def lint_pieceoftotal(value: str) -> LintError | None:
    """NNMM: piece NN of total MM, neither 00 and piece <= total."""
    half = len(value) // 2
    piece, total = int(value[:half]), int(value[half:])
    if piece == 0:
        return ("INVALID_PIECE_OF_TOTAL", "the piece number must not be zero", 0, half)
    if total == 0:
        return ("INVALID_PIECE_OF_TOTAL", "the total must not be zero", half, len(value))
    if piece > total:
        return ("INVALID_PIECE_OF_TOTAL", "the piece number exceeds the total", 0, len(value))
    return None


def lint_winding(value: str) -> LintError | None:
    """Winding direction: 0, 1 or 9."""
    return (
        None
        if value in ("0", "1", "9")
        else _whole(value, "INVALID_VALUE", "winding direction must be 0, 1 or 9")
    )


def lint_yesno(value: str) -> LintError | None:
    """A flag: 0 or 1."""
    return (
        None if value in ("0", "1") else _whole(value, "INVALID_VALUE", "must be 0 (no) or 1 (yes)")
    )


def lint_hyphen(value: str) -> LintError | None:
    """A single hyphen (the sign of a negative temperature)."""
    return None if value == "-" else _whole(value, "INVALID_VALUE", "must be a hyphen")


def lint_hasnondigit(value: str) -> LintError | None:
    """At least one character is not a digit."""
    return _whole(value, "INVALID_VALUE", "must contain a non-digit") if value.isdigit() else None


def lint_importeridx(value: str) -> LintError | None:
    """An importer index character."""
    return (
        None
        if value in _IMPORTER_INDEX
        else _whole(value, "INVALID_VALUE", "not a valid importer index")
    )


def lint_mediatype(value: str) -> LintError | None:
    """AIDC media type: 01-10 or 80-99."""
    n = int(value)
    return (
        None
        if 1 <= n <= 10 or 80 <= n <= 99
        else _whole(value, "INVALID_VALUE", "not a known AIDC media type")
    )


def lint_posinseqslash(value: str) -> LintError | None:
    """Position in sequence written "P/T", e.g. "1/3"."""
    if (
        len(value) == 3
        and value[1] == "/"
        and value[0] in "123456789"
        and value[2] in "123456789"
        and value[0] <= value[2]
    ):
        return None
    return _whole(value, "INVALID_VALUE", "must be position/total, e.g. '1/2'")


def lint_latitude(value: str) -> LintError | None:
    """Latitude as N10: 0 to 1800000000 (offset by 90 degrees)."""
    return (
        None
        if int(value) <= 1800000000
        else _whole(value, "INVALID_VALUE", "latitude out of range")
    )


def lint_longitude(value: str) -> LintError | None:
    """Longitude as N10: 0 to 3600000000 (offset by 180 degrees)."""
    return (
        None
        if int(value) <= 3600000000
        else _whole(value, "INVALID_VALUE", "longitude out of range")
    )


def lint_pcenc(value: str) -> LintError | None:
    """Percent-encoded text: every % starts a two-hex-digit escape."""
    i = value.find("%")
    while i != -1:
        if i + 2 >= len(value):
            return ("INVALID_VALUE", "incomplete percent escape", i, len(value))
        if value[i + 1] not in _HEX or value[i + 2] not in _HEX:
            return ("INVALID_VALUE", "invalid percent escape", i, i + 3)
        i = value.find("%", i + 3)
    return None


def lint_iban(value: str) -> LintError | None:
    """An IBAN: country code, two check digits, mod-97 == 1."""
    if (
        len(value) < 5
        or not value[:2].isalpha()
        or not value[:2].isupper()
        or not value[2:4].isdigit()
    ):
        return _whole(value, "INVALID_VALUE", "not an IBAN")
    if value[:2] not in ALPHA2:
        return ("UNKNOWN_COUNTRY_CODE", "IBAN country code unknown", 0, 2)
    if not value[4:].isalnum() or not value.isascii():
        return _whole(value, "INVALID_VALUE", "IBAN holds characters other than 0-9 and A-Z")
    rearranged = (value[4:] + value[:4]).upper()
    number = "".join(str(int(c, 36)) for c in rearranged)
    return (
        None
        if int(number) % 97 == 1
        else _whole(value, "INCORRECT_CHECK_DIGIT", "IBAN check digits are incorrect")
    )


def _unchecked(value: str) -> LintError | None:
    # Package type codes need a code list the product does not carry; the value's character
    # set and length are still checked.
    return None


LINTERS: Final[dict[str, Linter]] = {
    "csum": lint_csum,
    "csumalpha": lint_csumalpha,
    "gcppos1": lint_gcppos1,
    "gcppos2": lint_gcppos2,
    "yymmd0": lint_yymmd0,
    "yymmdd": lint_yymmdd,
    "yyyymmdd": lint_yyyymmdd,
    "yyyymmd0": lint_yyyymmd0,
    "hh": lint_hh,
    "mi": lint_mi,
    "ss": lint_ss,
    "hhmi": lint_hhmi,
    "iso3166": lint_iso3166,
    "iso3166999": lint_iso3166999,
    "iso3166alpha2": lint_iso3166alpha2,
    "iso4217": lint_iso4217,
    "iso5218": lint_iso5218,
    "nonzero": lint_nonzero,
    "zero": lint_zero,
    "nozeroprefix": lint_nozeroprefix,
    "pieceoftotal": lint_pieceoftotal,
    "winding": lint_winding,
    "yesno": lint_yesno,
    "hyphen": lint_hyphen,
    "hasnondigit": lint_hasnondigit,
    "importeridx": lint_importeridx,
    "mediatype": lint_mediatype,
    "posinseqslash": lint_posinseqslash,
    "latitude": lint_latitude,
    "longitude": lint_longitude,
    "pcenc": lint_pcenc,
    "iban": lint_iban,
    "couponcode": lint_couponcode,
    "couponposoffer": lint_couponposoffer,
    "packagetype": _unchecked,
}

assert len(CSET82) == 82
