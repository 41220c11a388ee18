"""What the service's subcommands share: the process's services, migrated on demand."""

from __future__ import annotations

from gateway.config import Settings
from gateway.services import Services
from gateway.wiring import build_services


def build(settings: Settings | None = None) -> Services:
    """The services for `settings` (read from the `GATEWAY_*` variables when None)."""
    return build_services(settings or Settings.from_env())


def migrate(svc: Services) -> None:
    """Bring the database schema up to date."""
    from gateway.storage.db import upgrade

    upgrade(svc.engine)
