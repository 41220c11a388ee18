"""Guessing API keys is throttled, per source address and per key id, without letting an
attacker lock the owner of a real key out; and a request without credentials is refused
(401) before anything about it is validated.

Run with the buckets in memory (the embedded default) and in a real Redis (shared by every
web process)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.services import ServiceOptions, Services
from tests.factories import app_for, bearer, make_services, new_tenant

# small numbers so that the test sees the buckets empty and refill within seconds
OPTIONS = dict(
    rate_limit=1_000_000,
    rate_burst=1_000_000,
    auth_fail_rate=6,  # one back every 10 s per address
    auth_fail_burst=10,
    key_fail_rate=60,  # one back every second per key id
    key_fail_burst=3,
)


@pytest.fixture(params=["memory", "redis"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Services, str]]:
    extra: dict[str, Any] = {}
    if request.param == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_url")
        request.applymarker(pytest.mark.integration)
    options = ServiceOptions(queue_prefix=f"auth{secrets.token_hex(3)}", **OPTIONS)  # type: ignore[arg-type]
    svc = make_services(tmp_path, options=options, **extra)
    _tenant, key = new_tenant(svc)
    yield svc, key
    svc.close()


def _get(client: FlaskClient, key: str, source: str, path: str = "/v1/shipments") -> Any:
    return client.get(path, headers=bearer(key), environ_base={"REMOTE_ADDR": source})


def _wrong(key: str) -> str:
    """The same key id with a wrong secret."""
    prefix, key_id, _secret = key.split("_", 2)
    return f"{prefix}_{key_id}_{secrets.token_urlsafe(32)}"


def _random_key() -> str:
    return f"gw_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


def test_the_probe_of_400_wrong_keys_is_throttled_with_retry_after(
    service: tuple[Services, str],
) -> None:
    svc, key = service
    client = app_for(svc).test_client()
    assert _get(client, key, "198.51.100.2").status_code == 200  # where the owner works
    statuses = []
    for i in range(400):  # half with the real key id and a wrong secret, as in the probe
        guess = _wrong(key) if i % 2 else _random_key()
        statuses.append(_get(client, guess, "203.0.113.7"))
    codes = [r.status_code for r in statuses]
    assert set(codes) == {401, 429}, set(codes)
    assert codes.count(401) <= OPTIONS["auth_fail_burst"] + 2, codes.count(401)
    limited = next(r for r in statuses if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"
    # the source is throttled, not the service: another address still gets its answer,
    # and the owner keeps working from where the key is used
    assert _get(client, _random_key(), "198.51.100.1").status_code == 401
    assert _get(client, key, "198.51.100.2").status_code == 200
    assert _get(client, key, "203.0.113.7").status_code == 429  # the guessing address


def test_guesses_at_one_key_id_from_many_addresses_are_throttled_per_key_id(
    service: tuple[Services, str],
) -> None:
    svc, key = service
    client = app_for(svc).test_client()
    codes = [
        _get(client, _wrong(key), f"192.0.2.{n}").status_code for n in range(1, 30)
    ]  # every guess from a new address: only the key id's bucket can stop them
    assert codes[: OPTIONS["key_fail_burst"]] == [401] * OPTIONS["key_fail_burst"]
    assert codes.count(429) >= 20, codes
    retry = _get(client, _wrong(key), "192.0.2.200")
    assert retry.status_code == 429
    assert 1 <= int(retry.headers["Retry-After"]) <= 2
    # other keys are not affected
    _tenant, other = new_tenant(svc)
    assert _get(client, other, "192.0.2.201").status_code == 200


def test_an_attacker_cannot_lock_the_owner_of_a_real_key_out(
    service: tuple[Services, str],
) -> None:
    svc, key = service
    client = app_for(svc).test_client()
    owner = "10.1.1.1"
    assert _get(client, key, owner).status_code == 200  # the owner has used the key here
    for n in range(1, 40):  # a sustained attack on the key id from many addresses
        _get(client, _wrong(key), f"192.0.2.{n}")
        # where the key is used it keeps working, all through the attack
        assert _get(client, key, owner).status_code == 200, n
    # from an address the key was never used at, the key id is throttled during the attack,
    assert _get(client, key, "10.2.2.2").status_code == 429
    # but not for long: one second of quiet and the owner is in
    time.sleep(1.2)
    assert _get(client, key, "10.2.2.2").status_code == 200
    # a failure from the owner's address forgets it: no free guesses from there
    assert _get(client, _wrong(key), owner).status_code in (401, 429)
    for _ in range(OPTIONS["key_fail_burst"] + 1):
        _get(client, _wrong(key), "192.0.2.250")
    assert _get(client, _wrong(key), owner).status_code == 429


def test_credentials_are_checked_before_the_query_and_the_body(
    service: tuple[Services, str],
) -> None:
    svc, _key = service
    client = app_for(svc).test_client()
    # a key in the query string is no credential, and the unknown parameter is not looked at
    response = client.get("/v1/shipments?api_key=gw_x_y&limit=abc")
    assert response.status_code == 401, response.data[:200]
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for method, path, kwargs in (
        ("post", "/v1/codes/check", {"data": "not json", "content_type": "application/json"}),
        ("post", "/v1/shipments", {"data": {"destination": "ZZZ"}}),
        ("get", "/v1/shipments/x/report?format=nonsense", {}),
        ("post", "/v1/scans", {"data": b"not an image", "content_type": "image/jpeg"}),
    ):
        answered = getattr(client, method)(path, **kwargs)
        assert answered.status_code == 401, (path, answered.status_code, answered.data[:200])
    # the public document stays public
    assert client.get("/v1/openapi.json").status_code == 200
