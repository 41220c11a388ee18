"""P3: a request authenticated as tenant A never receives anything of tenant B; unknown and
foreign ids get the same 404. Over a thousand generated requests, both directions, every
endpoint that takes an id, listings with every filter, the web page and idempotency keys."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.jobs import run
from gateway.services import ServiceOptions, Services
from samples.hostile import manifest_csv, manifest_xlsx
from tests.factories import TextChecker, app_for, bearer, make_services, new_tenant, post_shipment

pytestmark = pytest.mark.timeout(180)

_FORMATS = ("json", "html", "csv", "xlsx", "annotated")
_ACCEPTS = ("application/json", "text/html", "text/csv", "application/vnd.ms-excel", "*/*")


@dataclass
class Tenant:
    """One tenant's key, its shipments and every string that identifies its data."""

    name: str
    key: str
    ids: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)  # ids, references, unit keys, digests


def _workbook(unit: str) -> bytes:
    # an xlsx so that the annotated-workbook download has something to annotate
    return manifest_xlsx(((f"KEY:{unit}", "unit"),))


def _fill(svc: Services, client: Any, tenant: Tenant, count: int) -> None:
    for i in range(count):
        unit = f"{tenant.name}-unit-{i}-{secrets.token_hex(3)}"
        reference = f"REF-{tenant.name}-{i}-{secrets.token_hex(3)}"
        files = [(f"{tenant.name}-{i}.csv", f"code\nKEY:{unit}\n".encode())]
        if i % 2 == 0:
            files.append((f"{tenant.name}-{i}.xlsx", _workbook(unit)))
        if i == 1:
            files[0] = (files[0][0], files[0][1] + b"BLOCK\n")
        response = post_shipment(client, tenant.key, files, reference=reference)
        assert response.status_code == 202, response.data
        body = response.get_json()
        tenant.ids.append(body["id"])
        tenant.secrets |= {body["id"], reference, unit}
        tenant.secrets |= {d["sha256"] for d in body["documents"]}
        if i < count - 1:  # the last one stays `received`: no report yet
            assert run.run_shipment(svc, body["id"]) == "done"
    declared = client.post(f"/v1/shipments/{tenant.ids[0]}/declare", headers=bearer(tenant.key))
    assert declared.status_code == 200, declared.data


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Services, Any, Tenant, Tenant]]:
    """Two tenants with five shipments each: four checked (one declared), one waiting."""
    checker = TextChecker()
    # the rate limiter is not under test here: a thousand requests must all be answered
    options = ServiceOptions(rate_limit=1_000_000, rate_burst=1_000_000)
    svc = make_services(tmp_path_factory.mktemp("tenants"), checker=checker, options=options)
    client = app_for(svc).test_client()
    a = Tenant("alpha", new_tenant(svc)[1])
    b = Tenant("bravo", new_tenant(svc)[1])
    _fill(svc, client, a, 5)
    _fill(svc, client, b, 5)
    yield svc, client, a, b
    svc.close()


def _unknown_ids(like: str) -> list[str]:
    return [
        secrets.token_hex(len(like) // 2),
        like[:-1] + ("0" if like[-1] != "0" else "1"),
        like.upper(),
        like + " ",
        "' OR '1'='1",
        "%",
        "*",
        "..",
    ]


def _id_requests(target: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(method, path, extra headers) for every id-taking endpoint."""
    base = f"/v1/shipments/{target}"
    yield "GET", base, {}
    for fmt in _FORMATS:
        for lang in ("en", "zh"):
            yield "GET", f"{base}/report?format={fmt}&lang={lang}", {}
    for accept in _ACCEPTS:
        yield "GET", f"{base}/report", {"Accept": accept}
    yield "GET", f"{base}/report?format=html&download=1", {}
    yield "POST", f"{base}/declare", {}


def _normalised(body: bytes, target: str) -> bytes:
    return body.replace(repr(target).encode(), b"<id>").replace(target.encode(), b"<id>")


def _assert_no_leak(body: bytes, other: Tenant, what: str, asked: str = "") -> None:
    """No string of the other tenant's data in `body` (the id asked for may be echoed)."""
    text = body.decode("utf-8", "replace")
    leaked = [s for s in other.secrets if s in text and s not in asked]
    assert not leaked, f"{what}: leaked {leaked[:3]}"


def test_foreign_and_unknown_ids_get_the_same_404_everywhere(
    world: tuple[Services, Any, Tenant, Tenant],
) -> None:
    _svc, client, a, b = world
    sent = 0
    for me, other in ((a, b), (b, a)):
        for target in [*other.ids, *_unknown_ids(other.ids[0])]:
            foreign = target in other.ids
            for method, path, headers in _id_requests(target):
                response = client.open(path, method=method, headers={**bearer(me.key), **headers})
                sent += 1
                assert response.status_code == 404, (me.name, path, response.status_code)
                _assert_no_leak(response.data, other, f"{me.name} {method} {path}", target)
                if foreign:
                    # the same request for an id that does not exist anywhere
                    twin = secrets.token_hex(len(target) // 2)
                    twin_response = client.open(
                        path.replace(target, twin),
                        method=method,
                        headers={**bearer(me.key), **headers},
                    )
                    sent += 1
                    assert twin_response.status_code == 404
                    assert _normalised(response.data, target) == _normalised(
                        twin_response.data, twin
                    ), path
                    assert response.headers.get("Content-Type") == twin_response.headers.get(
                        "Content-Type"
                    )
    assert sent >= 600


def test_listings_never_show_the_other_tenant(
    world: tuple[Services, Any, Tenant, Tenant],
) -> None:
    _svc, client, a, b = world
    rng = random.Random(20261126)
    sent = 0
    for me, other in ((a, b), (b, a)):
        other_page = client.get("/v1/shipments?limit=1", headers=bearer(other.key)).get_json()
        cursors = [other_page["next_cursor"], "", "x" * 40]
        references = [s for s in other.secrets if s.startswith("REF-")]
        own_refs = [s for s in me.secrets if s.startswith("REF-")]
        for _ in range(250):
            query: dict[str, str] = {}
            if rng.random() < 0.5:
                query["status"] = rng.choice(["received", "extracting", "done", "rejected"])
            if rng.random() < 0.4:
                query["verdict"] = rng.choice(["clear", "hold", "block"])
            if rng.random() < 0.6:
                query["reference"] = rng.choice(references + own_refs + ["REF-", "%", "_"])
            if rng.random() < 0.3:
                query["limit"] = str(rng.randint(1, 200))
            if rng.random() < 0.2 and cursors[0]:
                query["cursor"] = rng.choice(cursors)
            if rng.random() < 0.2:
                query["created_after"] = "2000-01-01T00:00:00+00:00"
            response = client.get("/v1/shipments", query_string=query, headers=bearer(me.key))
            sent += 1
            assert response.status_code < 500, (query, response.data[:300])
            _assert_no_leak(response.data, other, f"{me.name} list {query}")
            if response.status_code == 200:
                ids = {item["id"] for item in response.get_json()["items"]}
                assert ids <= set(me.ids), query
        # the whole unfiltered listing is exactly one's own shipments
        listed = client.get("/v1/shipments?limit=200", headers=bearer(me.key)).get_json()
        assert {item["id"] for item in listed["items"]} == set(me.ids)
    assert sent >= 500


def test_the_web_page_hides_foreign_shipments_like_unknown_ones(
    world: tuple[Services, Any, Tenant, Tenant],
) -> None:
    svc, _client, a, b = world
    browser = app_for(svc).test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    signed_in = browser.post("/login", data={"api_key": a.key, "csrf_token": token.group(1)})
    assert signed_in.status_code in (302, 303), signed_in.data[:300]
    own = browser.get(f"/shipments/{a.ids[0]}")
    assert own.status_code == 200
    for target in b.ids:
        foreign = browser.get(f"/shipments/{target}")
        twin_id = secrets.token_hex(len(target) // 2)
        twin = browser.get(f"/shipments/{twin_id}")
        assert foreign.status_code == twin.status_code == 404
        _assert_no_leak(foreign.data, b, "web page", target)
        assert _normalised(foreign.data, target) == _normalised(twin.data, twin_id)


def test_idempotency_keys_and_declared_history_are_per_tenant(
    world: tuple[Services, Any, Tenant, Tenant], tmp_path: Path
) -> None:
    svc, client, a, b = world
    files = [("same.csv", manifest_csv())]
    key = f"shared-{secrets.token_hex(4)}"
    first = post_shipment(client, b.key, files, headers={"Idempotency-Key": key}, reference="r")
    assert first.status_code == 202
    second = post_shipment(client, a.key, files, headers={"Idempotency-Key": key}, reference="r")
    assert second.status_code == 202
    assert second.headers.get("Idempotent-Replayed") is None
    assert second.get_json()["id"] != first.get_json()["id"]
    b.secrets.add(first.get_json()["id"])
    _assert_no_leak(second.data, b, "idempotent replay")

    # B declared its first shipment; A ships the very same unit: A must not learn of it
    unit = next(s for s in b.secrets if s.startswith("bravo-unit-0-"))
    response = post_shipment(client, a.key, [("dup.csv", f"code\nKEY:{unit}\n".encode())])
    assert response.status_code == 202
    shipment_id = response.get_json()["id"]
    assert run.run_shipment(svc, shipment_id) == "done"
    checker = svc.checker
    assert isinstance(checker, TextChecker)
    assert checker.histories[shipment_id] == {}
    # while B shipping it again does see its own declaration
    again = post_shipment(client, b.key, [("dup.csv", f"code\nKEY:{unit}\n".encode())])
    again_id = again.get_json()["id"]
    assert run.run_shipment(svc, again_id) == "done"
    assert checker.histories[again_id] == {unit: b.ids[0]}
