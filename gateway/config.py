"""Settings: one frozen object, read once from `GATEWAY_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


def _default_data_dir() -> str:
    return str(Path.cwd() / "instance")


@dataclass(frozen=True)
class Settings:
    """Every knob of the gateway. Tests build one directly; services use `from_env()`."""

    data_dir: str = field(default_factory=_default_data_dir)  # SQLite file, blobs, outbox
    database_url: str = ""  # empty: SQLite under data_dir
    redis_url: str = ""  # empty: in-process job executor
    platform_backend: str = "registry"  # "registry" | "http" | "simulator"
    platform_url: str = ""  # base URL of the platform's v1 API (http backend)
    platform_token: str = field(default="", repr=False)  # never printed or logged
    platform_timeout_connect: float = 3.05
    platform_timeout_read: float = 10.0
    platform_batch_size: int = 500
    platform_concurrency: int = 4
    platform_cache_ttl: float = 600.0
    smtp_url: str = ""  # empty: .eml files under data_dir/outbox
    mail_from: str = "gateway@localhost"
    secret_key: str = field(default="", repr=False)  # session cookies; generated when empty
    key_pepper: str = field(default="", repr=False)  # HMAC pepper for API key hashes
    max_upload_bytes: int = 25 * 1024 * 1024
    max_documents: int = 20
    ruleset: str = "default"
    retention_days: int = 90
    log_json: bool = False
    # the parsed-registry cache's folder; None: $XDG_CACHE_HOME/battery-gateway, "": no cache
    cache_dir: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    # `gateway serve` (its --workers, --threads and --keepalive flags win over these)
    web_workers: int = 2  # web processes
    web_threads: int = 2  # threads per web process
    web_keepalive: int = 0  # seconds an idle HTTP connection is kept
    # the service's knobs (web, jobs, limits), handed to the services as ServiceOptions
    queue_prefix: str = "gateway"  # rq queue names and Redis keys
    job_timeout: int = 600  # seconds one shipment job may run
    reconcile_after: int = 900  # seconds before re-enqueueing
    reconcile_every: int = 60  # seconds between reconciler runs
    max_attempts: int = 4  # job starts before a shipment is rejected
    worker_threads: int = 2  # in-process executor threads
    rate_limit: int = 600  # requests per minute per API key
    rate_burst: int = 120  # requests a key may make at once
    auth_fail_rate: int = 10  # failed sign-ins per minute per address
    auth_fail_burst: int = 20  # failures an address may make at once
    key_fail_rate: int = 30  # failures per minute per key id
    key_fail_burst: int = 5  # failures a key id takes at once
    auth_known_hours: int = 168  # an address that used a key is known
    max_open_shipments: int = 500  # per tenant, queued+running
    max_codes: int = 10_000  # codes per /v1/codes/check request
    scan_max_pixels: int = 40_000_000  # label photo size limit
    scan_max_bytes: int = 15 * 1024 * 1024  # label photo body limit
    blob_backend: str = "file"  # "file" | "database"
    mail_retry_hours: int = 72  # give up delivering after this
    session_hours: int = 12  # web login lifetime
    webhook_allow_private: bool = False  # http + private hosts
    report_link_seconds: int = 14 * 86400  # emailed link lifetime

    @property
    def effective_database_url(self) -> str:
        """The database URL, SQLite under the data folder when none is set."""
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'gateway.sqlite3'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `GATEWAY_*` variables. Fails fast, naming the bad variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"GATEWAY_{f.name.upper()}"
            if name not in env:
                continue
            raw = env[name]
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "str")
            try:
                if kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                elif kind == "bool":
                    values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
                else:
                    values[f.name] = raw
            except ValueError:
                msg = f"Environment variable {name}={raw!r} is not a valid {kind}."
                raise ValueError(msg) from None
        return cls(**values)  # type: ignore[arg-type]
