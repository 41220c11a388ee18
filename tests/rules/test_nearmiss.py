"""Near-miss help: one keystroke anywhere in a code finds the unique registered neighbour."""

from __future__ import annotations

import pytest

from gateway.domain import CodeOccurrence, ExtractionMethod, Report, SourceRef
from gateway.pipeline import check_codes
from gateway.platform_client.local import InMemoryRegistry
from gateway.rules.context import ShipmentFacts
from gateway.rules.nearmiss import CombinedIndex, KeySet, neighbours, one_keystroke
from samples.shipments import FIXED_CLOCK, GTIN_PACK, pack_record

KEYS = [f"01:{GTIN_PACK}/21:PK{i:04d}" for i in range(200)]
GB = ["ABCPE0110000011B10000001", "ABCPE0110000011B10000002"]


def _typo(key: str, position: int) -> str:
    """The key with the character at `position` replaced by another of its kind."""
    old = key[position]
    new = "7" if old != "7" else "3"
    if old.isalpha():
        new = "Q" if old != "Q" else "R"
    return key[:position] + new + key[position + 1 :]


@pytest.mark.parametrize("position", range(3, len(KEYS[17])))
def test_a_substitution_anywhere_finds_the_registered_key(position):
    index = KeySet(KEYS + GB)
    typed = _typo(KEYS[17], position)
    found = neighbours(index, typed)
    if typed in KEYS:  # the typo produced another registered key: nothing to suggest
        return
    assert KEYS[17] in found
    assert all(one_keystroke(typed, k) for k in found)


def test_a_swap_of_neighbours_is_found_and_only_same_kind_keys_are_searched():
    index = KeySet(KEYS + GB)
    assert index.near("BACPE0110000011B10000001") == {GB[0]}
    assert index.near(f"01:{GTIN_PACK}/21:KP0017") == {KEYS[17]}
    assert index.near("00:106901234000000011") == set()


def test_several_registered_neighbours_are_all_returned():
    index = KeySet(KEYS)
    # PK0010 ... PK0019 are all one substitution away
    assert len(index.near(f"01:{GTIN_PACK}/21:PK001X")) == 10


def test_the_key_list_is_read_only_when_a_suggestion_is_needed():
    calls: list[int] = []

    def keys() -> list[str]:
        calls.append(1)
        return KEYS

    index = KeySet(keys)
    assert calls == []
    index.near(KEYS[0])
    index.near(KEYS[1])
    assert calls == [1]


def test_prefix_only_platforms_and_key_sets_combine():
    class PrefixOnly:
        def candidates(self, prefix: str) -> list[str]:
            return [k for k in GB if k.startswith(prefix)]

    combined = CombinedIndex(PrefixOnly(), KeySet(KEYS))
    assert combined.near("ABCPE0110000011B10000003") == set(GB)
    assert combined.near(f"01:{GTIN_PACK}/21:PKO017") == {KEYS[17]}


def _checked(raw: str, registry: InMemoryRegistry) -> Report:
    code = CodeOccurrence(raw, SourceRef("input"), ExtractionMethod.INPUT)
    return check_codes(
        [code], platform=registry, facts=ShipmentFacts(shipment_id="s"), clock=lambda: FIXED_CLOCK
    )


def _wrong_digit(digit: str) -> str:
    return str((int(digit) + 1) % 10)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # the first digit of the GTIN mistyped: the check digit fails
        (f"(01){_wrong_digit(GTIN_PACK[0])}{GTIN_PACK[1:]}(21)PK0101", "CHECK_DIGIT_INVALID"),
        # the check digit itself mistyped
        (f"(01){GTIN_PACK[:-1]}{_wrong_digit(GTIN_PACK[-1])}(21)PK0101", "CHECK_DIGIT_INVALID"),
        # the first character of the serial mistyped: a valid but unregistered code
        (f"(01){GTIN_PACK}(21)QK0101", "UNIT_NOT_REGISTERED"),
    ],
)
def test_the_pipeline_suggests_the_registered_code_from_the_registry(raw, code):
    others = [pack_record(f"PK{i:04d}") for i in range(300, 800)]
    registry = InMemoryRegistry([pack_record("PK0101"), *others])
    report = _checked(raw, registry)
    (finding,) = [f for f in report.findings if f.code == code]
    assert finding.evidence["suggestion"] == f"(01){GTIN_PACK}(21)PK0101"
    assert "PK0101" in finding.fix_en


def test_no_suggestion_when_the_registry_has_no_neighbour():
    registry = InMemoryRegistry([pack_record("PK0101")])
    report = _checked(f"(01){GTIN_PACK}(21)ZZ9999", registry)
    (finding,) = [f for f in report.findings if f.code == "UNIT_NOT_REGISTERED"]
    assert finding.evidence["suggestion"] == ""
