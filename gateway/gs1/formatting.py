"""Writing AI data back out: bracketed human-readable form and raw element strings."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.gs1._engine import GS
from gateway.gs1.ai_table import ENTRIES


def format_hri(ais: Mapping[str, str]) -> str:
    r"""Bracketed human-readable form, e.g. "(01)09521234543213(21)A1".

    A "(" inside a value is written "\(" so that the text reads back unambiguously.

    >>> format_hri({"01": "09521234543213", "10": "L1"})
    '(01)09521234543213(10)L1'
    """
    return "".join(f"({ai}){value.replace('(', chr(92) + '(')}" for ai, value in ais.items())


def format_element_string(ais: Mapping[str, str]) -> str:
    r"""Raw element string as a scanner sends it after FNC1 in first position.

    A GS (\x1d) follows every element string that is not of predefined length, except the
    last one (GS1 General Specifications §7.8.5).

    >>> format_element_string({"01": "09521234543213", "10": "L1", "21": "S"})
    '010952123454321310L1\x1d21S'
    """
    parts: list[str] = []
    last = len(ais) - 1
    for i, (ai, value) in enumerate(ais.items()):
        parts.append(ai)
        parts.append(value)
        entry = ENTRIES.get(ai)
        if i != last and (entry is None or not entry.predefined):
            parts.append(GS)
    return "".join(parts)
