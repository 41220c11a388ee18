"""The OpenAPI document as one HTML page, rendered on the server (no script, no CDN).

Every operation with its parameters, request body, responses and examples, and every schema
of `components` with its fields; `$ref`s become links within the page. The page is built from
the same `spec()` that `/v1/openapi.json` serves, so the two never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Field:
    """One row of a schema table: a dotted name, its type and what it says."""

    name: str
    type: str
    required: bool
    description: str
    ref: str | None = None  # the schema a field refers to, linked on the page
    enum: tuple[str, ...] = ()
    limits: str = ""


@dataclass(frozen=True)
class Body:
    """A request or response body of one media type."""

    media_type: str
    ref: str | None
    fields: tuple[Field, ...]
    example: str | None  # pretty JSON, or the text of a non-JSON example


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    bodies: tuple[Body, ...]
    headers: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    public: bool  # no API key needed
    parameters: tuple[Field, ...]
    parameter_places: tuple[str, ...]
    request: tuple[Body, ...]
    responses: tuple[Answer, ...]
    examples: tuple[tuple[str, str], ...] = field(default=())  # (title, text) e.g. curl


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _type(schema: Mapping[str, Any]) -> str:
    name = _ref_name(schema)
    if name:
        return name
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if isinstance(kind, list):
        kind = " | ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _limits(schema: Mapping[str, Any]) -> str:
    words = {
        "minimum": "≥ {}",
        "maximum": "≤ {}",
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "maxItems": "at most {} items",
        "minItems": "at least {} items",
        "default": "default {}",
        "pattern": "pattern {}",
    }
    return ", ".join(text.format(schema[key]) for key, text in words.items() if key in schema)


def schema_fields(schema: Mapping[str, Any], prefix: str = "", depth: int = 0) -> Iterator[Field]:
    """The fields of an object schema, nested objects and arrays of objects flattened."""
    required = set(schema.get("required", ()))
    for name, sub in (schema.get("properties") or {}).items():
        dotted = f"{prefix}{name}"
        yield Field(
            name=dotted,
            type=_type(sub),
            required=name in required,
            description=str(sub.get("description", "")),
            ref=_ref_name(sub) or _ref_name(sub.get("items", {})),
            enum=tuple(str(v) for v in sub.get("enum", sub.get("items", {}).get("enum", ()))),
            limits=_limits(sub),
        )
        if depth < 4:
            if "properties" in sub:
                yield from schema_fields(sub, f"{dotted}.", depth + 1)
            items = sub.get("items", {})
            if isinstance(items, Mapping) and "properties" in items:
                yield from schema_fields(items, f"{dotted}[].", depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and extra:
        yield Field(f"{prefix}*", _type(extra), False, "any key")


def _example_text(media: Mapping[str, Any]) -> str | None:
    if "example" in media:
        value = media["example"]
    elif media.get("examples"):
        value = next(iter(media["examples"].values())).get("value")
    else:
        return None
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def _bodies(content: Mapping[str, Any]) -> tuple[Body, ...]:
    out = []
    for media_type, media in content.items():
        schema = media.get("schema", {})
        out.append(
            Body(
                media_type=media_type,
                ref=_ref_name(schema),
                fields=tuple(schema_fields(schema)),
                example=_example_text(media),
            )
        )
    return tuple(out)


def _parameter(p: Mapping[str, Any]) -> Field:
    schema = p.get("schema", {})
    return Field(
        name=str(p["name"]),
        type=f"{p.get('in', '')}: {_type(schema)}",
        required=bool(p.get("required")),
        description=str(p.get("description", "")),
        enum=tuple(str(v) for v in schema.get("enum", ())),
        limits=_limits(schema),
    )


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the document, in the document's order."""
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = [*item.get("parameters", ()), *op.get("parameters", ())]
            responses = tuple(
                Answer(
                    status=str(status),
                    description=str(answer.get("description", "")),
                    bodies=_bodies(answer.get("content", {})),
                    headers=tuple(
                        Field(name, _type(h.get("schema", {})), False, h.get("description", ""))
                        for name, h in answer.get("headers", {}).items()
                    ),
                )
                for status, answer in sorted(op.get("responses", {}).items())
            )
            found.append(
                Operation(
                    method=method,
                    path=path,
                    anchor=f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    summary=str(op.get("summary", "")),
                    description=str(op.get("description", "")),
                    public=op.get("security") == [],
                    parameters=tuple(_parameter(p) for p in parameters),
                    parameter_places=tuple(sorted({str(p.get("in")) for p in parameters})),
                    request=_bodies(op.get("requestBody", {}).get("content", {})),
                    responses=responses,
                    examples=tuple(
                        (str(x.get("title", "")), str(x.get("text", "")))
                        for x in op.get("x-examples", ())
                    ),
                )
            )
    return found


def schemas(spec: Mapping[str, Any]) -> list[tuple[str, str, tuple[Field, ...]]]:
    """The named schemas: (name, description, fields)."""
    return [
        (name, str(schema.get("description", "")), tuple(schema_fields(schema)))
        for name, schema in spec.get("components", {}).get("schemas", {}).items()
    ]


def code_spans(text: str) -> Markup:
    """Text with its `backquoted` parts as <code>; everything escaped."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backquote: show the text as it is
        return escape(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )
