"""Importing registry exports: headers in Chinese, English or both, idempotent upserts, rejects."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from gateway.domain import LookupStatus, RegistrationStatus
from gateway.gs1.checksums import check_digit
from gateway.platform_client.importer import (
    RegistryFileError,
    normalize_header,
    read_registry_file,
    read_rows,
)
from gateway.platform_client.local import InMemoryRegistry, LocalRegistry, import_registry_file
from samples.registry import (
    records_for_keys,
    sample_records,
    write_registry,
    write_registry_for_keys,
)

GTIN = "06901234567892"
SSCC = "10690123400000001" + check_digit("10690123400000001")


def _csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'reg.sqlite3'}")
    LocalRegistry(engine).create_tables()
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("电池编码/Battery code", "batterycode"),
        ("额定能量(kWh)", "额定能量"),
        ("Rated energy (Wh)", "ratedenergy"),
        ("目的国（地区）", "目的国(地区)"),
    ],
)
def test_normalize_header_yields_the_alias(header, expected):
    candidates, _unit = normalize_header(header)
    assert expected in candidates


@pytest.mark.parametrize("language", ["zh", "en", "bilingual"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_sample_exports_read_back_to_the_same_records(tmp_path, language, suffix):
    records = sample_records(seed=3, size=20)
    path = write_registry(tmp_path / f"r{suffix}", records, language=language, title="导出")
    result = read_registry_file(path)
    assert result.rejected == ()
    got = {r.record.record_id: r.record for r in result.rows}
    for record in records:
        back = got[record.record_id]
        assert back.status == record.status
        assert (back.gtin, back.serial) == (record.gtin, record.serial)
        assert back.gb_code == record.gb_code
        assert back.destination_country == record.destination_country
        assert back.level == record.level
        assert back.rated_energy_kwh == record.rated_energy_kwh
        assert back.grace_until == record.grace_until
        assert back.declared_in == record.declared_in


def test_chinese_words_units_and_country_names_are_normalized(tmp_path):
    path = _csv(
        tmp_path / "zh.csv",
        [
            ["电池登记表"],
            [
                "GTIN",
                "序列号",
                "状态",
                "目的国",
                "层级",
                "化学体系",
                "额定能量(Wh)",
                "质量(g)",
                "生产日期",
                "宽限期至",
            ],
            [
                GTIN,
                "A1",
                "需更正",
                "荷兰",
                "模组",
                "磷酸铁锂",
                "5120",
                "32000",
                "2026年3月1日",
                "2026/9/30",
            ],
            [GTIN, "A2", "已出口", "Germany", "电池包", "三元", "75,000", "480000", "20260301", ""],
        ],
    )
    result = read_registry_file(path)
    assert result.rejected == ()
    first, second = (r.record for r in result.rows)
    assert first.status == RegistrationStatus.NEEDS_CORRECTION
    assert first.destination_country == "NL"
    assert (first.level, first.chemistry) == ("module", "LFP")
    assert first.rated_energy_kwh == pytest.approx(5.12)
    assert first.mass_kg == pytest.approx(32.0)
    assert first.manufacturing_date == dt.date(2026, 3, 1)
    assert first.grace_until == dt.date(2026, 9, 30)
    assert (second.status, second.destination_country, second.chemistry) == (
        RegistrationStatus.EXPORTED,
        "DE",
        "NCM",
    )
    assert second.rated_energy_kwh == pytest.approx(75.0)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["(01)06901234567890(21)X", "", "", "registered", "DE"], "INCORRECT_CHECK_DIGIT"),
        (["", GTIN[:-1] + "3", "S", "registered", "DE"], "incorrect check digit"),
        (["", GTIN, "S", "approved", "DE"], "status 'approved'"),
        (["", GTIN, "S", "", "DE"], "status is empty"),
        (["", GTIN, "S", "registered", "Atlantis"], "destination 'Atlantis'"),
        (["", "", "", "registered", "DE"], "no unit code"),
        (["", "", "S9", "registered", "DE"], "serial 'S9' without a GTIN"),
        ([f"(01){GTIN}(21)A", GTIN, "B", "registered", "DE"], "columns say"),
        ([f"(01){GTIN}(10)LOT7", "", "", "registered", "DE"], "not one unit"),
    ],
)
def test_bad_rows_are_rejected_with_row_number_and_reason(tmp_path, row, reason):
    good = ["", GTIN, "OK1", "registered", "DE"]
    path = _csv(
        tmp_path / "r.csv", [["Battery code", "GTIN", "Serial", "Status", "Destination"], good, row]
    )
    result = read_registry_file(path)
    assert [r.record.serial for r in result.rows] == ["OK1"]
    assert len(result.rejected) == 1
    number, why = result.rejected[0]
    assert number == 3
    assert reason in why


def test_spreadsheet_numbers_that_lost_digits_are_rejected(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["SSCC", "GTIN", "序列号", "状态"])
    sheet.append([3.40123456789012e17, None, None, "已登记"])  # an SSCC Excel made a float
    sheet.append([None, int(GTIN), "S1", "已登记"])  # a GTIN stored as a number: still exact
    book.save(tmp_path / "n.xlsx")
    result = read_registry_file(tmp_path / "n.xlsx")
    assert [n for n, _ in result.rejected] == [2]
    assert "lost digits" in result.rejected[0][1]
    assert [r.record.gtin for r in result.rows] == [GTIN]


def test_xlsx_exports_are_read_by_the_document_reader(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["GTIN", "序列号", "状态", "生产日期"])
    sheet.append([GTIN, 1001, "已登记", dt.datetime(2026, 3, 1)])  # a serial typed as a number
    sheet.append([int(GTIN), "S2", "已登记", "2026-03-02"])  # a GTIN shown with its zero:
    sheet["A3"].number_format = "0" * 14  # the zero-padded format Excel users give it
    book.save(tmp_path / "r.xlsx")
    result = read_registry_file(tmp_path / "r.xlsx")
    assert [(r.row, r.record.gtin, r.record.serial) for r in result.rows] == [
        (2, GTIN, "1001"),
        (3, GTIN, "S2"),
    ]
    assert result.rows[0].record.manufacturing_date == dt.date(2026, 3, 1)


def test_hostile_xlsx_exports_meet_the_document_readers_guards(tmp_path):
    from samples.hostile import build_corpus

    for name, words in (("zip-bomb.xlsx", "expected at most"), ("huge-dimension.xlsx", "claims")):
        path = tmp_path / name
        path.write_bytes(next(c.data for c in build_corpus() if c.name == name))
        with pytest.raises(RegistryFileError, match=words):
            read_registry_file(path)


def test_a_file_without_a_code_column_is_refused(tmp_path):
    path = _csv(tmp_path / "x.csv", [["Name", "Price"], ["battery", "10"]])
    with pytest.raises(RegistryFileError, match="No header row found"):
        read_registry_file(path)


def test_gb18030_csv_is_read(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"序列号,GTIN,状态\nA1,{GTIN},已登记\n".encode("gb18030"))
    assert [r.record.serial for r in read_registry_file(path).rows] == ["A1"]


def test_import_is_idempotent_and_updates_changed_rows(tmp_path, engine):
    records = sample_records(seed=5, size=25)
    path = write_registry(tmp_path / "r.xlsx", records)
    first = import_registry_file(path, engine)
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (25, 0, 0, [])
    again = import_registry_file(path, engine)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 25)

    changed = [replace(records[0], status=RegistrationStatus.REVOKED)]
    write_registry(tmp_path / "r2.csv", changed + records[1:])
    third = import_registry_file(tmp_path / "r2.csv", engine)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 24)
    key = f"01:{records[0].gtin}/21:{records[0].serial}"
    answer = LocalRegistry(engine).lookup([key])[key]
    assert answer.record is not None
    assert answer.record.status == RegistrationStatus.REVOKED


def test_rows_without_record_id_upsert_by_their_codes(tmp_path, engine):
    key = f"01:{GTIN}/21:U1"
    write_registry_for_keys(tmp_path / "a.csv", [(key, RegistrationStatus.PENDING_REVIEW)])
    path = _csv(tmp_path / "b.csv", [["GTIN", "Serial", "Status"], [GTIN, "U1", "registered"]])
    assert import_registry_file(path, engine).inserted == 1
    assert import_registry_file(path, engine).unchanged == 1
    _csv(path, [["GTIN", "Serial", "Status"], [GTIN, "U1", "suspended"]])
    assert import_registry_file(path, engine).updated == 1
    registry = LocalRegistry(engine)
    assert registry.count() == 1
    assert registry.lookup([key])[key].record.status == RegistrationStatus.SUSPENDED  # type: ignore[union-attr]


def test_records_for_keys_builds_a_registry_for_decoded_keys(tmp_path):
    keys = [
        (f"01:{GTIN}/21:K1", RegistrationStatus.REGISTERED),
        (f"00:{SSCC}", RegistrationStatus.EXPORTED),
        ("8004:0614141ASSET7", RegistrationStatus.REVOKED),
        ("ABCPE01TRC0001G370000001", RegistrationStatus.NEEDS_CORRECTION),
    ]
    registry = InMemoryRegistry.from_file(write_registry_for_keys(tmp_path / "k.xlsx", keys))
    answers = registry.lookup([k for k, _ in keys])
    assert {k: a.record.status for k, a in answers.items()} == dict(keys)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not a unit key"):
        records_for_keys([(f"01:{GTIN}", RegistrationStatus.REGISTERED)])


def test_missing_tables_leave_keys_unverified(tmp_path):
    registry = LocalRegistry(create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    key = f"01:{GTIN}/21:Z"
    answer = registry.lookup([key])[key]
    assert answer.status == LookupStatus.UNVERIFIED
    assert answer.reason == "registry_unavailable"


@pytest.mark.integration
def test_import_and_lookup_on_postgresql(tmp_path):
    from sqlalchemy import text

    from gateway.platform_client.local import REGISTRY_TABLES
    from gateway.storage.base import Base

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = "platform_registry_test"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    engine = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        connect_args={"options": f"-csearch_path={schema}"},
    )
    try:
        Base.metadata.create_all(engine, tables=list(REGISTRY_TABLES))
        records = sample_records(seed=9, size=20)
        path = write_registry(tmp_path / "r.csv", records)
        assert import_registry_file(path, engine).inserted == 20
        assert import_registry_file(path, engine).unchanged == 20
        keys = [f"01:{r.gtin}/21:{r.serial}" for r in records]
        answers = LocalRegistry(engine).lookup(keys)
        assert {a.record.record_id for a in answers.values() if a.record} == {
            r.record_id for r in records
        }
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def test_write_samples_gives_clean_exports_and_one_with_known_rejects(tmp_path):
    from samples.registry import write_samples

    results = {p.name: read_registry_file(p) for p in write_samples(tmp_path)}
    for name in ("registry.csv", "registry-zh.xlsx"):
        assert (len(results[name].rows), results[name].rejected) == (60, ())
    rejects = results["registry-en-rejects.csv"]
    assert len(rejects.rows) == 5
    assert [n for n, _ in rejects.rejected] == [7, 8, 9, 10]


_CELL = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([GTIN, "registered", "已登记", "DE", "ABCPE01TRC0001G370000001", "1e20"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=6, max_size=6), max_size=5))
def test_any_cells_become_records_or_rejects_never_exceptions(rows):
    header = ["Battery code", "GTIN", "Serial", "Status", "Destination", "额定能量(Wh)"]
    result = read_rows(iter(enumerate([header, *rows], start=1)))
    assert len(result.rows) + len(result.rejected) == sum(
        1 for r in rows if any(c is not None and str(c).strip() for c in r)
    )
    for parsed in result.rows:
        assert parsed.keys


def test_a_read_export_is_kept_by_content_and_loads_the_same(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(cache))
    records = sample_records(seed=5, size=30)
    path = write_registry(tmp_path / "r.xlsx", records, language="bilingual")
    first = read_registry_file(path)
    entries = list((cache / "registry").glob("*.pickle"))
    assert len(entries) == 1
    assert (cache / "registry").stat().st_mode & 0o077 == 0
    again = read_registry_file(path)
    assert again == first
    # the same content under another name is the same entry; changed content another
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(path.read_bytes())
    assert read_registry_file(copy) == first
    write_registry(path, records[:10], language="bilingual")
    assert len(read_registry_file(path).rows) == 10
    assert len(list((cache / "registry").glob("*.pickle"))) == 2


def test_a_cache_entry_others_can_write_is_not_loaded(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(cache))
    path = write_registry(tmp_path / "r.csv", sample_records(seed=6, size=5), language="en")
    truth = read_registry_file(path)
    (entry,) = (cache / "registry").glob("*.pickle")
    # an entry someone else could have written: another export's answer under this name
    other = write_registry(tmp_path / "o.csv", sample_records(seed=7, size=3), language="en")
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(tmp_path / "other-cache"))
    read_registry_file(other)
    (foreign,) = (tmp_path / "other-cache" / "registry").glob("*.pickle")
    entry.write_bytes(foreign.read_bytes())
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(cache))
    entry.chmod(0o662)
    assert read_registry_file(path) == truth  # group-writable: ignored, the file is read
    entry.write_bytes(foreign.read_bytes())
    entry.chmod(0o600)
    (cache / "registry").chmod(0o777)
    assert read_registry_file(path) == truth  # a folder others can write to: ignored too
    (cache / "registry").chmod(0o700)
    assert read_registry_file(path) != truth  # (the entry itself would have been taken)


def test_no_cache_when_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = write_registry(tmp_path / "r.csv", sample_records(seed=8, size=5), language="en")
    read_registry_file(path)
    assert not (tmp_path / "xdg").exists()
