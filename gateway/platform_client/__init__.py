"""Registration look-up: one small seam with three things behind it.

`PlatformClient.lookup(keys)` answers every unit key with a `Lookup`: FOUND with the
`RegistrationRecord`, NOT_FOUND, or UNVERIFIED with the reason. Behind it sit the HTTP adapter
for the national platform (`http.py`, assumed v1 contract), the local registry an exporter fills
from its own records (`local.py`) and a simulator of the platform (`simulator.py`). When the
platform publishes a real specification, only the HTTP adapter and `contract.py` change.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Protocol

from gateway.domain import Lookup, LookupStatus, RegistrationRecord, RegistrationStatus

if TYPE_CHECKING:
    from gateway.config import Settings

__all__ = [
    "Lookup",
    "LookupStatus",
    "PlatformClient",
    "RegistrationRecord",
    "RegistrationStatus",
    "build_platform_client",
]

DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8700"


class PlatformClient(Protocol):
    """Answers registration look-ups by unit key."""

    source: str  # "platform" | "simulator" | "registry"

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """An entry for every key asked; never raises for platform trouble.

        Nothing turns an unanswered key into FOUND: outages, rate limits and malformed
        answers give UNVERIFIED with the reason.
        """
        ...


_embedded_lock = threading.Lock()
_embedded_url: str | None = None


def _embedded_simulator() -> str:
    """Start one in-process simulator (seed 0) on a free port, for demos without a platform."""
    global _embedded_url
    with _embedded_lock:
        if _embedded_url is None:
            from gateway.platform_client.simulator import start_simulator

            _embedded_url, _ = start_simulator(port=0)
        return _embedded_url


def build_platform_client(settings: Settings) -> PlatformClient:
    """The client `settings.platform_backend` names: "registry", "http" or "simulator".

    "registry" reads the local registry table in `settings.effective_database_url`; "http"
    talks to `settings.platform_url`; "simulator" talks to `settings.platform_url` when set,
    else to a simulator started in this process.

    Raises:
        ValueError: an unknown backend, or "http" without a URL.
    """
    backend = settings.platform_backend
    if backend == "registry":
        from sqlalchemy import create_engine

        from gateway.platform_client.local import LocalRegistry

        # the tables come from the gateway's migrations (or `gateway registry import`)
        return LocalRegistry(create_engine(settings.effective_database_url))
    if backend in ("http", "simulator"):
        from gateway.platform_client.http import HttpPlatformClient, HttpSettings

        url = settings.platform_url
        if not url and backend == "http":
            msg = "platform_backend='http' needs GATEWAY_PLATFORM_URL; got an empty URL."
            raise ValueError(msg)
        if not url:
            url = _embedded_simulator()
        http = HttpSettings(
            base_url=url,
            token=settings.platform_token,
            connect_timeout=settings.platform_timeout_connect,
            read_timeout=settings.platform_timeout_read,
            batch_size=settings.platform_batch_size,
            concurrency=settings.platform_concurrency,
            cache_ttl=settings.platform_cache_ttl,
        )
        return HttpPlatformClient(http, source="platform" if backend == "http" else "simulator")
    msg = f"Unknown platform backend {backend!r}; expected 'registry', 'http' or 'simulator'."
    raise ValueError(msg)
