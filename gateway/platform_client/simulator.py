"""A simulated national platform speaking the assumed v1 contract, with fault injection.

For development, demos and fault tests. Faults are drawn per request from a seeded generator,
so a run with the same seed and the same request order sees the same faults. They are set at
start (`--faults`), switched at run time (`POST /_faults`) or per request (`X-Sim-Faults`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler, make_server

from gateway.domain import RegistrationRecord
from gateway.platform_client import contract
from gateway.platform_client.keys import code_to_key
from gateway.platform_client.local import InMemoryRegistry
from gateway.platform_client.simdata import SimData, generate

FAULT_HEADER = "X-Sim-Faults"
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Which faults to inject. Rates are probabilities per request (0..1)."""

    latency_ms: float = 0.0  # added to every request
    error: float = 0.0  # answer 500 INTERNAL or 503 MAINTENANCE
    rate_limit: float = 0.0  # answer 429 RATE_LIMITED with Retry-After
    retry_after: float = 1.0  # seconds, in Retry-After
    timeout: float = 0.0  # sleep `timeout_s` before answering (past the client's read timeout)
    timeout_s: float = 5.0
    truncate: float = 0.0  # cut the JSON body short
    malformed: float = 0.0  # well-formed HTTP, broken contract (see `_malform`)
    partial: float = 0.0  # a batch answers only some codes
    down: bool = False  # every request 503

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Read "error=0.2,rate_limit=0.1,retry_after=1,down=1" (empty: no faults).

        Raises ValueError naming the bad part.
        """
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, raw = part.partition("=")
            name = name.strip().replace("-", "_")
            if name not in known:
                msg = f"Unknown fault {name!r} in {spec!r}; expected one of {sorted(known)}."
                raise ValueError(msg)
            if name == "down":
                values[name] = raw.strip().lower() in ("", "1", "true", "yes", "on")
                continue
            try:
                values[name] = float(raw)
            except ValueError:
                msg = f"Fault {name!r} needs a number, got {raw!r}."
                raise ValueError(msg) from None
        return cls(**values).checked()

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> FaultSpec:
        """Read a JSON object of the same names as `parse`."""
        return cls.parse(",".join(f"{k}={v}" for k, v in data.items()))

    def checked(self) -> FaultSpec:
        """Self, after checking that rates lie in 0..1 and durations are not negative."""
        for name in ("error", "rate_limit", "timeout", "truncate", "malformed", "partial"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                msg = f"Fault rate {name}={rate!r} must lie between 0 and 1."
                raise ValueError(msg)
        for name in ("latency_ms", "retry_after", "timeout_s"):
            if getattr(self, name) < 0:
                msg = f"Fault {name}={getattr(self, name)!r} must not be negative."
                raise ValueError(msg)
        return self

    def describe(self) -> dict[str, object]:
        """The spec as a JSON object."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class SimulatorState:
    """The simulator's data and fault switches, shared by its request threads."""

    def __init__(self, data: SimData, faults: FaultSpec, token: str = ""):
        self.registry = InMemoryRegistry(data.records, source="simulator")
        self.unsupported = set(data.unsupported)
        self.faults = faults
        self.seed = data.seed
        self.token = token
        self._wire: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self.requests = 0

    def next_rng(self) -> random.Random:
        """A generator for one request, seeded by (seed, request number)."""
        with self._lock:
            self._counter += 1
            self.requests += 1
            return random.Random(f"{self.seed}:{self._counter}")

    def wire(self, record: RegistrationRecord) -> dict[str, Any]:
        """The v1 JSON of a record, built once (the batch endpoint is the hot path)."""
        cached = self._wire.get(record.record_id)
        if cached is None:
            cached = contract.record_to_wire(record)
            self._wire[record.record_id] = cached
        return cached

    def put(self, record: RegistrationRecord) -> None:
        """Add or replace a record (status changes during a test)."""
        with self._lock:
            self.registry.add(replace(record, source="simulator"))
            self._wire.pop(record.record_id, None)

    def answer(self, code: str) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for one code, as GET /v1/codes/{code} answers it."""
        key = code_to_key(code)
        if key is None:
            return 400, {"error": "INVALID_CODE_SYNTAX", "message": f"cannot read {code!r}"}
        if key in self.unsupported:
            msg = "the platform does not register this product category"
            return 422, {"error": "UNSUPPORTED_CATEGORY", "message": msg}
        found = self.registry.resolve(key)
        if not found:
            return 404, {"error": "CODE_NOT_FOUND", "message": f"no registration for {code!r}"}
        if len({r.record_id for r in found}) > 1:
            ids = sorted(r.record_id for r in found)
            return 409, {"error": "CODE_CONFLICT", "message": f"{code!r} is on records {ids}"}
        return 200, self.wire(found[0])


def create_simulator_app(
    data: SimData | None = None, faults: FaultSpec | None = None, token: str = ""
) -> Flask:
    """The simulator as a Flask app. `token`, when set, is required as a bearer token."""
    state = SimulatorState(data or generate(), faults or FaultSpec(), token)
    app = Flask("gateway.platform_client.simulator")
    app.extensions["platform_sim"] = state

    def reply(status: int, body: object, headers: Mapping[str, str] | None = None) -> Response:
        if isinstance(body, dict) and "error" in body and "request_id" not in body:
            body = {**body, "request_id": f"sim-{state.requests}"}
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return Response(text, status, headers=headers, mimetype="application/json")

    @app.before_request
    def inject_before() -> Response | None:
        if not request.path.startswith("/v1/"):
            return None
        spec = _request_faults(state)
        rng = state.next_rng()
        request.environ["sim.faults"] = (spec, rng)
        if state.token and request.headers.get("Authorization") != f"Bearer {state.token}":
            return reply(401, {"error": "UNAUTHENTICATED", "message": "bearer token required"})
        if spec.latency_ms:
            time.sleep(spec.latency_ms / 1000)
        if spec.down:
            return reply(503, {"error": "MAINTENANCE", "message": "down for maintenance"})
        if rng.random() < spec.timeout:
            time.sleep(spec.timeout_s)
        if rng.random() < spec.error:
            if rng.random() < 0.5:
                return reply(500, {"error": "INTERNAL", "message": "simulated failure"})
            return reply(503, {"error": "MAINTENANCE", "message": "simulated maintenance"})
        if rng.random() < spec.rate_limit:
            wait = f"{spec.retry_after:g}"
            headers = {"Retry-After": wait, "X-RateLimit-Limit": "10"}
            headers |= {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": wait}
            return reply(429, {"error": "RATE_LIMITED", "message": "slow down"}, headers)
        return None

    @app.after_request
    def inject_after(response: Response) -> Response:
        response.headers[contract.SPEC_HEADER] = contract.SPEC_VERSION
        drawn = request.environ.get("sim.faults")
        if drawn is None or response.status_code != 200:
            return response
        spec, rng = drawn
        if rng.random() < spec.truncate:
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
        elif rng.random() < spec.malformed:
            _malform(response, rng)
        return response

    @app.get("/v1/health")
    def health() -> Response:
        body = {"status": "ok", "spec_version": contract.SPEC_VERSION, "maintenance": None}
        return reply(200, body)

    @app.get("/v1/codes/<path:code>")
    def get_code(code: str) -> Response:
        return reply(*state.answer(code))

    @app.post("/v1/codes:batchLookup")
    def batch_lookup() -> Response:
        payload = request.get_json(silent=True)
        codes = payload.get("codes") if isinstance(payload, dict) else None
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            return reply(400, {"error": "INVALID_REQUEST", "message": "expected {codes: [str]}"})
        if len(codes) > contract.MAX_BATCH:
            msg = f"{len(codes)} codes; at most {contract.MAX_BATCH} per batch"
            return reply(400, {"error": "BATCH_TOO_LARGE", "message": msg})
        results: list[dict[str, Any]] = []
        for code in codes:
            status, body = state.answer(code)
            if status == 200:
                results.append({"code": code, "found": True, "record": body})
            else:
                results.append({"code": code, "found": False, "error": body["error"]})
        partial = False
        spec, rng = request.environ["sim.faults"]
        if results and rng.random() < spec.partial:
            keep = rng.randrange(len(results))
            results = [r for i, r in enumerate(results) if i < keep]
            partial = True
        return reply(200, {"results": results, "partial": partial})

    @app.get("/v1/registrations/<record_id>")
    def get_registration(record_id: str) -> Response:
        record = state.registry.get(record_id)
        if record is None:
            msg = f"no record {record_id!r}"
            return reply(404, {"error": "RECORD_NOT_FOUND", "message": msg})
        return reply(200, state.wire(record))

    @app.get("/v1/registrations")
    def list_registrations() -> Response:
        lot = request.args.get("lot") or None
        design_id = request.args.get("design_id") or None
        if lot is None and design_id is None:
            msg = "give lot and/or design_id"
            return reply(400, {"error": "INVALID_REQUEST", "message": msg})
        token = request.args.get("page_token", "0")
        if not token.isdigit():
            return reply(400, {"error": "INVALID_REQUEST", "message": f"bad page_token {token!r}"})
        start = int(token)
        matches = state.registry.find(lot=lot, design_id=design_id)
        page = matches[start : start + PAGE_SIZE]
        next_token = str(start + PAGE_SIZE) if start + PAGE_SIZE < len(matches) else None
        body = {"records": [state.wire(r) for r in page], "next_page_token": next_token}
        return reply(200, body)

    @app.route("/_faults", methods=["GET", "POST", "DELETE"])
    def faults_admin() -> Response:
        if request.method == "DELETE":
            state.faults = FaultSpec()
        elif request.method == "POST":
            payload = request.get_json(silent=True)
            try:
                if isinstance(payload, dict) and isinstance(payload.get("spec"), str):
                    state.faults = FaultSpec.parse(payload["spec"])
                elif isinstance(payload, dict):
                    state.faults = FaultSpec.from_mapping(payload)
                else:
                    return reply(400, {"error": "INVALID_REQUEST", "message": "expected JSON"})
            except ValueError as exc:
                return reply(400, {"error": "INVALID_REQUEST", "message": str(exc)})
        return reply(200, state.faults.describe())

    @app.post("/_records")
    def put_record() -> Response:
        try:
            record = contract.record_from_wire(request.get_json(silent=True), "simulator")
        except contract.ContractError as exc:
            return reply(400, {"error": "INVALID_REQUEST", "message": str(exc)})
        state.put(record)
        return reply(200, state.wire(record))

    return app


def _request_faults(state: SimulatorState) -> FaultSpec:
    header = request.headers.get(FAULT_HEADER)
    if header is None:
        return state.faults
    try:
        return FaultSpec.parse(header)
    except ValueError:
        return state.faults


def _malform(response: Response, rng: random.Random) -> None:
    """Break the contract in one of the ways a faulty platform or proxy might."""
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return
    kind = rng.randrange(7)
    results = body.get("results") if isinstance(body, dict) else None
    if kind == 0:
        response.set_data(b"<html><body>502 Bad Gateway</body></html>")
        response.mimetype = "text/html"
    elif kind == 1:
        response.headers[contract.SPEC_HEADER] = "v0-legacy"
    elif isinstance(results, list) and len(results) > 1:
        if kind == 2:  # answers shifted by one: each code gets its neighbour's record
            codes = [r.get("code") for r in results]
            for r, code in zip(results, codes[1:] + codes[:1], strict=True):
                r["code"] = code
        elif kind == 3:
            for r in results:
                if r.get("found"):
                    r["record"]["status"]["value"] = "REGISTERED!"
        elif kind == 4:
            for r in results:
                r["found"] = "true"
        elif kind == 5:  # the same code twice, once found and once not
            results.append({**results[0], "found": not results[0].get("found"), "record": None})
        else:
            for r in results:
                if r.get("found"):
                    r["record"]["product"]["rated_energy_kwh"] = "75 kWh"
        response.set_data(json.dumps(body))
    elif isinstance(body, dict) and "status" in body:
        body["status"] = "registered"  # a record whose status is not an object
        response.set_data(json.dumps(body))
    else:
        response.set_data(b'{"results": "none"}')


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (the benchmark sends thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def start_simulator(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    data: SimData | None = None,
    faults: FaultSpec | None = None,
    token: str = "",
) -> tuple[str, Callable[[], None]]:
    """Serve the simulator in a background thread. Returns (base URL, stop function).

    `port=0` picks a free port, so tests can run side by side.
    """
    app = create_simulator_app(data, faults, token)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="platform-sim", daemon=True)
    thread.start()
    url = f"http://{host}:{server.server_port}"

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return url, stop


def simulator_state(app: Flask) -> SimulatorState:
    """The state object of a simulator app (for tests that change records or faults)."""
    state = app.extensions["platform_sim"]
    assert isinstance(state, SimulatorState)
    return state
