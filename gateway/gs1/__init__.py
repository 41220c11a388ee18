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
from gateway.gs1._decode import decode_text, failed
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


def decode(raw: str, *, strict: bool = False, associations: bool = True) -> DecodedCode:
    """Read one code: a GS1 element string (bracketed, raw, scanner data with a symbology
    identifier), a GS1 Digital Link URI, or a GB/T 34014 / GB/T 45565 battery code.

    Args:
        raw: the code exactly as captured (GS kept as "\\x1d").
        strict: repair nothing; capture artefacts then make the code invalid.
        associations: check mandatory associations and invalid pairs within this one code.
            Pass False for one symbol of a multi-symbol label and call `validate_together`.

    Returns:
        A `DecodedCode`; `valid` is False when any problem has severity "error".
        Never raises.

    An element string, as scanner data with its symbology identifier (GS ends a field):

    >>> code = decode("]d2010952123454321321A1\x1d10L1")
    >>> code.scheme.value, code.valid, dict(code.ais), code.symbology_id
    ('gs1', True, {'01': '09521234543213', '21': 'A1', '10': 'L1'}, ']d2')

    A GS1 Digital Link URI gives the same key as the element string:

    >>> code = decode("https://id.gs1.org/01/09521234543213/21/A1?17=271231")
    >>> code.scheme.value, code.key
    ('gs1-digital-link', '01:09521234543213/21:A1')
    >>> dict(code.ais)
    {'01': '09521234543213', '21': 'A1', '17': '271231'}

    A GB/T 34014 traction-battery code, split into its segments:

    >>> code = decode("001PEAD0P4T1JBC901234567")
    >>> code.key_kind, code.gb.product_level, code.gb.chemistry_name, code.gb.serial
    ('gb34014', 'pack', 'NCM/NCA', '1234567')

    A wrong check digit is a problem with a code and the span of the bad character:

    >>> code = decode("(01)09521234543214(21)A1")
    >>> code.valid, [(p.code, p.span) for p in code.problems]
    (False, [('INCORRECT_CHECK_DIGIT', (17, 18))])
    """
    if not isinstance(raw, str):
        return failed(raw, "INVALID_INPUT", f"Expected a str, got {type(raw).__name__}.")
    try:
        return decode_text(raw, strict, associations)
    except Exception as exc:  # a bug must not stop a manifest: report it as data
        return failed(
            raw, "INTERNAL_ERROR", f"The code could not be read: {type(exc).__name__}: {exc}"
        )


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
