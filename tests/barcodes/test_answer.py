"""What a read tells its caller beyond the codes: conflicts, regions left unread, retake hints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.barcodes import (
    LabelRead,
    Symbol,
    read_labels,
    retake_hint,
    retake_message,
)
from gateway.barcodes.hints import RETAKE_MESSAGES
from gateway.barcodes.reader import _accepted, _add, _conflicts, _Read
from samples.labels import LabelCode, barcode_free, draw_label

GS = "\x1d"
UNIT = LabelCode("0106950123456786" + "10LOT1" + GS + "21SN9", True, "gs1-128")
UNIT_HRI = "(01)06950123456786(10)LOT1(21)SN9"


def _quad(x: float, y: float, w: float = 300.0, h: float = 80.0) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def _ean(text: str, trusted: bool, view: str = "original", x: float = 100.0) -> _Read:
    return _Read(text, "]E0", "ean13", _quad(x, 100.0), view, trusted)


def test_two_whole_image_reads_of_one_place_are_a_conflict_not_two_codes() -> None:
    clusters: list = []
    _add(clusters, [_ean("4006381333931", True), _ean("4006381333948", True)])
    assert _accepted(clusters) == []
    (conflict,) = _conflicts(clusters, [])
    assert conflict.symbology == "ean13"
    assert set(conflict.texts) == {"4006381333931", "4006381333948"}


def test_two_processed_views_that_disagree_are_a_conflict() -> None:
    clusters: list = []
    _add(
        clusters,
        [_ean("4006381333931", False, "box3/band0"), _ean("4006381333931", False, "box3/band1")],
    )
    _add(
        clusters,
        [
            _ean("4006381333948", False, "gauss2/band0"),
            _ean("4006381333948", False, "gauss2/band2"),
        ],
    )
    assert _accepted(clusters) == []
    assert len(_conflicts(clusters, [])) == 1


def test_a_trusted_read_beats_a_processed_view_without_conflict() -> None:
    clusters: list = []
    _add(clusters, [_ean("4006381333931", True)])
    _add(
        clusters,
        [_ean("4006381333948", False, "box3/band0"), _ean("4006381333948", False, "box3/band1")],
    )
    assert [c.first.text for c in _accepted(clusters)] == ["4006381333931"]
    assert _conflicts(clusters, []) == []


def test_reads_at_different_places_do_not_conflict() -> None:
    clusters: list = []
    _add(clusters, [_ean("4006381333931", True), _ean("4006381333948", True, x=900.0)])
    assert len(_accepted(clusters)) == 2
    assert _conflicts(clusters, []) == []


def _blurred_label() -> np.ndarray:
    label = draw_label([(UNIT, UNIT_HRI)], np.random.default_rng(3), 3)
    kernel = np.full((1, 11), 1.0 / 11, np.float32)  # motion across the bars
    return np.asarray(cv2.filter2D(label, -1, kernel), np.uint8)


def test_time_budget_stops_escalation_and_names_the_regions_left_unread() -> None:
    photo = _blurred_label()
    unbounded = read_labels(photo, budget_s=None)
    assert [s.text for s in unbounded.symbols] == [UNIT.text]  # escalation reads it
    assert not unbounded.out_of_time
    spent = read_labels(photo, budget_s=0.0)
    assert spent.symbols == []
    assert spent.out_of_time
    assert [region.reason for region in spent.unread] == ["time budget"]
    assert spent.unread[0].kind == "linear"
    assert spent.retake() == "unreadable"


def test_barcode_free_page_says_no_barcode_and_how_to_retake() -> None:
    result = read_labels(barcode_free(np.random.default_rng(1)), budget_s=None)
    assert result.symbols == []
    assert result.retake() == "no_barcode"
    hint = retake_hint(result, "zh")
    assert hint is not None
    assert hint["code"] == "no_barcode"
    assert "重新拍摄" in hint["message"]
    assert "straight at the label" in retake_message("no_barcode", "en")


def test_a_clean_label_needs_no_retake() -> None:
    label = draw_label([(UNIT, UNIT_HRI)], np.random.default_rng(3), 3)
    result = read_labels(label)
    assert [s.text for s in result.symbols] == [UNIT.text]
    assert result.unread == []
    assert result.conflicts == []
    assert retake_hint(result) is None


@pytest.mark.parametrize("code", sorted(RETAKE_MESSAGES))
def test_every_retake_case_has_english_and_chinese(code: str) -> None:
    assert retake_message(code, "en")
    assert retake_message(code, "zh")
    assert retake_message(code, "zh") != retake_message(code, "en")
    assert retake_message(code, "fr") == retake_message(code, "en")


def test_conflict_comes_first_among_retake_cases() -> None:
    symbol = Symbol("4006381333931", False, "ean13", "]E0", ((0, 0), (1, 0), (1, 1), (0, 1)))
    from gateway.barcodes import Conflict

    conflict = Conflict("ean13", ("4006381333931", "4006381333948"), symbol.quad)
    assert LabelRead([symbol], [conflict], [], 1.0, False).retake() == "conflict"
    assert LabelRead([symbol], [], [], 1.0, False).retake() is None


def test_bracketed_form_of_gs1_symbols() -> None:
    symbol = Symbol(UNIT.text, True, "gs1-128", "]C1", ((0, 0), (1, 0), (1, 1), (0, 1)))
    assert symbol.bracketed() == UNIT_HRI
    plain = Symbol("ABC", False, "code128", "]C0", symbol.quad)
    assert plain.bracketed() is None
