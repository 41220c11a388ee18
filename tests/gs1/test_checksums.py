"""Check digits and the GMN check pair."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.gs1 import check_digit, check_pair, has_valid_check_digit
from gateway.gs1.checksums import has_valid_check_pair

KEY_LENGTHS = (7, 11, 12, 13, 16, 17)  # GTIN-8/12/13/14, GSIN, SSCC/GSRN without check digit


@given(
    st.sampled_from(KEY_LENGTHS).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
)
def test_a_computed_check_digit_makes_every_key_valid(data):
    assert has_valid_check_digit(data + check_digit(data))


@given(
    st.sampled_from(KEY_LENGTHS).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)),
    st.data(),
)
def test_any_single_digit_change_makes_the_key_invalid(data, draw):
    key = data + check_digit(data)
    pos = draw.draw(st.integers(0, len(key) - 1))
    new = draw.draw(st.sampled_from([d for d in "0123456789" if d != key[pos]]))
    assert not has_valid_check_digit(key[:pos] + new + key[pos + 1 :])


@pytest.mark.parametrize(
    ("data", "expected"),
    [("0952123454321", "3"), ("950600013435", "2"), ("9521234", "0"), ("00000000000000000", "0")],
)
def test_check_digit_known_values(data, expected):
    assert check_digit(data) == expected


@pytest.mark.parametrize("bad", ["", "12a", "１２３", "12 3"])
def test_check_digit_rejects_non_digits(bad):
    with pytest.raises(ValueError, match="expected ASCII digits"):
        check_digit(bad)


@pytest.mark.parametrize("bad", ["", "1", "０９５２１２３４５４３２１３", "0952123454321x"])
def test_has_valid_check_digit_is_false_for_non_keys(bad):
    assert not has_valid_check_digit(bad)


def test_gmn_check_pair_matches_the_general_specifications_example():
    assert check_pair("1987654Ad4X4bL5ttr2310c") == "2K"
    assert has_valid_check_pair("1987654Ad4X4bL5ttr2310c2K")
    assert not has_valid_check_pair("1987654Ad4X4bL5ttr2310c2k")


@given(st.text("0123456789ABCDEFGHIJabcdefgh-./_", min_size=1, max_size=23))
def test_gmn_check_pair_round_trip(data):
    assert has_valid_check_pair(data + check_pair(data))
