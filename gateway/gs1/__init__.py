"""The GS1 code engine: reads, validates and normalises the identifiers on battery labels.

Pure Python, no I/O, and `decode` never raises: every problem is data (a `Problem` with a stable
code, a message and a character span in the raw input).

>>> code = decode("(01)09521234543213(21)A1")
>>> code.valid, code.key, code.key_kind
(True, '01:09521234543213/21:A1', 'sgtin')
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain import DecodedCode, Problem
from gateway.gs1._decode import decode
from gateway.gs1._engine import RawProblem, check_associations, check_signed_serials, params_of
from gateway.gs1.ai_table import DICTIONARY_RELEASE
from gateway.gs1.bare_keys import bare_key_readings, decode_key
from gateway.gs1.checksums import check_digit, check_pair, has_valid_check_digit
from gateway.gs1.formatting import format_element_string, format_hri

__all__ = [
    "DICTIONARY_RELEASE",
    "bare_key_readings",
    "check_digit",
    "check_pair",
    "decode",
    "decode_key",
    "format_element_string",
    "format_hri",
    "has_valid_check_digit",
    "validate_together",
]


def validate_together(codes: Sequence[DecodedCode]) -> tuple[Problem, ...]:
    """Association rules over several symbols that mark ONE physical item (one label).

    Checks conflicting duplicate AIs across the symbols, mandatory associations and invalid
    pairs over the union of their AIs. Decode each symbol with `associations=False` first.
    Spans are (0, 0): the problems concern the item, not one symbol's characters.

    References: GS1 Barcode Syntax Dictionary ("pairings should be evaluated over the
    combined data received from all GS1 carriers marking a physical item").

    >>> a = decode("(01)09521234543213(10)L1", associations=False)
    >>> b = decode("(01)09521234543213(10)L2", associations=False)
    >>> [(p.code, p.message) for p in validate_together([a, b])]
    [('DUPLICATE_AI_CONFLICT', "AI (10) has different values on one item: 'L1' and 'L2'.")]
    """
    problems: list[RawProblem] = []
    merged: dict[str, str] = {}
    for code in codes:
        for ai, value in code.ais.items():
            known = merged.setdefault(ai, value)
            if known != value:
                problems.append(
                    (
                        "DUPLICATE_AI_CONFLICT",
                        f"AI ({ai}) has different values on one item: {known!r} and {value!r}.",
                        0,
                        0,
                        "error",
                    )
                )
    check_associations(list(merged), lambda ai: (0, 0), problems)
    check_signed_serials(merged, lambda ai: (0, 0), problems)
    return tuple(
        Problem(code, msg, (s, e), sev, params_of(msg)) for code, msg, s, e, sev in problems
    )
