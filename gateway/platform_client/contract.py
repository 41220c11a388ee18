"""The assumed v1 platform contract: the JSON form of a registration record, both ways.

The national platform has published no interface. This module is the one place that knows
the assumed wire format (see docs/platform.md), so when a real specification appears only
this module and `http.py` change. Parsing is strict: an answer that is not exactly
well-formed raises `ContractError`, and the caller treats the key as unverified.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from gateway.domain import RegistrationRecord, RegistrationStatus

SPEC_VERSION = "v1"
SPEC_HEADER = "X-Spec-Version"
MAX_BATCH = 500  # codes per batch look-up

# Stable reasons of NOT_FOUND / UNVERIFIED look-ups (Lookup.reason); rules filter on them.
REASON_NOT_FOUND = "code_not_found"
REASON_CONFLICT = "code_conflict"  # the key resolves to more than one record
REASON_UNSUPPORTED = "unsupported_category"
REASON_INVALID_SYNTAX = "invalid_code_syntax"
REASON_NOT_UNIT = "not_a_unit_key"  # a GTIN or GTIN+lot names a model or a lot, not a unit
REASON_TIMEOUT = "timeout"
REASON_CONNECTION = "connection_error"
REASON_SERVER = "server_error"
REASON_RATE_LIMITED = "rate_limited"
REASON_CIRCUIT_OPEN = "circuit_open"
REASON_MALFORMED = "malformed_answer"
REASON_PARTIAL = "partial_answer"
REASON_UNAUTHENTICATED = "unauthenticated"
REASON_FORBIDDEN = "forbidden"
REASON_SPEC_MISMATCH = "spec_version_mismatch"
REASON_UNEXPECTED = "unexpected_status"

# error code of a batch result or error body -> reason of the look-up
ERROR_REASONS: Mapping[str, str] = {
    "CODE_NOT_FOUND": REASON_NOT_FOUND,
    "CODE_CONFLICT": REASON_CONFLICT,
    "UNSUPPORTED_CATEGORY": REASON_UNSUPPORTED,
    "INVALID_CODE_SYNTAX": REASON_INVALID_SYNTAX,
}

CATEGORIES = frozenset({"nev_traction", "ci_ess", "residential_ess", "lmt", "portable", "other"})
LEVELS = frozenset({"cell", "module", "pack", "cluster", "system"})
CHEMISTRIES = frozenset({"LFP", "NCM", "NCA", "LMO", "LCO", "LTO", "NA_ION", "OTHER"})
GB_SCHEMES = frozenset({"GB_T_34014", "GB_T_45565"})
REVIEW_MODES = frozenset({"automatic", "manual"})
EU_CATEGORIES = frozenset({"ev", "industrial", "sbess", "lmt", "sli", "portable"})

# wire group -> record fields in that group, with their kind
_STR, _FLOAT, _DATE, _DATETIME, _BOOL, _LIST = "str", "float", "date", "datetime", "bool", "list"
GROUPS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "identifiers": (
        ("gs1_element_string", _STR),
        ("gtin", _STR),
        ("serial", _STR),
        ("sscc", _STR),
        ("giai", _STR),
        ("digital_link", _STR),
        ("gb_code", _STR),
        ("gb_code_scheme", _STR),
        ("parent_code", _STR),
    ),
    "product": (
        ("category", _STR),
        ("level", _STR),
        ("design_id", _STR),
        ("model", _STR),
        ("chemistry", _STR),
        ("rated_capacity_ah", _FLOAT),
        ("rated_energy_kwh", _FLOAT),
        ("nominal_voltage_v", _FLOAT),
        ("mass_kg", _FLOAT),
        ("specific_energy_wh_per_kg", _FLOAT),
        ("hs_code_cn", _STR),
        ("un_number", _STR),
        ("un38_3_summary_ref", _STR),
    ),
    "manufacturing": (
        ("manufacturer_name", _STR),
        ("manufacturer_uscc", _STR),
        ("manufacturing_date", _DATE),
        ("lot", _STR),
    ),
    "export": (
        ("exporter_uscc", _STR),
        ("destination_country", _STR),
        ("declared_in", _LIST),
    ),
    "eu": (
        ("eu_category", _STR),
        ("passport_url", _STR),
        ("unique_identifier", _STR),
        ("doc_url", _STR),
        ("ce_marked", _BOOL),
        ("carbon_footprint_kgco2e_per_kwh", _FLOAT),
    ),
    "status": (
        ("reason_code", _STR),
        ("missing_fields", _LIST),
        ("grace_until", _DATE),
        ("review_mode", _STR),
        ("updated_at", _DATETIME),
    ),
}

# value checks on single fields: field -> (pattern or allowed set, what is expected)
_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "gtin": re.compile(r"^[0-9]{14}$"),
    "sscc": re.compile(r"^[0-9]{18}$"),
    "destination_country": re.compile(r"^[A-Z]{2}$"),
    "manufacturer_uscc": re.compile(r"^[0-9A-Z]{18}$"),
    "exporter_uscc": re.compile(r"^[0-9A-Z]{18}$"),
    "hs_code_cn": re.compile(r"^[0-9]{6,10}$"),
    "un_number": re.compile(r"^UN[0-9]{4}$"),
}
ENUMS: Mapping[str, frozenset[str]] = {
    "category": CATEGORIES,
    "level": LEVELS,
    "chemistry": CHEMISTRIES,
    "gb_code_scheme": GB_SCHEMES,
    "review_mode": REVIEW_MODES,
    "eu_category": EU_CATEGORIES,
}
_MAX_TEXT = 512  # longest string a record field may hold
FLOAT_FIELDS = frozenset(n for members in GROUPS.values() for n, kind in members if kind == _FLOAT)
_GROUP_KINDS: Mapping[str, Mapping[str, str]] = {g: dict(m) for g, m in GROUPS.items()}
assert {n for m in _GROUP_KINDS.values() for n in m} <= {f.name for f in fields(RegistrationRecord)}


class ContractError(ValueError):
    """An answer that does not follow the assumed v1 contract."""


def record_to_wire(record: RegistrationRecord) -> dict[str, Any]:
    """The JSON object of `record` in the assumed v1 contract (nested groups).

    Empty fields are left out: an absent field means null (or an empty list).
    """
    out: dict[str, Any] = {
        "record_id": record.record_id,
        "spec_version": record.spec_version,
        "source": record.source,
    }
    for group, members in GROUPS.items():
        body: dict[str, Any] = {}
        for name, kind in members:
            value = getattr(record, name)
            if value is not None and value != ():
                body[name] = _to_wire_value(value, kind, name)
        out[group] = body
    out["status"]["value"] = record.status.value
    return out


def _to_wire_value(value: object, kind: str, name: str) -> Any:
    if kind in (_DATE, _DATETIME):
        assert isinstance(value, dt.date)
        return value.isoformat()
    if kind == _LIST:
        assert isinstance(value, tuple)
        if name == "declared_in":
            return [{"declaration_no": v} for v in value]
        return list(value)
    return value


def record_from_wire(data: object, source: str) -> RegistrationRecord:
    """Parse one record object of the v1 contract. Raises `ContractError` on any defect.

    Every field present is checked (type, pattern, value set); fields this version does not
    know are ignored, so the platform may add fields without breaking the gateway.

    Args:
        data: the decoded JSON value.
        source: "platform", "simulator" or "registry"; the answer's own claim is not trusted.
    """
    obj = _mapping(data, "record")
    record_id = obj.get("record_id")
    if not isinstance(record_id, str) or not record_id.strip() or len(record_id) > 128:
        msg = f"record_id must be a non-empty string, got {record_id!r}."
        raise ContractError(msg)
    values: dict[str, Any] = {"record_id": record_id, "source": source}
    spec = obj.get("spec_version", SPEC_VERSION)
    if spec != SPEC_VERSION:
        msg = f"spec_version: expected {SPEC_VERSION!r}, got {spec!r}."
        raise ContractError(msg)
    for group, kinds in _GROUP_KINDS.items():
        body = _mapping(obj.get(group, {}), group)
        for name, value in body.items():
            kind = kinds.get(name)
            if kind is not None and value is not None:
                values[name] = _from_wire_value(value, kind, f"{group}.{name}")
    status = _mapping(obj.get("status"), "status").get("value")
    try:
        values["status"] = RegistrationStatus(status if isinstance(status, str) else "")
    except ValueError:
        allowed = [s.value for s in RegistrationStatus]
        msg = f"status.value: expected one of {allowed}, got {status!r}."
        raise ContractError(msg) from None
    return RegistrationRecord(**values)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"{where}: expected a JSON object, got {type(value).__name__}."
        raise ContractError(msg)
    return value


def check_field(name: str, value: str) -> None:
    """Raise `ContractError` when a text value breaks the field's pattern or value set."""
    _from_wire_value(value, _STR, name)


def _from_wire_value(value: object, kind: str, where: str) -> Any:
    name = where.rpartition(".")[2]
    if kind == _STR:
        if not isinstance(value, str) or len(value) > _MAX_TEXT:
            msg = (
                f"{where}: expected a string of at most {_MAX_TEXT} characters, got {value!r:.80}."
            )
            raise ContractError(msg)
        pattern = _PATTERNS.get(name)
        if pattern is not None and not pattern.match(value):
            msg = f"{where}: expected {pattern.pattern}, got {value!r}."
            raise ContractError(msg)
        allowed = ENUMS.get(name)
        if allowed is not None and value not in allowed:
            msg = f"{where}: expected one of {sorted(allowed)}, got {value!r}."
            raise ContractError(msg)
        return value
    if kind == _FLOAT:
        # bool is an int in Python; a JSON true is never a number here
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{where}: expected a number, got {value!r}."
            raise ContractError(msg)
        number = float(value)
        if not math.isfinite(number) or number < 0:
            msg = f"{where}: expected a finite number >= 0, got {value!r}."
            raise ContractError(msg)
        return number
    if kind == _BOOL:
        if not isinstance(value, bool):
            msg = f"{where}: expected true or false, got {value!r}."
            raise ContractError(msg)
        return value
    if kind == _DATE:
        return _date(value, where)
    if kind == _DATETIME:
        return _datetime(value, where)
    return _list(value, where)


def _date(value: object, where: str) -> dt.date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        msg = f"{where}: expected a date YYYY-MM-DD, got {value!r}."
        raise ContractError(msg) from None


def _datetime(value: object, where: str) -> dt.datetime:
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = f"{where}: expected an ISO 8601 timestamp, got {value!r}."
        raise ContractError(msg) from None
    if stamp.tzinfo is None:
        msg = f"{where}: expected a timestamp with an offset, got {value!r}."
        raise ContractError(msg)
    return stamp


def _list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 1000:
        msg = f"{where}: expected a JSON array, got {value!r:.80}."
        raise ContractError(msg)
    items: list[str] = []
    for item in value:
        text = item.get("declaration_no") if isinstance(item, Mapping) else item
        if not isinstance(text, str) or not text or len(text) > _MAX_TEXT:
            msg = f"{where}: expected strings, got {item!r:.80}."
            raise ContractError(msg)
        items.append(text)
    return tuple(items)


def error_body(code: str, message: str, request_id: str) -> dict[str, str]:
    """The JSON body of an error answer."""
    return {"error": code, "message": message, "request_id": request_id}
