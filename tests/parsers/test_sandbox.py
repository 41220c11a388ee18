"""The parser sandbox: same result as in process, limits turn into rejections."""

from __future__ import annotations

import pytest

from gateway.errors import DocumentTooLarge, ResourceLimitExceeded
from gateway.parsers import Limits, extract
from gateway.parsers.sandbox import extract_sandboxed
from samples.manifests import build_csv_gbk


def test_sandbox_returns_the_same_extraction_as_in_process():
    data, _ = build_csv_gbk(seed=7)
    assert extract_sandboxed(data, filename="a.csv") == extract(data, filename="a.csv")


def test_child_killed_at_the_wall_clock_limit_is_a_rejection():
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="wall-clock"):
        extract_sandboxed(data, filename="a.csv", limits=Limits(wall_seconds=0.05))


def test_child_without_memory_is_a_rejection_naming_the_limit():
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="memory"):
        extract_sandboxed(data, filename="a.csv", limits=Limits(memory_bytes=24 * 1024 * 1024))


def test_input_errors_cross_the_process_boundary():
    with pytest.raises(DocumentTooLarge):
        extract_sandboxed((",".join(["x"] * 500)).encode(), filename="w.csv")
