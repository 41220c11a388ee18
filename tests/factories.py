"""Factories every test folder shares: shipment documents from bytes, settings and services
over a temporary folder, a stand-in pipeline, tenants with keys, the app and its requests.

Plain functions and classes, so that tests and fixtures (`tests/conftest.py`, the folders'
own conftest files) build the same things the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from gateway.config import Settings
from gateway.domain import CodeOccurrence, Document, Finding, Report, Severity, SourceRef, Verdict
from gateway.intake import sniff
from gateway.pipeline import DocumentInput
from gateway.services import CheckRequest, ServiceOptions, Services
from gateway.storage.db import upgrade
from gateway.storage.repo import Admin
from gateway.wiring import build_services

# the secrets of every test gateway, in this process and in the worker processes it starts
SECRET_KEY = "test-secret"
KEY_PEPPER = "test-pepper"


# -- documents --------------------------------------------------------------------------------


def shipment_document(data: bytes, filename: str, doc_id: str = "doc-1") -> DocumentInput:
    """A document as intake makes it from the uploaded bytes: type sniffed, digest taken."""
    document = Document(
        id=doc_id,
        filename=filename,
        media_type=sniff(data, filename),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    return DocumentInput(document, data)


# -- settings and services --------------------------------------------------------------------


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings over a temporary folder, with fixed secrets and the local registry."""
    values: dict[str, Any] = {
        "data_dir": str(tmp_path),
        "secret_key": SECRET_KEY,
        "key_pepper": KEY_PEPPER,
        "platform_backend": "registry",
    }
    values.update(overrides)
    return Settings(**values)


class RecordingExecutor:
    """Keeps submitted ids; the tests run the jobs when they choose."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, shipment_id: str) -> None:
        self.submitted.append(shipment_id)

    def healthy(self) -> bool:
        return True

    def shutdown(self) -> None:
        pass


def make_services(
    tmp_path: Path,
    *,
    checker: Any = None,
    code_checker: Any = None,
    options: ServiceOptions | None = None,
    **settings: Any,
) -> Services:
    """Migrated services over `tmp_path` with a recording executor (jobs run when the test
    says); `settings` are `Settings` fields."""
    svc = build_services(
        make_settings(tmp_path, **settings),
        options or ServiceOptions(),
        checker=checker,
        code_checker=code_checker,
    )
    upgrade(svc.engine)
    svc._executor = RecordingExecutor()
    return svc


# -- a stand-in pipeline ----------------------------------------------------------------------


def text_report(request: CheckRequest) -> Report:
    """A report computed from the documents' text: `KEY:<k>` lines are units, `BLOCK` blocks."""
    units: list[dict[str, object]] = []
    findings = []
    for doc, data in request.documents:
        text = data.decode("latin-1")
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
    return Report(
        shipment_id=request.shipment_id,
        verdict=Verdict.BLOCK if findings else Verdict.CLEAR,
        generated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        ruleset="fake@1",
        findings=tuple(findings),
        counts={"codes": len(units), "units": len(units), "block": len(findings)},
        documents=tuple(d for d, _ in request.documents),
        units=tuple(units),
        shipment={"reference": request.reference},
    )


@dataclass
class TextChecker:
    """A fast stand-in for the pipeline (`text_report`), for tests about the service rather
    than parsing: records calls and the history each shipment saw, fails on demand."""

    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None
    seen_history: list[dict[str, str]] = field(default_factory=list)
    histories: dict[str, dict[str, str]] = field(default_factory=dict)

    def __call__(self, request: CheckRequest, *, history: Any, progress: Any) -> Report:
        self.calls.append(request.shipment_id)
        progress("reading", 0.5)
        progress("looking up", 0.9)
        if self.fail_with is not None:
            raise self.fail_with
        report = text_report(request)
        seen = dict(history.exported([str(u["key"]) for u in report.units]))
        self.seen_history.append(seen)
        self.histories[request.shipment_id] = seen
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


# -- tenants, the app, requests ---------------------------------------------------------------


def new_tenant(svc: Services, name: str | None = None, **options: Any) -> tuple[str, str]:
    """A tenant (a random name unless given) and an API key for it: (tenant id, key)."""
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(name or f"t-{secrets.token_hex(4)}", **options)
        _row, key = admin.create_key(tenant.id)
        return tenant.id, key


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of an API key."""
    return {"Authorization": f"Bearer {key}"}


def app_for(svc: Services) -> Flask:
    """The Flask app over `svc`, in testing mode."""
    from gateway.api.app import build_app

    app = build_app(svc.settings, services=svc)
    app.testing = True
    return app


def post_shipment(
    client: FlaskClient,
    key: str,
    files: Sequence[tuple[str, bytes]],
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    """POST /v1/shipments as multipart with `files` as (name, bytes).

    The body is encoded in memory: the test client's own encoder spools large bodies to a
    temporary file that it never closes.
    """
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    form: MultiDict[str, Any] = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            form.add(name, item)
    for name, content in files:
        form.add("documents", FileStorage(io.BytesIO(content), filename=name))
    boundary, body = encode_multipart(form)
    return client.post(
        "/v1/shipments",
        data=body,
        headers={**bearer(key), **(headers or {})},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
