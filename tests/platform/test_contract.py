"""One suite over every backend, so the simulator, the local registry and the in-memory
registry cannot drift: all three load the same registry export and must answer alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from gateway.domain import LookupStatus, RegistrationRecord, RegistrationStatus
from gateway.platform_client import PlatformClient
from gateway.platform_client.contract import record_to_wire
from gateway.platform_client.http import HttpPlatformClient, HttpSettings
from gateway.platform_client.importer import read_registry_file
from gateway.platform_client.keys import record_keys
from gateway.platform_client.local import InMemoryRegistry, LocalRegistry, import_registry_file
from gateway.platform_client.simdata import SimData, generate
from gateway.platform_client.simulator import start_simulator
from samples.registry import write_registry

BACKENDS = ["simulator", "registry-sqlite", "in-memory"]


@pytest.fixture(scope="module")
def export_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = generate(seed=11, size=30).records
    return write_registry(tmp_path_factory.mktemp("contract") / "registry.xlsx", records)


@pytest.fixture(scope="module")
def truth(export_file: Path) -> dict[str, RegistrationRecord]:
    """record_id -> record as the export holds it."""
    return {row.record.record_id: row.record for row in read_registry_file(export_file).rows}


@pytest.fixture(scope="module", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, export_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformClient]:
    if request.param == "simulator":
        rows = read_registry_file(export_file).rows
        data = SimData(tuple(r.record for r in rows), frozenset(), seed=1)
        url, stop = start_simulator(port=0, data=data)
        settings = HttpSettings(url, read_timeout=5.0, cache_ttl=0.0)
        client = HttpPlatformClient(settings, source="simulator")
        yield client
        client.close()
        stop()
    elif request.param == "registry-sqlite":
        db = tmp_path_factory.mktemp("db") / "registry.sqlite3"
        engine = create_engine(f"sqlite:///{db}")
        registry = LocalRegistry(engine)
        registry.create_tables()
        import_registry_file(export_file, engine)
        yield registry
        engine.dispose()
    else:
        yield InMemoryRegistry.from_file(export_file)


def _comparable(record: RegistrationRecord) -> dict[str, object]:
    return record_to_wire(replace(record, source="-"))


def test_every_key_of_every_record_is_found_with_that_record(backend, truth):
    keys = {key: rid for rid, rec in truth.items() for key in record_keys(rec)}
    conflicted = _conflicted_keys(truth)
    answers = backend.lookup(list(keys))
    assert set(answers) == set(keys)
    for key, record_id in keys.items():
        answer = answers[key]
        if key in conflicted:
            continue
        assert answer.status == LookupStatus.FOUND, (key, answer)
        assert answer.record is not None
        assert answer.record.record_id == record_id
        assert _comparable(answer.record) == _comparable(truth[record_id])


def test_a_record_is_reached_by_its_gs1_and_its_gb_code(backend, truth):
    both = [r for r in truth.values() if r.gtin and r.gb_code]
    assert both, "the data set must hold records with both identifiers"
    record = next(r for r in both if r.gb_code not in _conflicted_keys(truth))
    answers = backend.lookup([f"01:{record.gtin}/21:{record.serial}", record.gb_code])
    ids = {a.record.record_id for a in answers.values() if a.record is not None}
    assert ids == {record.record_id}


def test_unknown_unit_is_not_found(backend):
    key = "01:06901234567892/21:NO-SUCH-UNIT"
    answer = backend.lookup([key])[key]
    assert answer.status == LookupStatus.NOT_FOUND
    assert answer.reason == "code_not_found"
    assert answer.record is None


def test_gb_code_on_two_records_is_a_conflict_never_found(backend, truth):
    conflicted = _conflicted_keys(truth)
    assert conflicted, "the data set must hold a GB code on two records"
    answers = backend.lookup(sorted(conflicted))
    for answer in answers.values():
        assert answer.status == LookupStatus.UNVERIFIED
        assert answer.reason == "code_conflict"


@pytest.mark.parametrize("key", ["01:06901234567892", "01:06901234567892/10:LOT1"])
def test_model_and_lot_keys_are_not_unit_identities(backend, key):
    answer = backend.lookup([key])[key]
    assert answer.status == LookupStatus.UNVERIFIED
    assert answer.reason == "not_a_unit_key"


def test_every_status_comes_back_as_registered(backend, truth):
    by_status = {r.status: r for r in truth.values() if r.gtin}
    assert set(by_status) == set(RegistrationStatus)
    keys = {f"01:{r.gtin}/21:{r.serial}": s for s, r in by_status.items()}
    answers = backend.lookup(list(keys))
    assert {answers[k].record.status for k in keys} == set(keys.values())
    grace = answers[next(k for k, s in keys.items() if s == RegistrationStatus.NEEDS_CORRECTION)]
    assert grace.record is not None
    assert grace.record.grace_until is not None
    assert grace.record.missing_fields


def test_duplicate_keys_and_empty_requests(backend, truth):
    record = next(iter(truth.values()))
    key = f"01:{record.gtin}/21:{record.serial}"
    assert set(backend.lookup([key, key])) == {key}
    assert dict(backend.lookup([])) == {}


def test_source_names_the_backend(backend, truth):
    record = next(iter(truth.values()))
    key = f"01:{record.gtin}/21:{record.serial}"
    answer = backend.lookup([key])[key]
    assert answer.source == backend.source
    assert answer.record is not None
    assert answer.record.source == backend.source


def _conflicted_keys(truth: dict[str, RegistrationRecord]) -> set[str]:
    owners: dict[str, set[str]] = {}
    for record in truth.values():
        for key in record_keys(record):
            owners.setdefault(key, set()).add(record.record_id)
    return {k for k, ids in owners.items() if len(ids) > 1}
