"""`gateway check`: exit statuses, formats, and the no-registry warning."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.cli.check import TerminalProgress
from samples.shipments import SAMPLES, registry_csv


@pytest.fixture
def files(tmp_path):
    def write(name):
        sample = SAMPLES[name]()
        manifest = tmp_path / sample.documents[0].document.filename
        manifest.write_bytes(sample.documents[0].data)
        registry = tmp_path / f"{name}_registry.csv"
        registry.write_bytes(registry_csv(sample.records))
        return manifest, registry

    return write


def _check(*args: object) -> Result:
    return CliRunner().invoke(main, ["check", *map(str, args)])


@pytest.mark.parametrize(
    ("name", "extra", "status"),
    [
        ("problems_to_germany", [], 2),
        ("ess_by_air", ["--transport-mode", "air"], 2),
        ("ess_by_air", ["--transport-mode", "sea"], 0),
    ],
)
def test_exit_status_follows_the_verdict(files, name, extra, status):
    manifest, registry = files(name)
    result = _check(manifest, "--registry", registry, "--today", "2026-11-20", *extra)
    assert result.exit_code == status, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == {0: "clear", 1: "hold", 2: "block"}[status]


def test_without_registry_hold_at_best_and_says_so(files):
    manifest, _ = files("clean_to_germany")
    result = _check(manifest, "--today", "2026-11-20")
    assert result.exit_code == 1
    assert "HOLD at best" in result.stderr


def test_unusable_input_exits_3(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a manifest")
    result = _check(junk, "--today", "2026-11-20")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["findings"][0]["code"] == "DOCUMENT_REJECTED"


@pytest.mark.parametrize(
    "args",
    [
        ["--today", "20-11-2026"],
        ["--destination", "Germanz"],
        ["--ruleset", "nope"],
        ["--format", "docx"],  # click's own usage error: 2 would read as "block"
        ["--no-such-option"],
    ],
)
def test_bad_arguments_exit_4_never_a_verdicts_code(files, args):
    manifest, _ = files("clean_to_germany")
    assert _check(manifest, *args).exit_code == 4


@pytest.mark.parametrize("mode", ["multimodal", "post"])
def test_transport_modes_are_the_apis(files, mode):
    manifest, registry = files("clean_to_germany")
    result = _check(manifest, "--registry", registry, "--transport-mode", mode)
    assert result.exit_code in (0, 1)


def test_pdf_and_annotated_formats(files, tmp_path):
    from openpyxl import load_workbook

    manifest, registry = files("problems_to_germany")
    pdf, book = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    assert _check(manifest, "--registry", registry, "--format", "pdf", "--out", pdf).exit_code == 2
    assert pdf.read_bytes().startswith(b"%PDF-")
    args = (manifest, "--registry", registry, "--format", "annotated", "--out", book)
    assert _check(*args).exit_code == 2
    sheet = load_workbook(book).worksheets[0]
    assert any(cell.comment for row in sheet.iter_rows() for cell in row)


def test_missing_file_exits_3(tmp_path):
    assert _check(tmp_path / "absent.xlsx").exit_code == 3


@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx"])
def test_formats_write_to_out(files, tmp_path, fmt):
    manifest, registry = files("problems_to_germany")
    out = tmp_path / f"report.{fmt}"
    args = [manifest, "--registry", registry, "--format", fmt, "--lang", "zh", "--out", out]
    result = _check(*args)
    assert result.exit_code == 2
    data = out.read_bytes()
    assert data
    if fmt == "html":
        assert "阻断" in data.decode()
    if fmt == "csv":
        assert data.startswith("\ufeff".encode())


def test_sandboxed_reading_gives_the_same_verdict(files):
    manifest, registry = files("problems_to_germany")
    result = _check(manifest, "--registry", registry, "--today", "2026-11-20", "--sandbox")
    assert result.exit_code == 2, result.output
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert "LOT_MISMATCH" in codes


_LOADED = """
import json, sys
from click.testing import CliRunner
from gateway.cli import main
from gateway.parsers.sandbox import shared_fork_server
result = CliRunner().invoke(main, ["check", *sys.argv[1:]])
server = shared_fork_server()  # the one the check started, still running
with open(f"/proc/{server.pid}/maps", encoding="utf-8") as maps:
    mapped = {line.split()[-1] for line in maps if "/" in line}
print(json.dumps({
    "status": result.exit_code,
    "parent": sorted(m for m in sys.modules if m.split(".")[0] in ("cv2", "onnxruntime")),
    "server": sorted(p for p in mapped if "/cv2/" in p or "/onnxruntime/" in p),
}))
"""


def test_a_check_of_workbooks_loads_no_label_reader_in_either_process(files):
    manifest, registry = files("problems_to_germany")
    run = subprocess.run(
        [sys.executable, "-c", _LOADED, str(manifest), "--registry", str(registry),
         "--today", "2026-11-20", "--sandbox"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    loaded = json.loads(run.stdout.decode().strip().splitlines()[-1])
    assert loaded == {"status": 2, "parent": [], "server": []}


def test_piped_stderr_gets_no_progress_text(files):
    manifest, registry = files("problems_to_germany")
    result = _check(manifest, "--registry", registry, "--today", "2026-11-20")
    assert result.exit_code == 2
    assert "\x1b[K" not in result.stderr
    assert "reading" not in result.stderr
    assert "gateway check:" not in result.stderr


def test_terminal_progress_names_the_document_and_the_time_and_clears_its_line():
    sample = SAMPLES["clean_to_germany"]()
    stream = io.StringIO()
    progress = TerminalProgress(stream, sample.documents)
    name = sample.documents[0].document.filename
    progress(f"reading {name}", 0.0)
    progress("looking up 3 keys", 0.5)
    progress.close()
    text = stream.getvalue()
    assert f"[1/1] reading {name} (0.0 MB)" in text
    assert "looking up 3 keys 50%" in text
    assert " s (total " in text
    assert text.endswith("\r\x1b[K")
    assert not any(t.name == "check-progress" for t in threading.enumerate())


def test_progress_shows_on_a_terminal(files, tmp_path):
    manifest, registry = files("clean_to_germany")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "gateway"), "check", str(manifest), "--registry",
             str(registry), "--out", str(tmp_path / "r.json")],
            stderr=follower, stdout=subprocess.DEVNULL, timeout=60, check=False,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal is closed once the child has gone
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert done.returncode in (0, 1)
    assert b"loading the registry" in shown
    assert b"reading " + manifest.name.encode() in shown


def _two_documents(tmp_path: Path) -> tuple[list[Path], Path]:
    """The documents of the two-document sample shipment and its registry, as files."""
    sample = SAMPLES["details_to_poland"]()
    paths = []
    for item in sample.documents:
        path = tmp_path / item.document.filename
        path.write_bytes(item.data)
        paths.append(path)
    registry = tmp_path / "registry.csv"
    registry.write_bytes(registry_csv(sample.records))
    return paths, registry


def test_a_shipment_of_two_documents_is_compared_document_to_document(tmp_path):
    paths, registry = _two_documents(tmp_path)
    result = _check(*paths, "--registry", registry, "--today", "2026-11-20")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    codes = {f["code"] for f in report["findings"]}
    assert {"DG_DECLARATION_INCONSISTENT", "UNITS_WITHOUT_PACKAGE"} <= codes
    assert report["counts"]["verified"] == report["counts"]["units"]


def test_documents_read_beside_the_registry_keep_their_order_and_their_rejections(tmp_path):
    paths, registry = _two_documents(tmp_path)
    junk = tmp_path / "broken.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a workbook")
    result = _check(paths[0], junk, *paths[1:], "--registry", registry, "--today", "2026-11-20")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    names = [d["filename"] for d in report["documents"]]
    assert names == [paths[0].name, "broken.xlsx", *(p.name for p in paths[1:])]
    rejected = [f for f in report["findings"] if f["code"] == "DOCUMENT_REJECTED"]
    assert [f["locations"][0]["document_id"] for f in rejected] == ["doc-2"]
    assert report["counts"]["documents_rejected"] == 1
    assert report["counts"]["verified"] == report["counts"]["units"]
