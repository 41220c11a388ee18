"""What a photo needs: a small photo read enlarged, a surface filling the photo left alone."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.barcodes import read, read_labels
from gateway.barcodes.regions import _fills_frame, find_regions
from samples.labels import databar_code, degrade, draw_label, textured_background


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_low_resolution_stacked_databar_is_read(seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes = [databar_code(rng, "gs1-databar-expanded-stacked")]
    photo, _ = degrade(draw_label(codes, rng), "low_res", rng)
    assert max(photo.shape) <= 600  # a small photo: modules of under two pixels
    assert [symbol.text for symbol in read(photo, budget_s=None)] == [codes[0][0].text]


@pytest.mark.parametrize("kind", ["fabric", "gravel", "corrugated"])
def test_a_surface_filling_the_photo_is_not_a_region(kind: str) -> None:
    for seed in range(3):
        surface = textured_background(np.random.default_rng(seed), kind)
        height, width = surface.shape
        regions = find_regions(surface)
        assert not any(_fills_frame(region, width, height) for region in regions), regions
        result = read_labels(surface, budget_s=None)
        assert result.symbols == []
        assert not any(
            max(x for x, _ in u.quad) - min(x for x, _ in u.quad) >= 0.9 * width
            for u in result.unread
        )
