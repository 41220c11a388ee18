"""Errors the gateway raises on purpose.

Problems *in* a shipment (a bad check digit, an unregistered battery) are data: `Problem`s and
`Finding`s. These exceptions are for what stops the gateway from doing its work: input it cannot
use, and services outside it that do not answer.
"""

from __future__ import annotations

import re
from typing import Any


class GatewayError(Exception):
    """Base for errors we raise on purpose."""

    status = 500
    code = "internal_error"


class InputError(GatewayError):
    """The input cannot be used; the client can fix it.

    `limit` names the input limit that was hit (a field of `gateway.parsers.Limits`, e.g.
    "zip_max_ratio"), when a limit is the reason.
    """

    status = 400
    code = "invalid_input"
    limit: str | None = None

    def __init__(self, *args: object, limit: str | None = None) -> None:
        super().__init__(*args)
        if limit is not None:
            self.limit = limit


class UnsupportedDocument(InputError):
    """The document's type (sniffed from its bytes) is not one the gateway reads."""

    status = 415
    code = "unsupported_document"


class DocumentTooLarge(InputError):
    """The document or request exceeds a size, page, pixel or count limit."""

    status = 413
    code = "document_too_large"


class CorruptDocument(InputError):
    """The document claims a type but cannot be read as one."""

    status = 422
    code = "corrupt_document"


class ResourceLimitExceeded(CorruptDocument):
    """Reading the document exceeded a memory, CPU, time or output limit."""

    code = "parse_resource_limit"


class ServiceError(GatewayError):
    """An error with an explicit status, code, details and response headers."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details
        self.headers = headers or {}


class RateLimited(ServiceError):
    """Too many requests for this key (or too many open shipments for this tenant)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message,
            status=429,
            code="rate_limited",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(max(1, retry_after))},
        )


class NotFound(GatewayError):
    """No such object for this tenant (unknown and foreign ids look the same)."""

    status = 404
    code = "not_found"


class PlatformError(GatewayError):
    """The registration platform answered badly or not at all."""

    status = 502
    code = "platform_error"


class PlatformUnavailable(PlatformError):
    """Transient: timeout, 5xx, 429 or an open circuit. Codes become `unverified`."""

    status = 503
    code = "platform_unavailable"


class PlatformRejected(PlatformError):
    """A 4xx from the platform: our bug or bad credentials."""

    code = "platform_rejected"


_REPR = re.compile(r"<[^<>]*\bat 0x[0-9a-fA-F]+>")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.+-]+){2,}/?")


def library_message(exc: BaseException) -> str:
    """What a parsing library said, fit for a client: its first line, without object
    reprs, file paths or tracebacks (they say nothing to the sender and leak our layout)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if text.startswith("Traceback"):
        text = ""
    text = _PATH.sub("<path>", _REPR.sub("the document", text))
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
