"""Per-key rate limits: a token bucket in memory, or in Redis when the service has Redis.

A bucket holds `burst` tokens and refills at `rate` per minute; a request takes one token or
is refused with the seconds until one is back (the `Retry-After` of the 429).
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


class MemoryRateLimiter:
    """Buckets in this process (the embedded default; each web process counts alone)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Refill by elapsed time, then take a token if there is one."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            if self.rate <= 0:
                return 60
            return max(1, math.ceil((1.0 - tokens) / self.rate))


# KEYS[1] bucket; ARGV: rate per second, burst, now (s). Returns wait seconds (0 = allowed).
_LUA = """
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return wait
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every web process; fails open if Redis is unreachable."""

    def __init__(self, connection: Redis, prefix: str, per_minute: int, burst: int) -> None:
        self.connection = connection
        self.prefix = prefix
        self.rate = max(per_minute, 1) / 60.0
        self.burst = max(1, burst)
        self.script = connection.register_script(_LUA)

    def take(self, key: str) -> int:
        """Run the bucket script atomically."""
        try:
            wait = self.script(
                keys=[f"{self.prefix}:ratelimit:{key}"], args=[self.rate, self.burst, time.time()]
            )
        except Exception:  # a Redis outage must not take the API down with it
            return 0
        return int(wait)
