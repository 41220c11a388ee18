"""HTTP adapter for the national platform (assumed v1 contract, see docs/platform.md).

One pooled `requests.Session`; batches of at most 500 codes sent in parallel; retries with
exponential backoff and full jitter on 5xx, timeouts and 429 (honouring Retry-After); a circuit
breaker; a TTL cache of well-formed answers. The promise: a key is FOUND only when a
well-formed positive answer names exactly that key. Everything else is NOT_FOUND (a
well-formed negative answer) or UNVERIFIED with the reason.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
import structlog
from requests.adapters import HTTPAdapter

from gateway.domain import Lookup, LookupStatus
from gateway.platform_client import contract
from gateway.platform_client.keys import is_unit_key, key_kind, key_to_code, record_reached_by

log = structlog.get_logger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})


class CircuitBreaker:
    """Fails fast after `threshold` consecutive failures; after `reset_after` seconds one probe
    is let through (half-open): its success closes the circuit, its failure reopens it."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(
        self,
        threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.threshold = threshold
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        """ "closed", "open" or "half_open" (open, and the wait is over)."""
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return self.CLOSED
        if self._clock() - self._opened_at >= self.reset_after:
            return self.HALF_OPEN
        return self.OPEN

    def allow(self) -> bool:
        """May a request go out now? In half-open state only one probe at a time may."""
        with self._lock:
            state = self._state()
            if state == self.CLOSED:
                return True
            if state == self.HALF_OPEN and not self._probing:
                self._probing = True
                return True
            return False

    def success(self) -> None:
        """A request got a usable answer."""
        with self._lock:
            if self._opened_at is not None:
                log.info("platform_circuit_closed")
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self) -> None:
        """A request failed (timeout, connection error, 5xx)."""
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.threshold:
                if self._opened_at is None or self._probing:
                    log.warning("platform_circuit_opened", failures=self._failures)
                self._opened_at = self._clock()
            self._probing = False

    def release(self) -> None:
        """A request ended without telling whether the platform is healthy (e.g. 429)."""
        with self._lock:
            self._probing = False


class TTLCache:
    """Answers by key for `ttl` seconds. Only FOUND and NOT_FOUND answers are ever stored."""

    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, max_size: int = 200_000
    ):
        self.ttl = ttl
        self._clock = clock
        self._max = max_size
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, Lookup]] = {}

    def get(self, key: str) -> Lookup | None:
        """The cached answer, if still fresh."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._data[key]
                return None
            return hit[1]

    def put(self, lookup: Lookup) -> None:
        """Store a well-formed answer; unverified answers are never cached."""
        if self.ttl <= 0 or lookup.status == LookupStatus.UNVERIFIED:
            return
        with self._lock:
            if len(self._data) >= self._max:
                self._data.clear()  # crude, but bounded; a full cache is a misconfiguration
            self._data[lookup.key] = (self._clock() + self.ttl, lookup)

    def invalidate(self, keys: Collection[str] | None = None) -> None:
        """Forget these keys (all keys when None), e.g. after a status change."""
        with self._lock:
            if keys is None:
                self._data.clear()
            else:
                for key in keys:
                    self._data.pop(key, None)


@dataclass(frozen=True)
class HttpSettings:
    """Knobs of the HTTP adapter."""

    base_url: str
    token: str = ""
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    batch_size: int = contract.MAX_BATCH
    concurrency: int = 4
    cache_ttl: float = 600.0
    max_retries: int = 3
    backoff_base: float = 0.25  # seconds; attempt n waits up to base * 2**n
    backoff_max: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After gives up (unverified) instead
    breaker_threshold: int = 5
    breaker_reset: float = 30.0

    def __repr__(self) -> str:  # the token never appears in logs or tracebacks
        return f"HttpSettings(base_url={self.base_url!r}, token={'***' if self.token else ''!r})"


class _Attempt:
    """The outcome of one HTTP request: a response, or why there is none."""

    def __init__(
        self,
        response: requests.Response | None,
        reason: str | None,
        retry_after: float | None = None,
    ):
        self.response = response
        self.reason = reason
        self.retry_after = retry_after


class HttpPlatformClient:
    """`PlatformClient` over HTTP. Thread-safe; one instance per process is enough."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        source: str = "platform",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.source = source
        self.settings = settings
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_reset, clock)
        self.cache = TTLCache(settings.cache_ttl, clock)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._base = settings.base_url.rstrip("/")
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy or netrc from the environment
        pool = max(settings.concurrency, 1)
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["Accept"] = "application/json"
        if settings.token:
            self._session.headers["Authorization"] = f"Bearer {settings.token}"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def invalidate(self, keys: Collection[str] | None = None) -> None:
        """Drop cached answers for these keys (all when None), e.g. after a status change."""
        self.cache.invalidate(keys)

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """An answer for every key asked. Never raises for platform trouble."""
        out: dict[str, Lookup] = {}
        ask: list[str] = []
        for key in dict.fromkeys(keys):
            if not is_unit_key(key):
                reason = (
                    contract.REASON_NOT_UNIT
                    if key_kind(key) in ("gtin", "lot")
                    else contract.REASON_INVALID_SYNTAX
                )
                out[key] = self._unverified(key, reason)
                continue
            cached = self.cache.get(key)
            if cached is not None:
                out[key] = Lookup(key, cached.status, cached.record, cached.reason, source="cache")
            else:
                ask.append(key)
        size = max(1, min(self.settings.batch_size, contract.MAX_BATCH))
        batches = [ask[i : i + size] for i in range(0, len(ask), size)]
        if len(batches) == 1:
            out.update(self._lookup_batch(batches[0]))
        elif batches:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
                for answers in pool.map(self._lookup_batch, batches):
                    out.update(answers)
        for answer in out.values():
            if answer.source != "cache":
                self.cache.put(answer)
        return {key: out[key] for key in keys}

    def _unverified(self, key: str, reason: str) -> Lookup:
        return Lookup(key, LookupStatus.UNVERIFIED, reason=reason, source=self.source)

    def _lookup_batch(self, keys: Sequence[str]) -> dict[str, Lookup]:
        """Look up one batch; any failure leaves every key of it unverified."""
        codes = {key_to_code(k): k for k in keys}
        attempt = self._request("POST", "/v1/codes:batchLookup", {"codes": list(codes)})
        if attempt.response is None:
            return {k: self._unverified(k, attempt.reason or contract.REASON_SERVER) for k in keys}
        try:
            return self._read_batch(attempt.response, codes)
        except (contract.ContractError, ValueError) as exc:
            log.warning("platform_answer_malformed", error=str(exc)[:200], codes=len(codes))
            return {k: self._unverified(k, contract.REASON_MALFORMED) for k in keys}

    def _read_batch(
        self, response: requests.Response, codes: Mapping[str, str]
    ) -> dict[str, Lookup]:
        """Validate a batch answer result by result. Raises ContractError if it is unusable."""
        body = json.loads(response.content)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            msg = f"expected an object with a results array, got {type(body).__name__}"
            raise contract.ContractError(msg)
        # One broken or contradictory result spoils the whole answer: a platform (or proxy)
        # that garbles one result cannot be trusted with its neighbours either.
        answers: dict[str, Lookup] = {}
        for index, item in enumerate(body["results"]):
            key, lookup = self._read_result(item, codes)
            if key is None or lookup is None:
                msg = f"result {index} is malformed or answers a code that was not asked"
                raise contract.ContractError(msg)
            previous = answers.setdefault(key, lookup)
            if previous != lookup:
                msg = f"result {index} contradicts an earlier result for the same code"
                raise contract.ContractError(msg)
        return {
            key: answers.get(key) or self._unverified(key, contract.REASON_PARTIAL)
            for key in codes.values()
        }

    def _read_result(
        self, item: object, codes: Mapping[str, str]
    ) -> tuple[str | None, Lookup | None]:
        """(key, answer) of one batch result; (key, None) when broken; (None, None) if unasked."""
        if not isinstance(item, dict):
            return None, None
        code = item.get("code")
        key = codes.get(code) if isinstance(code, str) else None
        if key is None:
            return None, None  # an answer to a question we did not ask: the answer is broken
        found = item.get("found")
        if found is True:
            try:
                record = contract.record_from_wire(item.get("record"), self.source)
            except contract.ContractError as exc:
                log.warning("platform_record_malformed", error=str(exc)[:200])
                return key, None
            if not record_reached_by(record, key):
                # a record of another unit: never accept it for this key
                log.warning("platform_record_for_other_key", record_id=record.record_id)
                return key, None
            return key, Lookup(key, LookupStatus.FOUND, record=record, source=self.source)
        if found is False:
            error = item.get("error")
            reason = contract.ERROR_REASONS.get(error) if isinstance(error, str) else None
            if reason is None:
                return key, None
            if reason == contract.REASON_NOT_FOUND:
                return key, Lookup(key, LookupStatus.NOT_FOUND, reason=reason, source=self.source)
            return key, self._unverified(key, reason)
        return key, None

    def _request(self, method: str, path: str, payload: object | None = None) -> _Attempt:
        """Send with retries and the circuit breaker. The result has a 200 response or a reason."""
        reason = contract.REASON_SERVER
        for attempt in range(self.settings.max_retries + 1):
            if not self.breaker.allow():
                return _Attempt(None, contract.REASON_CIRCUIT_OPEN)
            result = self._send(method, path, payload)
            if result.response is not None:
                self.breaker.success()
                return result
            reason = result.reason or contract.REASON_SERVER
            if reason == contract.REASON_RATE_LIMITED:
                self.breaker.release()
                wait = result.retry_after
                if wait is None:
                    wait = self._backoff(attempt)
                if wait > self.settings.max_retry_after:
                    return result
            elif reason in (
                contract.REASON_TIMEOUT,
                contract.REASON_CONNECTION,
                contract.REASON_SERVER,
            ):
                self.breaker.failure()
                wait = self._backoff(attempt)
            else:  # 4xx, wrong spec version, malformed: retrying will not help
                self.breaker.release()
                return result
            if attempt < self.settings.max_retries:
                self._sleep(wait)
        return _Attempt(None, reason)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog, 2015)."""
        cap = min(self.settings.backoff_max, self.settings.backoff_base * 2**attempt)
        return self._rng.uniform(0, cap)

    def _send(self, method: str, path: str, payload: object | None) -> _Attempt:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            response = self._session.request(
                method, self._base + path, json=payload, timeout=timeout
            )
        except requests.Timeout:
            return _Attempt(None, contract.REASON_TIMEOUT)
        except requests.ConnectionError as exc:
            # a read timeout mid-body surfaces as ConnectionError wrapping ReadTimeoutError
            text = str(exc)
            return _Attempt(
                None,
                contract.REASON_TIMEOUT
                if "timed out" in text.lower()
                else contract.REASON_CONNECTION,
            )
        except requests.RequestException:
            return _Attempt(None, contract.REASON_CONNECTION)
        status = response.status_code
        if status == 200:
            if response.headers.get(contract.SPEC_HEADER) != contract.SPEC_VERSION:
                return _Attempt(None, contract.REASON_SPEC_MISMATCH)
            return _Attempt(response, None)
        if status == 429:
            return _Attempt(
                None,
                contract.REASON_RATE_LIMITED,
                _retry_after(response.headers.get("Retry-After")),
            )
        if status in RETRY_STATUSES:
            return _Attempt(None, contract.REASON_SERVER)
        log.warning(
            "platform_request_refused",
            status=status,
            path=path.split("/")[2] if "/" in path else path,
        )
        return _Attempt(
            None,
            {401: contract.REASON_UNAUTHENTICATED, 403: contract.REASON_FORBIDDEN}.get(
                status, contract.REASON_UNEXPECTED
            ),
        )

    def health(self) -> dict[str, Any] | None:
        """The platform's health answer, or None when it does not answer well."""
        attempt = self._send("GET", "/v1/health", None)
        if attempt.response is None:
            return None
        try:
            body = attempt.response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff
    return seconds if seconds >= 0 else None
