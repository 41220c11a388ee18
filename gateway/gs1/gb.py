"""China's battery codes: GB/T 34014-2017 (traction batteries) and GB/T 45565-2025 (other Li-ion).

Neither standard's code tables are public in full. What is decoded here, and how sure it is:

- GB/T 34014 structure (24 characters: manufacturer 3, product type P/M/C, chemistry 1,
  specification 2, traceability 7, production date 3, serial 7) agrees across the standard's
  summaries, the Catena-X TractionBatteryCode model and two public label decoders.
- Chemistry letters: B = LFP and E = ternary are confirmed; A, C, D, F, G, Z come from a
  secondary list and are reported as uncertain; any other letter is kept, never rejected.
- Date code: month 1-9, A-C is agreed. Year and day letters: the public decoders agree only up
  to the letter H (no I/O/Q question arises before it), so a date is decoded only then; digit
  years are read by one decoder only and are not decoded.
- GB/T 45565: recognised by structure (enterprise code of 4, product type letter, more type
  codes, "-", optional "R-" for re-used batteries, the unique product part). Its time code
  (Annex A) and chemistry table are not decoded.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from gateway.domain import GbCode, Scheme

RawProblem = tuple[str, str, int, int, str]

GB34014_RE: Final = re.compile(r"[A-Z0-9]{3}[PMC][A-Z0-9]{20}")
GB45565_RE: Final = re.compile(
    r"([0-9A-HJ-NP-Z]{4})([ABCDEFGHJKMPS])([A-Z0-9]{1,12})-(R-)?([A-Z0-9]{4,40})"
)

PRODUCT_LEVELS_34014: Final = {"P": "pack", "M": "module", "C": "cell"}
CHEMISTRY_CONFIRMED: Final = {"B": "LFP", "E": "NCM/NCA"}
CHEMISTRY_UNCONFIRMED: Final = {
    "A": "NiMH",
    "C": "LMO",
    "D": "LCO",
    "F": "supercapacitor",
    "G": "LTO",
    "Z": "other",
}
PRODUCT_TYPES_45565: Final = {
    "A": ("module", "consumer"),
    "B": ("pack", "consumer"),
    "C": ("cell", "any"),
    "D": ("system", "consumer"),
    "E": ("module", "small power"),
    "F": ("pack", "small power"),
    "G": ("system", "small power"),
    "H": ("module", "energy storage"),
    "J": ("cluster", "energy storage"),
    "K": ("system", "energy storage"),
    "M": ("module", "large power"),
    "P": ("pack", "large power"),
    "S": ("system", "large power"),
}
# Letters both public decoders read the same way: A=10 (month, day) and A=2020 (year) up to H.
_AGREED_LETTERS: Final = "ABCDEFGH"
_MONTHS: Final = "123456789ABC"


def _date_34014(code: str) -> tuple[dt.date | None, bool, str | None]:
    """(date, uncertain, problem message) for the three date characters of a GB/T 34014 code."""
    y, m, d = code[14], code[15], code[16]
    if m not in _MONTHS:
        return None, True, f"month character {m!r} is not 1-9 or A-C"
    month = _MONTHS.index(m) + 1
    if y in _AGREED_LETTERS:
        year = 2020 + _AGREED_LETTERS.index(y)
    else:
        return None, True, None
    if d.isdigit() and d != "0":
        day = int(d)
    elif d in _AGREED_LETTERS:
        day = 10 + _AGREED_LETTERS.index(d)
    else:
        return None, True, None
    try:
        return dt.date(year, month, day), False, None
    except ValueError:
        return None, True, f"{year}-{month:02d}-{day:02d} is not a calendar date"


def decode_gb34014(code: str, start: int, problems: list[RawProblem]) -> GbCode:
    """Decode a 24-character GB/T 34014 code (already upper case, separators removed).

    Problems found on the way are appended to `problems`, their spans offset by `start`.

    >>> problems = []
    >>> gb = decode_gb34014("001PEAD0P4T1JBC901234567", 0, problems)
    >>> gb.manufacturer, gb.product_type, gb.chemistry, gb.spec, gb.traceability, gb.serial
    ('001', 'P', 'E', 'AD', '0P4T1JB', '1234567')
    >>> gb.uncertain, problems
    (('production_date',), [])
    """
    uncertain: list[str] = []
    chem = code[4]
    chem_name = CHEMISTRY_CONFIRMED.get(chem)
    if chem_name is None:
        chem_name = CHEMISTRY_UNCONFIRMED.get(chem)
        uncertain.append("chemistry")
        if chem_name is None:
            problems.append(
                (
                    "GB_UNKNOWN_CHEMISTRY",
                    f"Chemistry letter {chem!r} is not in the known part of the GB/T 34014 table.",
                    start + 4,
                    start + 5,
                    "warning",
                )
            )
    date, date_uncertain, date_problem = _date_34014(code)
    if date_uncertain:
        uncertain.append("production_date")
        if date_problem is not None:
            problems.append(
                (
                    "GB_DATE_UNDECODABLE",
                    f"Production date code {code[14:17]!r}: {date_problem}.",
                    start + 14,
                    start + 17,
                    "warning",
                )
            )
    serial = code[17:]
    if not serial.isdigit():
        problems.append(
            (
                "GB_SERIAL_NOT_NUMERIC",
                f"Serial {serial!r} is expected to be 7 digits.",
                start + 17,
                start + 24,
                "warning",
            )
        )
    return GbCode(
        scheme=Scheme.GB34014,
        code=code,
        manufacturer=code[0:3],
        product_type=code[3],
        product_level=PRODUCT_LEVELS_34014[code[3]],
        chemistry=chem,
        chemistry_name=chem_name,
        spec=code[5:7],
        traceability=code[7:14],
        date_code=code[14:17],
        production_date=date,
        serial=serial,
        uncertain=tuple(uncertain),
    )


def decode_gb45565(code: str, match: re.Match[str]) -> GbCode:
    """Decode a GB/T 45565 code recognised by `GB45565_RE` (upper case)."""
    enterprise, ptype, types, reused, unique = match.groups()
    level = PRODUCT_TYPES_45565[ptype][0]
    return GbCode(
        scheme=Scheme.GB45565,
        code=code,
        manufacturer=enterprise,
        product_type=ptype,
        product_level=level,
        chemistry=types[0],
        chemistry_name=None,
        spec=types[1:] or None,
        traceability="reused" if reused else None,
        date_code=None,
        production_date=None,
        serial=unique,
        uncertain=("chemistry", "spec", "production_date"),
    )
