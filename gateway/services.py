"""The service's collaborators, built once per process from Settings: database, blobs, queue,
platform, mailer, clock, and the pipeline seam.

Web processes and workers build the same `Services`; tests build one over a temporary folder
and may swap `checker` for a fake. Knobs that belong only to the service (queue names, job
timeouts, rate limits) are read from `GATEWAY_*` variables by `ServiceOptions.from_env`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.domain import CodeOccurrence, Document, Extraction, Report
from gateway.errors import InputError
from gateway.platform_client import PlatformClient, build_platform_client
from gateway.storage.blobs import BlobStore, DatabaseBlobStore, FileBlobStore
from gateway.storage.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from gateway.jobs.executors import Executor
    from gateway.mail import Mailer


@dataclass(frozen=True)
class ServiceOptions:
    """Service-only knobs, each read from the `GATEWAY_*` variable named in its comment."""

    queue_prefix: str = "gateway"  # GATEWAY_QUEUE_PREFIX: rq queue names and Redis keys
    job_timeout: int = 600  # GATEWAY_JOB_TIMEOUT: seconds one shipment job may run
    reconcile_after: int = 900  # GATEWAY_RECONCILE_AFTER: seconds before re-enqueueing
    reconcile_every: int = 60  # GATEWAY_RECONCILE_EVERY: seconds between reconciler runs
    max_attempts: int = 4  # GATEWAY_MAX_ATTEMPTS: job starts before a shipment is rejected
    worker_threads: int = 2  # GATEWAY_WORKER_THREADS: in-process executor threads
    rate_limit: int = 600  # GATEWAY_RATE_LIMIT: requests per minute per API key
    rate_burst: int = 120  # GATEWAY_RATE_BURST: requests a key may make at once
    auth_fail_rate: int = 10  # GATEWAY_AUTH_FAIL_RATE: failed sign-ins per minute per address
    auth_fail_burst: int = 20  # GATEWAY_AUTH_FAIL_BURST: failures an address may make at once
    key_fail_rate: int = 30  # GATEWAY_KEY_FAIL_RATE: failures per minute per key id
    key_fail_burst: int = 5  # GATEWAY_KEY_FAIL_BURST: failures a key id takes at once
    auth_known_hours: int = 168  # GATEWAY_AUTH_KNOWN_HOURS: an address that used a key is known
    max_open_shipments: int = 500  # GATEWAY_MAX_OPEN_SHIPMENTS: per tenant, queued+running
    max_codes: int = 10_000  # GATEWAY_MAX_CODES: codes per /v1/codes/check request
    scan_max_pixels: int = 40_000_000  # GATEWAY_SCAN_MAX_PIXELS: label photo size limit
    scan_max_bytes: int = 15 * 1024 * 1024  # GATEWAY_SCAN_MAX_BYTES: label photo body limit
    blob_backend: str = "file"  # GATEWAY_BLOB_BACKEND: "file" | "database"
    mail_retry_hours: int = 72  # GATEWAY_MAIL_RETRY_HOURS: give up delivering after this
    session_hours: int = 12  # GATEWAY_SESSION_HOURS: web login lifetime
    webhook_allow_private: bool = False  # GATEWAY_WEBHOOK_ALLOW_PRIVATE: http + private hosts
    report_link_seconds: int = 14 * 86400  # GATEWAY_REPORT_LINK_SECONDS: emailed link lifetime

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceOptions:
        """Read the variables; a malformed number fails fast, naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"GATEWAY_{f.name.upper()}"
            if name not in env:
                continue
            raw = env[name]
            if f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    msg = f"Environment variable {name}={raw!r} is not a valid int."
                    raise ValueError(msg) from None
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
            else:
                values[f.name] = raw
        return cls(**values)


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
    clock: Callable[[], dt.datetime] = _utcnow
    _executor: Executor | None = None
    _mailer: Mailer | None = None
    _platform: PlatformClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def executor(self) -> Executor:
        """The job executor: rq when Redis is configured, else an in-process thread pool."""
        with self._lock:
            if self._executor is None:
                from gateway.jobs.executors import build_executor

                self._executor = build_executor(self)
            return self._executor

    @property
    def mailer(self) -> Mailer:
        """SMTP when `GATEWAY_SMTP_URL` is set, else `.eml` files under the data folder."""
        with self._lock:
            if self._mailer is None:
                from gateway.mail import build_mailer

                self._mailer = build_mailer(self.settings)
            return self._mailer

    @property
    def platform(self) -> PlatformClient:
        """The registration platform client (built on first use)."""
        with self._lock:
            if self._platform is None:
                self._platform = build_platform_client(self.settings)
            return self._platform

    def close(self) -> None:
        """Stop the executor and release connections."""
        if self._executor is not None:
            self._executor.shutdown()
        self.engine.dispose()


def build_services(
    settings: Settings,
    options: ServiceOptions | None = None,
    *,
    checker: ShipmentChecker | None = None,
    code_checker: CodeChecker | None = None,
    schema: str | None = None,
) -> Services:
    """Build the process's services; `schema` isolates a PostgreSQL test run."""
    options = options or ServiceOptions.from_env()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, schema=schema)
    sessions = make_sessionmaker(engine)
    blobs: BlobStore
    if options.blob_backend == "database":
        blobs = DatabaseBlobStore(sessions)
    else:
        blobs = FileBlobStore(Path(settings.data_dir) / "blobs")
    secret_key, pepper = resolve_secrets(settings)
    services = Services(
        settings=settings,
        options=options,
        engine=engine,
        sessions=sessions,
        blobs=blobs,
        secret_key=secret_key,
        pepper=pepper,
        checker=checker or PipelineChecker(),
        code_checker=code_checker or PipelineCodeChecker(),
    )
    for seam in (services.checker, services.code_checker):
        if isinstance(seam, PipelineChecker | PipelineCodeChecker):
            seam.services = services
    return services


class PipelineChecker:
    """The real pipeline: documents parsed in the sandbox, codes looked up, rules run."""

    def __init__(self) -> None:
        self.services: Services | None = None

    def __call__(self, request: CheckRequest, *, history: History, progress: ProgressFn) -> Report:
        """Run `gateway.pipeline.check_shipment` for one shipment."""
        from gateway.parsers.sandbox import shared_fork_server
        from gateway.pipeline import DocumentInput, ShipmentFacts, check_shipment, sandboxed_extract

        assert self.services is not None
        facts = ShipmentFacts(
            shipment_id=request.shipment_id,
            reference=request.reference,
            destination=request.destination,
            transport_mode=request.transport_mode,
            declared_on=request.declared_on,
            tenant_ruleset=request.tenant_ruleset,
        )

        refused: dict[str, InputError] = {}

        def extract(item: DocumentInput) -> Extraction:
            # each document is parsed in a child process with memory, CPU and time limits,
            # forked from this process's fork server (a cold start when there is none)
            try:
                return sandboxed_extract(item, server=shared_fork_server())
            except InputError as exc:  # kept for the rejection when no document is usable
                refused[item.document.id] = exc
                raise

        report: Report = check_shipment(
            [DocumentInput(document=doc, data=data) for doc, data in request.documents],
            platform=self.services.platform,
            facts=facts,
            extract=extract,
            history=history,
            progress=progress,
            ruleset=self.services.settings.ruleset,
        )
        if request.documents and len(refused) == len(request.documents):
            raise NoReadableDocument(
                [(doc, refused[doc.id]) for doc, _data in request.documents if doc.id in refused]
            )
        return report


def limit_details(exc: InputError) -> dict[str, object] | None:
    """The limit an error hit, as data: its name and configured value (None: no limit)."""
    if exc.limit is None:
        return None
    from gateway.parsers.image import MAX_FRAMES
    from gateway.parsers.limits import DEFAULT_LIMITS

    if exc.limit == "image_max_frames":
        return {"name": exc.limit, "value": MAX_FRAMES}
    value = getattr(DEFAULT_LIMITS, exc.limit, None)
    return {"name": exc.limit, "value": value}


class NoReadableDocument(InputError):
    """Every document of the shipment was refused: the shipment is rejected, with why.

    `details` is the machine-readable part of the rejection: for each document its id,
    name, reason code, the limit it hit (name and value, or null) and the message.
    """

    status = 422
    code = "no_readable_document"

    def __init__(self, refused: Sequence[tuple[Document, InputError]]) -> None:
        self.details: dict[str, object] = {
            "documents": [
                {
                    "document_id": doc.id,
                    "filename": doc.filename,
                    "reason": exc.code,
                    "limit": limit_details(exc),
                    "message": str(exc),
                }
                for doc, exc in refused
            ]
        }
        first_doc, first = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        super().__init__(
            f"No document of the shipment could be read: {first_doc.filename!r}: {first}{more}",
            limit=first.limit,
        )


class PipelineCodeChecker:
    """The real pipeline over codes posted directly (no documents to parse)."""

    def __init__(self) -> None:
        self.services: Services | None = None

    def __call__(
        self, codes: Sequence[CodeOccurrence], *, shipment_id: str, history: History | None
    ) -> Report:
        """Run `gateway.pipeline.check_codes`."""
        from gateway.pipeline import ShipmentFacts, check_codes

        assert self.services is not None
        report: Report = check_codes(
            codes,
            platform=self.services.platform,
            facts=ShipmentFacts(shipment_id=shipment_id),
            history=history,
            ruleset=self.services.settings.ruleset,
        )
        return report
