"""Fault tests over real HTTP on 127.0.0.1: whatever the simulator does wrong, no key is FOUND
without a well-formed positive answer for exactly that key."""

from __future__ import annotations

import time

import pytest
import requests
import structlog

from gateway.domain import LookupStatus
from gateway.platform_client.contract import record_to_wire
from gateway.platform_client.keys import record_keys
from gateway.platform_client.simdata import SimData
from gateway.platform_client.simulator import FAULT_HEADER, start_simulator

from .conftest import set_faults


def _truth(sim_data: SimData) -> dict[str, str | None]:
    """key -> the record id it must resolve to (None: not FOUND-able)."""
    owners: dict[str, set[str]] = {}
    for record in sim_data.records:
        for key in record_keys(record):
            owners.setdefault(key, set()).add(record.record_id)
    truth = {k: (next(iter(ids)) if len(ids) == 1 else None) for k, ids in owners.items()}
    truth.update(dict.fromkeys(sim_data.unsupported))
    truth["01:06901234567892/21:ABSENT"] = None
    return truth


def test_with_every_fault_on_nothing_unanswered_is_found(sim_url, sim_data, make_client):
    spec = (
        "error=0.15,rate_limit=0.1,retry_after=0.05,timeout=0.1,timeout_s=0.4,"
        "truncate=0.15,malformed=0.3,partial=0.2,latency_ms=2"
    )
    set_faults(sim_url, spec)
    records = {r.record_id: record_to_wire(r) for r in sim_data.records}
    truth = _truth(sim_data)
    client = make_client(sim_url, read_timeout=0.2, batch_size=7, concurrency=3, max_retries=1)
    seen: dict[LookupStatus, int] = dict.fromkeys(LookupStatus, 0)
    reasons: set[str] = set()
    for _ in range(12):
        answers = client.lookup(list(truth))
        assert set(answers) == set(truth)
        for key, answer in answers.items():
            seen[answer.status] += 1
            if answer.reason:
                reasons.add(answer.reason)
            if answer.status == LookupStatus.FOUND:
                assert truth[key] is not None, f"{key} reported found"
                assert answer.record is not None
                assert key in record_keys(answer.record)
                wire = record_to_wire(answer.record)
                wire["source"] = "simulator"
                assert wire == records[truth[key]]
    # the faults really happened, and real answers still came through
    assert seen[LookupStatus.FOUND] > 0
    assert seen[LookupStatus.UNVERIFIED] > 0
    assert {"malformed_answer", "partial_answer"} <= reasons


@pytest.mark.parametrize("seed", range(14))
def test_each_malformed_answer_is_unverified(sim_url, sim_data, make_client, seed):
    # a fresh seed per case walks the simulator through its kinds of malformed answer
    truth = _truth(sim_data)
    found_keys = [k for k, v in truth.items() if v is not None][:5]
    client = make_client(sim_url, max_retries=0)
    client._session.headers[FAULT_HEADER] = f"malformed=1,latency_ms={seed % 2}"
    answers = client.lookup(found_keys)
    assert all(a.status == LookupStatus.UNVERIFIED for a in answers.values()), answers
    assert {a.reason for a in answers.values()} <= {"malformed_answer", "spec_version_mismatch"}


def test_truncated_json_is_unverified(sim_url, sim_data, make_client):
    set_faults(sim_url, "truncate=1")
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:10]
    answers = make_client(sim_url, max_retries=0).lookup(keys)
    assert {a.reason for a in answers.values()} == {"malformed_answer"}


def test_partial_batch_leaves_missing_keys_unverified(sim_url, sim_data, make_client):
    set_faults(sim_url, "partial=1")
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:20]
    answers = make_client(sim_url, max_retries=0).lookup(keys)
    statuses = [answers[k].status for k in keys]
    # results come back in request order, so the answered ones are a prefix
    assert LookupStatus.UNVERIFIED in statuses
    first_missing = statuses.index(LookupStatus.UNVERIFIED)
    assert all(s == LookupStatus.FOUND for s in statuses[:first_missing])
    assert {answers[k].reason for k in keys[first_missing:]} == {"partial_answer"}


def test_circuit_opens_after_repeated_failures_and_closes_after_recovery(
    sim_url, sim_data, make_client
):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:3]
    client = make_client(sim_url, breaker_threshold=3, breaker_reset=0.3, max_retries=0)
    set_faults(sim_url, "down=1")
    for _ in range(3):
        assert client.lookup(keys)[keys[0]].reason == "server_error"
    assert client.breaker.state == "open"
    before = requests.get(f"{sim_url}/_faults", timeout=5)  # does not count as /v1 traffic
    assert before.status_code == 200
    started = time.monotonic()
    answer = client.lookup(keys)[keys[0]]
    assert answer.reason == "circuit_open"
    assert time.monotonic() - started < 0.1  # failed fast, no request sent

    time.sleep(0.35)  # half-open: one probe goes out, fails, and the circuit opens again
    assert client.breaker.state == "half_open"
    assert client.lookup(keys)[keys[0]].reason == "server_error"
    assert client.breaker.state == "open"

    requests.delete(f"{sim_url}/_faults", timeout=5)  # the platform recovers
    time.sleep(0.35)
    answers = client.lookup(keys)
    assert all(a.status == LookupStatus.FOUND for a in answers.values())
    assert client.breaker.state == "closed"


def test_rate_limit_honours_retry_after_then_succeeds(sim_url, sim_data, make_client):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:3]
    set_faults(sim_url, "rate_limit=1,retry_after=0.25")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)
        requests.delete(f"{sim_url}/_faults", timeout=5)  # the limit is over after the wait

    client = make_client(sim_url, sleep=sleep, max_retries=2)
    started = time.monotonic()
    answers = client.lookup(keys)
    assert time.monotonic() - started >= 0.25
    assert waits == [0.25]  # exactly the Retry-After value, not our own backoff
    assert all(a.status == LookupStatus.FOUND for a in answers.values())


def test_rate_limit_longer_than_allowed_gives_up_unverified(sim_url, sim_data, make_client):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:2]
    set_faults(sim_url, "rate_limit=1,retry_after=120")
    slept: list[float] = []
    client = make_client(sim_url, sleep=slept.append, max_retry_after=5.0)
    answers = client.lookup(keys)
    assert {a.reason for a in answers.values()} == {"rate_limited"}
    assert slept == []


def test_timeouts_are_retried_then_unverified_within_bounds(sim_url, sim_data, make_client):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:2]
    set_faults(sim_url, "timeout=1,timeout_s=0.5")
    client = make_client(sim_url, read_timeout=0.15, max_retries=1)
    started = time.monotonic()
    answers = client.lookup(keys)
    assert {a.reason for a in answers.values()} == {"timeout"}
    assert time.monotonic() - started < 1.0


def test_server_errors_are_retried_until_an_answer(sim_url, sim_data, make_client):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:2]
    set_faults(sim_url, "error=1")
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 2:
            requests.delete(f"{sim_url}/_faults", timeout=5)

    answers = make_client(sim_url, sleep=sleep, max_retries=3).lookup(keys)
    assert len(calls) == 2
    assert all(0 <= c <= 0.05 for c in calls)  # jittered backoff under the cap
    assert all(a.status == LookupStatus.FOUND for a in answers.values())


def test_unverified_answers_are_never_cached(sim_url, sim_data, make_client):
    keys = [k for k, v in _truth(sim_data).items() if v is not None][:2]
    client = make_client(sim_url, cache_ttl=60.0, max_retries=0)
    set_faults(sim_url, "down=1")
    assert client.lookup(keys)[keys[0]].status == LookupStatus.UNVERIFIED
    requests.delete(f"{sim_url}/_faults", timeout=5)
    assert client.lookup(keys)[keys[0]].status == LookupStatus.FOUND


def test_status_change_is_seen_after_invalidate(sim_url, sim_data, make_client):
    record = next(r for r in sim_data.records if r.status.value == "registered" and r.gtin)
    key = f"01:{record.gtin}/21:{record.serial}"
    client = make_client(sim_url, cache_ttl=60.0)
    assert client.lookup([key])[key].record.status.value == "registered"
    revoked = record_to_wire(record)
    revoked["status"]["value"] = "revoked"
    try:
        assert requests.post(f"{sim_url}/_records", json=revoked, timeout=5).status_code == 200
        assert client.lookup([key])[key].source == "cache"  # still the cached answer
        client.invalidate([key])
        answer = client.lookup([key])[key]
        assert answer.source == client.source
        assert answer.record is not None
        assert answer.record.status.value == "revoked"
    finally:
        requests.post(f"{sim_url}/_records", json=record_to_wire(record), timeout=5)


def test_token_is_sent_and_never_logged(sim_data, make_client):
    url, stop = start_simulator(port=0, data=sim_data, token="s3cret-token")
    try:
        keys = [k for k in _truth(sim_data) if "ABSENT" not in k][:2]
        with structlog.testing.capture_logs() as logs:
            refused = make_client(url).lookup(keys)
            accepted = make_client(url, token="s3cret-token").lookup(keys)
        assert {a.reason for a in refused.values()} == {"unauthenticated"}
        assert all(a.status != LookupStatus.UNVERIFIED for a in accepted.values())
        assert logs, "the refusal must be logged"
        assert "s3cret-token" not in repr(logs)
        assert "s3cret-token" not in repr(make_client(url, token="s3cret-token").settings)
    finally:
        stop()


def test_unreachable_platform_is_unverified_not_an_exception(make_client):
    client = make_client("http://127.0.0.1:9", connect_timeout=0.2, max_retries=1)
    key = "01:06901234567892/21:X"
    assert client.lookup([key])[key].reason in {"connection_error", "timeout"}
