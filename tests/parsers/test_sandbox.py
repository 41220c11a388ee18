"""The parser sandbox: same result as in process, limits turn into rejections."""

from __future__ import annotations

import sys

import pytest

from gateway.errors import DocumentTooLarge, ResourceLimitExceeded
from gateway.parsers import Limits, extract
from gateway.parsers.sandbox import extract_sandboxed
from samples.manifests import build_csv_gbk

MIB = 1024 * 1024


def test_sandbox_returns_the_same_extraction_as_in_process():
    data, _ = build_csv_gbk(seed=7)
    assert extract_sandboxed(data, filename="a.csv") == extract(data, filename="a.csv")


def test_child_killed_at_the_wall_clock_limit_is_a_rejection():
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="wall-clock"):
        extract_sandboxed(data, filename="a.csv", limits=Limits(wall_seconds=0.05))


def test_child_without_memory_to_start_is_a_rejection_naming_the_limit():
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="memory limit of 24 MiB"):
        extract_sandboxed(data, filename="a.csv", limits=Limits(memory_bytes=24 * MIB))


def test_parse_that_outgrows_the_memory_limit_is_a_rejection():
    # ~24 MB of short fields: each becomes a Python string of ~50 bytes, so reading the
    # table needs several hundred MB, far more than the headroom left above start-up
    hungry = ("No.,Code\n" + ("ab," * 99 + "ab\n") * 80_000).encode()
    limits = Limits(memory_bytes=300 * MIB, max_rows=1_000_000)
    small, _ = build_csv_gbk(seed=7)
    # the same limit leaves the parser room to start and read an ordinary document ...
    assert extract_sandboxed(small, filename="a.csv", limits=limits).lines
    # ... so what hits it is the parse itself
    with pytest.raises(ResourceLimitExceeded, match="Parsing the document exceeded the memory"):
        extract_sandboxed(hungry, filename="big.csv", limits=limits)


def test_child_that_aborts_is_a_rejection_naming_the_signal():
    data, _ = build_csv_gbk(seed=7)
    # a native library that calls abort() on a hostile file kills the process this way
    crash = [sys.executable, "-c", "import os; os.abort()"]
    with pytest.raises(ResourceLimitExceeded, match="SIGABRT"):
        extract_sandboxed(data, filename="a.csv", child_command=crash)


def test_input_errors_cross_the_process_boundary():
    with pytest.raises(DocumentTooLarge):
        extract_sandboxed((",".join(["x"] * 500)).encode(), filename="w.csv")
