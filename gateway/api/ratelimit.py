"""Rate limits: token buckets in memory, or in Redis when the service has Redis.

A bucket holds `burst` tokens and refills at `rate` per minute; a request takes one token or
is refused with the seconds until one is back (the `Retry-After` of the 429). The same
buckets count failed authentications (`AuthThrottle`): per source address and per key id.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import Redis


class RateLimiter(Protocol):
    """Takes one token for `key`."""

    def take(self, key: str) -> int:
        """0 when allowed, else the seconds to wait."""
        ...


class Buckets(Protocol):
    """Token buckets that can be looked at without taking a token."""

    def take(self, key: str) -> int:
        """Take a token: 0 when there was one, else the seconds to wait."""
        ...

    def peek(self, key: str) -> int:
        """0 when a token is there (none is taken), else the seconds to wait."""
        ...


class MemoryRateLimiter:
    """Buckets in this process (the embedded default; each web process counts alone)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    MAX_BUCKETS = 100_000  # guessed key ids must not grow the table without bound

    def take(self, key: str) -> int:
        """Refill by elapsed time, then take a token if there is one."""
        return self._bucket(key, 1.0)

    def peek(self, key: str) -> int:
        """Refill by elapsed time; 0 when a token is there, else the seconds to wait."""
        return self._bucket(key, 0.0)

    def _bucket(self, key: str, cost: float) -> int:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                if cost or key in self._buckets:
                    self._store(key, tokens - cost, now)
                return 0
            self._store(key, tokens, now)
            if self.rate <= 0:
                return 60
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self.MAX_BUCKETS:
            # full buckets are no information; drop them first, then the oldest
            full = [k for k, (t, _) in self._buckets.items() if t >= self.burst - 1.0]
            for stale in full or list(self._buckets)[: self.MAX_BUCKETS // 10]:
                del self._buckets[stale]
        self._buckets[key] = (tokens, now)


# KEYS[1] bucket; ARGV: rate per second, burst, now (s), cost (1 take, 0 peek).
# Returns wait seconds (0 = allowed). A peek at a bucket that does not exist writes nothing.
_LUA = """
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
if cost == 0 and not b[1] then return 0 end
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - cost else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return wait
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every web process.

    While Redis is unreachable the buckets of this process take over (`MemoryRateLimiter`):
    a Redis outage must neither take the API down nor switch the limits off.
    """

    def __init__(self, connection: Redis, prefix: str, per_minute: int, burst: int) -> None:
        self.connection = connection
        self.prefix = prefix
        self.rate = max(per_minute, 1) / 60.0
        self.burst = max(1, burst)
        self.script = connection.register_script(_LUA)
        self.fallback = MemoryRateLimiter(per_minute, burst)

    def take(self, key: str) -> int:
        """Run the bucket script atomically, taking a token."""
        return self._run(key, 1)

    def peek(self, key: str) -> int:
        """Run the bucket script atomically, without taking a token."""
        return self._run(key, 0)

    def _run(self, key: str, cost: int) -> int:
        try:
            wait = self.script(
                keys=[f"{self.prefix}:ratelimit:{key}"],
                args=[self.rate, self.burst, time.time(), cost],
            )
        except Exception:  # Redis unreachable: count in this process meanwhile
            return self.fallback.take(key) if cost else self.fallback.peek(key)
        return int(wait)


class KnownSources(Protocol):
    """Pairs (source address, key id) that authenticated successfully not long ago."""

    def add(self, pair: str) -> None:
        """Remember a pair for the configured time."""
        ...

    def discard(self, pair: str) -> None:
        """Forget a pair."""
        ...

    def __contains__(self, pair: object) -> bool: ...


class MemoryKnownSources:
    """Known pairs in this process, each for `seconds`."""

    MAX_PAIRS = 100_000

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, pair: str) -> None:
        """Remember `pair` until `seconds` from now."""
        now = time.monotonic()
        with self._lock:
            if pair not in self._until and len(self._until) >= self.MAX_PAIRS:
                for stale in [k for k, until in self._until.items() if until < now] or list(
                    self._until
                )[: self.MAX_PAIRS // 10]:
                    del self._until[stale]
            self._until[pair] = now + self.seconds

    def discard(self, pair: str) -> None:
        """Forget `pair`."""
        with self._lock:
            self._until.pop(pair, None)

    def __contains__(self, pair: object) -> bool:
        with self._lock:
            until = self._until.get(str(pair))
        return until is not None and until > time.monotonic()


class RedisKnownSources:
    """Known pairs in Redis (shared by every web process), in memory while Redis is down."""

    def __init__(self, connection: Redis, prefix: str, seconds: int) -> None:
        self.connection = connection
        self.prefix = prefix
        self.seconds = seconds
        self.fallback = MemoryKnownSources(seconds)

    def _key(self, pair: str) -> str:
        return f"{self.prefix}:authok:{pair}"

    def add(self, pair: str) -> None:
        """SET with an expiry."""
        self.fallback.add(pair)
        try:
            self.connection.set(self._key(pair), "1", ex=self.seconds)
        except Exception:  # remembered in this process meanwhile
            return

    def discard(self, pair: str) -> None:
        """DEL."""
        self.fallback.discard(pair)
        try:
            self.connection.delete(self._key(pair))
        except Exception:  # forgotten in this process at least
            return

    def __contains__(self, pair: object) -> bool:
        try:
            return bool(self.connection.exists(self._key(str(pair))))
        except Exception:
            return pair in self.fallback


class AuthThrottle:
    """Failed authentications counted per source address and per key id.

    Each failure takes a token from the source's bucket and from the key id's bucket. A
    request whose source or key id has no token left is refused (429, `Retry-After`) before
    its key is even checked, so guessing runs at the refill rate at most.

    An attacker who knows a real key id can empty that key's bucket from anywhere. So that
    this locks the owner out neither for long nor at all from where the key is used: the key
    id's bucket refills within seconds, and a source that authenticated successfully with
    that key id in the last `known_seconds` skips the key id's bucket (never its own). One
    failure of that pair forgets it, so the exemption gives no free guesses.
    """

    def __init__(self, by_source: Buckets, by_key: Buckets, known: KnownSources) -> None:
        self.by_source = by_source
        self.by_key = by_key
        self.known = known

    @staticmethod
    def _pair(source: str, key_id: str | None) -> str:
        return f"{source}|{key_id or ''}"

    def check(self, source: str, key_id: str | None) -> int:
        """Seconds to wait before this attempt may be checked (0: check it now)."""
        wait = self.by_source.peek(f"src:{source}")
        if wait:
            return wait
        if key_id and self._pair(source, key_id) not in self.known:
            return self.by_key.peek(f"kid:{key_id}")
        return 0

    def failed(self, source: str, key_id: str | None) -> None:
        """Count a failed attempt."""
        self.by_source.take(f"src:{source}")
        if key_id:
            self.known.discard(self._pair(source, key_id))
            self.by_key.take(f"kid:{key_id}")

    def succeeded(self, source: str, key_id: str) -> None:
        """Remember that this source holds this key."""
        self.known.add(self._pair(source, key_id))
