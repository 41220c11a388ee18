"""P1 and P2 under faults, on 127.0.0.1: the platform failing in every mode, the circuit opening
and recovering, SMTP down for a while. (Worker crashes and Redis loss: test_crashes.py.)"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.domain import CodeOccurrence, ExtractionMethod, RegistrationStatus, SourceRef
from gateway.jobs import outbox, run
from gateway.pipeline import ShipmentFacts, check_codes, check_shipment
from gateway.platform_client.http import HttpPlatformClient, HttpSettings
from gateway.platform_client.simdata import SimData, generate
from gateway.platform_client.simulator import start_simulator
from samples.hostile import manifest_csv
from samples.shipments import clean_to_germany
from tests.factories import app_for, make_services, new_tenant, post_shipment

from .conftest import UNLIMITED

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# every way the simulator can fail a whole request
FAILURE_MODES = (
    "error=1",
    "down=1",
    "timeout=1,timeout_s=0.6",
    "rate_limit=1,retry_after=0.05",
    "truncate=1",
    "malformed=1",
)


@pytest.fixture(scope="module")
def sim_data() -> SimData:
    return generate(seed=11, size=30)


@pytest.fixture(scope="module")
def sim_url(sim_data: SimData) -> Iterator[str]:
    url, stop = start_simulator(port=0, data=sim_data)
    yield url
    stop()


def _faults(url: str, spec: str) -> None:
    if spec:
        reply = requests.post(f"{url}/_faults", json={"spec": spec}, timeout=5)
    else:
        reply = requests.delete(f"{url}/_faults", timeout=5)
    assert reply.status_code == 200, reply.text


def _client(url: str, **overrides: Any) -> HttpPlatformClient:
    options: dict[str, Any] = {
        "connect_timeout": 0.5,
        "read_timeout": 0.3,
        "backoff_base": 0.01,
        "backoff_max": 0.02,
        "max_retries": 1,
        "breaker_threshold": 1000,
        "cache_ttl": 0.0,
    }
    options.update(overrides)
    return HttpPlatformClient(HttpSettings(base_url=url, **options))


def _registered_codes(data: SimData, count: int = 8) -> list[CodeOccurrence]:
    """Element strings of registered units the simulator knows (found when all is well)."""
    codes: list[CodeOccurrence] = []
    for record in data.records:
        if record.status == RegistrationStatus.REGISTERED and record.gtin and record.serial:
            raw = f"(01){record.gtin}(21){record.serial}"
            ref = SourceRef(document_id="input", row=len(codes) + 1)
            codes.append(CodeOccurrence(raw=raw, source=ref, method=ExtractionMethod.INPUT))
    assert len(codes) >= count, "the simulated data set has too few registered units"
    return codes[:count]


def _check(client: HttpPlatformClient, codes: list[CodeOccurrence]) -> Any:
    facts = ShipmentFacts(shipment_id="fault-test", destination="DE", transport_mode="sea")
    return check_codes(codes, platform=client, facts=facts, same_label=False)


def test_all_well_the_codes_are_verified(sim_url: str, sim_data: SimData) -> None:
    # the baseline: without faults these very codes are positively verified
    _faults(sim_url, "")
    client = _client(sim_url)
    try:
        report = _check(client, _registered_codes(sim_data))
    finally:
        client.close()
    assert report.counts["verified"] == len(report.units) > 0


@pytest.mark.parametrize("spec", FAILURE_MODES)
def test_no_code_is_verified_without_a_positive_answer(
    sim_url: str, sim_data: SimData, spec: str
) -> None:
    _faults(sim_url, spec)
    client = _client(sim_url)
    try:
        report = _check(client, _registered_codes(sim_data))
    finally:
        client.close()
        _faults(sim_url, "")
    assert report.units
    assert report.counts["verified"] == 0, (spec, report.counts)
    assert {u["lookup"] for u in report.units} == {"unverified"}, report.units
    assert all(u["reason"] for u in report.units)
    assert str(report.verdict) != "clear"


def test_partial_answers_verify_only_what_was_answered(sim_url: str, sim_data: SimData) -> None:
    _faults(sim_url, "partial=1")
    client = _client(sim_url)
    try:
        report = _check(client, _registered_codes(sim_data))
    finally:
        client.close()
        _faults(sim_url, "")
    lookups = [u["lookup"] for u in report.units]
    assert "unverified" in lookups, lookups
    assert {u["reason"] for u in report.units if u["lookup"] == "unverified"} == {"partial_answer"}
    assert str(report.verdict) != "clear"


def test_the_circuit_opens_fails_closed_and_recovers(sim_url: str, sim_data: SimData) -> None:
    codes = _registered_codes(sim_data, 3)
    client = _client(sim_url, breaker_threshold=2, breaker_reset=1.0, max_retries=0)
    try:
        _faults(sim_url, "down=1")
        for _ in range(3):
            _check(client, codes)
        assert client.breaker.state == "open"
        _faults(sim_url, "")  # the platform is back, but the circuit is still open
        report = _check(client, codes)
        assert {u["reason"] for u in report.units} == {"circuit_open"}
        assert report.counts["verified"] == 0
        assert str(report.verdict) != "clear"
        time.sleep(1.2)  # past the reset time: one probe goes out and closes the circuit
        report = _check(client, codes)
        assert client.breaker.state == "closed"
        assert report.counts["verified"] == len(codes)
    finally:
        client.close()
        _faults(sim_url, "")


# -- the positive control: a shipment that is clear when nothing fails -------------------------


@pytest.fixture(scope="module")
def clean_sim() -> Iterator[tuple[str, Any]]:
    """A simulator holding exactly the registrations of a complete, correct shipment."""
    sample = clean_to_germany()
    data = SimData(records=sample.records, unsupported=frozenset(), seed=0)
    url, stop = start_simulator(port=0, data=data)
    yield url, sample
    stop()


def _check_sample(url: str, sample: Any) -> Any:
    client = _client(url)
    try:
        return check_shipment(
            list(sample.documents), platform=client, facts=sample.facts, extract=sample.extract
        )
    finally:
        client.close()


def test_the_clean_shipment_is_clear_when_nothing_fails(clean_sim: tuple[str, Any]) -> None:
    # the control: "fail closed" below means something only because this is clear
    url, sample = clean_sim
    _faults(url, "")
    report = _check_sample(url, sample)
    assert str(report.verdict) == "clear", [(f.code, f.message_en) for f in report.findings]
    assert report.counts["verified"] == report.counts["units"] == 3


@pytest.mark.parametrize("spec", [*FAILURE_MODES, "partial=1"])
def test_the_same_clean_shipment_is_never_clear_when_the_platform_fails(
    clean_sim: tuple[str, Any], spec: str
) -> None:
    url, sample = clean_sim
    _faults(url, spec)
    try:
        report = _check_sample(url, sample)
    finally:
        _faults(url, "")
    assert str(report.verdict) == "hold", (spec, report.verdict)
    assert report.counts["unverified"] >= 1, (spec, report.counts)
    assert report.counts["verified"] < report.counts["units"]
    assert report.counts["block"] == 0  # held only for what could not be verified


# -- SMTP down for a while ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Clock:
    """A clock the test moves forward, so that retry backoff takes no real time."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_smtp_down_then_up_delivers_every_email_exactly_once(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    port = _free_port()
    svc = make_services(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", options=UNLIMITED)
    clock = _Clock()
    svc.clock = clock
    try:
        _tenant, key = new_tenant(svc)
        client = app_for(svc).test_client()
        recipients = ["ops@example.com", "broker@example.org"]
        ids = []
        for i in range(3):
            response = post_shipment(
                client, key, [(f"m{i}.csv", manifest_csv())], reference=f"S{i}", notify=recipients
            )
            assert response.status_code == 202, response.data
            ids.append(response.get_json()["id"])
        for shipment_id in ids:
            assert run.run_shipment(svc, shipment_id) == "done"  # delivery fails: SMTP is down
        for _ in range(3):  # a few rounds while the server is still down
            clock.now += dt.timedelta(minutes=30)
            outcome = outbox.deliver_outbox(svc)
            assert outcome.get("pending") == len(ids) * len(recipients), outcome

        received: list[Any] = []

        class Recorder(Sink):
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                received.append(envelope)
                return "250 OK"

        controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            for _ in range(4):  # the outbox loop keeps running; nothing goes out twice
                clock.now += dt.timedelta(hours=1)
                outbox.deliver_outbox(svc)
        finally:
            controller.stop()
        delivered = sorted((tuple(e.rcpt_tos), e.content) for e in received)
        assert len(received) == len(ids) * len(recipients), [e.rcpt_tos for e in received]
        assert len({content for _to, content in delivered}) == len(received)  # no duplicates
        per_recipient = sorted(to for e in received for to in e.rcpt_tos)
        assert per_recipient == sorted(recipients * len(ids))
    finally:
        svc.close()
