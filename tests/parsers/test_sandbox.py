"""The parser sandbox: same result as in process, limits turn into rejections."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.errors import DocumentTooLarge, ResourceLimitExceeded
from gateway.parsers import Limits, extract, sandbox
from gateway.parsers.child import PRELOAD_ALL, PRELOAD_SHEETS
from gateway.parsers.sandbox import (
    ForkServer,
    extract_sandboxed,
    preload_for,
    shared_fork_server,
    stop_shared_fork_server,
)
from samples.manifests import build_csv_gbk, build_pdf

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


# -- the fork server ------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ForkServer]:
    started = ForkServer()
    yield started
    started.close()


@pytest.fixture
def no_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a document is parsed by a cold-started interpreter."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cold start happened while the fork server was expected")

    monkeypatch.setattr(sandbox, "_run_cold", refuse)


def _slow_csv(rows: int = 80_000) -> bytes:
    # many short fields: seconds of parsing, far from every limit but time
    return ("No.,Code\n" + ("ab," * 99 + "ab\n") * rows).encode()


def test_the_fork_server_parses_many_documents_like_in_process(server, no_cold_start):
    for seed in (1, 2, 3):
        data, _ = build_csv_gbk(seed=seed)
        assert extract_sandboxed(data, filename="a.csv", server=server) == extract(
            data, filename="a.csv"
        )
    assert server.usable()


def test_forked_children_read_pdfs_with_the_preloaded_engine(server, no_cold_start):
    data, _ = build_pdf(scanned_page=False)
    for _ in range(2):  # PDFium loaded once in the server, used by one child after another
        assert extract_sandboxed(data, filename="p.pdf", server=server) == extract(
            data, filename="p.pdf"
        )


def test_forked_children_run_concurrently_from_one_server(server, no_cold_start):
    documents = [build_csv_gbk(seed=seed)[0] for seed in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(
            pool.map(lambda d: extract_sandboxed(d, filename="a.csv", server=server), documents)
        )
    assert results == [extract(d, filename="a.csv") for d in documents]


def test_forked_child_killed_at_the_wall_clock_limit(server, no_cold_start):
    started = time.monotonic()
    with pytest.raises(ResourceLimitExceeded, match=r"wall-clock limit of 0\.5 s"):
        extract_sandboxed(
            _slow_csv(),
            filename="big.csv",
            limits=Limits(wall_seconds=0.5, max_rows=1_000_000),
            server=server,
        )
    assert time.monotonic() - started < 5
    # the server outlives its killed child and goes on serving
    data, _ = build_csv_gbk(seed=7)
    assert extract_sandboxed(data, filename="a.csv", server=server).lines


def test_forked_child_applies_the_cpu_limit_and_its_signal_is_named(server, no_cold_start):
    with pytest.raises(ResourceLimitExceeded, match=r"CPU time limit of 1 s \(SIGXCPU\)"):
        extract_sandboxed(
            _slow_csv(300_000),
            filename="big.csv",
            # room in memory so that the CPU limit is the one that ends it
            limits=Limits(
                cpu_seconds=1, memory_bytes=3 * 1024 * MIB, max_rows=1_000_000, max_bytes=200 * MIB
            ),
            server=server,
        )


def test_forked_child_applies_the_memory_limit(server, no_cold_start):
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="memory limit of 24 MiB"):
        extract_sandboxed(
            data, filename="a.csv", limits=Limits(memory_bytes=24 * MIB), server=server
        )
    # the fork server has the label reader loaded: ~440 MiB of address space (little of it
    # resident), which a forked child inherits
    limits = Limits(memory_bytes=640 * MIB, max_rows=1_000_000)
    assert extract_sandboxed(data, filename="a.csv", limits=limits, server=server).lines
    with pytest.raises(ResourceLimitExceeded, match="Parsing the document exceeded the memory"):
        extract_sandboxed(_slow_csv(), filename="big.csv", limits=limits, server=server)


def test_forked_child_output_is_capped(server, no_cold_start):
    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(ResourceLimitExceeded, match="output exceeded the limit of 200 bytes"):
        extract_sandboxed(
            data, filename="a.csv", limits=Limits(max_output_bytes=200), server=server
        )


def test_a_dead_fork_server_falls_back_to_a_cold_start(server):
    os.kill(server.pid, signal.SIGKILL)
    server.proc.wait()
    data, _ = build_csv_gbk(seed=7)
    assert extract_sandboxed(data, filename="a.csv", server=server) == extract(
        data, filename="a.csv"
    )
    assert not server.usable()


def test_a_server_dying_during_a_document_leaves_the_document_to_a_cold_start(server):
    data = _slow_csv(30_000)
    limits = Limits(max_rows=1_000_000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(
            extract_sandboxed, data, filename="big.csv", limits=limits, server=server
        )
        time.sleep(0.3)  # the forked child is parsing now
        os.kill(server.pid, signal.SIGKILL)
        result = pending.result(timeout=120)
    assert result == extract(data, filename="big.csv", limits=limits)
    assert not server.usable()


def test_the_shared_server_is_restarted_after_its_death():
    try:
        first = shared_fork_server()
        assert first is not None
        assert shared_fork_server() is first  # reused while alive
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait()
        second = shared_fork_server()
        assert second is not None
        assert second.pid != first.pid
        assert second.usable()
    finally:
        stop_shared_fork_server()


def _maps_opencv_or_onnxruntime(pid: int) -> list[str]:
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return sorted(p for p in paths if "/cv2/" in p or "/onnxruntime/" in p)


def test_a_server_for_sheets_imports_no_label_reader_and_still_reads_every_kind(no_cold_start):
    sheets, full = ForkServer(PRELOAD_SHEETS), ForkServer()
    try:
        data, _ = build_csv_gbk(seed=7)
        for started in (sheets, full):
            assert extract_sandboxed(data, filename="a.csv", server=started) == extract(
                data, filename="a.csv"
            )
        # a server forks only once it has preloaded: what it maps now, it maps for good
        assert _maps_opencv_or_onnxruntime(sheets.pid) == []
        assert _maps_opencv_or_onnxruntime(full.pid) != []
        pdf, _ = build_pdf(scanned_page=True)
        assert extract_sandboxed(pdf, filename="p.pdf", server=sheets) == extract(
            pdf, filename="p.pdf"
        )
        assert _maps_opencv_or_onnxruntime(sheets.pid) == []  # the child imported them
    finally:
        sheets.close()
        full.close()


def test_the_preload_follows_the_documents_kinds():
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert preload_for([xlsx, "text/csv", "application/vnd.ms-excel"]) == PRELOAD_SHEETS
    assert preload_for([xlsx, "application/pdf"]) == PRELOAD_ALL
    assert preload_for(["image/jpeg"]) == PRELOAD_ALL
    assert preload_for(["application/octet-stream"]) == PRELOAD_ALL


def test_the_shared_server_keeps_its_preload_across_a_restart():
    try:
        first = shared_fork_server(PRELOAD_SHEETS)
        assert first is not None
        assert first.preload == PRELOAD_SHEETS
        assert shared_fork_server(PRELOAD_ALL) is first  # a running server reads every kind
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait()
        second = shared_fork_server()
        assert second is not None
        assert second.preload == PRELOAD_ALL  # the last one asked for
    finally:
        stop_shared_fork_server()
    try:
        again = shared_fork_server()
        assert again is not None
        assert again.preload == PRELOAD_ALL
    finally:
        stop_shared_fork_server()


def test_the_server_exits_when_its_clients_close_it():
    started = ForkServer()
    data, _ = build_csv_gbk(seed=7)
    assert extract_sandboxed(data, filename="a.csv", server=started).lines
    started.close()
    assert started.proc.returncode == 0


# -- the wire form, through the real sandbox --------------------------------------------------


def _mixed_workbook(lines: int) -> bytes:
    """A packing list of valid, invalid and possible codes, several per cell, GB/T codes,
    empty fields and repeated values: what a large export holds, in every shape."""
    import io
    import random

    from openpyxl import Workbook

    from samples.manifests import gb_code, gtin

    rng = random.Random(11)
    g = gtin(rng)
    bad = g[:-1] + str((int(g[-1]) + 1) % 10)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Packing List")
    ws.append(["No.", "Description", "Battery Code", "Lot No.", "Qty", "N.W. (kg)", "G.W. (kg)",
               "HS Code", "UN No.", "Destination", "Remark"])  # fmt: skip
    for i in range(1, lines + 1):
        kind = i % 5
        if kind == 0:
            code = f"(01){bad}(21)SN{i:07d}"  # wrong check digit: an invalid code at its cell
        elif kind == 1:
            code = f"TN26{i:07d}"  # no code read: a possible code at its cell
        elif kind == 2:
            code = f"(01){g}(21)A{i}\n(01){g}(21)B{i}"  # two codes in one cell
        elif kind == 3:
            code = gb_code(rng, i)
        else:
            code = f"(01){g}(21)SN{i:07d}"
        ws.append([i, "Battery module" if i % 7 else None, code, f"L{i % 13}", i % 3 + 1,
                   12.5, -0.0 if i == 3 else 13.0, "85076000", "UN3480",
                   "DE" if i % 2 else "Netherlands", "易碎" if i % 11 == 0 else None])  # fmt: skip
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_large_workbook_crosses_the_sandbox_exactly_as_read_in_process(server):
    data = _mixed_workbook(3000)
    here = extract(data, filename="big.xlsx")
    kinds = {p.kind for p in here.problems}
    assert "possible_code" in kinds
    assert any(len(line.codes) == 2 for line in here.lines)
    for road in (
        extract_sandboxed(data, filename="big.xlsx"),
        extract_sandboxed(data, filename="big.xlsx", server=server),
    ):
        assert road == here
        # every location, the field cells included, names the same cell as in process
        for a, b in zip(road.lines, here.lines, strict=True):
            assert dict(a.field_sources) == dict(b.field_sources)
            assert [c.source for c in a.codes] == [c.source for c in b.codes]
    invalid = [c for line in here.lines for c in line.codes if "SN" in c.raw and "(01)" in c.raw]
    assert invalid  # the invalid codes are kept, at their cells
    assert all(c.source.cell and c.source.cell.startswith("C") for c in invalid)


def _answering(tmp_path, answer: bytes) -> list[str]:
    """A child that reads the document and prints `answer`, as a hostile one could."""
    path = tmp_path / "answer.json"
    path.write_bytes(answer)
    script = (
        "import sys; sys.stdin.buffer.read(); "
        "sys.stdout.buffer.write(open(sys.argv[1], 'rb').read())"
    )
    return [sys.executable, "-c", script, str(path)]


def _good_answer() -> dict:
    import json

    from gateway.parsers.child import parse

    data, _ = build_csv_gbk(seed=7)
    answer = json.loads(json.dumps(parse({"filename": "a.csv"}, data)))
    assert answer["ok"]
    return answer


def test_the_wire_answer_of_a_real_child_reads_back(tmp_path):
    import json

    data, _ = build_csv_gbk(seed=7)
    command = _answering(tmp_path, json.dumps(_good_answer()).encode())
    assert extract_sandboxed(data, filename="a.csv", child_command=command) == extract(
        data, filename="a.csv"
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda a: a["extraction"].update(wire=1),
        lambda a: a["extraction"]["lines"].update(n=10**9),  # millions of lines from a few bytes
        lambda a: a["extraction"]["lines"].update(n=a["extraction"]["lines"]["n"] + 1),
        lambda a: a["extraction"]["lines"]["codes"].update(count={"k": [10**8]}),
        lambda a: a["extraction"]["lines"].update(quantity={"k": ["1"]}),
        lambda a: a["extraction"]["lines"].update(field_sources={"k": [99]}),
        lambda a: a["extraction"]["lines"]["codes"].update(method={"k": ["magic"]}),
        lambda a: a["extraction"]["lines"]["codes"].update(source={"k": [10**6]}),
        lambda a: a["extraction"]["layouts"].append({"lot": {"nested": True}}),
        lambda a: a["extraction"].pop("rest"),
        lambda a: a.pop("extraction"),
    ],
)
def test_a_malformed_child_answer_is_rejected_with_a_clear_error(tmp_path, spoil):
    import json

    from gateway.errors import CorruptDocument

    answer = _good_answer()
    spoil(answer)
    data, _ = build_csv_gbk(seed=7)
    command = _answering(tmp_path, json.dumps(answer).encode())
    with pytest.raises(CorruptDocument, match="malformed answer"):
        extract_sandboxed(data, filename="a.csv", child_command=command)


@pytest.mark.parametrize(
    "answer",
    [b"[1, 2]", b'"ok"', b'{"ok": true}', b'{"ok": true, "extraction": ' + b"[" * 200_000],
)
def test_a_child_answer_of_the_wrong_shape_is_rejected(tmp_path, answer):
    from gateway.errors import CorruptDocument

    data, _ = build_csv_gbk(seed=7)
    with pytest.raises(CorruptDocument, match="malformed answer"):
        extract_sandboxed(data, filename="a.csv", child_command=_answering(tmp_path, answer))


def test_an_oversized_child_answer_is_rejected_at_the_output_cap(tmp_path):
    data, _ = build_csv_gbk(seed=7)
    command = _answering(tmp_path, b"[" + b"0," * 600_000 + b"0]")
    with pytest.raises(ResourceLimitExceeded, match="output exceeded"):
        extract_sandboxed(
            data, filename="a.csv", child_command=command, limits=Limits(max_output_bytes=MIB)
        )


def test_the_line_bound_follows_the_output_cap():
    from gateway.errors import CorruptDocument

    answer = _good_answer()
    n = answer["extraction"]["lines"]["n"]
    assert n > 1
    assert sandbox.result_extraction(answer, Limits(max_output_bytes=64 * n)).lines
    with pytest.raises(CorruptDocument, match="number of lines"):
        sandbox.result_extraction(answer, Limits(max_output_bytes=64 * (n - 1)))
