"""Intake: uploaded bytes sniffed and named safely, and a shipment accepted durably.

The type of a document comes from the document parsers' one sniffer
(`gateway.parsers.sniff`), so intake never accepts a type the pipeline cannot read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import OperationalError

from gateway.errors import InputError, RateLimited, ServiceError, UnsupportedDocument
from gateway.parsers.sniff import sniff as sniff_bytes

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.storage.models import Shipment
    from gateway.storage.repo import TenantRepo

log = structlog.get_logger(__name__)


def sniff(data: bytes, filename: str) -> str:
    """The media type of `data`, from its bytes; UnsupportedDocument when not readable."""
    try:
        return sniff_bytes(data, filename)
    except UnsupportedDocument as exc:  # name the file: a person must know which one
        msg = f"Document {filename!r}: {exc}"
        raise UnsupportedDocument(msg) from None


def display_name(filename: str | None, position: int) -> str:
    """A safe display name: base name only, controls and bidi/format chars removed, capped."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = name.strip() or f"document-{position + 1}"
    while len(name.encode()) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:-1] + dot + ext) if dot and stem else name[:-1]
    return name


# -- accepting a shipment ---------------------------------------------------------------------

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}\Z")


def check_idempotency_key(key: str | None) -> None:
    """InputError unless `key` (the Idempotency-Key header) is absent or well formed."""
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        msg = f"Idempotency-Key {key[:40]!r} is not valid: use 1 to 255 printable ASCII characters."
        raise InputError(msg)


@dataclass(frozen=True, slots=True)
class Upload:
    """One shipment as received: its metadata and its documents, read, capped and sniffed."""

    meta: Mapping[str, Any]  # reference, destination, transport_mode, notify
    documents: list[dict[str, Any]]  # filename, data, sha256, size, media_type
    idempotency_key: str | None = None

    def digest(self) -> str:
        """What the Idempotency-Key stands for: the metadata and each document's name and hash."""
        canonical = json.dumps(
            {
                "meta": dict(self.meta),
                "documents": [[d["filename"], d["sha256"]] for d in self.documents],
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to an accepted upload: the shipment's public body."""

    body: dict[str, Any]
    replayed: bool = False  # the same upload was accepted before under the same key


def accept_shipment(
    services: Services,
    repo: TenantRepo,
    upload: Upload,
    describe: Callable[[Shipment], dict[str, Any]],
) -> Accepted:
    """Accept a shipment: idempotency, the tenant's quota, blobs + row in one transaction, enqueue.

    `describe` makes the shipment's public body, which is also what a replay under the same
    Idempotency-Key answers. The shipment is durable before the enqueue: a failed enqueue is
    only logged, the start-up pass and the reconciler submit it later.

    Raises:
        ServiceError: the key was used for another upload (422), its first upload is still
            being stored (409), or storage is unavailable (503).
        RateLimited: the tenant has too many shipments waiting or running.
    """
    key = upload.idempotency_key
    if key is not None:
        replay = _claim(repo, key, upload.digest())
        if replay is not None:
            return Accepted(body=replay, replayed=True)
    if repo.count_open() >= services.options.max_open_shipments:
        if key is not None:
            repo.release_idempotency(key)
        msg = (
            f"This account has {services.options.max_open_shipments} shipments waiting or "
            "running; retry when some have finished."
        )
        raise RateLimited(msg, 30)
    shipment, body = _store(services, repo, upload, describe)
    log.info("shipment_received", shipment_id=shipment.id, documents=len(upload.documents))
    try:
        services.executor.submit(shipment.id)
    except Exception:  # durable already: the start-up pass and the reconciler submit it later
        log.exception("shipment_enqueue_failed", shipment_id=shipment.id)
    return Accepted(body=body)


def _claim(repo: TenantRepo, key: str, digest: str) -> dict[str, Any] | None:
    """Claim the key for this upload; the stored answer when the same upload came before."""
    existing = repo.idempotency(key)
    if existing is None and repo.claim_idempotency(key, digest) is None:
        existing = repo.idempotency(key)  # lost the insert race to a concurrent retry
    if existing is None:
        return None
    if existing.request_sha256 != digest:
        msg = (
            f"Idempotency-Key {key!r} was already used for a different upload; "
            "use a new key for new content."
        )
        raise ServiceError(msg, status=422, code="idempotency_key_reused")
    if existing.response is None:
        msg = f"The upload with Idempotency-Key {key!r} is still being stored; retry soon."
        raise ServiceError(
            msg,
            status=409,
            code="idempotency_in_flight",
            # storing an upload takes tens of milliseconds: the shortest wait HTTP
            # can say is enough for the retry to find the answer
            headers={"Retry-After": "1"},
        )
    response: dict[str, Any] = existing.response
    return response


def _store(
    services: Services,
    repo: TenantRepo,
    upload: Upload,
    describe: Callable[[Shipment], dict[str, Any]],
) -> tuple[Shipment, dict[str, Any]]:
    """Blobs, then the shipment row and the key's answer in one commit; all undone on failure."""
    key = upload.idempotency_key
    meta = upload.meta
    stored: list[str] = []
    try:
        for doc in upload.documents:
            doc["blob_key"] = services.blobs.put(repo.tenant_id, doc["data"])
            stored.append(doc["blob_key"])
        shipment = repo.add_shipment(
            reference=meta["reference"],
            destination=meta.get("destination"),
            transport_mode=meta.get("transport_mode"),
            notify=meta["notify"],
            documents=upload.documents,
        )
        body = describe(shipment)
        if key is not None:
            record = repo.idempotency(key)
            assert record is not None
            record.shipment_id = shipment.id
            record.response = body
        repo.session.commit()
    except BaseException as exc:
        # Nothing was accepted: undo what was stored so a retry with the same key can succeed.
        with contextlib.suppress(Exception):  # the cleanup must not hide the first error
            repo.session.rollback()
            for blob_key in stored:
                services.blobs.delete(blob_key)
            if key is not None:
                repo.release_idempotency(key)
        if isinstance(exc, OperationalError | OSError):  # database or disk: transient
            msg = (
                "The gateway cannot store the upload right now; retry with the same "
                "Idempotency-Key."
            )
            raise ServiceError(
                msg,
                status=503,
                code="storage_unavailable",
                headers={"Retry-After": "5"},
            ) from None
        raise
    return shipment, body


def accept_recheck(
    services: Services,
    repo: TenantRepo,
    shipment_id: str,
    documents: list[dict[str, Any]],
    describe: Callable[[Shipment], dict[str, Any]],
) -> dict[str, Any]:
    """Corrected documents for a checked shipment: blobs + rows in one commit, then enqueue.

    The shipment's next check reads them in place of the documents of the same name (the
    others stay) and its report becomes the next version, with what changed.

    Raises:
        ServiceError: the shipment is still being checked or was purged (409), or storage
            is unavailable (503).
        RateLimited: the tenant has too many shipments waiting or running.
    """
    if repo.count_open() >= services.options.max_open_shipments:
        msg = (
            f"This account has {services.options.max_open_shipments} shipments waiting or "
            "running; retry when some have finished."
        )
        raise RateLimited(msg, 30)
    stored: list[str] = []
    try:
        for doc in documents:
            doc["blob_key"] = services.blobs.put(repo.tenant_id, doc["data"])
            stored.append(doc["blob_key"])
        shipment = repo.recheck(shipment_id, documents)
        body = describe(shipment)
        repo.session.commit()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            repo.session.rollback()
            for blob_key in stored:
                services.blobs.delete(blob_key)
        if isinstance(exc, OperationalError | OSError):
            msg = "The gateway cannot store the upload right now; retry."
            raise ServiceError(
                msg, status=503, code="storage_unavailable", headers={"Retry-After": "5"}
            ) from None
        raise
    log.info("shipment_recheck", shipment_id=shipment_id, documents=len(documents))
    try:
        services.executor.submit(shipment_id)
    except Exception:  # durable already: the reconciler submits it later
        log.exception("shipment_enqueue_failed", shipment_id=shipment_id)
    return body
