"""The HTTP adapter's parts: circuit breaker, cache, batching, key handling."""

from __future__ import annotations

import pytest

from gateway.domain import Lookup, LookupStatus
from gateway.platform_client.http import CircuitBreaker, TTLCache, _retry_after
from gateway.platform_client.simdata import generate
from gateway.platform_client.simulator import start_simulator


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_at_threshold_and_probes_once_when_half_open():
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, reset_after=10, clock=clock)
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now += 10
    assert breaker.state == "half_open"
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # nobody else while it is out
    breaker.failure()
    assert breaker.state == "open"
    clock.now += 10
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_breaker_success_resets_the_failure_count():
    breaker = CircuitBreaker(threshold=2, reset_after=10, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"


def test_cache_keeps_answers_for_ttl_and_never_unverified():
    clock = Clock()
    cache = TTLCache(ttl=5, clock=clock)
    found = Lookup("k1", LookupStatus.NOT_FOUND, reason="code_not_found")
    cache.put(found)
    cache.put(Lookup("k2", LookupStatus.UNVERIFIED, reason="timeout"))
    assert cache.get("k1") == found
    assert cache.get("k2") is None
    clock.now += 5
    assert cache.get("k1") is None
    cache.put(found)
    cache.invalidate(["k1"])
    assert cache.get("k1") is None


@pytest.mark.parametrize(
    ("value", "seconds"), [("2", 2.0), ("0.5", 0.5), (None, None), ("Wed, 21 Oct 2015", None)]
)
def test_retry_after_header(value, seconds):
    assert _retry_after(value) == seconds


def test_large_lookups_are_split_into_batches_sent_in_parallel(make_client):
    data = generate(seed=2, size=1200)
    url, stop = start_simulator(port=0, data=data)
    try:
        keys = [f"01:{r.gtin}/21:{r.serial}" for r in data.records]
        client = make_client(url, batch_size=500, concurrency=3, cache_ttl=60.0)
        answers = client.lookup(keys)
        assert list(answers) == keys
        assert all(a.status == LookupStatus.FOUND for a in answers.values())
        again = client.lookup(keys[:10])
        assert {a.source for a in again.values()} == {"cache"}
    finally:
        stop()


def test_keys_that_name_no_unit_are_answered_without_a_request(make_client):
    client = make_client("http://127.0.0.1:9", max_retries=0)
    answers = client.lookup(["01:06901234567892", "garbage key", "01:06901234567892/10:L"])
    assert {a.reason for a in answers.values()} == {"not_a_unit_key", "invalid_code_syntax"}


def test_build_platform_client_picks_the_backend(tmp_path, simulator):
    from gateway.config import Settings
    from gateway.platform_client import build_platform_client
    from gateway.platform_client.http import HttpPlatformClient
    from gateway.platform_client.local import LocalRegistry

    registry = build_platform_client(Settings(data_dir=str(tmp_path)))
    assert isinstance(registry, LocalRegistry)
    assert registry.source == "registry"
    sim = build_platform_client(Settings(platform_backend="simulator", platform_url=simulator))
    assert isinstance(sim, HttpPlatformClient)
    assert sim.source == "simulator"
    assert sim.settings.token == ""
    http = build_platform_client(
        Settings(platform_backend="http", platform_url=simulator, platform_token="t0k")
    )
    assert isinstance(http, HttpPlatformClient)
    assert http.source == "platform"
    assert "t0k" not in repr(http.settings)
    with pytest.raises(ValueError, match="needs GATEWAY_PLATFORM_URL"):
        build_platform_client(Settings(platform_backend="http"))
    with pytest.raises(ValueError, match="Unknown platform backend 'fixture'"):
        build_platform_client(Settings(platform_backend="fixture"))
