"""Marshmallow schemas at the edges: what a request may carry, validated before use."""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

TRANSPORT_MODES = ("sea", "air", "road", "rail", "multimodal", "post")
STATUSES = ("received", "extracting", "verifying", "done", "rejected")
VERDICTS = ("clear", "hold", "block")


def clean_text(text: str) -> str:
    """Drop control and format characters (bidi overrides, zero-width) and trim."""
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip()


class ShipmentMetaSchema(Schema):
    """Metadata sent with an upload (form fields, or a JSON `metadata` field)."""

    reference = fields.String(load_default="", validate=validate.Length(max=200))
    destination = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Expected an ISO 3166-1 alpha-2 code."),
    )
    transport_mode = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(TRANSPORT_MODES)
    )
    notify = fields.List(
        fields.Email(validate=validate.Length(max=254)),
        load_default=list,
        validate=validate.Length(max=20),
    )

    @pre_load
    def _normalize(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {k: v for k, v in data.items() if v not in ("", None) or k == "reference"}
        notify = out.get("notify")
        if isinstance(notify, str):  # "a@x.com, b@y.com" from a form field
            out["notify"] = [p for p in notify.replace(";", ",").replace(" ", ",").split(",") if p]
        for key in ("destination", "transport_mode"):
            if isinstance(out.get(key), str):
                out[key] = out[key].strip()
        return out

    @post_load
    def _finish(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["reference"] = clean_text(data.get("reference") or "")
        if data.get("destination"):
            data["destination"] = data["destination"].upper()
        for address in data["notify"]:
            if any(ch in address for ch in '\r\n,;<>"') or not address.isascii():
                raise ValidationError({"notify": [f"Address {address!r} is not allowed."]})
        data["notify"] = sorted({a.lower() for a in data["notify"]})
        return data


class ListQuerySchema(Schema):
    """Query of `GET /v1/shipments`."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    verdict = fields.String(validate=validate.OneOf(VERDICTS))
    reference = fields.String(validate=validate.Length(max=200))
    created_after = fields.AwareDateTime(default_timezone=None)
    created_before = fields.AwareDateTime(default_timezone=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class CodesCheckSchema(Schema):
    """Body of `POST /v1/codes/check`."""

    codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=1000)),
        required=True,
        validate=validate.Length(min=1),
    )
    destination = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Expected an ISO 3166-1 alpha-2 code."),
    )
