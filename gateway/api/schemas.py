"""Marshmallow schemas at the edges: what a request may carry, validated before use."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from gateway.domain import TRANSPORT_MODES
from gateway.text import clean_text

STATUSES = ("received", "extracting", "verifying", "done", "rejected")
VERDICTS = ("clear", "hold", "block")


class CountryField(fields.String):
    """A country as people write it: `DE`, `deu`, `Germany`, `德国`; loaded as the alpha-2 code.

    One table (`gateway.countries`) for the web form, the API and the documents. A value it
    does not know is refused with the forms it accepts, never cut to two letters or guessed.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        from gateway.countries import normalize_country

        text = super()._deserialize(value, attr, data, **kwargs)
        text = clean_text(text)
        code = normalize_country(text) if 0 < len(text) <= 200 else None
        if code is None:
            msg = (
                f"Unknown country {text[:60]!r}: give an ISO 3166-1 code (DE, DEU) or the "
                "country's name in English or Chinese (Germany, 德国)."
            )
            raise ValidationError(msg)
        return code


class ShipmentMetaSchema(Schema):
    """Metadata sent with an upload (form fields, or a JSON `metadata` field)."""

    reference = fields.String(load_default="", validate=validate.Length(max=200))
    destination = CountryField(load_default=None, allow_none=True)
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
    destination = CountryField()
    q = fields.String(validate=validate.Length(min=1, max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class CodesCheckSchema(Schema):
    """Body of `POST /v1/codes/check`."""

    codes = fields.List(
        fields.String(validate=validate.Length(min=1, max=1000)),
        required=True,
        validate=validate.Length(min=1),
    )
    destination = CountryField(load_default=None, allow_none=True)
