"""Logging: structlog as one JSON object a line (`GATEWAY_LOG_JSON`), else its console form.

Called by the composition roots (the web app, `gateway worker` and its maintenance process)
before they log; modules call `structlog.get_logger(__name__)`, and the modules on the path of
`gateway check` (the pipeline, the rules engine, the local registry) call `get_logger` here,
which imports structlog at the first message: structlog and the console libraries it loads
cost about 0.2 s of a command's start-up, and a check that logs nothing need not pay them.
"""

from __future__ import annotations

from typing import Any

from gateway.config import Settings


class _Logger:
    """structlog's logger called `name`, looked up at each message (as structlog's own lazy
    proxy does), so the configuration in force then applies."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        import structlog

        return getattr(structlog.get_logger(self._name), method)


def get_logger(name: str) -> Any:
    """A logger like `structlog.get_logger(name)` that imports structlog at its first use."""
    return _Logger(name)


def configure_logging(settings: Settings) -> None:
    """JSON lines (level, UTC timestamp, event, fields) when `settings.log_json`; otherwise
    structlog's own console rendering. Both write to standard output."""
    import structlog

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
