"""Sample registry exports (CSV and XLSX) with known content, for the demo and tests.

The default records are the simulator's seed-0 data set, so a demo gives the same answers with
the local registry and with the simulator. Sample manifests take their unit codes from
`sample_records()` so every code they print has a registration (or a deliberate gap).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gateway.countries import BY_ALPHA2, COMMON_DESTINATIONS
from gateway.domain import RegistrationRecord, RegistrationStatus
from gateway.platform_client.keys import decode_key
from gateway.platform_client.simdata import generate

# column -> (English header, Chinese header)
COLUMNS: dict[str, tuple[str, str]] = {
    "record_id": ("Record ID", "记录编号"),
    "code": ("Battery code", "电池编码"),
    "gb_code": ("GB code", "国标编码"),
    "gtin": ("GTIN", "GTIN"),
    "serial": ("Serial", "序列号"),
    "sscc": ("SSCC", "SSCC"),
    "giai": ("GIAI", "GIAI"),
    "lot": ("Lot", "批次号"),
    "status": ("Status", "状态"),
    "reason_code": ("Reason", "原因"),
    "missing_fields": ("Missing fields", "缺失字段"),
    "grace_until": ("Grace until", "宽限期至"),
    "destination_country": ("Destination", "目的国(地区)"),
    "category": ("Category", "类别"),
    "level": ("Level", "层级"),
    "design_id": ("Design ID", "设计编号"),
    "model": ("Model", "型号"),
    "chemistry": ("Chemistry", "化学体系"),
    "rated_energy_kwh": ("Rated energy (kWh)", "额定能量(kWh)"),
    "mass_kg": ("Mass (kg)", "质量(kg)"),
    "manufacturer_name": ("Manufacturer", "制造商"),
    "manufacturing_date": ("Manufacturing date", "生产日期"),
    "exporter_uscc": ("Exporter USCC", "出口商统一社会信用代码"),
    "hs_code_cn": ("HS code", "HS编码"),
    "un_number": ("UN number", "UN编号"),
    "declared_in": ("Declaration no.", "报关单号"),
}
ZH_STATUS = {
    RegistrationStatus.REGISTERED: "已登记",
    RegistrationStatus.PENDING_REVIEW: "待审核",
    RegistrationStatus.NEEDS_CORRECTION: "需更正",
    RegistrationStatus.REJECTED: "已驳回",
    RegistrationStatus.REVOKED: "已撤销",
    RegistrationStatus.SUSPENDED: "已暂停",
    RegistrationStatus.EXPIRED: "已过期",
    RegistrationStatus.EXPORTED: "已出口",
}
ZH_LEVEL = {
    "cell": "电芯",
    "module": "模组",
    "pack": "电池包",
    "cluster": "电池簇",
    "system": "电池系统",
}
ZH_COUNTRY = {a2: BY_ALPHA2[a2].zh[0] for a2 in COMMON_DESTINATIONS}


def sample_records(seed: int = 0, size: int = 60) -> list[RegistrationRecord]:
    """The sample registrations: the simulator's data set for the same seed and size."""
    return list(generate(seed, size).records)


def header(column: str, language: str) -> str:
    """The header of a column: language "en", "zh" or "bilingual" ("电池编码/Battery code")."""
    en, zh = COLUMNS[column]
    return {"en": en, "zh": zh}.get(language, f"{zh}/{en}")


def record_row(record: RegistrationRecord, language: str = "bilingual") -> dict[str, str]:
    """One record as export cells (Chinese words and country names in a "zh" export)."""
    zh = language == "zh"
    code = record.gs1_element_string or ""
    if not code and record.gtin and record.serial:
        code = f"(01){record.gtin}(21){record.serial}"
    cells = {
        "record_id": record.record_id,
        "code": code,
        "gb_code": record.gb_code or "",
        "gtin": "" if zh else record.gtin or "",
        "serial": "" if zh else record.serial or "",
        "sscc": record.sscc or "",
        "giai": record.giai or "",
        "lot": record.lot or "",
        "status": ZH_STATUS[record.status] if zh else record.status.value,
        "reason_code": record.reason_code or "",
        "missing_fields": ";".join(record.missing_fields),
        "grace_until": record.grace_until.isoformat() if record.grace_until else "",
        "destination_country": (
            ZH_COUNTRY.get(record.destination_country or "", record.destination_country or "")
            if zh
            else record.destination_country or ""
        ),
        "category": record.category or "",
        "level": ZH_LEVEL.get(record.level or "", "") if zh else record.level or "",
        "design_id": record.design_id or "",
        "model": record.model or "",
        "chemistry": record.chemistry or "",
        "rated_energy_kwh": _num(record.rated_energy_kwh),
        "mass_kg": _num(record.mass_kg),
        "manufacturer_name": record.manufacturer_name or "",
        "manufacturing_date": (
            record.manufacturing_date.isoformat() if record.manufacturing_date else ""
        ),
        "exporter_uscc": record.exporter_uscc or "",
        "hs_code_cn": record.hs_code_cn or "",
        "un_number": record.un_number or "",
        "declared_in": ";".join(record.declared_in),
    }
    return cells


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def write_registry(
    path: Path | str,
    records: Iterable[RegistrationRecord],
    *,
    language: str = "bilingual",
    extra_rows: Sequence[Mapping[str, str]] = (),
    title: str | None = None,
) -> Path:
    """Write a registry export; CSV or XLSX by the file suffix.

    Args:
        extra_rows: rows by column name, appended as written (e.g. deliberately bad rows).
        title: a title line above the header, as many exports have.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(COLUMNS)
    rows: list[list[str]] = [[header(c, language) for c in columns]]
    rows += [[record_row(r, language)[c] for c in columns] for r in records]
    rows += [[r.get(c, "") for c in columns] for r in extra_rows]
    if title:
        rows.insert(0, [title])
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "registry"
        for row in rows:
            sheet.append(row)  # every cell as text, as a careful export writes codes
        book.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            csv.writer(handle).writerows(rows)
    return path


def records_for_keys(
    keys: Iterable[tuple[str, RegistrationStatus]],
    *,
    destination: str = "DE",
    category: str = "nev_traction",
    level: str = "pack",
    design_id: str = "D-SAMPLE-1",
    model: str = "SAMPLE-1",
    lot: str | None = None,
    exporter_uscc: str = "91310000EXPORTER1X",
) -> list[RegistrationRecord]:
    """Records for decoded unit keys (GTIN+serial, SSCC, GIAI, GB codes) with chosen statuses.

    Raises ValueError when a key is not a unit key.
    """
    records: list[RegistrationRecord] = []
    for index, (key, status) in enumerate(keys):
        kind = decode_key(key).kind
        ids: dict[str, str] = {}
        if kind == "sgtin":
            gtin, _, serial = key.removeprefix("01:").partition("/21:")
            ids = {"gtin": gtin, "serial": serial, "gs1_element_string": f"(01){gtin}(21){serial}"}
        elif kind == "sscc":
            ids = {"sscc": key.removeprefix("00:")}
        elif kind == "giai":
            ids = {"giai": key.removeprefix("8004:")}
        elif kind in ("gb34014", "gb45565"):
            ids = {
                "gb_code": key,
                "gb_code_scheme": "GB_T_45565" if kind == "gb45565" else "GB_T_34014",
            }
        else:
            msg = f"Key {key!r} is not a unit key (decoded as {kind!r})."
            raise ValueError(msg)
        detail: dict[str, object] = {}
        if status == RegistrationStatus.NEEDS_CORRECTION:
            detail = {
                "missing_fields": ("un38_3_summary_ref",),
                "grace_until": dt.date(2026, 9, 30),
            }
        elif status == RegistrationStatus.EXPORTED:
            detail = {"declared_in": (f"2233202600{index:08d}",)}
        elif status != RegistrationStatus.REGISTERED:
            detail = {"reason_code": status.value.upper()}
        records.append(
            RegistrationRecord(
                record_id=f"SAMPLE-{index:05d}",
                status=status,
                source="registry",
                category=category,
                level=level,
                design_id=design_id,
                model=model,
                lot=lot,
                destination_country=destination,
                exporter_uscc=exporter_uscc,
                **ids,  # type: ignore[arg-type]
                **detail,  # type: ignore[arg-type]
            )
        )
    return records


def write_registry_for_keys(
    path: Path | str, keys: Iterable[tuple[str, RegistrationStatus]], **options: str
) -> Path:
    """Write a registry CSV/XLSX for decoded keys with chosen statuses (see `records_for_keys`)."""
    language = options.pop("language", "bilingual")
    return write_registry(path, records_for_keys(keys, **options), language=language)


def write_samples(out_dir: Path) -> list[Path]:
    """Write the sample registry exports: bilingual CSV, Chinese XLSX, English CSV with rejects."""
    records = sample_records()
    bad_rows = [
        {"code": "(01)06901234567890(21)X1", "status": "registered"},  # wrong check digit
        {"code": "(01)06901234567892(21)X2", "status": "approved?"},  # unknown status
        {"lot": "L1", "status": "registered"},  # no code at all
        {
            "code": "(01)06901234567892(21)X3",
            "status": "registered",
            "destination_country": "Atlantis",
        },
    ]
    return [
        write_registry(out_dir / "registry.csv", records),
        write_registry(out_dir / "registry-zh.xlsx", records, language="zh", title="电池登记导出"),
        write_registry(
            out_dir / "registry-en-rejects.csv", records[:5], language="en", extra_rows=bad_rows
        ),
    ]
