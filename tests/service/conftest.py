"""Fixtures of the service tests: settings over a temporary folder, services on SQLite or
PostgreSQL, a fake pipeline, a Flask test client and tenants with keys."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.config import Settings
from gateway.domain import (
    CodeOccurrence,
    Document,
    Finding,
    Report,
    Severity,
    SourceRef,
    Verdict,
)
from gateway.services import CheckRequest, ServiceOptions, Services
from gateway.storage.db import upgrade
from gateway.storage.repo import Admin
from gateway.wiring import build_services

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _fake_report(shipment_id: str, documents: Sequence[Document], texts: Sequence[str]) -> Report:
    """A report computed from the documents' text: `KEY:<k>` lines are units, `BLOCK` blocks."""
    units = []
    findings = []
    for doc, text in zip(documents, texts, strict=True):
        for key in re.findall(r"KEY:(\S+)", text):
            units.append({"key": key, "raw": key, "lookup": "found", "document_id": doc.id})
        if "BLOCK" in text:
            findings.append(
                Finding(
                    rule_id="fake.block",
                    code="FAKE_BLOCK",
                    severity=Severity.BLOCK,
                    message_en="Blocked by the fake",
                    message_zh="假阻止",
                    refs=(SourceRef(document_id=doc.id, row=1),),
                )
            )
    verdict = Verdict.BLOCK if findings else Verdict.CLEAR
    return Report(
        shipment_id=shipment_id,
        verdict=verdict,
        generated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ruleset="fake@1",
        findings=tuple(findings),
        counts={"codes": len(units), "units": len(units), "block": len(findings)},
        documents=tuple(documents),
        units=tuple(units),
    )


@dataclass
class FakeChecker:
    """Stands in for the pipeline: records calls, can fail on demand."""

    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None
    seen_history: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: CheckRequest, *, history: Any, progress: Any) -> Report:
        self.calls.append(request.shipment_id)
        progress("reading", 0.5)
        progress("looking up", 0.9)
        if self.fail_with is not None:
            raise self.fail_with
        texts = [data.decode("latin-1") for _doc, data in request.documents]
        report = _fake_report(request.shipment_id, [d for d, _ in request.documents], texts)
        self.seen_history.append(
            dict(
                history.exported(
                    [str(k) for u in report.units for k in (u.get("keys") or [u["key"]])]
                )
            )
        )
        return report


@dataclass
class FakeCodeChecker:
    """Codes ending in 'X' block; others are clear and found."""

    def __call__(
        self, codes: Sequence[CodeOccurrence], *, shipment_id: str, history: Any
    ) -> Report:
        findings = tuple(
            Finding(
                rule_id="fake.code",
                code="FAKE_BAD",
                severity=Severity.BLOCK,
                message_en="bad",
                message_zh="坏",
                code_raw=c.raw,
            )
            for c in codes
            if c.raw.endswith("X")
        )
        units = tuple({"key": c.raw, "raw": c.raw, "lookup": "found"} for c in codes)
        return Report(
            shipment_id=shipment_id,
            verdict=Verdict.BLOCK if findings else Verdict.CLEAR,
            generated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            ruleset="fake@1",
            findings=findings,
            counts={"codes": len(codes)},
            units=units,
        )


class RecordingExecutor:
    """Keeps submitted ids; tests run the jobs when they choose."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, shipment_id: str) -> None:
        self.submitted.append(shipment_id)

    def healthy(self) -> bool:
        return True

    def shutdown(self) -> None:
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path),
        "secret_key": "test-secret",
        "key_pepper": "test-pepper",
        "platform_backend": "registry",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def fake_checker() -> FakeChecker:
    return FakeChecker()


@pytest.fixture
def services(tmp_path: Path, fake_checker: FakeChecker) -> Iterator[Services]:
    """Services on SQLite with the fake pipeline and a recording executor."""
    svc = build_services(
        make_settings(tmp_path),
        ServiceOptions(),
        checker=fake_checker,
        code_checker=FakeCodeChecker(),
    )
    upgrade(svc.engine)
    svc._executor = RecordingExecutor()
    yield svc
    svc.close()


@pytest.fixture
def any_db_services(tmp_path: Path, db_url: str, fake_checker: FakeChecker) -> Iterator[Services]:
    """Services on SQLite and on PostgreSQL (parametrized)."""
    svc = build_services(
        make_settings(tmp_path, database_url=db_url if "postgresql" in db_url else ""),
        ServiceOptions(),
        checker=fake_checker,
        code_checker=FakeCodeChecker(),
    )
    upgrade(svc.engine)
    svc._executor = RecordingExecutor()
    yield svc
    svc.close()


def new_tenant(svc: Services, **kwargs: Any) -> tuple[str, str]:
    """A fresh tenant (random name) and a key for it."""
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(f"t-{secrets.token_hex(4)}", **kwargs)
        _row, key = admin.create_key(tenant.id)
        return tenant.id, key


@pytest.fixture
def app(services: Services) -> Flask:
    from gateway.api.app import build_app

    application = build_app(services.settings, services=services)
    application.testing = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tenant(services: Services) -> tuple[str, str]:
    return new_tenant(services)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_tenant() -> Callable[..., tuple[str, str]]:
    """`make_tenant(services, **tenant options) -> (tenant_id, key)`."""
    return new_tenant


@pytest.fixture
def upload(client: FlaskClient) -> Callable[..., Any]:
    """`upload(key, files=[(name, bytes)], headers=..., **fields) -> response`."""
    import io

    def send(
        key: str,
        files: list[tuple[str, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> Any:
        files = files if files is not None else [("m.csv", b"code\nKEY:a1\n")]
        data: dict[str, Any] = dict(fields)
        data["documents"] = [(io.BytesIO(content), name) for name, content in files]
        return client.post(
            "/v1/shipments",
            data=data,
            headers={**auth(key), **(headers or {})},
            content_type="multipart/form-data",
        )

    return send
