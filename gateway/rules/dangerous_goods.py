"""Dangerous-goods rules: UN number vs battery, UN38.3 summary, air limits, state of charge, Wh.

Sources: UN Model Regulations, IMDG Code, IATA DGR 67th edition ("DG").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from gateway.domain import Finding, ManifestLine, RegistrationRecord, Severity, SourceRef
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import (
    BATTERY_UN,
    LITHIUM_ION_UN,
    LITHIUM_METAL_UN,
    SODIUM_ION_UN,
    normalize_un,
)


def _records(run: RuleRun, line: ManifestLine) -> list[RegistrationRecord]:
    return [i.record for i in run.ctx.items_of(line) if i.record is not None]


def _allowed_un(record: RegistrationRecord) -> frozenset[str] | None:
    """UN numbers that fit a registered battery shipped on its own (None: cannot tell)."""
    chemistry = (record.chemistry or "").upper()
    if chemistry in ("NA_ION", "NA-ION", "SODIUM"):
        return SODIUM_ION_UN
    if chemistry in ("LI_METAL", "LI-METAL"):
        return LITHIUM_METAL_UN
    if record.category in ("ci_ess", "residential_ess"):
        # Storage installed in a container travels as UN3536; the level on record does not
        # say whether it is installed, so both entries fit.
        return LITHIUM_ION_UN | {"UN3536"}
    if record.category in ("nev_traction", "ci_ess", "residential_ess", "lmt", "portable"):
        return LITHIUM_ION_UN
    return None


def check_un_number(run: RuleRun) -> Iterator[Finding]:
    """The UN number is a battery entry that fits the registered chemistry and packing."""
    missing: list[SourceRef] = []
    for _, line in run.ctx.lines():
        un = normalize_un(line.un_number)
        ref = run.ctx.field_ref(line, "un_number")
        records = _records(run, line)
        if un is None:
            if records or line.codes:
                missing.append(line.source)
            continue
        if un not in BATTERY_UN:
            yield run.finding(
                "UN_NUMBER_NOT_BATTERY", refs=[ref], stated=un, line=line.line_no or ""
            )
            continue
        if records:
            allowed = _allowed_un(records[0])
            if allowed is not None and un not in allowed:
                yield run.finding(
                    "UN_NUMBER_MISMATCH",
                    refs=[ref],
                    stated=un,
                    expected=" / ".join(sorted(allowed)),
                    chemistry=records[0].chemistry or "",
                    category=records[0].category or "",
                    line=line.line_no or "",
                )
    if missing and not run.ctx.header("un_number"):
        yield run.finding(
            "UN_NUMBER_MISSING", refs=missing, severity=Severity.WARN, count=len(missing)
        )


def check_un38_3(run: RuleRun) -> Iterator[Finding]:
    """A UN38.3 test summary is on record for each battery model (one finding per model)."""
    models: dict[str, list[SourceRef]] = defaultdict(list)
    for item in run.ctx.units():
        record = item.record
        if record is not None and not record.un38_3_summary_ref:
            models[record.model or record.design_id or record.gtin or "?"].append(item.ref)
    for model, refs in sorted(models.items()):
        yield run.finding("UN38_3_SUMMARY_MISSING", refs=refs, model=model, count=len(refs))


def check_air(run: RuleRun) -> Iterator[Finding]:
    """By air: UN3536 is forbidden, UN3480 is cargo aircraft only, > 35 kg needs approval."""
    if run.ctx.transport_mode() != "air":
        return
    max_kg = run.number("max_net_kg_per_package")
    for _, line in run.ctx.lines():
        un = normalize_un(line.un_number) or normalize_un(run.ctx.header("un_number"))
        ref = run.ctx.field_ref(line, "un_number")
        if un == "UN3536":
            yield run.finding("AIR_UN3536_FORBIDDEN", refs=[ref], line=line.line_no or "")
        elif un == "UN3480":
            yield run.finding(
                "AIR_CARGO_AIRCRAFT_ONLY",
                refs=[ref],
                severity=Severity.INFO,
                line=line.line_no or "",
            )
        if line.net_kg and line.quantity and line.quantity > 0:
            per_package = line.net_kg / line.quantity
            if per_package > max_kg:
                yield run.finding(
                    "AIR_PACKAGE_OVER_LIMIT",
                    refs=[run.ctx.field_ref(line, "net_kg")],
                    net=round(per_package, 2),
                    limit=max_kg,
                    line=line.line_no or "",
                )


_SOC = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%?")


def check_state_of_charge(run: RuleRun) -> Iterator[Finding]:
    """By air, UN3480 (and UN3481 packed with equipment) travel at 30 % charge or less."""
    if run.ctx.transport_mode() != "air":
        return
    limit = run.number("max_soc_pct")
    header_soc = run.ctx.header("state_of_charge")
    for _, line in run.ctx.lines():
        un = normalize_un(line.un_number)
        if un not in ("UN3480", "UN3481"):
            continue
        stated = line.extra.get("state_of_charge") or header_soc
        match = _SOC.search(stated or "")
        if match is None:
            yield run.finding("AIR_SOC_NOT_STATED", refs=[line.source], line=line.line_no or "")
        elif float(match.group(1)) > limit:
            yield run.finding(
                "AIR_SOC_TOO_HIGH",
                refs=[line.source],
                stated=match.group(1),
                limit=limit,
                line=line.line_no or "",
            )


def check_wh_rating(run: RuleRun) -> Iterator[Finding]:
    """A Wh rating is known for each battery (manifest or record); one finding per shipment."""
    refs: list[SourceRef] = []
    for _, line in run.ctx.lines():
        records = _records(run, line)
        if not records:
            continue
        known = any(
            line.extra.get(k) for k in ("rated_energy_wh", "rated_energy_kwh", "wh_rating")
        ) or any(r.rated_energy_kwh for r in records)
        if not known:
            refs.append(line.source)
    if refs:
        yield run.finding("WH_RATING_MISSING", refs=refs, count=len(refs))


# Words that mark special batteries (English and Chinese), with the special provision they
# fall under: damaged or defective (SP 376), prototypes (SP 310), waste for recycling (SP 377).
_SPECIAL: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("damaged", "SP 376", ("damaged", "defective", "faulty", "损坏", "缺陷", "故障")),
    ("prototype", "SP 310", ("prototype", "pre-production", "sample cell", "样品", "原型")),
    ("waste", "SP 377", ("waste", "scrap", "for recycling", "end-of-life", "废旧", "报废")),
)


def check_special_batteries(run: RuleRun) -> Iterator[Finding]:
    """Damaged, prototype or waste batteries need special packing; damaged ones never fly."""
    air = run.ctx.transport_mode() == "air"
    for _, line in run.ctx.lines():
        text = (line.description or "").lower()
        for kind, provision, words in _SPECIAL:
            if any(
                re.search(rf"\b{re.escape(w)}\b", text) if w.isascii() else w in text for w in words
            ):
                yield run.finding(
                    "SPECIAL_BATTERY",
                    refs=[run.ctx.field_ref(line, "description")],
                    severity=Severity.BLOCK if air and kind == "damaged" else None,
                    kind=kind,
                    provision=provision,
                    line=line.line_no or "",
                )


RULES: tuple[Rule, ...] = (
    Rule(
        "dangerous_goods.un_number",
        1,
        Severity.BLOCK,
        "DG",
        ("UN_NUMBER_NOT_BATTERY", "UN_NUMBER_MISMATCH", "UN_NUMBER_MISSING"),
        check_un_number,
        "The UN number is a battery entry fitting the registered chemistry and packing.",
    ),
    Rule(
        "dangerous_goods.un38_3",
        1,
        Severity.WARN,
        "DG",
        ("UN38_3_SUMMARY_MISSING",),
        check_un38_3,
        "A UN38.3 test summary is on record for each model.",
    ),
    Rule(
        "dangerous_goods.air",
        1,
        Severity.BLOCK,
        "DG",
        ("AIR_UN3536_FORBIDDEN", "AIR_CARGO_AIRCRAFT_ONLY", "AIR_PACKAGE_OVER_LIMIT"),
        check_air,
        "Air transport limits: UN3536 forbidden, UN3480 cargo aircraft only, 35 kg per package.",
        defaults={"max_net_kg_per_package": 35},
    ),
    Rule(
        "dangerous_goods.state_of_charge",
        1,
        Severity.BLOCK,
        "DG",
        ("AIR_SOC_NOT_STATED", "AIR_SOC_TOO_HIGH"),
        check_state_of_charge,
        "By air, lithium-ion batteries travel at 30 % state of charge or less.",
        defaults={"max_soc_pct": 30},
    ),
    Rule(
        "dangerous_goods.special",
        1,
        Severity.WARN,
        "DG",
        ("SPECIAL_BATTERY",),
        check_special_batteries,
        "Damaged, prototype and waste batteries are flagged for special packing (SP 376/310/377).",
    ),
    Rule(
        "dangerous_goods.wh_rating",
        1,
        Severity.WARN,
        "DG",
        ("WH_RATING_MISSING",),
        check_wh_rating,
        "A Wh rating is known for each battery.",
    ),
)
