"""The service's collaborators as one record: database, blobs, queue, platform, mailer, clock,
and the pipeline seams, with the protocols each of them answers to.

Intake, the jobs (the retention purge included) and the mail take a `Services`; only the
composition roots (the web app, the workers, the CLI) build one, with
`gateway.wiring.build_services`, and tests build one over a temporary folder and may swap
`checker` for a fake. Knobs that belong only to the service (queue names, job timeouts, rate
limits) are `Settings` fields too, handed over as `ServiceOptions`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.domain import CodeOccurrence, Document, Report
from gateway.platform_client import PlatformClient
from gateway.storage.blobs import BlobStore

T = TypeVar("T")


_DEFAULTS = Settings(data_dir="")  # the defaults, without looking at the working folder


@dataclass(frozen=True)
class ServiceOptions:
    """The service's knobs, taken from `Settings` (which reads them from `GATEWAY_*` and holds
    their defaults and meanings).

    Tests build one directly to change a knob; `from_settings` is what the processes use.
    """

    queue_prefix: str = _DEFAULTS.queue_prefix
    job_timeout: int = _DEFAULTS.job_timeout
    reconcile_after: int = _DEFAULTS.reconcile_after
    reconcile_every: int = _DEFAULTS.reconcile_every
    max_attempts: int = _DEFAULTS.max_attempts
    worker_threads: int = _DEFAULTS.worker_threads
    rate_limit: int = _DEFAULTS.rate_limit
    rate_burst: int = _DEFAULTS.rate_burst
    auth_fail_rate: int = _DEFAULTS.auth_fail_rate
    auth_fail_burst: int = _DEFAULTS.auth_fail_burst
    key_fail_rate: int = _DEFAULTS.key_fail_rate
    key_fail_burst: int = _DEFAULTS.key_fail_burst
    auth_known_hours: int = _DEFAULTS.auth_known_hours
    max_open_shipments: int = _DEFAULTS.max_open_shipments
    max_codes: int = _DEFAULTS.max_codes
    scan_max_pixels: int = _DEFAULTS.scan_max_pixels
    scan_max_bytes: int = _DEFAULTS.scan_max_bytes
    blob_backend: str = _DEFAULTS.blob_backend
    mail_retry_hours: int = _DEFAULTS.mail_retry_hours
    session_hours: int = _DEFAULTS.session_hours
    webhook_allow_private: bool = _DEFAULTS.webhook_allow_private
    report_link_seconds: int = _DEFAULTS.report_link_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceOptions:
        """The service's knobs as `settings` holds them."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class History(Protocol):
    """Unit keys already declared to customs (the pipeline's DeclaredHistory)."""

    def exported(self, keys: Collection[str]) -> Mapping[str, str]:
        """Key -> the earlier shipment id that carried it, for keys seen before."""
        ...


# progress(stage, fraction): the pipeline's stage words ("reading <file>", "looking up", ...)
# or a status name, and the fraction done (0..1) of that stage
ProgressFn = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What a job hands the pipeline for one shipment."""

    shipment_id: str
    documents: tuple[tuple[Document, bytes], ...]
    reference: str = ""
    destination: str | None = None
    transport_mode: str | None = None
    declared_on: dt.date | None = None
    tenant_ruleset: Mapping[str, object] | None = None


class ShipmentChecker(Protocol):
    """The pipeline seam: one shipment in, one report out."""

    def __call__(self, request: CheckRequest, *, history: History, progress: ProgressFn) -> Report:
        """Check the shipment; InputError subclasses mean the shipment cannot be used."""
        ...


class CodeChecker(Protocol):
    """The pipeline seam for codes posted directly (API code checks, label scans)."""

    def __call__(
        self, codes: Sequence[CodeOccurrence], *, shipment_id: str, history: History | None
    ) -> Report:
        """Check the codes as one pseudo-shipment."""
        ...


class Executor(Protocol):
    """Runs shipment jobs somewhere."""

    def submit(self, shipment_id: str) -> None:
        """Make sure a job for this shipment is queued or running."""
        ...

    def healthy(self) -> bool:
        """Whether jobs can be accepted now (for /readyz)."""
        ...

    def shutdown(self) -> None:
        """Stop accepting jobs and release resources."""
        ...


class Mailer(Protocol):
    """Sends one email."""

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` or raise."""
        ...


class OnFirstUse(Generic[T]):
    """A collaborator built on first use and then shared by every thread of the process.

    The platform client is one: the simulator backend starts a server and the registry
    backend opens its own engine, which a process that never looks a code up (`gateway db`,
    `gateway tenants`) does not need.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        """The collaborator, built now when this is its first use."""
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    @property
    def built(self) -> T | None:
        """The collaborator when it has been built, else None (nothing is built)."""
        return self._value


def resolve_secrets(settings: Settings) -> tuple[str, str]:
    """(secret_key, key_pepper): from settings, else generated once under the data folder.

    Keys hashed with a pepper that changed would never match again, so an embedded install
    keeps the generated values in `data_dir/secrets.json` (mode 0600).
    """
    if settings.secret_key and settings.key_pepper:
        return settings.secret_key, settings.key_pepper
    path = Path(settings.data_dir) / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    if "secret_key" not in stored or "key_pepper" not in stored:
        stored.setdefault("secret_key", secrets.token_urlsafe(32))
        stored.setdefault("key_pepper", secrets.token_urlsafe(32))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(stored, handle)
    return (
        settings.secret_key or stored["secret_key"],
        settings.key_pepper or stored["key_pepper"],
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    """Everything a request or a job needs from the outside world."""

    settings: Settings
    options: ServiceOptions
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    secret_key: str
    pepper: str
    checker: ShipmentChecker
    code_checker: CodeChecker
    platforms: OnFirstUse[PlatformClient]  # shared with the pipeline checkers
    # the executor and the mailer are built on first use by these (the executor runs jobs
    # with these very services); tests may set `_executor` or `_mailer` instead
    build_executor: Callable[[Services], Executor]
    build_mailer: Callable[[Settings], Mailer]
    clock: Callable[[], dt.datetime] = _utcnow
    _executor: Executor | None = None
    _mailer: Mailer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def executor(self) -> Executor:
        """The job executor: rq when Redis is configured, else an in-process thread pool."""
        with self._lock:
            if self._executor is None:
                self._executor = self.build_executor(self)
            return self._executor

    @property
    def mailer(self) -> Mailer:
        """SMTP when `GATEWAY_SMTP_URL` is set, else `.eml` files under the data folder."""
        with self._lock:
            if self._mailer is None:
                self._mailer = self.build_mailer(self.settings)
            return self._mailer

    @property
    def platform(self) -> PlatformClient:
        """The registration platform client (built on first use)."""
        return self.platforms()

    def close(self) -> None:
        """Stop the executor and release connections."""
        if self._executor is not None:
            self._executor.shutdown()
        self.engine.dispose()
