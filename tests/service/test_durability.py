"""P1 at intake: nothing half-stored is ever acknowledged, and a failed upload can be retried."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from gateway.services import Services
from gateway.storage.models import IdempotencyRecord, Shipment


class FailingBlobs:
    """A blob store whose second write fails (disk full, object store down)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writes = 0

    def put(self, tenant_id: str, data: bytes) -> str:
        self.writes += 1
        if self.writes == 2:
            raise OSError(28, "No space left on device")
        return str(self.inner.put(tenant_id, data))

    def get(self, key: str) -> bytes:
        return bytes(self.inner.get(key))

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def test_a_failed_store_leaves_nothing_and_the_retry_succeeds(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    real = services.blobs
    services.blobs = FailingBlobs(real)
    files = [("a.csv", b"KEY:a\n"), ("b.csv", b"KEY:b\n")]
    headers = {"Idempotency-Key": "retry-me"}
    failed = upload(key, files=files, headers=headers)
    assert failed.status_code == 503
    with services.sessions() as session:
        assert session.query(Shipment).count() == 0
        assert session.query(IdempotencyRecord).count() == 0
    assert not list((Path(services.settings.data_dir) / "blobs").glob("*/*"))
    services.blobs = real
    retried = upload(key, files=files, headers=headers)
    assert retried.status_code == 202
    assert len(retried.get_json()["documents"]) == 2


def test_a_database_outage_answers_503_with_retry_after(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    from gateway.storage import repo as repo_module

    original = repo_module.TenantRepo.add_shipment

    def broken(self: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    repo_module.TenantRepo.add_shipment = broken  # type: ignore[method-assign]
    try:
        response = upload(key, headers={"Idempotency-Key": "db-down"})
    finally:
        repo_module.TenantRepo.add_shipment = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "storage_unavailable"
    assert upload(key, headers={"Idempotency-Key": "db-down"}).status_code == 202
