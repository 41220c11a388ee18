"""A minimal GS1 syntax check, used only when `gateway.gs1` is not installed.

It knows the predefined-length AIs and the AIs found on battery labels, and checks the
mod-10 check digit of SSCC, GTIN and GLN fields. `gateway.gs1` is the real engine.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from gateway.barcodes.accept import GS, mod10_ok

# AI -> (fixed data length or None for variable, maximum length, check digit)
_AIS: dict[str, tuple[int | None, int, bool]] = {
    "00": (18, 18, True),
    "01": (14, 14, True),
    "02": (14, 14, True),
    "10": (None, 20, False),
    "11": (6, 6, False),
    "13": (6, 6, False),
    "15": (6, 6, False),
    "16": (6, 6, False),
    "17": (6, 6, False),
    "20": (2, 2, False),
    "21": (None, 20, False),
    "22": (None, 20, False),
    "240": (None, 30, False),
    "241": (None, 30, False),
    "250": (None, 30, False),
    "30": (None, 8, False),
    "37": (None, 8, False),
    "400": (None, 30, False),
    "401": (None, 30, False),
    "402": (17, 17, True),
    "410": (13, 13, True),
    "413": (13, 13, True),
    "414": (13, 13, True),
    "420": (None, 20, False),
    "421": (None, 12, False),
    "422": (3, 3, False),
    "7003": (10, 10, False),
    "7240": (None, 20, False),
    "8003": (None, 30, False),
    "8004": (None, 30, False),
    "8006": (18, 18, False),
    "8020": (None, 25, False),
    "8200": (None, 70, False),
    **{f"9{n}": (None, 90, False) for n in range(1, 10)},
    **{f"31{n}{d}": (6, 6, False) for n in range(7) for d in range(10)},
    **{f"33{n}{d}": (6, 6, False) for n in range(7) for d in range(10)},
}
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")


def _valid_element_string(data: str) -> bool:
    pos = 0
    while pos < len(data):
        for size in (2, 3, 4):
            ai = data[pos : pos + size]
            if ai in _AIS:
                break
        else:
            return False
        fixed, maximum, check = _AIS[ai]
        pos += len(ai)
        if fixed is not None:
            value = data[pos : pos + fixed]
            pos += fixed
            if pos < len(data) and data[pos] == GS:
                pos += 1
        else:
            end = data.find(GS, pos)
            end = len(data) if end < 0 else end
            value = data[pos:end]
            pos = end + 1
        if not value or len(value) > maximum or not _CSET82.match(value):
            return False
        if (fixed is not None and len(value) != fixed) or (check and not mod10_ok(value)):
            return False
        if fixed is not None and not value.isdigit() and ai[:2] not in ("80", "72"):
            return False
    return True


def _valid_digital_link(uri: str) -> bool:
    parts = [unquote(part) for part in urlsplit(uri).path.split("/") if part]
    for index in range(len(parts) - 1):
        if parts[index] in ("00", "01", "414") and re.fullmatch(r"\d+", parts[index + 1]):
            data = "".join(
                f"{ai}{value}{GS}"
                for ai, value in zip(parts[index::2], parts[index + 1 :: 2], strict=False)
            )
            return _valid_element_string(data.rstrip(GS))
    return False


def valid(raw: str) -> bool:
    """True when `raw` ("]C1..." element string or Digital Link URI) is well formed."""
    if raw.startswith(("http://", "https://")):
        return _valid_digital_link(raw)
    if raw.startswith("]"):
        raw = raw[3:]
    return bool(raw) and _valid_element_string(raw)
