"""`gateway db / tenants / keys / demo` and the migrations' agreement with the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import Settings
from gateway.storage.base import Base
from gateway.storage.db import make_engine, upgrade
from gateway.storage.repo import Admin


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "GATEWAY_DATA_DIR": str(tmp_path),
        "GATEWAY_SECRET_KEY": "s",
        "GATEWAY_KEY_PEPPER": "p",
    }


def test_migrations_build_exactly_the_models_schema(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)  # running again is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_tenants_and_keys_from_the_command_line(env: dict[str, str]) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main, ["tenants", "create", "Acme Freight", "--language", "zh"], env=env
    )
    assert created.exit_code == 0, created.output
    again = runner.invoke(main, ["tenants", "create", "Acme Freight"], env=env)
    assert again.exit_code != 0
    assert "already exists" in again.output
    listed = runner.invoke(main, ["tenants", "list"], env=env)
    assert "Acme Freight\tzh" in listed.output
    made = runner.invoke(main, ["keys", "create", "Acme Freight"], env=env)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("gw_")
    settings = Settings.from_env(env)
    engine = make_engine(settings.effective_database_url)
    from gateway.storage.db import make_sessionmaker

    sessions = make_sessionmaker(engine)
    with sessions() as session:
        assert Admin(session, "p").authenticate(key) is not None
    revoked = runner.invoke(main, ["keys", "revoke", key], env=env)
    assert revoked.exit_code == 0, revoked.output
    with sessions() as session:
        assert Admin(session, "p").authenticate(key) is None
    engine.dispose()
    missing = runner.invoke(main, ["keys", "create", "nobody"], env=env)
    assert missing.exit_code != 0
    assert "nobody" in missing.output


def test_webhook_urls_must_be_https(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main,
        [
            "tenants",
            "create",
            "Hooky",
            "--webhook-url",
            "http://example.com/h",
            "--webhook-secret",
            "x",
        ],
        env=env,
    )
    assert result.exit_code != 0
    assert "https" in result.output


def test_demo_prepares_the_data_folder_once(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["demo", "--no-serve"], env=env)
    key_line = [line for line in first.output.splitlines() if "gw_" in line]
    assert key_line
    assert key_line == [line for line in second.output.splitlines() if "gw_" in line]
    assert (tmp_path / "demo-key.txt").stat().st_mode & 0o077 == 0
    assert list((tmp_path / "samples").rglob("*.xlsx"))


def test_the_demos_shipment_and_label_photos_are_units_of_its_registry(
    env: dict[str, str], tmp_path: Path
) -> None:
    import json

    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--no-serve"], env=env).exit_code == 0
    samples = tmp_path / "samples"
    photos = sorted(str(p) for p in (samples / "labels").glob("*.png"))
    assert len(photos) == 3
    result = runner.invoke(
        main,
        [
            "check",
            str(samples / "shipments" / "clean_to_germany.xlsx"),
            *photos,
            "--registry",
            str(samples / "registry" / "demo-shipments.csv"),
            "--destination",
            "DE",
            "--transport-mode",
            "sea",
        ],
        env=env,
    )
    report = json.loads(result.stdout)
    assert (result.exit_code, report["verdict"]) == (0, "clear"), report["findings"]
    assert report["counts"]["units"] == report["counts"]["verified"] == 3


def test_db_purge_reports_what_it_removed(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["db", "purge"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged 0 documents"


def test_the_worker_restarts_a_dead_parser_fork_server_before_each_job() -> None:
    import os
    import signal
    from typing import Any

    from gateway.parsers import sandbox
    from gateway.workers.command import _forking_worker_class

    ran: list[str] = []

    class FakeRqWorker:
        def execute_job(self, job: Any, queue: Any) -> None:
            ran.append(job)

    worker = _forking_worker_class(FakeRqWorker)()
    try:
        worker.execute_job("job-1", None)
        first = sandbox._shared
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        first.proc.wait()
        worker.execute_job("job-2", None)
        second = sandbox._shared  # what the worker left for the next horse to inherit
        assert second is not None
        assert second.pid != first.pid
        assert second.usable()
        assert ran == ["job-1", "job-2"]
    finally:
        sandbox.stop_shared_fork_server()


def test_serve_lets_a_process_accept_only_what_its_threads_can_take() -> None:
    from gunicorn.config import Config

    from gateway.cli.serve import gunicorn_options

    fair = gunicorn_options("127.0.0.1:0", workers=2, timeout=60, threads=2)
    assert (fair["worker_connections"], fair["keepalive"]) == (2, 0)
    kept = gunicorn_options("127.0.0.1:0", workers=1, timeout=60, threads=8, keepalive=2)
    assert kept["worker_connections"] > kept["threads"]  # room for idle keep-alive connections
    config = Config()
    for key, value in fair.items():  # every name and value is one gunicorn accepts
        config.set(key, value)
    assert config.worker_connections == 2
