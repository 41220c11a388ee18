"""A `Report` to and from plain JSON data, so the stored report can be rendered again later.

The stored form is the service's own (not the public `render_json` output, which may change
with the reports' presentation): `gateway.codec`'s form of the report, one key per field,
behind a `codec` version key. Values in `evidence` and `units` that JSON cannot carry are
stored as text. Reports stored before a field was added still load: it takes its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.codec import from_data, to_data
from gateway.domain import Report

CODEC_VERSION = 1


def report_to_data(report: Report) -> dict[str, Any]:
    """The stored form of `report`."""
    return {"codec": CODEC_VERSION, **to_data(report)}


def report_from_data(data: Mapping[str, Any]) -> Report:
    """Rebuild the `Report` stored by `report_to_data`."""
    return from_data(Report, data)
