"""Reading registry exports (CSV or XLSX, Chinese, English or bilingual headers) into records.

An exporter keeps its registrations in its own systems and exports them as a spreadsheet.
Each row becomes one `RegistrationRecord`; a row that cannot become one is rejected with its
row number and the reason, and never half-imported. The file is read by the document reader
(`gateway.parsers.excel`), with its ZIP checks and a registry export's own row and size caps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import json
import os
import pickle
import re
import stat
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gateway import countries
from gateway.config import Settings
from gateway.countries import normalize_country
from gateway.domain import RegistrationRecord, RegistrationStatus
from gateway.errors import InputError
from gateway.parsers.excel import read_csv, read_xlsx
from gateway.parsers.limits import Limits
from gateway.parsers.table import Grid
from gateway.platform_client import contract
from gateway.platform_client.keys import decode_key, record_keys, valid_gtin14

MAX_ROWS = 200_000  # an export larger than this is split by the exporter
MAX_COLUMNS = 100
MAX_FILE_BYTES = 100 * 1024 * 1024
_HEADER_SCAN_ROWS = 30  # title rows above the header row are common in exports

# field -> header aliases (compared after normalization: NFKC, lower case, no spaces or units)
ALIASES: Mapping[str, tuple[str, ...]] = {
    "record_id": (
        "记录编号",
        "登记编号",
        "备案编号",
        "登记号",
        "recordid",
        "registrationid",
        "registrationno",
        "registrationnumber",
        "record",
    ),
    "code": (
        "电池编码",
        "电池条码",
        "电池码",
        "编码",
        "条码",
        "追溯码",
        "溯源码",
        "唯一编码",
        "batterycode",
        "code",
        "unitcode",
        "barcode",
        "batteryid",
    ),
    "gb_code": (
        "国标编码",
        "gb编码",
        "gbt34014编码",
        "gbt45565编码",
        "gbcode",
        "gbtcode",
        "gbt34014",
        "gbt45565",
        "nationalcode",
    ),
    "gs1": ("gs1编码", "gs1", "gs1code", "elementstring", "gs1elementstring"),
    "digital_link": ("数字链接", "digitallink", "gs1digitallink", "dl"),
    "gtin": ("gtin", "商品条码", "全球贸易项目代码", "gtin14"),
    "serial": ("序列号", "sn", "serial", "serialno", "serialnumber", "序号sn"),
    "sscc": ("sscc", "系列货运包装箱代码", "托盘码"),
    "giai": ("giai", "资产编码"),
    "parent_code": ("上级编码", "父编码", "所属电池包编码", "parentcode", "parent"),
    "lot": (
        "批次号",
        "批号",
        "批次",
        "生产批次",
        "lot",
        "batch",
        "lotno",
        "batchno",
        "lotnumber",
        "batchnumber",
    ),
    "status": ("状态", "登记状态", "备案状态", "注册状态", "status", "registrationstatus"),
    "reason_code": ("原因", "原因代码", "状态原因", "reason", "reasoncode", "statusreason"),
    "missing_fields": ("缺失字段", "待补充字段", "missingfields"),
    "grace_until": ("宽限期", "宽限期至", "宽限截止", "graceuntil", "graceperiod", "gracedate"),
    "review_mode": ("审核方式", "reviewmode"),
    "destination_country": (
        "目的国",
        "目的国(地区)",
        "运抵国",
        "运抵国(地区)",
        "最终目的国",
        "出口目的国",
        "destination",
        "destinationcountry",
        "countryofdestination",
        "finaldestination",
        "countryofarrival",
    ),
    "category": (
        "类别",
        "产品类别",
        "电池类别",
        "电池类型",
        "category",
        "productcategory",
        "batterycategory",
    ),
    "level": ("层级", "产品层级", "产品级别", "level", "productlevel"),
    "design_id": ("设计编号", "设计id", "设计代码", "designid", "designno", "designcode"),
    "model": ("型号", "规格型号", "产品型号", "model", "modelno", "type"),
    "chemistry": ("化学体系", "电池化学", "化学类型", "正极材料", "chemistry", "cellchemistry"),
    "rated_capacity_ah": ("额定容量", "ratedcapacity", "capacity"),
    "rated_energy_kwh": ("额定能量", "能量", "ratedenergy", "energy", "whrating", "瓦时"),
    "nominal_voltage_v": ("额定电压", "标称电压", "nominalvoltage", "ratedvoltage", "voltage"),
    "mass_kg": ("质量", "重量", "电池质量", "电池重量", "净重", "mass", "weight", "batterymass"),
    "specific_energy_wh_per_kg": ("比能量", "能量密度", "specificenergy", "energydensity"),
    "hs_code_cn": ("hs编码", "商品编码", "海关编码", "hscode", "hs"),
    "un_number": ("un编号", "联合国编号", "unnumber", "unno", "un"),
    "un38_3_summary_ref": ("un38.3报告编号", "un38.3", "un383", "un38.3summary"),
    "manufacturer_name": (
        "制造商",
        "生产企业",
        "生产商",
        "生产厂家",
        "manufacturer",
        "manufacturername",
        "producer",
    ),
    "manufacturer_uscc": ("制造商统一社会信用代码", "生产企业统一社会信用代码", "manufactureruscc"),
    "manufacturing_date": (
        "生产日期",
        "制造日期",
        "manufacturingdate",
        "productiondate",
        "dateofmanufacture",
    ),
    "exporter_uscc": (
        "出口商统一社会信用代码",
        "统一社会信用代码",
        "发货人统一社会信用代码",
        "exporteruscc",
        "uscc",
        "shipperuscc",
    ),
    "declared_in": ("报关单号", "已用报关单号", "declarationno", "declarationnumber", "declaredin"),
    "eu_category": ("欧盟类别", "eucategory"),
    "passport_url": ("电池护照", "护照链接", "passporturl", "batterypassport", "passport"),
    "unique_identifier": ("欧盟唯一标识", "euuniqueidentifier"),
    "doc_url": ("符合性声明", "docurl", "declarationofconformity", "doc"),
    "ce_marked": ("ce标志", "ce", "cemarked", "cemarking"),
    "carbon_footprint_kgco2e_per_kwh": ("碳足迹", "carbonfootprint"),
}
_ALIAS_TO_FIELD: dict[str, str] = {a: f for f, aliases in ALIASES.items() for a in aliases}
# a machine export may use the record's own field names ("rated_energy_kwh") as headers
for _name in (f.name for f in fields(RegistrationRecord)):
    _ALIAS_TO_FIELD.setdefault(_name.replace("_", ""), _name)
_ALIAS_TO_FIELD = {a: f for a, f in _ALIAS_TO_FIELD.items() if f in ALIASES}
_CODE_FIELDS = frozenset(
    {"code", "gb_code", "gs1", "digital_link", "gtin", "serial", "sscc", "giai"}
)

STATUS_WORDS: Mapping[str, RegistrationStatus] = {
    "已登记": RegistrationStatus.REGISTERED,
    "已注册": RegistrationStatus.REGISTERED,
    "已备案": RegistrationStatus.REGISTERED,
    "登记": RegistrationStatus.REGISTERED,
    "有效": RegistrationStatus.REGISTERED,
    "active": RegistrationStatus.REGISTERED,
    "待审核": RegistrationStatus.PENDING_REVIEW,
    "审核中": RegistrationStatus.PENDING_REVIEW,
    "pending": RegistrationStatus.PENDING_REVIEW,
    "需更正": RegistrationStatus.NEEDS_CORRECTION,
    "待补正": RegistrationStatus.NEEDS_CORRECTION,
    "待修改": RegistrationStatus.NEEDS_CORRECTION,
    "需补正": RegistrationStatus.NEEDS_CORRECTION,
    "已驳回": RegistrationStatus.REJECTED,
    "驳回": RegistrationStatus.REJECTED,
    "拒绝": RegistrationStatus.REJECTED,
    "已撤销": RegistrationStatus.REVOKED,
    "撤销": RegistrationStatus.REVOKED,
    "暂停": RegistrationStatus.SUSPENDED,
    "已暂停": RegistrationStatus.SUSPENDED,
    "已过期": RegistrationStatus.EXPIRED,
    "过期": RegistrationStatus.EXPIRED,
    "已出口": RegistrationStatus.EXPORTED,
    "already_exported": RegistrationStatus.EXPORTED,
}
CATEGORY_WORDS: Mapping[str, str] = {
    "动力电池": "nev_traction",
    "新能源汽车动力电池": "nev_traction",
    "动力蓄电池": "nev_traction",
    "traction": "nev_traction",
    "ev": "nev_traction",
    "nev": "nev_traction",
    "工商业储能": "ci_ess",
    "c&iess": "ci_ess",
    "ciess": "ci_ess",
    "c&i": "ci_ess",
    "户用储能": "residential_ess",
    "家庭储能": "residential_ess",
    "residentialess": "residential_ess",
    "轻型交通": "lmt",
    "两轮车": "lmt",
    "电动自行车": "lmt",
    "便携式": "portable",
    "消费类": "portable",
    "移动电源": "portable",
    "其他": "other",
}
LEVEL_WORDS: Mapping[str, str] = {
    "电芯": "cell",
    "单体": "cell",
    "单体电池": "cell",
    "模组": "module",
    "模块": "module",
    "电池包": "pack",
    "包": "pack",
    "电池簇": "cluster",
    "簇": "cluster",
    "电池系统": "system",
    "系统": "system",
    "储能系统": "system",
}
CHEMISTRY_WORDS: Mapping[str, str] = {
    "磷酸铁锂": "LFP",
    "lifepo4": "LFP",
    "三元": "NCM",
    "三元锂": "NCM",
    "镍钴锰": "NCM",
    "nmc": "NCM",
    "镍钴铝": "NCA",
    "锰酸锂": "LMO",
    "钴酸锂": "LCO",
    "钛酸锂": "LTO",
    "钠离子": "NA_ION",
    "sodiumion": "NA_ION",
    "na-ion": "NA_ION",
    "naion": "NA_ION",
}
_YES = frozenset({"是", "有", "yes", "y", "true", "1", "√"})
_NO = frozenset({"否", "无", "no", "n", "false", "0", "×"})


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One accepted row: its number in the file and the record it describes."""

    row: int  # 1-based row (XLSX) or record number counting the header (CSV)
    record: RegistrationRecord
    explicit_id: bool  # the file named the record id (else it is derived from the keys)
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What reading a registry file gave: accepted rows, rejected rows with reasons."""

    rows: tuple[ParsedRow, ...]
    rejected: tuple[tuple[int, str], ...]
    columns: Mapping[str, str] = field(default_factory=dict)  # header as written -> field


class RegistryFileError(ValueError):
    """The file as a whole cannot be read as a registry export."""


def read_registry_file(path: Path | str) -> ReadResult:
    """Read a CSV or XLSX registry export. Raises `RegistryFileError` if unreadable as a whole."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        msg = f"{path.name!r} is {len(data)} bytes; expected at most {MAX_FILE_BYTES}."
        raise RegistryFileError(msg)
    key = _cache_key(data)
    cached = _cache_load(key)
    if cached is not None:
        return cached
    rows = _xlsx_rows(data, path.name) if data[:4] == b"PK\x03\x04" else _csv_rows(data)
    result = read_rows(rows)
    _cache_store(key, result)
    return result


# -- the parsed-registry cache ------------------------------------------------------------------
#
# A broker checks shipment after shipment against the same registry export: reading 20,000
# rows costs about a second, loading what that read gave about a tenth of it. The cache holds
# one file per export content, named by the SHA-256 of the file's bytes together with the
# source of the code that reads it (this module, the document reader, the contract, the key
# rules, the country table), so a changed file or a changed reader never meets an old entry.
# Entries are pickles: the folder must belong to this user and be writable by nobody else, as
# for Python's own bytecode cache; a folder or file that is not is ignored. Any failure to
# read or write the cache falls back to reading the file. GATEWAY_CACHE_DIR names the folder
# (empty: no cache); by default it is $XDG_CACHE_HOME/battery-gateway/registry (~/.cache/...).

CACHE_ENTRIES = 8  # exports kept; the oldest go first
_CACHE_FORMAT = b"registry-cache-1"


def cache_dir() -> Path | None:
    """The folder of the parsed-registry cache, None when it is switched off."""
    configured = Settings.from_env().cache_dir
    if configured is not None:
        return Path(configured) / "registry" if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "battery-gateway" / "registry"


@functools.cache
def _reader_digest() -> bytes:
    from gateway.parsers import excel, limits, table
    from gateway.platform_client import keys

    digest = hashlib.sha256(_CACHE_FORMAT)
    digest.update(sys.version.encode())
    for module in (sys.modules[__name__], contract, keys, countries, excel, limits, table):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


def _cache_key(data: bytes) -> str:
    return hashlib.sha256(_reader_digest() + hashlib.sha256(data).digest()).hexdigest()


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _cache_load(key: str) -> ReadResult | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        if not _private(folder.stat()):
            return None
        fd = os.open(folder / f"{key}.pickle", os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not _private(os.fstat(handle.fileno())):
                return None
            enabled = gc.isenabled()
            gc.disable()  # 20,000 records, no cycles among them: no collector passes
            try:
                entry = pickle.load(handle)  # noqa: S301 - a private folder, see above
                names, rows, rejected, columns = entry
                if tuple(names) != _record_fields():
                    return None
                return ReadResult(
                    tuple(
                        ParsedRow(row, RegistrationRecord(*values), explicit, keys)
                        for row, explicit, keys, values in rows
                    ),
                    rejected,
                    columns,
                )
            finally:
                if enabled:
                    gc.enable()
    except Exception:  # a truncated or foreign entry: read the file instead
        return None


@functools.cache
def _record_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(RegistrationRecord))


def _cache_entry(result: ReadResult) -> tuple[Any, ...]:
    """What the cache keeps: the records' field values positionally (pickling the frozen
    records themselves costs more to load than reading the file)."""
    names = _record_fields()
    rows = [
        (r.row, r.explicit_id, r.keys, tuple(getattr(r.record, n) for n in names))
        for r in result.rows
    ]
    return names, rows, result.rejected, dict(result.columns)


def _cache_store(key: str, result: ReadResult) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder.stat()):
            return
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(_cache_entry(result), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, folder / f"{key}.pickle")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        return


def read_rows(rows: Iterator[tuple[int, Sequence[object]]]) -> ReadResult:
    """Map (row number, cells) pairs, header row first, to records."""
    buffered: list[tuple[int, Sequence[object]]] = []
    header: dict[int, tuple[str, str, str]] | None = None  # column -> (field, unit, as written)
    for number, cells in rows:
        if header is None:
            buffered.append((number, cells))
            header = _find_header(cells)
            if header is None and len(buffered) >= _HEADER_SCAN_ROWS:
                break
            continue
        buffered.append((number, cells))
    if header is None:
        msg = (
            "No header row found: expected a row naming a code column (电池编码/Battery code, "
            "GTIN and 序列号/Serial, GB code, SSCC) within the first "
            f"{_HEADER_SCAN_ROWS} rows."
        )
        raise RegistryFileError(msg)
    accepted: list[ParsedRow] = []
    rejected: list[tuple[int, str]] = []
    started = False
    for number, cells in buffered:
        if not started:
            started = _find_header(cells) == header
            continue
        if all(_text(c) == "" for c in cells):
            continue
        try:
            accepted.append(_row_to_record(number, cells, header))
        except RowRejected as exc:
            rejected.append((number, str(exc)))
    columns = {written: f for f, _, written in header.values()}
    return ReadResult(tuple(accepted), tuple(rejected), columns)


class RowRejected(ValueError):
    """A row that cannot become a record; the message says why."""


def normalize_header(text: str) -> tuple[list[str], str]:
    """Candidate alias strings and the unit of one header cell.

    "电池编码/Battery code" -> ["电池编码/batterycode", "电池编码", "batterycode"], "".
    """
    t = unicodedata.normalize("NFKC", text).casefold().strip()
    t = t.replace("gb/t", "gbt")
    unit = ""
    m = re.search(r"\(([^)]*)\)\s*$", t) or re.search(r"\[([^\]]*)\]\s*$", t)
    if m and m.group(1).strip() in {"kwh", "wh", "kg", "g", "ah", "v", "mah", "t"}:
        unit = m.group(1).strip()
        t = t[: m.start()]
    t = re.sub(r"[\s_]+", "", t)
    parts = [t, *re.split(r"[/|\n]", t)]
    # bilingual without a separator: "电池编码batterycode"
    cjk = "".join(ch for ch in t if ord(ch) > 0x2E80)
    ascii_part = "".join(ch for ch in t if ord(ch) < 0x2E80)
    parts += [cjk, ascii_part, re.sub(r"\(.*?\)", "", t)]
    return [p.strip(".:：") for p in parts if p], unit


def _find_header(cells: Sequence[object]) -> dict[int, tuple[str, str, str]] | None:
    mapped: dict[int, tuple[str, str, str]] = {}
    seen: set[str] = set()
    for index, cell in enumerate(cells[:MAX_COLUMNS]):
        written = _text(cell)
        if not written:
            continue
        candidates, unit = normalize_header(written)
        for candidate in candidates:
            name = _ALIAS_TO_FIELD.get(candidate)
            if name is not None and name not in seen:
                mapped[index] = (name, unit, written)
                seen.add(name)
                break
    if len(mapped) >= 2 and seen & _CODE_FIELDS:
        return mapped
    return None


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if cell.__class__ is str:
        # a registry repeats the same texts (statuses, countries, lots) row after row
        known = _TEXTS.get(cell)
        if known is None:
            known = unicodedata.normalize("NFKC", cell).strip()
            if len(_TEXTS) < _MEMO_SIZE:
                _TEXTS[cell] = known
        return known
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        return str(int(cell))
    return unicodedata.normalize("NFKC", str(cell)).strip()


_MEMO_SIZE = 50_000
_TEXTS: dict[str, str] = {}


def _row_to_record(
    number: int, cells: Sequence[object], header: Mapping[int, tuple[str, str, str]]
) -> ParsedRow:
    raw: dict[str, tuple[object, str]] = {}
    for index, (name, unit, _written) in header.items():
        if index < len(cells) and _text(cells[index]) != "":
            raw[name] = (cells[index], unit)
    values: dict[str, Any] = {}
    _identifiers(raw, values)
    for name, (cell, unit) in raw.items():
        if name in _CODE_FIELDS or name == "record_id":
            continue
        values[name] = _convert(name, cell, unit)
    status = values.pop("status", None)
    if status is None:
        msg = "status is empty: every registry row must state its registration status"
        raise RowRejected(msg)
    record_id = _text(raw["record_id"][0]) if "record_id" in raw else ""
    record = RegistrationRecord(
        record_id=record_id or "-", status=status, source="registry", **values
    )
    keys = record_keys(record)
    if not keys:
        msg = "no unit code: expected GTIN + serial, SSCC, GIAI or a GB/T code that decodes"
        raise RowRejected(msg)
    if not record_id:
        record = replace(record, record_id=derived_record_id(keys))
    return ParsedRow(number, record, bool(record_id), keys)


def derived_record_id(keys: frozenset[str]) -> str:
    """A stable record id for a row that names none, so a re-import finds the same record."""
    return "R-" + hashlib.sha256(min(keys).encode()).hexdigest()[:20].upper()


def _identifiers(raw: Mapping[str, tuple[object, str]], values: dict[str, Any]) -> None:
    """Fill identifier fields from the code columns, checking that they agree."""
    gtin = serial = None
    if "gtin" in raw:
        gtin = _gtin(raw["gtin"][0])
    if "serial" in raw:
        serial = _text(raw["serial"][0])
    for name in ("code", "gs1", "digital_link", "gb_code", "sscc", "giai"):
        if name not in raw:
            continue
        text = _code_text(raw[name][0], name)
        result = decode_key(_as_gs1(name, text))
        if result.key is None:
            msg = f"{name} {text!r} does not decode: {result.problem}"
            raise RowRejected(msg)
        kind = result.kind or ""
        if name == "gb_code" and not kind.startswith("gb"):
            msg = f"gb_code {text!r} is not a GB/T 34014 or GB/T 45565 code (decoded as {kind})"
            raise RowRejected(msg)
        if kind.startswith("gb"):
            values["gb_code"] = result.key
            values["gb_code_scheme"] = "GB_T_45565" if kind == "gb45565" else "GB_T_34014"
        elif kind == "sgtin":
            g, _, s = result.key.partition("/21:")
            g = g.removeprefix("01:")
            if (gtin and gtin != g) or (serial and serial != s):
                msg = (
                    f"{name} {text!r} names GTIN {g} serial {s!r}, but the GTIN/serial "
                    f"columns say {gtin} / {serial!r}"
                )
                raise RowRejected(msg)
            gtin, serial = g, s
            if name == "digital_link" or text.lower().startswith("http"):
                values["digital_link"] = text
            else:
                values["gs1_element_string"] = f"(01){g}(21){s}"
        elif kind == "sscc":
            values["sscc"] = result.key.removeprefix("00:")
        elif kind == "giai":
            values["giai"] = result.key.removeprefix("8004:")
        else:
            msg = f"{name} {text!r} names a {kind or 'non-unit'} key ({result.key}), not one unit"
            raise RowRejected(msg)
    if serial is not None and gtin is None:
        msg = f"serial {serial!r} without a GTIN"
        raise RowRejected(msg)
    if gtin is not None:
        values["gtin"] = gtin
        values["serial"] = serial


def _as_gs1(name: str, text: str) -> str:
    """Bare SSCC / GIAI column values as element strings, so the code engine can read them."""
    if name == "sscc" and text.isdigit():
        return f"00{text}"
    if name == "giai" and not text.startswith(("8004", "(8004)")):
        return f"(8004){text}"
    return text


def _code_text(cell: object, name: str) -> str:
    if isinstance(cell, float) and not (cell.is_integer() and abs(cell) < 2**53):
        # a spreadsheet turned a long number into a float: the digits are gone
        msg = f"{name} {cell!r} was stored as a number and has lost digits; re-export as text"
        raise RowRejected(msg)
    return _text(cell)


def _gtin(cell: object) -> str:
    text = _code_text(cell, "gtin")
    if not (text.isascii() and text.isdigit() and len(text) in (8, 12, 13, 14)):
        msg = f"GTIN {text!r}: expected 8, 12, 13 or 14 digits"
        raise RowRejected(msg)
    gtin = text.zfill(14)
    if not valid_gtin14(gtin):
        msg = f"GTIN {text!r}: incorrect check digit"
        raise RowRejected(msg)
    return gtin


def _word(text: str) -> str:
    return re.sub(r"[\s_\-()（）]+", "", text.casefold())


def _convert(name: str, cell: object, unit: str) -> Any:
    """One non-code cell to its record value; raises RowRejected with the value on failure.

    Remembered per (field, cell, unit): most columns of an export hold a few values many
    times. The cell's type is part of the key (1, 1.0 and True are equal keys otherwise).
    """
    key = (name, cell.__class__, cell, unit)
    try:
        known = _CONVERTED.get(key, _ABSENT)
    except TypeError:  # an unhashable cell
        return _convert_cell(name, cell, unit)
    if known is _ABSENT:
        known = _convert_cell(name, cell, unit)
        if len(_CONVERTED) < _MEMO_SIZE:
            _CONVERTED[key] = known
    return known


_ABSENT = object()
_CONVERTED: dict[tuple[str, type, object, str], Any] = {}


def _convert_cell(name: str, cell: object, unit: str) -> Any:
    text = _text(cell)
    if name == "status":
        word = _word(text)
        for value in RegistrationStatus:
            if word == _word(value.value):
                return value
        if word in STATUS_WORDS:
            return STATUS_WORDS[word]
        if text in STATUS_WORDS:
            return STATUS_WORDS[text]
        msg = f"status {text!r}: expected one of {[s.value for s in RegistrationStatus]}"
        raise RowRejected(msg)
    if name == "destination_country":
        alpha2 = normalize_country(text)
        if alpha2 is None:
            msg = f"destination {text!r}: expected an ISO 3166 code or a known country name"
            raise RowRejected(msg)
        return alpha2
    if name in ("category", "level", "chemistry", "eu_category", "review_mode"):
        return _enum(name, text)
    if name in contract.FLOAT_FIELDS:
        return _number(name, cell, unit)
    if name in ("manufacturing_date", "grace_until"):
        return _date(name, cell)
    if name == "ce_marked":
        word = text.casefold()
        if word in _YES or word in _NO:
            return word in _YES
        msg = f"ce_marked {text!r}: expected yes/no (是/否)"
        raise RowRejected(msg)
    if name in ("missing_fields", "declared_in"):
        return tuple(p for p in re.split(r"[;,，、|\s]+", text) if p)
    if name in ("gtin", "sscc"):
        return text
    if name in ("exporter_uscc", "manufacturer_uscc", "un_number", "hs_code_cn"):
        text = re.sub(r"[\s.]", "", text).upper()
    try:
        contract.check_field(name, text)
    except contract.ContractError as exc:
        raise RowRejected(str(exc)) from None
    return text


def _enum(name: str, text: str) -> str:
    allowed = contract.ENUMS[name]
    word = _word(text)
    tables: Mapping[str, Mapping[str, str]] = {
        "category": CATEGORY_WORDS,
        "level": LEVEL_WORDS,
        "chemistry": CHEMISTRY_WORDS,
    }
    for value in allowed:
        if word == _word(value):
            return value
    hit = tables.get(name, {}).get(word) or tables.get(name, {}).get(text)
    if hit is not None:
        return hit
    msg = f"{name} {text!r}: expected one of {sorted(allowed)}"
    raise RowRejected(msg)


_NUMBER = re.compile(r"^[+]?\d+(?:\.\d+)?")
_SCALE = {
    ("rated_energy_kwh", "wh"): 0.001,
    ("mass_kg", "g"): 0.001,
    ("mass_kg", "t"): 1000.0,
    ("rated_capacity_ah", "mah"): 0.001,
}


def _number(name: str, cell: object, unit: str) -> float:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value = float(cell)
    else:
        text = _text(cell).replace(",", "")
        m = _NUMBER.match(text)
        if not m:
            msg = f"{name} {text!r}: expected a number"
            raise RowRejected(msg)
        value = float(m.group(0))
        suffix = text[m.end() :].strip().casefold()
        if suffix:
            unit = suffix
    return value * _SCALE.get((name, unit), 1.0)


def _date(name: str, cell: object) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = _text(cell)
    m = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", text) or re.match(
        r"^(\d{4})(\d{2})(\d{2})$", text
    )
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    msg = f"{name} {text!r}: expected a date such as 2026-03-31"
    raise RowRejected(msg)


def _limits() -> Limits:
    """The document reader's limits, with a registry export's own row and size caps."""
    return Limits(max_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS)


def _csv_rows(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    """The records of a CSV export, read as a manifest CSV is (one decoder, one sniffer)."""
    try:
        grids = list(read_csv(data, _limits()))
    except InputError as exc:
        msg = f"CSV cannot be read: {exc}"
        raise RegistryFileError(msg) from None
    for grid in grids:
        yield from _numbered(grid)


def _xlsx_rows(data: bytes, name: str) -> Iterator[tuple[int, Sequence[object]]]:
    """The first worksheet's rows, read by the document reader after its ZIP checks."""
    try:
        first = next(read_xlsx(data, _limits()), None)
    except InputError as exc:
        msg = f"{name!r} cannot be read as XLSX: {exc}"
        raise RegistryFileError(msg) from None
    if first is not None:
        yield from _numbered(first)


def _numbered(grid: Grid) -> Iterator[tuple[int, Sequence[object]]]:
    refs = grid.row_refs or [(r + 1, None) for r in range(len(grid.rows))]
    for (number, _), cells in zip(refs, grid.rows, strict=True):
        yield number or 0, cells[:MAX_COLUMNS]


def content_hash(record: RegistrationRecord) -> str:
    """A digest of everything in a record, to tell an unchanged re-import from an update."""
    wire = contract.record_to_wire(replace(record, source="registry"))
    return hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()
