"""Chinese export customs rules: HS code vs battery type, export control, DG packaging, rebate.

Sources: GACC tariff lines under 8507.60 and declaration practice ("CN-CUS"); MOFCOM/GACC
Announcement 2025 No. 58 and its suspension by No. 70, MOF/STA Announcement 2026 No. 2
("CN-EXP").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from gateway.domain import Finding, RegistrationRecord, Severity, SourceRef
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import PACKAGING_APPRAISAL_UN, normalize_un

_LITHIUM = frozenset({"LFP", "NCM", "NCA", "LMO", "LCO", "LTO"})


def expected_hs(record: RegistrationRecord) -> str | None:
    """The Chinese 10-digit tariff line a registered battery should use, when it is clear."""
    chemistry = (record.chemistry or "").upper()
    if chemistry and chemistry not in _LITHIUM:
        return None
    if record.category == "nev_traction":
        return "8507600010" if record.level == "cell" else "8507600020"
    if record.category in ("ci_ess", "residential_ess"):
        return "8507600090"
    return None


def check_hs(run: RuleRun) -> Iterator[Finding]:
    """The HS code fits the registered battery: heading conflict blocks, subheading warns."""
    for _, line in run.ctx.lines():
        if not line.hs_code:
            continue
        hs = "".join(c for c in line.hs_code if c.isdigit())
        records = [i.record for i in run.ctx.items_of(line) if i.record is not None]
        ref = run.ctx.field_ref(line, "hs_code")
        if not records:
            continue
        record = records[0]
        chemistry = (record.chemistry or "").upper()
        lithium = chemistry in _LITHIUM or not chemistry
        if lithium and not hs.startswith("850760"):
            yield run.finding(
                "HS_HEADING_CONFLICT",
                refs=[ref],
                severity=Severity.BLOCK,
                stated=line.hs_code,
                expected="8507.60",
                chemistry=chemistry or "Li-ion",
                line=line.line_no or "",
            )
            continue
        if not lithium and hs.startswith("850760"):
            yield run.finding(
                "HS_HEADING_CONFLICT",
                refs=[ref],
                severity=Severity.BLOCK,
                stated=line.hs_code,
                expected="8507.80",
                chemistry=chemistry,
                line=line.line_no or "",
            )
            continue
        expected = expected_hs(record)
        # Only a full 10-digit code can be compared with a 10-digit tariff line.
        if expected and len(hs) == 10 and hs != expected:
            yield run.finding(
                "HS_SUBHEADING_MISMATCH",
                refs=[ref],
                severity=Severity.WARN,
                stated=line.hs_code,
                expected=expected,
                category=record.category or "",
                level=record.level or "",
                line=line.line_no or "",
            )


def check_export_control(run: RuleRun) -> Iterator[Finding]:
    """Li-ion at or above 300 Wh/kg needs a dual-use licence once the suspension ends."""
    threshold = run.number("threshold_wh_per_kg")
    near = run.number("near_margin_wh_per_kg")
    suspended_until = run.date("suspended_until")
    active = suspended_until is None or run.ctx.today > suspended_until
    hits: dict[str, list[SourceRef]] = defaultdict(list)
    close: dict[str, list[SourceRef]] = defaultdict(list)
    values: dict[str, float] = {}
    for item in run.ctx.units():
        record = item.record
        if record is None or record.specific_energy_wh_per_kg is None:
            continue
        value = record.specific_energy_wh_per_kg
        model = record.model or record.design_id or record.gtin or "?"
        values[model] = value
        if value >= threshold:
            hits[model].append(item.ref)
        elif value >= threshold - near:
            close[model].append(item.ref)
    for model, refs in sorted(hits.items()):
        yield run.finding(
            "EXPORT_CONTROL_LICENCE" if active else "EXPORT_CONTROL_SUSPENDED",
            refs=refs,
            severity=Severity.BLOCK if active else Severity.WARN,
            model=model,
            value=values[model],
            threshold=threshold,
            until=suspended_until.isoformat() if suspended_until else "-",
        )
    if active:
        for model, refs in sorted(close.items()):
            yield run.finding(
                "EXPORT_CONTROL_NEAR_THRESHOLD",
                refs=refs,
                severity=Severity.WARN,
                model=model,
                value=values[model],
                threshold=threshold,
            )


def check_packaging_appraisal(run: RuleRun) -> Iterator[Finding]:
    """UN3480/3481/3090/3091 exports need a DG packaging appraisal (危包证) reference."""
    reference = run.ctx.header("dg_packaging_cert")
    if reference:
        return
    refs: list[SourceRef] = []
    numbers: set[str] = set()
    for _, line in run.ctx.lines():
        un = normalize_un(line.un_number)
        if un in PACKAGING_APPRAISAL_UN and not line.extra.get("dg_packaging_cert"):
            refs.append(run.ctx.field_ref(line, "un_number"))
            numbers.add(un)
    if refs:
        yield run.finding(
            "DG_PACKAGING_CERT_MISSING",
            refs=refs,
            un_numbers=", ".join(sorted(numbers)),
            count=len(refs),
        )


def check_rebate(run: RuleRun) -> Iterator[Finding]:
    """State the export VAT rebate rate for batteries on the declaration date."""
    if not any(True for _ in run.ctx.units()) and not any(True for _ in run.ctx.lines()):
        return
    on = run.ctx.facts.declared_on or run.ctx.today
    zero_from = run.date("zero_from")
    reduced_from = run.date("reduced_from")
    rate = "9%"
    if zero_from is not None and on >= zero_from:
        rate = "0%"
    elif reduced_from is not None and on >= reduced_from:
        rate = "6%"
    yield run.finding("VAT_REBATE_RATE", rate=rate, date=on.isoformat())


RULES: tuple[Rule, ...] = (
    Rule(
        "customs.hs_code",
        1,
        Severity.WARN,
        "CN-CUS",
        ("HS_HEADING_CONFLICT", "HS_SUBHEADING_MISMATCH"),
        check_hs,
        "The HS code fits the registered chemistry, category and level.",
    ),
    Rule(
        "customs.export_control",
        1,
        Severity.WARN,
        "CN-EXP",
        ("EXPORT_CONTROL_LICENCE", "EXPORT_CONTROL_SUSPENDED", "EXPORT_CONTROL_NEAR_THRESHOLD"),
        check_export_control,
        "Li-ion of 300 Wh/kg or more needs a dual-use licence while the control applies.",
        defaults={
            "threshold_wh_per_kg": 300,
            "near_margin_wh_per_kg": 20,
            "suspended_until": "2026-11-10",
        },
    ),
    Rule(
        "customs.dg_packaging",
        1,
        Severity.INFO,  # the appraisal is its own document; packing lists rarely cite it
        "CN-CUS",
        ("DG_PACKAGING_CERT_MISSING",),
        check_packaging_appraisal,
        "UN3480/3481/3090/3091 exports name their DG packaging appraisal (危包证).",
    ),
    Rule(
        "customs.vat_rebate",
        1,
        Severity.INFO,
        "CN-EXP",
        ("VAT_REBATE_RATE",),
        check_rebate,
        "The export VAT rebate rate that applies on the declaration date.",
        defaults={"reduced_from": "2026-04-01", "zero_from": "2027-01-01"},
    ),
)
