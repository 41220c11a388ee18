"""One shipment through the gateway: extract -> decode -> look up -> check -> report.

`check_shipment` takes a shipment's documents; `check_codes` takes codes already read (a label
photo's codes, the JSON code-check endpoint) and skips extraction. Both are pure apart from the
platform look-up and the history query they are given; neither raises on bad documents or bad
codes: those become findings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from gateway.domain import (
    CodeOccurrence,
    DecodedCode,
    Document,
    Extraction,
    Finding,
    Lookup,
    LookupStatus,
    ManifestLine,
    Report,
    Scheme,
    Severity,
    Verdict,
)
from gateway.errors import InputError
from gateway.logs import get_logger
from gateway.rules import ALL_RULES, load_ruleset, run_rules
from gateway.rules.context import CodeItem, RejectedDocument, RuleContext, ShipmentFacts
from gateway.rules.nearmiss import CombinedIndex, KeySet, NearMissIndex, NeighbourIndex

if TYPE_CHECKING:
    from gateway.parsers.limits import Limits
    from gateway.parsers.sandbox import ForkServer

log = get_logger(__name__)

__all__ = [
    "DeclaredHistory",
    "DocumentInput",
    "ShipmentFacts",
    "UnverifiedPlatform",
    "check_codes",
    "check_shipment",
    "decide_verdict",
    "sandboxed_extract",
]

_LOOKUP_CHUNK = 2000  # keys per platform call; the client batches further itself


@dataclass(frozen=True)
class DocumentInput:
    """One document of a shipment: its record and its bytes."""

    document: Document
    data: bytes


class DeclaredHistory(Protocol):
    """Codes already declared on earlier exports (the gateway's own history)."""

    def exported(self, keys: Collection[str]) -> Mapping[str, str]:
        """Key -> earlier shipment or declaration id, for the keys already exported."""
        ...


class PlatformLike(Protocol):
    """What the pipeline needs of a platform client (see gateway.platform_client)."""

    @property
    def source(self) -> str:
        """Where answers come from: "platform", "simulator", "registry"."""
        ...

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """An answer for every key."""
        ...


class UnverifiedPlatform:
    """No platform at all: every key is unverified. The offline check without a registry."""

    source = "none"

    def lookup(self, keys: Collection[str]) -> Mapping[str, Lookup]:
        """Answer every key with UNVERIFIED."""
        return {
            k: Lookup(k, LookupStatus.UNVERIFIED, reason="no_registry", source="none") for k in keys
        }


Extractor = Callable[[DocumentInput], Extraction]
Decoder = Callable[[str], DecodedCode]
Progress = Callable[[str, float], None]


def _default_extract(item: DocumentInput) -> Extraction:
    """Read one document in this process: `gateway.parsers.extract`, the one dispatch from
    the type sniffed from the bytes to its reader (images included)."""
    from gateway.parsers import extract

    return extract(item.data, filename=item.document.filename, document_id=item.document.id)


def sandboxed_extract(
    item: DocumentInput, *, server: ForkServer | None = None, limits: Limits | None = None
) -> Extraction:
    """The same dispatch as `_default_extract`, in a child process with limits: how every
    door (CLI, API, web page, scans) reads an untrusted document.

    Args:
        server: a fork server to fork the child from (`shared_fork_server()` in long-lived
            processes); without one the child is cold-started.
        limits: the reader's caps (default `gateway.parsers.limits.DEFAULT_LIMITS`).
    """
    from gateway.parsers.sandbox import extract_sandboxed

    return extract_sandboxed(
        item.data,
        filename=item.document.filename,
        document_id=item.document.id,
        server=server,
        limits=limits,
    )


def _default_decode() -> Decoder:
    from gateway.gs1 import decode

    def run(raw: str) -> DecodedCode:
        return decode(raw)

    return run


def check_shipment(
    documents: Sequence[DocumentInput],
    *,
    platform: PlatformLike,
    facts: ShipmentFacts,
    extract: Extractor | None = None,
    history: DeclaredHistory | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    progress: Progress | None = None,
    ruleset: str = "default",
    decode: Decoder | None = None,
) -> Report:
    """Check a shipment's documents and return its report.

    A document that cannot be used (an `InputError`, or a reader failure) becomes a blocking
    finding naming it; the other documents still run. Platform failures make codes
    `unverified`, never verified.
    """
    timings: dict[str, float] = {}
    extract = extract or _default_extract
    notify = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    extractions: list[Extraction] = []
    rejected: list[RejectedDocument] = []
    for index, item in enumerate(documents):
        notify(f"reading {item.document.filename}", index / max(len(documents), 1))
        try:
            extractions.append(extract(item))
        except InputError as exc:
            rejected.append(RejectedDocument(item.document, exc.code, str(exc)))
        except Exception as exc:  # a reader's bug must not sink the other documents
            log.warning("document_read_failed", document=item.document.id, error=type(exc).__name__)
            message = f"the reader failed ({type(exc).__name__})"
            rejected.append(RejectedDocument(item.document, "reader_failed", message))
    notify("read", 1.0)
    timings["extract"] = time.perf_counter() - started
    occurrences: list[tuple[CodeOccurrence, Extraction, ManifestLine | None]] = []
    for extraction in extractions:
        for line in extraction.lines:
            occurrences.extend((code, extraction, line) for code in line.codes)
        occurrences.extend((code, extraction, None) for code in extraction.loose_codes)
    return _finish(
        occurrences,
        extractions=extractions,
        rejected=rejected,
        documents=[d.document for d in documents],
        platform=platform,
        facts=facts,
        history=history,
        clock=clock,
        notify=notify,
        ruleset=ruleset,
        decode=decode,
        timings=timings,
        labels=_labels_from_images(extractions),
    )


def _labels_from_images(extractions: Iterable[Extraction]) -> dict[int, str]:
    """Codes of one photo (document) are one label; a label photo is one label's codes."""
    labels: dict[int, str] = {}
    for extraction in extractions:
        if extraction.method == "image":
            for code in extraction.loose_codes:
                labels[id(code)] = extraction.document.id
    return labels


def check_codes(
    codes: Sequence[CodeOccurrence],
    *,
    platform: PlatformLike,
    facts: ShipmentFacts,
    history: DeclaredHistory | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    ruleset: str = "default",
    decode: Decoder | None = None,
    document: Document | None = None,
    same_label: bool = True,
) -> Report:
    """Check codes already read (one label's codes, or codes posted as JSON); no extraction.

    With `same_label`, the codes are taken as printed on one label and validated together.
    """
    doc = document or Document(id="input", filename="input", media_type="text/plain", sha256="")
    extraction = Extraction(document=doc, loose_codes=tuple(codes), method="input")
    labels = {id(code): "label-1" for code in codes} if same_label else {}
    return _finish(
        [(code, extraction, None) for code in codes],
        extractions=[extraction],
        rejected=[],
        documents=[doc],
        platform=platform,
        facts=facts,
        history=history,
        clock=clock,
        notify=lambda stage, fraction: None,
        ruleset=ruleset,
        decode=decode,
        timings={},
        labels=labels,
    )


def _finish(
    occurrences: Sequence[tuple[CodeOccurrence, Extraction, ManifestLine | None]],
    *,
    extractions: Sequence[Extraction],
    rejected: Sequence[RejectedDocument],
    documents: Sequence[Document],
    platform: PlatformLike,
    facts: ShipmentFacts,
    history: DeclaredHistory | None,
    clock: Callable[[], dt.datetime] | None,
    notify: Progress,
    ruleset: str,
    decode: Decoder | None,
    timings: dict[str, float],
    labels: Mapping[int, str],
) -> Report:
    now = (clock or (lambda: dt.datetime.now(dt.UTC)))()
    rules = load_ruleset(ruleset, facts.tenant_ruleset)

    # decode: the same raw text decodes the same way, so decode each distinct text once
    started = time.perf_counter()
    notify(f"decoding {len(occurrences)} codes", 0.0)
    decoder = decode or _default_decode()
    cache: dict[str, DecodedCode] = {}
    decoded: list[DecodedCode] = []
    for occurrence, _, _ in occurrences:
        result = cache.get(occurrence.raw)
        if result is None:
            result = _safe_decode(decoder, occurrence.raw)
            cache[occurrence.raw] = result
        decoded.append(result)
    timings["decode"] = time.perf_counter() - started
    notify("decoded", 1.0)

    # look up every key once; SSCCs too, since a registry may key a containerised unit on one
    started = time.perf_counter()
    keys = sorted({d.key for d in decoded if d.key and d.valid and d.key_kind != "gtin"})
    keys = [k for k in keys if not _is_lot_key(k)]
    notify(f"looking up {len(keys)} keys", 0.0)
    lookups = _lookup(platform, keys, notify)
    timings["lookup"] = time.perf_counter() - started

    earlier: Mapping[str, str] = {}
    if history is not None and keys:
        try:
            earlier = dict(history.exported(keys))
        except Exception as exc:  # history is advisory; the platform status still applies
            log.warning("history_failed", error=type(exc).__name__)

    items = tuple(
        CodeItem(
            decoded=d,
            occurrence=occ,
            document=extraction.document,
            line=line,
            lookup=lookups.get(d.key) if d.key else None,
            label=labels.get(id(occ)),
        )
        for d, (occ, extraction, line) in zip(decoded, occurrences, strict=True)
    )
    items = tuple(_sscc_as_unit_only_when_found(items))
    found = KeySet([k for k, v in lookups.items() if v.status is LookupStatus.FOUND])
    index = _near_miss_index(platform, found)
    ctx = RuleContext(
        facts=facts,
        today=now.date(),
        extractions=tuple(extractions),
        items=items,
        rejected=tuple(rejected),
        history=earlier,
        platform_source=platform.source,
        ruleset_label=rules.label,
        near_miss=index,
        checked_at=now,
    )
    started = time.perf_counter()
    notify("checking rules", 0.0)
    outcome = run_rules(ctx, rules, ALL_RULES)
    timings["rules"] = time.perf_counter() - started
    notify("checked", 1.0)

    findings = _sorted(outcome.findings, documents)
    units = _unit_rows(items)
    counts = _counts(findings, items, extractions, rejected, units)
    verdict = decide_verdict(findings, units, outcome.crashed, usable=bool(extractions))
    return Report(
        shipment_id=facts.shipment_id,
        verdict=verdict,
        generated_at=now,
        ruleset=rules.label,
        findings=findings,
        counts=counts,
        documents=tuple(documents),
        platform_source=platform.source,
        crashed_rules=outcome.crashed,
        timings={k: round(v, 4) for k, v in timings.items()},
        shipment={
            k: v
            for k, v in {
                "reference": facts.reference,
                "destination": (facts.destination or ctx.destination() or ""),
                "transport_mode": ctx.transport_mode() or "",
                "declared_on": facts.declared_on.isoformat() if facts.declared_on else "",
            }.items()
            if v
        },
        units=units,
    )


def _near_miss_index(platform: object, found: KeySet) -> object:
    """The platform's own search when it offers one, else its key list, plus the look-ups.

    A key list (the local registry's `keys()`) is read only when a suggestion is first
    needed: a shipment without typos pays nothing for it.
    """
    if isinstance(platform, NeighbourIndex | NearMissIndex):
        return CombinedIndex(platform, found)
    keys = getattr(platform, "keys", None)
    if callable(keys):

        def listed() -> Iterable[str]:
            try:
                result = keys()
            except Exception:  # an index is help, not a requirement
                log.warning("near_miss_keys_failed")
                return ()
            return [str(k) for k in result] if isinstance(result, Iterable) else ()

        return CombinedIndex(KeySet(listed), found)
    return found


def _is_lot_key(key: str) -> bool:
    return key.startswith("01:") and "/10:" in key


def _safe_decode(decoder: Decoder, raw: str) -> DecodedCode:
    try:
        return decoder(raw)
    except Exception as exc:  # decode is contracted never to raise; keep the report if it does
        log.warning("decode_failed", error=type(exc).__name__)
        return DecodedCode(raw=raw, scheme=Scheme.UNKNOWN, valid=False, ais={})


def _lookup(platform: PlatformLike, keys: Sequence[str], notify: Progress) -> dict[str, Lookup]:
    answers: dict[str, Lookup] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        try:
            got = platform.lookup(chunk)
        except Exception as exc:  # fail closed: no answer is never a positive answer
            log.warning("platform_lookup_failed", error=type(exc).__name__, keys=len(chunk))
            reason = getattr(exc, "code", None) or type(exc).__name__
            got = {k: Lookup(k, LookupStatus.UNVERIFIED, reason=str(reason)) for k in chunk}
        for key in chunk:
            answer = got.get(key)
            if answer is None:
                answer = Lookup(key, LookupStatus.UNVERIFIED, reason="no_answer")
            elif answer.status is LookupStatus.FOUND and answer.record is None:
                answer = Lookup(key, LookupStatus.UNVERIFIED, reason="found_without_record")
            answers[key] = answer
        notify("looked up", min(1.0, (start + len(chunk)) / max(len(keys), 1)))
    return answers


def _sscc_as_unit_only_when_found(items: Iterable[CodeItem]) -> Iterable[CodeItem]:
    """An SSCC the registry does not know is a pallet label: drop its look-up."""
    for item in items:
        if (
            item.decoded.key_kind == "sscc"
            and item.lookup is not None
            and item.lookup.status is not LookupStatus.FOUND
        ):
            yield CodeItem(
                item.decoded, item.occurrence, item.document, item.line, None, item.label
            )
        else:
            yield item


_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


def _sorted(findings: Iterable[Finding], documents: Sequence[Document]) -> tuple[Finding, ...]:
    """Document order (document, sheet/page, row), then severity, then code: stable output."""
    order = {d.id: i for i, d in enumerate(documents)}

    def key(f: Finding) -> tuple[object, ...]:
        ref = f.refs[0] if f.refs else None
        if ref is None:
            place: tuple[object, ...] = (len(order) + 1, "", 0, 0)
        else:
            place = (
                order.get(ref.document_id, len(order)),
                ref.sheet or "",
                ref.page or 0,
                ref.row or 0,
            )
        return (*place, _SEVERITY_ORDER[f.severity], f.code, f.code_raw or "")

    return tuple(sorted(findings, key=key))


def _unit_rows(items: Sequence[CodeItem]) -> tuple[Mapping[str, object], ...]:
    """One row per battery unit, at its first place.

    A unit is one registration record, or one key when it is not registered; never one
    code. A pack's GS1 and GB/T codes reaching one record are one row, and so is a unit the
    invoice and the packing list both list. `keys` and `raws` give every code of the unit.
    """
    rows: dict[str, dict[str, object]] = {}
    for item in items:
        unit = item.unit
        if unit is None:
            continue
        row = rows.get(unit)
        if row is not None:
            keys = row["keys"]
            raws = row["raws"]
            if isinstance(keys, list) and item.key not in keys:
                keys.append(item.key)
            if isinstance(raws, list) and item.decoded.raw not in raws:
                raws.append(item.decoded.raw)
            continue
        lookup = item.lookup
        record = item.record
        rows[unit] = {
            "key": item.key,
            "raw": item.decoded.raw,
            "scheme": str(item.decoded.scheme),
            "lookup": str(lookup.status) if lookup else "not_looked_up",
            "reason": (lookup.reason if lookup else None) or "",
            "registration": str(record.status) if record else "",
            "document_id": item.ref.document_id,
            "where": item.ref.describe(),
            "line": item.line.line_no if item.line is not None else None,
            "keys": [item.key],
            "raws": [item.decoded.raw],
        }
    return tuple(rows.values())


def _counts(
    findings: Sequence[Finding],
    items: Sequence[CodeItem],
    extractions: Sequence[Extraction],
    rejected: Sequence[RejectedDocument],
    units: Sequence[Mapping[str, object]],
) -> dict[str, int]:
    severities = Counter(str(f.severity) for f in findings)
    statuses = Counter(str(row["lookup"]) for row in units)
    return {
        "documents": len(extractions) + len(rejected),
        "documents_rejected": len(rejected),
        "lines": sum(len(e.lines) for e in extractions),
        "codes": len(items),
        "codes_invalid": sum(1 for i in items if not i.decoded.valid),
        "units": len(units),
        "verified": statuses.get("found", 0),
        "not_found": statuses.get("not_found", 0),
        "unverified": statuses.get("unverified", 0) + statuses.get("not_looked_up", 0),
        "block": severities.get("block", 0),
        "warn": severities.get("warn", 0),
        "info": severities.get("info", 0),
    }


def decide_verdict(
    findings: Sequence[Finding],
    units: Sequence[Mapping[str, object]],
    crashed: Sequence[str] = (),
    *,
    usable: bool = True,
) -> Verdict:
    """`block` on any blocking finding; `clear` only when every unit was positively verified,
    at least one unit was, nothing warns and every rule ran; otherwise `hold` (fail closed)."""
    if any(f.severity is Severity.BLOCK for f in findings):
        return Verdict.BLOCK
    if not usable or crashed or not units:
        return Verdict.HOLD
    if any(f.severity is Severity.WARN for f in findings):
        return Verdict.HOLD
    if any(row["lookup"] != "found" for row in units):
        return Verdict.HOLD
    return Verdict.CLEAR
