"""Registration rules: each unit's record on the traceability platform, and what it says.

Source: the platform policy claimed for 2026-04-01 ("SEED"), not confirmed by any official
text, so these rules form the switchable `platform_policy` pack. The one exception is
`registration.unverified`, which keeps an unanswered look-up from ever passing silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator

from gateway.domain import Finding, LookupStatus, RegistrationStatus, Severity, SourceRef
from gateway.rules.context import CodeItem
from gateway.rules.engine import CORE, PLATFORM_POLICY, Rule, RuleRun
from gateway.rules.nearmiss import diff_span, key_to_hri, suggest
from gateway.rules.reference import level_in_text, same_text

_BLOCKING_STATUS = frozenset(
    {
        RegistrationStatus.REJECTED,
        RegistrationStatus.REVOKED,
        RegistrationStatus.SUSPENDED,
        RegistrationStatus.EXPIRED,
        RegistrationStatus.EXPORTED,
    }
)
_USCC = re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b")


def check_found(run: RuleRun) -> Iterator[Finding]:
    """Every unit code must be registered on the platform."""
    for item in run.ctx.units():
        if item.lookup is None or item.lookup.status is not LookupStatus.NOT_FOUND:
            continue
        if item.decoded.key_kind == "sscc":
            continue  # an unknown SSCC is a pallet, not an unregistered battery
        suggestion = suggest(run.ctx, item)
        yield run.finding(
            "UNIT_NOT_REGISTERED",
            refs=[item.ref],
            code_raw=item.decoded.raw,
            span=diff_span(item.decoded.raw, suggestion) if suggestion else None,
            key=item.key or "",
            unit=key_to_hri(item.key or ""),
            suggestion=suggestion or "",
            hint_en=f" Did you mean {suggestion} (registered)?" if suggestion else "",
            hint_zh=f" 是否应为已备案的 {suggestion}？" if suggestion else "",
        )


def check_status(run: RuleRun) -> Iterator[Finding]:
    """The registration must be active; pending or minor omissions are handled by grace rules."""
    window_end = run.date("grace_window_end")
    minor = {f.lower() for f in run.strings("minor_fields")}
    for item in run.ctx.units():
        record = item.record
        if record is None:
            continue
        status = record.status
        if status in _BLOCKING_STATUS:
            yield run.finding(
                "REGISTRATION_STATUS_BLOCKING",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                key=item.key or "",
                unit=key_to_hri(item.key or ""),
                status=str(status),
                reason=record.reason_code or "",
            )
        elif status is RegistrationStatus.PENDING_REVIEW:
            yield run.finding(
                "REGISTRATION_PENDING_REVIEW",
                refs=[item.ref],
                severity=Severity.WARN,
                code_raw=item.decoded.raw,
                key=item.key or "",
                unit=key_to_hri(item.key or ""),
                status=str(status),
                reason=record.reason_code or "",
            )
        elif status is RegistrationStatus.NEEDS_CORRECTION:
            missing = [f for f in record.missing_fields]
            only_minor = bool(missing) and all(f.lower() in minor for f in missing)
            grace_until = record.grace_until or window_end
            in_grace = only_minor and grace_until is not None and run.ctx.today <= grace_until
            if window_end is not None and run.ctx.today > window_end:
                in_grace = False  # the policy's window is over, whatever the record says
            yield run.finding(
                "REGISTRATION_GRACE_PERIOD" if in_grace else "REGISTRATION_NEEDS_CORRECTION",
                refs=[item.ref],
                severity=Severity.WARN if in_grace else Severity.BLOCK,
                code_raw=item.decoded.raw,
                missing=", ".join(missing) or "-",
                grace_until=grace_until.isoformat() if grace_until else "-",
                key=item.key or "",
                unit=key_to_hri(item.key or ""),
                status=str(status),
                reason=record.reason_code or "",
            )


def check_lot(run: RuleRun) -> Iterator[Finding]:
    """The lot on the manifest (or AI 10 of the code) equals the registered lot."""
    for item in run.ctx.units():
        record = item.record
        if record is None or not record.lot:
            continue
        stated = item.decoded.ais.get("10") or (item.line.lot if item.line else None)
        if stated and not same_text(stated, record.lot):
            yield run.finding(
                "LOT_MISMATCH",
                refs=[_field_ref(item, "lot")],
                code_raw=item.decoded.raw,
                stated=stated,
                registered=record.lot,
            )


def _field_ref(item: CodeItem, name: str) -> SourceRef:
    if item.line is not None and name in item.line.field_sources:
        source = item.line.field_sources[name]
        if source.line is None and item.line.line_no:
            return dataclasses.replace(source, line=item.line.line_no)
        return source
    return item.ref


def check_scope(run: RuleRun) -> Iterator[Finding]:
    """Report units whose registered category is out of the platform's scope, or unknown."""
    in_scope = set(run.strings("in_scope_categories"))
    out: dict[str, list[CodeItem]] = defaultdict(list)
    unknown: list[CodeItem] = []
    for item in run.ctx.units():
        record = item.record
        if record is None:
            continue
        if not record.category:
            unknown.append(item)
        elif record.category not in in_scope:
            out[record.category].append(item)
    for category, items in sorted(out.items()):
        yield run.finding(
            "CATEGORY_OUT_OF_SCOPE",
            refs=[i.ref for i in items],
            severity=Severity.INFO,
            category=category,
            count=len(items),
        )
    if unknown:
        yield run.finding(
            "CATEGORY_UNKNOWN",
            refs=[i.ref for i in unknown],
            severity=Severity.WARN,
            count=len(unknown),
        )


def check_destination(run: RuleRun) -> Iterator[Finding]:
    """The shipment's destination equals the registered export destination."""
    for item in run.ctx.units():
        record = item.record
        if record is None or not record.destination_country:
            continue
        destination = run.ctx.destination(item.line)
        if destination and destination != record.destination_country.upper():
            yield run.finding(
                "DESTINATION_MISMATCH",
                refs=[_field_ref(item, "destination")],
                code_raw=item.decoded.raw,
                stated=destination,
                registered=record.destination_country,
            )


def check_model(run: RuleRun) -> Iterator[Finding]:
    """The manifest's model equals the registered model or design id (one finding per line)."""
    missing_lines: list[SourceRef] = []
    for _, line in run.ctx.lines():
        records = run.ctx.records_of(line)
        if not records:
            continue
        if not line.model:
            missing_lines.append(line.source)
            continue
        wrong = [
            r
            for r in records
            if (r.model or r.design_id)
            and not same_text(line.model, r.model)
            and not same_text(line.model, r.design_id)
        ]
        if wrong:
            yield run.finding(
                "MODEL_MISMATCH",
                refs=[run.ctx.field_ref(line, "model")],
                stated=line.model,
                registered=wrong[0].model or wrong[0].design_id or "",
                count=len(wrong),
                line=line.line_no or "",
            )
    if missing_lines:
        yield run.finding(
            "MODEL_MISSING",
            refs=missing_lines,
            severity=Severity.WARN,
            count=len(missing_lines),
        )


def check_exporter(run: RuleRun) -> Iterator[Finding]:
    """The registered exporter (USCC) is the shipper named on the documents."""
    shipper = run.ctx.header("shipper_uscc") or run.ctx.header("shipper") or ""
    match = _USCC.search(shipper.upper())
    if not match:
        return
    stated = match.group(0)
    wrong = [
        i
        for i in run.ctx.units()
        if i.record is not None and i.record.exporter_uscc and i.record.exporter_uscc != stated
    ]
    if wrong:
        record = wrong[0].record
        yield run.finding(
            "EXPORTER_MISMATCH",
            refs=[i.ref for i in wrong],
            stated=stated,
            registered=record.exporter_uscc if record else "",
            count=len(wrong),
        )


def check_level(run: RuleRun) -> Iterator[Finding]:
    """The level a line describes (cell, module, pack, cluster, system) is the registered one."""
    for _, line in run.ctx.lines():
        named = level_in_text(line.description)
        if named is None:
            continue
        levels = {i.record.level for i in run.ctx.items_of(line) if i.record and i.record.level}
        if levels and named not in levels:
            yield run.finding(
                "LEVEL_MISMATCH",
                refs=[run.ctx.field_ref(line, "description")],
                stated=named,
                registered=", ".join(sorted(levels)),
                line=line.line_no or "",
            )


def check_tolerance(run: RuleRun) -> Iterator[Finding]:
    """Rated energy and unit mass on the manifest agree with the record within a tolerance."""
    tolerance = run.number("tolerance")
    for _, line in run.ctx.lines():
        records = run.ctx.records_of(line)
        if not records:
            continue
        record = records[0]
        energy = _number(line.extra.get("rated_energy_kwh"))
        if energy is None and (wh := _number(line.extra.get("rated_energy_wh"))) is not None:
            energy = wh / 1000
        rated = record.rated_energy_kwh
        if energy is not None and rated and abs(energy - rated) > tolerance * rated:
            yield run.finding(
                "ENERGY_MISMATCH",
                refs=[line.source],
                stated=round(energy, 3),
                registered=record.rated_energy_kwh,
                tolerance_pct=round(tolerance * 100, 1),
                line=line.line_no or "",
            )
        if line.net_kg and line.quantity and record.mass_kg:
            per_unit = line.net_kg / line.quantity
            if abs(per_unit - record.mass_kg) > tolerance * record.mass_kg:
                yield run.finding(
                    "MASS_MISMATCH",
                    refs=[run.ctx.field_ref(line, "net_kg")],
                    stated=round(per_unit, 3),
                    registered=record.mass_kg,
                    tolerance_pct=round(tolerance * 100, 1),
                    line=line.line_no or "",
                )


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return float(match.group(0)) if match else None


def check_unverified(run: RuleRun) -> Iterator[Finding]:
    """Codes the platform did not answer stay unverified: one finding per shipment."""
    items = [
        i
        for i in run.ctx.units()
        if i.lookup is not None and i.lookup.status is LookupStatus.UNVERIFIED
    ]
    if not items:
        return
    reasons = sorted({i.lookup.reason or "no answer" for i in items if i.lookup is not None})
    yield run.finding(
        "UNITS_UNVERIFIED",
        refs=[i.ref for i in items],
        count=len(items),
        reasons=", ".join(reasons),
        source=run.ctx.platform_source,
    )


_GRACE_DEFAULTS: dict[str, object] = {
    "grace_window_end": "2026-09-30",
    "minor_fields": ["site_gln", "consignee_name", "cf_study_url", "passport_url", "doc_url"],
}


def check_lookup_age(run: RuleRun) -> Iterator[Finding]:
    """Answers older than the allowed age on the declaration date should be fetched again."""
    checked_at = run.ctx.checked_at
    declared_on = run.ctx.facts.declared_on
    if checked_at is None or declared_on is None:
        return
    if not any(item.lookup is not None for item in run.ctx.units()):
        return
    # The declaration is taken as made at the start of its day (UTC): the earliest moment.
    submitted = dt.datetime.combine(declared_on, dt.time(), tzinfo=dt.UTC)
    answered = checked_at if checked_at.tzinfo else checked_at.replace(tzinfo=dt.UTC)
    hours = (submitted - answered).total_seconds() / 3600
    limit = run.number("max_age_hours")
    if hours > limit:
        yield run.finding(
            "LOOKUP_AGE",
            checked_at=answered.isoformat(timespec="minutes"),
            declared_on=declared_on.isoformat(),
            hours=int(hours),
            max_hours=int(limit) if float(limit).is_integer() else limit,
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "registration.found",
        1,
        Severity.BLOCK,
        "SEED",
        ("UNIT_NOT_REGISTERED",),
        check_found,
        "Every unit code is registered on the traceability platform.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.status",
        1,
        Severity.BLOCK,
        "SEED",
        (
            "REGISTRATION_STATUS_BLOCKING",
            "REGISTRATION_PENDING_REVIEW",
            "REGISTRATION_NEEDS_CORRECTION",
            "REGISTRATION_GRACE_PERIOD",
        ),
        check_status,
        "The registration is active; minor omissions warn during the grace window.",
        PLATFORM_POLICY,
        _GRACE_DEFAULTS,
    ),
    Rule(
        "registration.lot",
        1,
        Severity.BLOCK,
        "SEED",
        ("LOT_MISMATCH",),
        check_lot,
        "The manifest's lot equals the registered lot.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.scope",
        1,
        Severity.INFO,
        "SEED",
        ("CATEGORY_OUT_OF_SCOPE", "CATEGORY_UNKNOWN"),
        check_scope,
        "The registered category is in the platform's scope (NEV traction, C&I ESS).",
        PLATFORM_POLICY,
        {"in_scope_categories": ["nev_traction", "ci_ess"]},
    ),
    Rule(
        "registration.destination",
        1,
        Severity.BLOCK,
        "SEED",
        ("DESTINATION_MISMATCH",),
        check_destination,
        "The destination equals the registered export destination.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.model",
        1,
        Severity.BLOCK,
        "SEED",
        ("MODEL_MISMATCH", "MODEL_MISSING"),
        check_model,
        "The manifest's model equals the registered model or design id.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.exporter",
        1,
        Severity.WARN,
        "SEED",
        ("EXPORTER_MISMATCH",),
        check_exporter,
        "The registered exporter is the shipper on the documents.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.level",
        1,
        Severity.WARN,
        "SEED",
        ("LEVEL_MISMATCH",),
        check_level,
        "The level a line describes equals the registered product level.",
        PLATFORM_POLICY,
    ),
    Rule(
        "registration.tolerance",
        1,
        Severity.WARN,
        "SEED",
        ("ENERGY_MISMATCH", "MASS_MISMATCH"),
        check_tolerance,
        "Rated energy and mass on the manifest agree with the record.",
        PLATFORM_POLICY,
        {"tolerance": 0.05},
    ),
    Rule(
        "registration.unverified",
        1,
        Severity.WARN,
        "ASSUMPTION",
        ("UNITS_UNVERIFIED",),
        check_unverified,
        "Codes the platform did not answer are reported, never passed.",
        CORE,
    ),
    Rule(
        "registration.lookup_age",
        1,
        Severity.INFO,
        "ASSUMPTION",
        ("LOOKUP_AGE",),
        check_lookup_age,
        "Answers older than the allowed age on the declaration date are fetched again.",
        CORE,
        {"max_age_hours": 24},
    ),
)
