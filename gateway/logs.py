"""Logging: structlog as one JSON object a line (`GATEWAY_LOG_JSON`), else its console form.

Called by the composition roots (the web app, `gateway worker` and its maintenance process)
before they log; modules only call `structlog.get_logger(__name__)`.
"""

from __future__ import annotations

import structlog

from gateway.config import Settings


def configure_logging(settings: Settings) -> None:
    """JSON lines (level, UTC timestamp, event, fields) when `settings.log_json`; otherwise
    structlog's own console rendering. Both write to standard output."""
    if not settings.log_json:
        if structlog.is_configured():
            structlog.reset_defaults()
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
