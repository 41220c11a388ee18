"""Storage on SQLite and PostgreSQL: migrations, keys, tenant scoping, idempotency, history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from gateway.errors import NotFound
from gateway.services import Services
from gateway.storage.blobs import FileBlobStore
from gateway.storage.codec import report_from_data, report_to_data
from gateway.storage.models import Shipment
from gateway.storage.repo import Admin, ShipmentFilter, TenantRepo, split_key


def _shipment(repo: TenantRepo, reference: str = "R1") -> Shipment:
    return repo.add_shipment(
        reference=reference,
        destination="DE",
        transport_mode="sea",
        notify=["a@example.com"],
        documents=[
            {
                "filename": "m.csv",
                "media_type": "text/csv",
                "sha256": "0" * 64,
                "size": 3,
                "blob_key": None,
            }
        ],
    )


def test_migrations_create_every_table(any_db_services: Services) -> None:
    names = set(inspect(any_db_services.engine).get_table_names())
    expected = {"tenants", "api_keys", "shipments", "shipment_documents", "reports", "outbox"}
    assert expected | {"idempotency_keys", "declared_codes", "registry_records"} <= names


def test_keys_are_stored_hashed_and_revocable(any_db_services: Services) -> None:
    svc = any_db_services
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(f"acme-{id(session)}")
        row, key = admin.create_key(tenant.id)
        assert key.startswith(f"gw_{row.id}_")
        parts = split_key(key)
        assert parts is not None
        assert parts[1] not in row.digest  # only the HMAC is kept
        principal = admin.authenticate(key)
        assert principal is not None
        assert principal.tenant_id == tenant.id
        assert admin.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert admin.authenticate("gw_nosuchid_" + "x" * 40) is None
        admin.revoke_key(row.id)
        assert admin.authenticate(key) is None


def test_a_foreign_shipment_is_not_found_like_an_unknown_one(
    any_db_services: Services, make_tenant: Callable[..., tuple[str, str]]
) -> None:
    svc = any_db_services
    owner, _ = make_tenant(svc)
    other, _ = make_tenant(svc)
    with svc.sessions() as session:
        shipment = _shipment(TenantRepo(session, owner))
        session.commit()
        foreign = TenantRepo(session, other)
        with pytest.raises(NotFound) as foreign_error:
            foreign.get(shipment.id)
        with pytest.raises(NotFound) as unknown_error:
            foreign.get("0" * 32)
        assert type(foreign_error.value) is type(unknown_error.value)
        assert foreign.documents(shipment.id) == []
        assert foreign.page(ShipmentFilter())[0] == []
        assert foreign.report(shipment.id) is None


def test_pages_walk_every_shipment_once_newest_first(
    any_db_services: Services, make_tenant: Callable[..., tuple[str, str]]
) -> None:
    svc = any_db_services
    tenant_id, _ = make_tenant(svc)
    with svc.sessions() as session:
        repo = TenantRepo(session, tenant_id)
        made = [_shipment(repo, f"R{i}").id for i in range(7)]
        session.commit()
        seen, cursor = [], None
        for _ in range(10):
            rows, cursor = repo.page(ShipmentFilter(), limit=3, cursor=cursor)
            seen += [r.id for r in rows]
            if cursor is None:
                break
        assert sorted(seen) == sorted(made)
        assert len(seen) == len(set(seen))
        only = repo.page(ShipmentFilter(reference="R3"))[0]
        assert [s.reference for s in only] == ["R3"]


def test_an_idempotency_key_is_claimed_once(
    any_db_services: Services, make_tenant: Callable[..., tuple[str, str]]
) -> None:
    svc = any_db_services
    tenant_id, _ = make_tenant(svc)
    with svc.sessions() as first, svc.sessions() as second:
        assert TenantRepo(first, tenant_id).claim_idempotency("k1", "a" * 64) is not None
        assert TenantRepo(second, tenant_id).claim_idempotency("k1", "a" * 64) is None
        other, _ = make_tenant(svc)
        assert TenantRepo(second, other).claim_idempotency("k1", "b" * 64) is not None


def test_declared_codes_are_history_of_the_same_tenant_only(
    any_db_services: Services, make_tenant: Callable[..., tuple[str, str]]
) -> None:
    svc = any_db_services
    tenant_id, _ = make_tenant(svc)
    other, _ = make_tenant(svc)
    with svc.sessions() as session:
        repo = TenantRepo(session, tenant_id)
        shipment = _shipment(repo)
        assert repo.declare(shipment.id, ["k1", "k2", "k1"]) == 2
        assert repo.declare(shipment.id, ["k1"]) == 0
        session.commit()
        assert repo.exported(["k1", "k3"]) == {"k1": shipment.id}
        assert repo.exported(["k1"], exclude=shipment.id) == {}
        assert TenantRepo(session, other).exported(["k1"]) == {}


def test_report_upsert_keeps_one_report_per_shipment(
    any_db_services: Services, make_tenant: Callable[..., tuple[str, str]]
) -> None:
    svc = any_db_services
    tenant_id, _ = make_tenant(svc)
    with svc.sessions() as session:
        repo = TenantRepo(session, tenant_id)
        shipment = _shipment(repo)
        first = repo.save_report(shipment.id, "hold", {"v": 1})
        second = repo.save_report(shipment.id, "clear", {"v": 2})
        session.commit()
        assert first.id == second.id
        stored = repo.report(shipment.id)
        assert stored is not None
        assert stored.body == {"v": 2}
        repo.add_outbox(shipment.id, first.id, "email", "a@example.com")
        repo.add_outbox(shipment.id, first.id, "email", "a@example.com")
        session.commit()
        assert len(repo.outbox(shipment.id)) == 1


def test_blobs_use_random_keys_and_never_the_filename(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    key = store.put("ab12", b"hello")
    assert store.get(key) == b"hello"
    assert "hello" not in key
    assert key != store.put("ab12", b"hello")
    with pytest.raises(NotFound):
        store.get("../../etc/passwd")
    store.delete(key)
    with pytest.raises(NotFound):
        store.get(key)


def test_report_codec_round_trips() -> None:
    from gateway.domain import Document, Finding, Report, Severity, SourceRef, Verdict

    report = Report(
        shipment_id="s1",
        verdict=Verdict.HOLD,
        generated_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        ruleset="default@1",
        findings=(
            Finding(
                rule_id="a.b",
                code="A_B",
                severity=Severity.WARN,
                message_en="m",
                message_zh="中",
                refs=(
                    SourceRef(document_id="d1", sheet="S", cell="B2", bbox=(1.0, 2.0, 3.0, 4.0)),
                ),
                code_raw="(01)1",
                span=(1, 3),
                evidence={"n": 1, "when": dt.date(2026, 1, 1)},
            ),
        ),
        counts={"codes": 2},
        documents=(Document(id="d1", filename="f.xlsx", media_type="x", sha256="0" * 64, size=9),),
        timings={"extract": 0.5},
        shipment={"reference": "R"},
        units=({"key": "k", "lookup": "found"},),
    )
    back = report_from_data(report_to_data(report))
    assert back.findings[0].refs == report.findings[0].refs
    assert back.findings[0].evidence == {"n": 1, "when": "2026-01-01"}
    assert (back.verdict, back.generated_at, back.counts, back.units) == (
        report.verdict,
        report.generated_at,
        report.counts,
        report.units,
    )
    assert back.documents == report.documents
