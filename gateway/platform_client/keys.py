"""Unit keys: how a registration record is reached, and how a key travels on the wire.

A key is the normalized unit identity the code engine produces (`gateway.gs1.decode(raw).key`):
``01:<gtin14>/21:<serial>`` (sgtin), ``00:<sscc18>`` (sscc), ``8004:<giai>`` (giai),
``01:<gtin14>/10:<lot>`` (lot), ``01:<gtin14>`` (gtin), or a GB/T 34014 / GB/T 45565 code
as its normalized upper-case string. Only the first three and GB codes identify one unit.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from gateway.domain import UNIT_KEY_KINDS, RegistrationRecord
from gateway.gs1 import decode
from gateway.gs1.checksums import has_valid_check_digit

# GB/T 34014-2017 as encoded by the Catena-X TractionBatteryCode aspect model: tells a GB
# code already in key form (it has no marker) from other text.
_GB34014 = re.compile(
    r"^[A-Z0-9]{3}[PMC][A-GZ][A-Z0-9]{2}[A-Z0-9]{7}"
    r"[1-9A-GH-NPR-Y][1-9A-C][0-9A-GH-NPR-Y][0-9]{7}$"
)
_GS1_KEY = re.compile(r"^(01|00|8004):([^/]+)(?:/(21|10):(.+))?$")


@dataclass(frozen=True, slots=True)
class KeyResult:
    """The key of one raw code, or why there is none."""

    key: str | None
    kind: str | None = None  # "sgtin", "sscc", "giai", "gtin", "lot", "gb34014", ...
    problem: str | None = None  # why no key: the code engine's first error, for humans


@functools.lru_cache(maxsize=4096)
def valid_gtin14(value: str) -> bool:
    """True when `value` is 14 ASCII digits with a correct check digit (remembered: the keys
    of one shipment or registry repeat a few GTINs)."""
    return len(value) == 14 and has_valid_check_digit(value)


def decode_key(raw: str) -> KeyResult:
    """The unit key of one raw code (element string, Digital Link, GB code, or a key).

    Uses the gateway's code engine; never raises.
    """
    text = raw.strip()
    if not text:
        return KeyResult(None, problem="empty code")
    kind = key_kind(text)
    if kind is not None:  # already a normalized key (e.g. typed by an operator)
        return KeyResult(text, kind)
    decoded = decode(text)
    if decoded.key is None or not decoded.valid:
        errors = [p for p in decoded.problems if p.severity == "error"]
        why = f"{errors[0].code}: {errors[0].message}" if errors else "no unit key"
        return KeyResult(None, decoded.key_kind, why)
    return KeyResult(decoded.key, decoded.key_kind)


def key_kind(key: str) -> str | None:
    """The kind of a normalized key, or None when `key` is not in key form.

    GB codes have no marker, so a bare string of 18 to 40 capitals and digits is taken as one.
    """
    m = _GS1_KEY.match(key)
    if m:
        ai, value, qualifier, _ = m.groups()
        if ai == "01":
            if not valid_gtin14(value):
                return None
            return {"21": "sgtin", "10": "lot", None: "gtin"}[qualifier]
        if qualifier is not None:
            return None
        if ai == "00":
            return "sscc" if len(value) == 18 and value.isdigit() else None
        return "giai"
    if _GB34014.match(key):
        return "gb34014"
    return None


def is_unit_key(key: str) -> bool:
    """True when `key` names one unit (not a model or a lot)."""
    kind = key_kind(key)
    if kind is not None:
        return kind in UNIT_KEY_KINDS
    # a GB/T 45565 code (hyphen-separated) or another national code: unit identity
    return bool(key) and key == key.upper() and ":" not in key


def sgtin_key(gtin: str, serial: str) -> str:
    """The key of a GTIN + serial."""
    return f"01:{gtin}/21:{serial}"


def record_keys(record: RegistrationRecord) -> frozenset[str]:
    """Every key by which `record` can be reached: GTIN+serial, SSCC, GIAI, GB code, DL.

    A record holding both a GTIN+serial and a GB code is reached by both.
    """
    keys: set[str] = set()
    if record.gtin and record.serial:
        keys.add(sgtin_key(record.gtin, record.serial))
    if record.sscc:
        keys.add(f"00:{record.sscc}")
    if record.giai:
        keys.add(f"8004:{record.giai}")
    for raw in (record.gb_code, record.gs1_element_string, record.digital_link):
        if raw:
            result = decode_key(raw)
            if result.key is not None and is_unit_key(result.key):
                keys.add(result.key)
    return frozenset(keys)


def record_reached_by(record: RegistrationRecord, key: str) -> bool:
    """True when `key` is one of `record`'s keys (fast paths first; same answer as
    `key in record_keys(record)`)."""
    m = _GS1_KEY.match(key)
    if m:
        ai, value, qualifier, qvalue = m.groups()
        if ai == "01" and qualifier == "21" and record.gtin == value and record.serial == qvalue:
            return True
        if ai == "00" and qualifier is None and record.sscc == value:
            return True
        if ai == "8004" and qualifier is None and record.giai == value:
            return True
    elif record.gb_code is not None and record.gb_code == key:
        return True
    return key in record_keys(record)


def key_to_code(key: str) -> str:
    """The wire form of a key: a GS1 Digital Link path (no leading slash) or the GB code.

    Values are percent-encoded, so a serial holding "/" stays unambiguous.
    """
    m = _GS1_KEY.match(key)
    if not m:
        return key
    ai, value, qualifier, qvalue = m.groups()
    code = f"{ai}/{quote(value, safe='')}"
    if qualifier is not None:
        code += f"/{qualifier}/{quote(qvalue, safe='')}"
    return code


def code_to_key(code: str) -> str | None:
    """The key of a wire code (Digital Link path, key, or GB code); None when unreadable."""
    text = code.strip().strip("/")
    if key_kind(text) is not None:
        return text
    parts = text.split("/")
    if len(parts) in (2, 4) and parts[0] in ("01", "00", "8004"):
        key = f"{parts[0]}:{unquote(parts[1])}"
        if len(parts) == 4:
            key += f"/{parts[2]}:{unquote(parts[3])}"
        return key if key_kind(key) is not None else None
    result = decode_key(text)
    return result.key
