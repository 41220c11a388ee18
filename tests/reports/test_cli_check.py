"""`gateway check`: exit statuses, formats, and the no-registry warning."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
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
    [["--today", "20-11-2026"], ["--destination", "Germany"], ["--ruleset", "nope"]],
)
def test_bad_arguments_exit_3(files, args):
    manifest, _ = files("clean_to_germany")
    assert _check(manifest, *args).exit_code == 3


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
