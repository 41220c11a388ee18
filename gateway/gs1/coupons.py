"""Structural checks of the North American coupon codes, AI (8110) and AI (8112).

Both are strings of digits made of fields, most of them led by a one-digit length indicator
("VLI"). The checks are structural (every field present, each VLI in its range, dates real,
no data left over); the codes' meaning (offers, funders) needs the issuers' files and is not
checked.

References: "North American Coupon Application Guideline Using GS1 DataBar Expanded Symbols"
(AI 8110) and "GS1 AI (8112) Coupon Data Specification" (paperless coupons, positive offer
file); the field rules as the GS1 Barcode Syntax Dictionary's `couponcode` and
`couponposoffer` linters apply them.
"""

from __future__ import annotations

from typing import Final

LintError = tuple[str, str, int, int]

_REQUIREMENT_CODES: Final = "012349"


class _Fields:
    """Reads the fields of one coupon value from left to right; every method returns an
    error or None, and moves on past the field when it is fine."""

    __slots__ = ("at", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        self.at = 0

    def more(self) -> bool:
        return self.at < len(self.value)

    def peek(self) -> str:
        return self.value[self.at : self.at + 1]

    def _missing(self, what: str) -> LintError:
        return ("INVALID_VALUE", f"expected {what}, got the end of the data", 0, len(self.value))

    def digit(self, what: str, allowed: str) -> tuple[LintError | None, int]:
        """One digit that must be one of `allowed`; returns (error, the digit)."""
        if not self.more():
            return self._missing(what), 0
        c = self.value[self.at]
        if c not in allowed:
            return (
                "INVALID_VALUE",
                f"expected {what} to be {_ranges(allowed)}, got {c!r}",
                self.at,
                self.at + 1,
            ), 0
        self.at += 1
        return None, int(c)

    def run(self, what: str, length: int) -> LintError | None:
        """`length` more digits."""
        left = len(self.value) - self.at
        if left < length:
            start = self.at if left else 0
            return (
                "INVALID_VALUE",
                f"expected {what} of {length} digits, got {left}",
                start,
                len(self.value),
            )
        self.at += length
        return None

    def vli_field(self, what: str, allowed: str, extra: int) -> LintError | None:
        """A VLI digit from `allowed`, then a field of VLI + `extra` digits."""
        err, vli = self.digit(f"the {what} length indicator", allowed)
        return err or self.run(f"the {what}", vli + extra)

    def date(self, what: str) -> tuple[LintError | None, str]:
        """A real date YYMMDD."""
        start = self.at
        err = self.run(f"the {what} (YYMMDD)", 6)
        if err is not None:
            return err, ""
        text = self.value[start : start + 6]
        month, day = int(text[2:4]), int(text[4:6])
        # February 29 in years YY divisible by 4, as for the other YYMMDD dates
        days = 0 if not 1 <= month <= 12 else _DAYS[month] - (month == 2 and int(text[:2]) % 4 != 0)
        if not 1 <= day <= days:
            return ("INVALID_DATE", f"expected a real {what}, got {text!r}", start, start + 6), text
        return None, text

    def purchase(self, which: str, with_prefix: bool) -> LintError | None:
        """Purchase requirement (VLI 1-5), requirement code, family code and, for the second
        and third purchase, the GS1 Company Prefix (VLI 0-6, or 9 for none)."""
        err = self.vli_field(f"{which} purchase requirement", "12345", 0)
        if err is None:
            err = self.digit(f"the {which} purchase requirement code", _REQUIREMENT_CODES)[0]
        if err is None:
            err = self.run(f"the {which} purchase family code", 3)
        if err is not None or not with_prefix:
            return err
        err, vli = self.digit(
            f"the {which} purchase GS1 Company Prefix length indicator", "01234569"
        )
        if err is None and vli != 9:
            err = self.run(f"the {which} purchase GS1 Company Prefix", vli + 6)
        return err

    def left_over(self, what: str) -> LintError | None:
        if not self.more():
            return None
        return (
            "INVALID_VALUE",
            f"expected {what}, got {self.value[self.at :]!r}",
            self.at,
            len(self.value),
        )


_DAYS: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _ranges(allowed: str) -> str:
    """The digits in `allowed` as text: "0123456" -> "0-6", "012349" -> "0-4 or 9",
    "01" -> "0 or 1"."""
    runs: list[str] = []
    i = 0
    while i < len(allowed):
        j = i
        while j + 1 < len(allowed) and int(allowed[j + 1]) == int(allowed[j]) + 1:
            j += 1
        if j - i >= 2:
            runs.append(f"{allowed[i]}-{allowed[j]}")
        else:
            runs.extend(allowed[i : j + 1])
        i = j + 1
    return runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " or " + runs[-1]


def _digits_only(value: str) -> LintError | None:
    for i, c in enumerate(value):
        if not "0" <= c <= "9":
            return ("NON_NUMERIC", f"expected a digit, got {c!r} at position {i + 1}", i, i + 1)
    return None


def lint_couponcode(value: str) -> LintError | None:
    """AI (8110): the North American coupon code.

    Mandatory: primary GS1 Company Prefix (VLI 0-6, plus 6 digits), offer code (6), save value
    (VLI 1-5), primary purchase requirement (VLI 1-5), its code (0-4 or 9) and family code (3).
    Then optional fields, each at most once and in this order, led by their number: 1 second
    purchase (rules code 0-3 first), 2 third purchase, 3 expiry date, 4 start date (not after
    the expiry date), 5 serial number (VLI 0-9, plus 6), 6 retailer GCP/GLN (VLI 1-7, plus 6),
    9 miscellaneous (save value code 0, 1, 2, 5 or 6; applies to item 0-2; store coupon flag;
    don't multiply flag 0-1).
    """
    err = _digits_only(value)
    if err is not None:
        return err
    f = _Fields(value)
    err = (
        f.vli_field("primary GS1 Company Prefix", "0123456", 6)
        or f.run("the offer code", 6)
        or f.vli_field("save value", "12345", 0)
        or f.purchase("primary", with_prefix=False)
    )
    if err is not None:
        return err
    if f.peek() == "1":
        f.at += 1
        err = f.digit("the additional purchase rules code", "0123")[0] or f.purchase(
            "second", with_prefix=True
        )
        if err is not None:
            return err
    if f.peek() == "2":
        f.at += 1
        err = f.purchase("third", with_prefix=True)
        if err is not None:
            return err
    expiry = ""
    if f.peek() == "3":
        f.at += 1
        err, expiry = f.date("expiry date")
        if err is not None:
            return err
    if f.peek() == "4":
        f.at += 1
        start_at = f.at
        err, start = f.date("start date")
        if err is not None:
            return err
        if expiry and start > expiry:
            return (
                "INVALID_DATE",
                f"expected the expiry date {expiry!r} not to precede the start date {start!r}",
                start_at - 8,
                start_at + 6,
            )
    if f.peek() == "5":
        f.at += 1
        err = f.vli_field("serial number", "0123456789", 6)
        if err is not None:
            return err
    if f.peek() == "6":
        f.at += 1
        err = f.vli_field("retailer GCP/GLN", "1234567", 6)
        if err is not None:
            return err
    if f.peek() == "9":
        f.at += 1
        err = (
            f.digit("the save value code", "01256")[0]
            or f.digit("the save value applies-to-item code", "012")[0]
            or f.digit("the store coupon flag", "0123456789")[0]
            or f.digit("the don't multiply flag", "01")[0]
        )
        if err is not None:
            return err
    return f.left_over("the end of the data or an optional field (1-6 or 9) in order")


def lint_couponposoffer(value: str) -> LintError | None:
    """AI (8112): the paperless coupon of the positive offer file.

    Format code (0 or 1), funder ID (VLI 0-6, plus 6 digits), offer code (6), serial number
    (VLI 0-9, plus 6 digits), and nothing after it.
    """
    err = _digits_only(value)
    if err is not None:
        return err
    f = _Fields(value)
    return (
        f.digit("the format code", "01")[0]
        or f.vli_field("funder ID", "0123456", 6)
        or f.run("the offer code", 6)
        or f.vli_field("serial number", "0123456789", 6)
        or f.left_over("the end of the data after the serial number")
    )
