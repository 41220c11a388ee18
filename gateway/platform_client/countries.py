"""Country names and codes as registry exports write them -> ISO 3166-1 alpha-2.

The table itself is `gateway.countries`, shared with document extraction.
"""

from __future__ import annotations

from gateway.countries import ALPHA2, BY_ALPHA2, COMMON_DESTINATIONS, normalize_country

__all__ = ["ALPHA2", "COUNTRY_NAMES", "to_alpha2"]

# alpha-2 -> (alpha-3, English names in lower case..., the common Chinese name), for the
# destinations battery exports go to most
COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    a2: (
        BY_ALPHA2[a2].alpha3,
        *(name.casefold() for name in BY_ALPHA2[a2].names),
        BY_ALPHA2[a2].zh[0],
    )
    for a2 in COMMON_DESTINATIONS
}


def to_alpha2(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name, alpha-2 or alpha-3 code; None if unknown.

    >>> to_alpha2("德国"), to_alpha2("deu"), to_alpha2(" Netherlands "), to_alpha2("XX")
    ('DE', 'DE', 'NL', None)
    """
    return normalize_country(value)
