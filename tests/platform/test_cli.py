"""`gateway registry import|lookup` and `gateway platform-sim` option handling."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli import main
from samples.registry import sample_records, write_registry


def test_registry_import_then_lookup(tmp_path):
    records = sample_records(seed=1, size=15)
    path = write_registry(tmp_path / "r.xlsx", records)
    db = f"sqlite:///{tmp_path / 'db' / 'g.sqlite3'}"
    runner = CliRunner()
    first = runner.invoke(main, ["registry", "import", str(path), "--database-url", db])
    assert first.exit_code == 0, first.output
    assert "15 inserted, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = runner.invoke(main, ["registry", "import", str(path), "--database-url", db, "--json"])
    assert json.loads(again.output)["unchanged"] == 15

    record = records[0]
    code = f"(01){record.gtin}(21){record.serial}"
    found = runner.invoke(main, ["registry", "lookup", code, "--database-url", db])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["record"]["record_id"] == record.record_id
    missing = runner.invoke(main, ["registry", "lookup", code + "X", "--database-url", db])
    assert missing.exit_code == 1
    assert json.loads(missing.output)["status"] == "not_found"


def test_registry_import_reports_rejected_rows_and_exits_1(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "GTIN,Serial,Status\n06901234567892,A,registered\n06901234567890,B,registered\n"
    )
    db = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    result = CliRunner().invoke(main, ["registry", "import", str(path), "--database-url", db])
    assert result.exit_code == 1
    assert "row 3: GTIN '06901234567890': incorrect check digit" in result.output


def test_registry_import_of_an_unreadable_file_exits_2(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    db = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    result = CliRunner().invoke(main, ["registry", "import", str(path), "--database-url", db])
    assert result.exit_code == 2
    assert "cannot be read as XLSX" in result.output


def test_registry_lookup_in_a_file(tmp_path):
    records = sample_records(seed=1, size=15)
    path = write_registry(tmp_path / "r.csv", records)
    gb = next(r for r in records if r.gb_code and r.gb_code_scheme == "GB_T_34014")
    assert gb.gb_code is not None
    result = CliRunner().invoke(main, ["registry", "lookup", gb.gb_code, "--file", str(path)])
    assert json.loads(result.output.splitlines()[0])["key"] == gb.gb_code


def test_platform_sim_refuses_a_bad_fault_spec():
    result = CliRunner().invoke(main, ["platform-sim", "--faults", "error=7"])
    assert result.exit_code == 2
    assert "between 0 and 1" in result.output
