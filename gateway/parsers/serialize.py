"""Extraction <-> JSON, so the sandbox child can hand its result to the parent faithfully.

The dict form is `gateway.codec`'s, the one conversion of the domain records; this module
names it for the sandbox and fixes the text (compact, non-ASCII kept). The fork server
imports this module before it forks, so the converters are built here, once, and every
forked child has them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gateway.codec import from_data, prepare, to_data
from gateway.domain import Extraction

prepare(Extraction)


def extraction_to_dict(ex: Extraction) -> dict[str, Any]:
    """A JSON-ready dict holding every field of the extraction."""
    return to_data(ex)


def extraction_from_dict(d: Mapping[str, Any]) -> Extraction:
    """The inverse of `extraction_to_dict`.

    Raises:
        gateway.codec.CodecError: `d` is not an extraction (a `ValueError`).
    """
    return from_data(Extraction, d)


def dumps(ex: Extraction) -> str:
    """Compact JSON text of an extraction."""
    return json.dumps(extraction_to_dict(ex), ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Extraction:
    """Parse JSON text made by `dumps`."""
    return extraction_from_dict(json.loads(text))
