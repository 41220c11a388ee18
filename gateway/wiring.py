"""How one process's services are wired: the real pipeline seams, the platform client, the
job executor and the mailer, put together from `Settings`.

Only the composition roots call `build_services`: the web app (`gateway.api.app`), the
workers (`gateway.workers`) and the command line (`gateway.cli`). The records and protocols
they share live in `gateway.services`, which everything below the roots imports.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.config import Settings
from gateway.domain import CodeOccurrence, Document, Extraction, Report
from gateway.errors import InputError
from gateway.jobs.executors import build_executor
from gateway.mail import build_mailer
from gateway.platform_client import PlatformClient, build_platform_client
from gateway.services import (
    CheckRequest,
    CodeChecker,
    History,
    OnFirstUse,
    ProgressFn,
    ServiceOptions,
    Services,
    ShipmentChecker,
    resolve_secrets,
)
from gateway.storage.blobs import BlobStore, DatabaseBlobStore, FileBlobStore
from gateway.storage.db import make_engine, make_sessionmaker


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
    platforms = OnFirstUse(functools.partial(build_platform_client, settings))
    return Services(
        settings=settings,
        options=options,
        engine=engine,
        sessions=sessions,
        blobs=blobs,
        secret_key=secret_key,
        pepper=pepper,
        checker=checker or PipelineChecker(platforms, ruleset=settings.ruleset),
        code_checker=code_checker or PipelineCodeChecker(platforms, ruleset=settings.ruleset),
        platforms=platforms,
        build_executor=build_executor,
        build_mailer=build_mailer,
    )


class PipelineChecker:
    """The real pipeline: documents parsed in the sandbox, codes looked up, rules run."""

    def __init__(self, platform: Callable[[], PlatformClient], *, ruleset: str) -> None:
        self.platform = platform  # the process's platform client, built on first use
        self.ruleset = ruleset

    def __call__(self, request: CheckRequest, *, history: History, progress: ProgressFn) -> Report:
        """Run `gateway.pipeline.check_shipment` for one shipment."""
        from gateway.parsers.sandbox import shared_fork_server
        from gateway.pipeline import DocumentInput, ShipmentFacts, check_shipment, sandboxed_extract

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
            platform=self.platform(),
            facts=facts,
            extract=extract,
            history=history,
            progress=progress,
            ruleset=self.ruleset,
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

    def __init__(self, platform: Callable[[], PlatformClient], *, ruleset: str) -> None:
        self.platform = platform  # the process's platform client, built on first use
        self.ruleset = ruleset

    def __call__(
        self, codes: Sequence[CodeOccurrence], *, shipment_id: str, history: History | None
    ) -> Report:
        """Run `gateway.pipeline.check_codes`."""
        from gateway.pipeline import ShipmentFacts, check_codes

        report: Report = check_codes(
            codes,
            platform=self.platform(),
            facts=ShipmentFacts(shipment_id=shipment_id),
            history=history,
            ruleset=self.ruleset,
        )
        return report
