"""The simulator's endpoints (assumed v1 contract) and fault switches, through Flask's client."""

from __future__ import annotations

import pytest

from gateway.domain import RegistrationRecord
from gateway.platform_client.contract import MAX_BATCH, record_from_wire
from gateway.platform_client.keys import key_to_code, record_keys
from gateway.platform_client.simdata import generate
from gateway.platform_client.simulator import FaultSpec, create_simulator_app, simulator_state

DATA = generate(seed=4, size=30)


@pytest.fixture
def client():
    return create_simulator_app(DATA).test_client()


def _key_of(record: RegistrationRecord) -> str:
    return f"01:{record.gtin}/21:{record.serial}"


def test_generated_data_holds_every_status_and_the_tricky_cases():
    statuses = {r.status for r in DATA.records}
    assert len(statuses) == 8
    categories = {r.category for r in DATA.records}
    assert {"nev_traction", "ci_ess", "residential_ess", "lmt"} <= categories
    gb_owners: dict[str, set[str]] = {}
    for record in DATA.records:
        if record.gb_code:
            gb_owners.setdefault(record.gb_code, set()).add(record.record_id)
    assert any(len(ids) > 1 for ids in gb_owners.values())
    assert {r.gb_code_scheme for r in DATA.records} >= {"GB_T_34014", "GB_T_45565"}
    assert DATA.unsupported


def test_same_seed_same_data_other_seed_other_codes():
    assert generate(seed=4, size=30) == DATA
    assert {r.gtin for r in generate(seed=5, size=30).records} != {r.gtin for r in DATA.records}


def test_get_code_answers_record_404_409_422_400(client):
    record = DATA.records[0]
    ok = client.get(f"/v1/codes/{key_to_code(_key_of(record))}")
    assert ok.status_code == 200
    assert ok.headers["X-Spec-Version"] == "v1"
    assert record_from_wire(ok.get_json(), "simulator").record_id == record.record_id
    assert client.get("/v1/codes/01/06901234567892/21/NONE").get_json()["error"] == "CODE_NOT_FOUND"
    conflict = next(r for r in DATA.records if r.record_id.endswith("12"))
    reply = client.get(f"/v1/codes/{conflict.gb_code}")
    assert (reply.status_code, reply.get_json()["error"]) == (409, "CODE_CONFLICT")
    unsupported = next(iter(DATA.unsupported))
    assert client.get(f"/v1/codes/{key_to_code(unsupported)}").status_code == 422
    bad = client.get("/v1/codes/not-a-code")
    assert (bad.status_code, bad.get_json()["error"]) == (400, "INVALID_CODE_SYNTAX")
    assert "request_id" in bad.get_json()


def test_serial_with_a_slash_survives_the_wire_form():
    key = "01:06901234567892/21:A/B"
    code = key_to_code(key)
    assert code == "01/06901234567892/21/A%2FB"
    from gateway.platform_client.keys import code_to_key

    assert code_to_key(code) == key


def test_batch_lookup_answers_in_request_order(client):
    keys = [_key_of(r) for r in DATA.records[:5]] + ["01:06901234567892/21:NONE"]
    reply = client.post("/v1/codes:batchLookup", json={"codes": [key_to_code(k) for k in keys]})
    body = reply.get_json()
    assert body["partial"] is False
    assert [r["code"] for r in body["results"]] == [key_to_code(k) for k in keys]
    assert [r["found"] for r in body["results"]] == [True] * 5 + [False]
    assert body["results"][-1]["error"] == "CODE_NOT_FOUND"


def test_batch_over_the_limit_is_refused(client):
    reply = client.post("/v1/codes:batchLookup", json={"codes": ["x"] * (MAX_BATCH + 1)})
    assert (reply.status_code, reply.get_json()["error"]) == (400, "BATCH_TOO_LARGE")
    assert client.post("/v1/codes:batchLookup", json={"codes": "x"}).status_code == 400


def test_registrations_by_id_and_paged_by_lot_and_design(client):
    record = DATA.records[3]
    assert client.get(f"/v1/registrations/{record.record_id}").get_json()["record_id"] == (
        record.record_id
    )
    assert client.get("/v1/registrations/NOPE").status_code == 404
    design = record.design_id
    expected = sorted(r.record_id for r in DATA.records if r.design_id == design)
    got: list[str] = []
    token = "0"
    while token is not None:
        page = client.get(f"/v1/registrations?design_id={design}&page_token={token}").get_json()
        got += [r["record_id"] for r in page["records"]]
        token = page["next_page_token"]
    assert got == expected
    assert client.get("/v1/registrations").status_code == 400


def test_health_reports_the_spec_version(client):
    body = client.get("/v1/health").get_json()
    assert (body["status"], body["spec_version"]) == ("ok", "v1")


def test_faults_switch_at_run_time_and_per_request(client):
    assert client.post("/_faults", json={"spec": "down=1"}).status_code == 200
    assert client.get("/v1/health").status_code == 503
    assert client.delete("/_faults").get_json()["down"] is False
    assert client.get("/v1/health").status_code == 200
    limited = client.get("/v1/health", headers={"X-Sim-Faults": "rate_limit=1,retry_after=3"})
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert client.post("/_faults", json={"error": 2}).status_code == 400
    assert client.post("/_faults", json={"spec": "nonsense=1"}).status_code == 400


def test_faults_are_deterministic_with_a_seed():
    def run() -> list[int]:
        app = create_simulator_app(DATA, FaultSpec(error=0.5))
        c = app.test_client()
        return [c.get("/v1/health").status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert {200, 500, 503} & set(first) != {200}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("error=1.5", "between 0 and 1"),
        ("latency_ms=-1", "must not be negative"),
        ("error=lots", "needs a number"),
        ("bogus", "Unknown fault"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        FaultSpec.parse(spec)


def test_records_can_change_while_running():
    app = create_simulator_app(DATA)
    state = simulator_state(app)
    record = DATA.records[0]
    from dataclasses import replace

    from gateway.domain import RegistrationStatus

    state.put(replace(record, status=RegistrationStatus.SUSPENDED))
    key = next(iter(record_keys(record)))
    assert state.registry.lookup([key])[key].record.status == RegistrationStatus.SUSPENDED  # type: ignore[union-attr]
