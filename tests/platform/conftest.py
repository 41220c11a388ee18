"""Fixtures of the registration look-up tests: data sets, a simulator on 127.0.0.1, clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from gateway.platform_client.http import HttpPlatformClient, HttpSettings
from gateway.platform_client.simdata import SimData, generate
from gateway.platform_client.simulator import FaultSpec, start_simulator


@pytest.fixture(scope="module")
def sim_data() -> SimData:
    return generate(seed=7, size=40)


@pytest.fixture(scope="module")
def simulator(sim_data: SimData) -> Iterator[str]:
    """A simulator over real HTTP on a free port; faults reset after each test using it."""
    url, stop = start_simulator(port=0, data=sim_data)
    yield url
    stop()


@pytest.fixture
def sim_url(simulator: str) -> Iterator[str]:
    yield simulator
    requests.delete(f"{simulator}/_faults", timeout=5)


def set_faults(url: str, spec: str) -> None:
    """Switch the running simulator's faults."""
    reply = requests.post(f"{url}/_faults", json={"spec": spec}, timeout=5)
    assert reply.status_code == 200, reply.text


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpPlatformClient]]:
    """Clients with small timeouts and fast backoff, closed after the test."""
    made: list[HttpPlatformClient] = []

    def make(url: str, **overrides: object) -> HttpPlatformClient:
        options: dict[str, object] = {
            "connect_timeout": 1.0,
            "read_timeout": 1.0,
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "max_retries": 2,
            "breaker_threshold": 1000,
            "cache_ttl": 0.0,
        }
        sleep = overrides.pop("sleep", None)
        options.update(overrides)
        client = HttpPlatformClient(
            HttpSettings(base_url=url, **options),  # type: ignore[arg-type]
            **({"sleep": sleep} if sleep else {}),  # type: ignore[arg-type]
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def no_faults() -> FaultSpec:
    return FaultSpec()


@pytest.fixture
def tmp_registry_csv(tmp_path: Path, sim_data: SimData) -> Path:
    from samples.registry import write_registry

    return write_registry(tmp_path / "registry.csv", sim_data.records)
