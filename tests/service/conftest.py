"""Fixtures of the service tests: services on SQLite or PostgreSQL over a temporary folder,
the stand-in pipeline, a Flask test client and tenants with keys (built by `tests/factories.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.services import Services
from tests.factories import (
    FakeCodeChecker,
    TextChecker,
    app_for,
    make_services,
    new_tenant,
    post_shipment,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def fake_checker() -> TextChecker:
    return TextChecker()


@pytest.fixture
def services(tmp_path: Path, fake_checker: TextChecker) -> Iterator[Services]:
    """Services on SQLite with the stand-in pipeline and a recording executor."""
    svc = make_services(tmp_path, checker=fake_checker, code_checker=FakeCodeChecker())
    yield svc
    svc.close()


@pytest.fixture
def any_db_services(tmp_path: Path, db_url: str, fake_checker: TextChecker) -> Iterator[Services]:
    """Services on SQLite and on PostgreSQL (parametrized)."""
    svc = make_services(
        tmp_path,
        checker=fake_checker,
        code_checker=FakeCodeChecker(),
        database_url=db_url if "postgresql" in db_url else "",
    )
    yield svc
    svc.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return app_for(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tenant(services: Services) -> tuple[str, str]:
    return new_tenant(services)


@pytest.fixture
def make_tenant() -> Callable[..., tuple[str, str]]:
    """`make_tenant(services, **tenant options) -> (tenant_id, key)`."""
    return new_tenant


@pytest.fixture
def upload(client: FlaskClient) -> Callable[..., Any]:
    """`upload(key, files=[(name, bytes)], headers=..., **fields) -> response`."""

    def send(
        key: str,
        files: list[tuple[str, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> Any:
        files = files if files is not None else [("m.csv", b"code\nKEY:a1\n")]
        return post_shipment(client, key, files, headers, **fields)

    return send
