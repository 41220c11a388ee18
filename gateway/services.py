"""The service's collaborators, built once per process from Settings: database, blobs, queue,
platform, mailer, clock, and the pipeline seam.

Web processes and workers build the same `Services`; tests build one over a temporary folder
and may swap `checker` for a fake. Knobs that belong only to the service (queue names, job
timeouts, rate limits) are `Settings` fields too, handed over as `ServiceOptions`.
"""

from __future__ import annotations

import datetime as dt
import importlib
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
from gateway.storage.blobs import BlobStore, DatabaseBlobStore, FileBlobStore
from gateway.storage.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from gateway.jobs.executors import Executor
    from gateway.mail import Mailer


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
    _platform: Any = None
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
    def platform(self) -> Any:
        """The registration platform client (built on first use)."""
        with self._lock:
            if self._platform is None:
                # imported by name: the platform package is optional for storage-only tools
                module = importlib.import_module("gateway.platform_client")
                self._platform = module.build_platform_client(self.settings)
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
    options = options or ServiceOptions.from_settings(settings)
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
