"""Warm readers: one sandboxed child reads document after document, within the same limits,
and a document that crashes, hangs or outgrows one harms no other document."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import pytest

from gateway.errors import CorruptDocument, ResourceLimitExceeded
from gateway.parsers import Limits, extract, warm
from gateway.parsers.image import mark_photo
from gateway.parsers.sandbox import ForkServer
from gateway.parsers.warm import ReaderPool, WarmReader
from samples.labels import LabelCode, draw_label
from samples.manifests import build_csv_gbk

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    started = ForkServer()
    yield started
    started.close()


@pytest.fixture
def no_child_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a document goes to a child of its own instead of a warm reader."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a document was read by a child of its own")

    monkeypatch.setattr(warm, "run_sandboxed", refuse)


def _photo(text: str) -> bytes:
    import numpy as np

    label = draw_label([(LabelCode(text, False, "qrcode"), text)], np.random.default_rng(5))
    ok, png = cv2.imencode(".png", label)
    assert ok
    return png.tobytes()


def _slow_csv(rows: int = 80_000) -> bytes:
    # many short fields: seconds of parsing, far from every limit but time
    return ("No.,Code\n" + ("ab," * 99 + "ab\n") * rows).encode()


def _pool(server: ForkServer, limits: Limits | None = None, **kwargs: int) -> ReaderPool:
    return ReaderPool(limits or Limits(), server=lambda: server, **kwargs)


def _idle_pids(pool: ReaderPool) -> list[int]:
    return [reader.pid for _, reader in pool._idle]


def test_one_reader_reads_many_documents_like_in_process(server, no_child_per_document):
    pool = _pool(server)
    try:
        documents = [build_csv_gbk(seed=seed)[0] for seed in (1, 2, 3)] + [_photo("WARM-1")]
        for data in documents * 2:
            assert pool.read(data, key="a", filename="d", document_id="d") == extract(
                data, filename="d", document_id="d"
            )
        assert len(_idle_pids(pool)) == 1  # the same child read all eight
    finally:
        pool.close()


def test_a_reader_serves_one_key_only(server, no_child_per_document):
    pool = _pool(server)
    data, _ = build_csv_gbk(seed=1)
    try:
        pool.read(data, key="tenant-a", filename="a.csv", document_id="d")
        pool.read(data, key="tenant-b", filename="a.csv", document_id="d")
        (a, b) = pool._idle
        assert (a[0], b[0]) == ("tenant-a", "tenant-b")
        assert a[1].pid != b[1].pid
        pool.read(data, key="tenant-a", filename="a.csv", document_id="d")
        assert sorted(_idle_pids(pool)) == sorted([a[1].pid, b[1].pid])
    finally:
        pool.close()


def test_a_reader_is_replaced_after_its_documents(server, no_child_per_document):
    pool = _pool(server, max_documents=2)
    data, _ = build_csv_gbk(seed=1)
    try:
        pids = []
        for _ in range(3):
            pool.read(data, key="a", filename="a.csv", document_id="d")
            pids.append(_idle_pids(pool))
        assert len(pids[0]) == 1
        assert pids[1] == []  # its second document was its last: it has exited
        assert len(pids[2]) == 1
        assert pids[2] != pids[0]
    finally:
        pool.close()


def test_the_cpu_limit_is_per_document_not_per_reader(server):
    # A document is allowed its CPU second from the next whole second the reader has used,
    # so 1-2 s: the large document takes several seconds to parse, and its size and the
    # address space are given room, so the CPU limit, not another limit, is what stops it.
    limits = Limits(
        cpu_seconds=1, max_rows=1_000_000, max_bytes=256 * MIB, memory_bytes=6 * 1024 * MIB
    )
    reader = WarmReader(server, limits)
    try:
        data = _slow_csv(15_000)  # a fifth to half a second each: together over 2 s
        for _ in range(8):
            assert reader.read(data, filename="a.csv", document_id="d").method == "csv"
        with pytest.raises(ResourceLimitExceeded, match=r"CPU time limit of 1 s \(SIGXCPU\)"):
            reader.read(_slow_csv(500_000), filename="big.csv", document_id="d")
        assert not reader.usable()
    finally:
        reader.close()


def test_a_document_that_hangs_is_killed_and_the_next_gets_a_fresh_reader(server):
    pool = _pool(server, Limits(wall_seconds=0.5, max_rows=1_000_000))
    data, _ = build_csv_gbk(seed=7)
    try:
        pool.read(data, key="a", filename="a.csv", document_id="d")
        [first] = _idle_pids(pool)
        started = time.monotonic()
        with pytest.raises(ResourceLimitExceeded, match=r"wall-clock limit of 0\.5 s"):
            pool.read(_slow_csv(), key="a", filename="big.csv", document_id="d")
        assert time.monotonic() - started < 5
        assert pool.read(data, key="a", filename="a.csv", document_id="d").lines
        assert _idle_pids(pool) != [first]
    finally:
        pool.close()


def test_a_document_that_outgrows_the_memory_limit_leaves_the_next_unharmed(server):
    # the fork server maps ~440 MiB with the label reader loaded; room for an ordinary read
    pool = _pool(server, Limits(memory_bytes=640 * MIB, max_rows=1_000_000))
    small, _ = build_csv_gbk(seed=7)
    try:
        assert pool.read(small, key="a", filename="a.csv", document_id="d").lines
        with pytest.raises(ResourceLimitExceeded, match="Parsing the document exceeded the memory"):
            pool.read(_slow_csv(), key="a", filename="big.csv", document_id="d")
        assert _idle_pids(pool) == []  # that reader is not used again
        assert pool.read(small, key="a", filename="a.csv", document_id="d").lines
    finally:
        pool.close()


def test_a_reader_that_dies_mid_document_names_the_signal_and_harms_no_other_scan(server):
    pool = _pool(server, Limits(max_rows=1_000_000))
    photo = _photo("OTHER-SCANNER")
    expected = extract(photo, filename="p", document_id="p")
    try:
        # a reader whose native library aborts on a hostile photo dies by SIGABRT; here the
        # signal comes from outside, while the child reads a document that takes seconds
        reader = WarmReader(server, Limits(max_rows=1_000_000))
        threading.Timer(0.3, os.kill, (reader.pid, signal.SIGABRT)).start()
        with ThreadPoolExecutor(max_workers=4) as others:
            scans = [
                others.submit(pool.read, photo, key="b", filename="p", document_id="p")
                for _ in range(6)
            ]
            with pytest.raises(ResourceLimitExceeded, match="died by signal SIGABRT"):
                reader.read(_slow_csv(), filename="big.csv", document_id="d")
            assert [s.result(timeout=60) for s in scans] == [expected] * 6
        assert not reader.usable()
    finally:
        pool.close()


def test_an_idle_reader_found_dead_is_replaced_without_an_error(server, no_child_per_document):
    pool = _pool(server)
    data, _ = build_csv_gbk(seed=7)
    try:
        pool.read(data, key="a", filename="a.csv", document_id="d")
        [pid] = _idle_pids(pool)
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        assert pool.read(data, key="a", filename="a.csv", document_id="d").lines
        assert _idle_pids(pool) not in ([], [pid])
    finally:
        pool.close()


def test_a_document_it_cannot_read_is_an_input_error_and_ends_the_reader(
    server, no_child_per_document
):
    pool = _pool(server)
    data, _ = build_csv_gbk(seed=7)
    try:
        with pytest.raises(CorruptDocument):
            pool.read(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, key="a", filename="p", document_id="d")
        assert _idle_pids(pool) == []
        assert pool.read(data, key="a", filename="a.csv", document_id="d").lines
    finally:
        pool.close()


def test_the_output_cap_holds_for_each_document(server):
    reader = WarmReader(server, Limits(max_output_bytes=200))
    data, _ = build_csv_gbk(seed=7)
    try:
        with pytest.raises(ResourceLimitExceeded, match="output exceeded the limit of 200 bytes"):
            reader.read(data, filename="a.csv", document_id="d")
        assert not reader.usable()
    finally:
        reader.close()


def test_without_a_fork_server_a_document_gets_a_child_of_its_own():
    pool = ReaderPool(Limits(), server=lambda: None)
    data, _ = build_csv_gbk(seed=7)
    assert pool.read(data, key="a", filename="a.csv", document_id="d") == extract(
        data, filename="a.csv", document_id="d"
    )


def _marks(photo: bytes) -> list[dict[str, object]]:
    (code,) = extract(photo, filename="p", document_id="p").loose_codes
    quad = [[x, y] for x, y in code.quad or ()]
    return [{"text": code.raw, "symbology": code.symbology, "quad": quad, "color": "red"}]


def test_a_photo_is_marked_up_by_the_reader_that_read_it(server, no_child_per_document):
    pool = _pool(server)
    photo = _photo("MARK-1")
    marks = _marks(photo)
    try:
        pool.read(photo, key="a", filename="p", document_id="p")
        [pid] = _idle_pids(pool)
        jpeg = pool.annotate(photo, key="a", marks=marks)
        assert jpeg == mark_photo(photo, marks, Limits())
        assert _idle_pids(pool) == [pid]  # the same child, still warm for the next scan
    finally:
        pool.close()


def test_a_mark_up_that_overruns_a_limit_ends_its_reader_like_a_read(server):
    pool = _pool(server, Limits(max_output_bytes=4000))
    photo = _photo("MARK-2")
    try:
        assert pool.read(photo, key="a", filename="p", document_id="p").loose_codes
        with pytest.raises(ResourceLimitExceeded, match="exceeded the limit of 4000 bytes"):
            pool.annotate(photo, key="a", marks=_marks(photo))
        assert _idle_pids(pool) == []  # that reader is not used again
        assert pool.read(photo, key="a", filename="p", document_id="p").loose_codes
    finally:
        pool.close()


def test_without_a_fork_server_a_photo_is_marked_up_by_a_child_of_its_own():
    pool = ReaderPool(Limits(), server=lambda: None)
    photo = _photo("MARK-3")
    marks = _marks(photo)
    assert pool.annotate(photo, key="a", marks=marks) == mark_photo(photo, marks, Limits())
