"""Check digits and check characters of GS1 keys.

References: GS1 General Specifications §7.9.1 (mod-10 check digit) and §7.9.5 (GMN check
character pair).
"""

from __future__ import annotations

from typing import Final

# CSET 82 in the order that gives each character its value for the GMN check pair (§7.11).
CSET82: Final = (
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
# The GMN check characters are drawn from CSET 32.
CSET32: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CSET82_VALUE: Final = {c: i for i, c in enumerate(CSET82)}
_PRIMES: Final = (
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
)  # fmt: skip
_DIGITS: Final = frozenset("0123456789")


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def check_digit(data_digits: str) -> str:
    """Compute the GS1 mod-10 check digit of `data_digits` (the digits before the check digit).

    From the right, digits are weighted 3, 1, 3, 1, ...

    >>> check_digit("0952123454321")
    '3'

    Raises:
        ValueError: if `data_digits` is empty or holds anything but ASCII digits.
    """
    if not data_digits or not _is_ascii_digits(data_digits):
        msg = f"Failed to compute a check digit of {data_digits!r}: expected ASCII digits."
        raise ValueError(msg)
    # Weights alternate from the right; summing the odd and even positions separately is
    # faster than a per-digit multiplication loop.
    digits = data_digits[::-1]
    total = 3 * sum(map(int, digits[0::2])) + sum(map(int, digits[1::2]))
    return str(-total % 10)


def has_valid_check_digit(digits: str) -> bool:
    """Return True if the last digit of `digits` is the GS1 mod-10 check digit of the others.

    Never raises: anything that is not at least two ASCII digits is simply not valid.

    >>> has_valid_check_digit("09521234543213")
    True
    >>> has_valid_check_digit("09521234543214")
    False
    """
    if len(digits) < 2 or not _is_ascii_digits(digits):
        return False
    # Summing the bytes is the fastest pure-Python digit sum; 48 is ord("0").
    data = digits.encode("ascii")
    tripled = data[-2::-2]
    single = data[-3::-2]
    total = 3 * (sum(tripled) - 48 * len(tripled)) + sum(single) - 48 * len(single)
    return data[-1] - 48 == -total % 10


def check_pair(data: str) -> str:
    """Compute the two GMN check characters (AI 8013, 8014) of `data` (CSET 82, up to 23 chars).

    >>> check_pair("1987654Ad4X4bL5ttr2310c")
    '2K'

    Raises:
        ValueError: if `data` is empty, longer than 23 characters or not CSET 82.
    """
    if not data or len(data) > len(_PRIMES) or any(c not in _CSET82_VALUE for c in data):
        msg = f"Failed to compute a check pair of {data!r}: expected 1 to 23 CSET 82 characters."
        raise ValueError(msg)
    total = sum(_CSET82_VALUE[c] * p for c, p in zip(reversed(data), _PRIMES, strict=False))
    total %= 1021
    return CSET32[total >> 5] + CSET32[total & 31]


def has_valid_check_pair(value: str) -> bool:
    """Return True if the last two characters of `value` are the GMN check pair of the rest.

    >>> has_valid_check_pair("1987654Ad4X4bL5ttr2310c2K")
    True
    >>> has_valid_check_pair("1987654Ad4X4bL5ttr2310c2L")
    False
    """
    if len(value) < 3 or len(value) > 25 or any(c not in _CSET82_VALUE for c in value):
        return False
    return check_pair(value[:-2]) == value[-2:]
