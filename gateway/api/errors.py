"""The one error handler: every error leaves as `{"error": {"code", "message", "details"}}`.

`GatewayError` subclasses carry their own `.status` and `.code`; Werkzeug's HTTP errors keep
their status; anything else is a bug and answers 500 without internals. Bad input never
reaches the last branch: intake and schemas turn it into an InputError first.
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from gateway.errors import GatewayError, InputError, RateLimited, ServiceError

log = structlog.get_logger(__name__)


class ApiError(ServiceError):
    """An error raised by the HTTP layer with an explicit status, code and details."""


class Unauthorized(ApiError):
    """No usable credentials."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            status=401,
            code="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="gateway"'},
        )


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    """The JSON error body with its status."""
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _handle(exc: Exception) -> Response:
    if isinstance(exc, ValidationError):
        return error_response(
            422, "invalid_input", "The request's fields are not valid.", exc.messages_dict
        )
    if isinstance(exc, GatewayError):
        details = getattr(exc, "details", None)
        headers = getattr(exc, "headers", None)
        if exc.status >= 500:
            log.warning("request_failed", code=exc.code, path=request.path)
        return error_response(exc.status, exc.code, str(exc), details, headers)
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        return error_response(
            413,
            "document_too_large",
            f"The request is larger than the limit of {limit} bytes; "
            "send fewer or smaller documents.",
            {"limit_bytes": limit},
        )
    if isinstance(exc, HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or code)
    log.exception("request_crashed", path=request.path)
    return error_response(500, "internal_error", "The gateway failed to handle the request.")


def init_app(app: Flask) -> None:
    """Register the one handler for every exception."""
    app.register_error_handler(Exception, _handle)


__all__ = ["ApiError", "InputError", "RateLimited", "Unauthorized", "error_response", "init_app"]
