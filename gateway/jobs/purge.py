"""Retention: uploaded documents are deleted `retention_days` after their shipment arrived.

Reports, statuses and declared history stay (customs may ask about a shipment for years); only
the document bytes go, and the document rows keep their name, type and SHA-256 as evidence.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import structlog

from gateway.storage.repo import Admin

if TYPE_CHECKING:
    from gateway.services import Services

log = structlog.get_logger(__name__)


def purge_documents(services: Services, *, now: dt.datetime | None = None) -> int:
    """Delete expired document bytes; returns how many documents were purged."""
    now = now or services.clock()
    cutoff = now - dt.timedelta(days=services.settings.retention_days)
    purged = 0
    with services.sessions() as session:
        for document in Admin(session, services.pepper).expired_documents(cutoff):
            key = document.blob_key
            document.blob_key = None
            session.commit()  # forget the key first: a crash leaves an orphan, never a dangling row
            if key is not None:
                services.blobs.delete(key)
            purged += 1
    if purged:
        log.info("documents_purged", count=purged)
    return purged
