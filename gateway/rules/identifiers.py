"""Identifier rules: syntax, check digits, unit-level keys, GB/T structure and dates, labels.

Sources: GS1 General Specifications (element strings, check digits, SSCC), GB/T 34014-2017 and
GB/T 45565-2025 (battery codes), EU Battery Regulation Art. 77 (unit-level identifier).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from gateway.domain import Finding, Problem, Scheme, Severity
from gateway.gs1.words import problem_zh
from gateway.rules.context import CodeItem
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.nearmiss import suggest

_CHECK_DIGIT_PROBLEMS = frozenset({"INCORRECT_CHECK_DIGIT", "BAD_CHECK_DIGIT", "CHECK_DIGIT"})
_ESS_CATEGORIES = frozenset({"ci_ess", "residential_ess"})
_GB45565_ESS_TYPES = frozenset({"H", "J", "K"})


def _error_problems(item: CodeItem) -> list[Problem]:
    return [p for p in item.decoded.problems if p.severity == "error"]


def check_syntax(run: RuleRun) -> Iterator[Finding]:
    """A code must parse: known AIs, valid lengths and characters, correct check digits."""
    for item in run.ctx.items:
        if item.decoded.valid:
            continue
        problems = _error_problems(item)
        raw = item.decoded.raw
        if item.decoded.scheme is Scheme.UNKNOWN and not problems:
            problems = [Problem("UNRECOGNIZED", "not a GS1 or GB/T battery code", (0, len(raw)))]
        if not problems:
            continue
        problem = problems[0]
        is_check_digit = any(p.code in _CHECK_DIGIT_PROBLEMS for p in problems)
        # A malformed GB code blocks an NEV traction unit; elsewhere a person decides.
        severity = None
        if item.is_gb and not is_check_digit:
            category = _line_category(run, item)
            severity = Severity.BLOCK if category == "nev_traction" else Severity.WARN
        suggestion = suggest(run.ctx, item)
        code = "CHECK_DIGIT_INVALID" if is_check_digit else "CODE_SYNTAX_INVALID"
        if is_check_digit:
            problem = next(p for p in problems if p.code in _CHECK_DIGIT_PROBLEMS)
        span = problem.span
        yield run.finding(
            code,
            refs=[item.ref],
            severity=severity,
            code_raw=raw,
            span=span if span != (0, 0) else None,
            problem=problem.code,
            detail=problem.message.rstrip("."),
            hint_detail_zh=problem_zh(problem, raw),
            scheme=str(item.decoded.scheme),
            suggestion=suggestion or "",
            hint_en=f" Did you mean {suggestion}?" if suggestion else "",
            hint_zh=f" 是否应为 {suggestion}？" if suggestion else "",
        )


def _line_category(run: RuleRun, item: CodeItem) -> str | None:
    """The registered category of any unit on the same line (GB codes often sit beside GS1)."""
    if item.record is not None:
        return item.record.category
    if item.line is not None:
        for other in run.ctx.items_of(item.line):
            if other.record is not None and other.record.category:
                return other.record.category
    return None


def check_unit_level(run: RuleRun) -> Iterator[Finding]:
    """Each battery needs a unit-level identifier: a GTIN alone (or with a lot) names a model.

    One finding per GTIN, listing the lines, so a cell manifest identified by lot does not
    produce one finding per line.
    """
    by_gtin: dict[str, list[CodeItem]] = defaultdict(list)
    for item in run.ctx.items:
        if item.decoded.valid and item.decoded.key_kind in ("gtin", "lot"):
            line_units = item.line is not None and any(
                other.is_unit for other in run.ctx.items_of(item.line)
            )
            if not line_units:
                by_gtin[item.decoded.gtin or ""].append(item)
    for gtin, items in sorted(by_gtin.items()):
        yield run.finding(
            "UNIT_IDENTIFIER_MISSING",
            refs=[i.ref for i in items],
            code_raw=items[0].decoded.raw,
            gtin=gtin,
            count=len(items),
        )


def check_gb_dates(run: RuleRun) -> Iterator[Finding]:
    """A GB/T code's production date must not lie in the future or differ from the record."""
    for item in run.ctx.items:
        gb = item.decoded.gb
        if gb is None or gb.production_date is None:
            continue
        if gb.production_date > run.ctx.today:
            yield run.finding(
                "GB_DATE_IN_FUTURE",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                date=gb.production_date.isoformat(),
                today=run.ctx.today.isoformat(),
            )
            continue
        record = item.record
        if (
            record is not None
            and record.manufacturing_date is not None
            and record.manufacturing_date != gb.production_date
        ):
            yield run.finding(
                "GB_DATE_MISMATCH",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                date=gb.production_date.isoformat(),
                registered=record.manufacturing_date.isoformat(),
            )


def check_gb45565_type(run: RuleRun) -> Iterator[Finding]:
    """A GB/T 45565 code on an energy-storage unit should carry an ESS type letter (H/J/K)."""
    for item in run.ctx.items:
        gb = item.decoded.gb
        if gb is None or gb.scheme is not Scheme.GB45565:
            continue
        category = _line_category(run, item)
        if category in _ESS_CATEGORIES and gb.product_type not in _GB45565_ESS_TYPES:
            yield run.finding(
                "GB45565_TYPE_NOT_ESS",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                type_letter=gb.product_type,
                category=category or "",
            )


def check_label_same_record(run: RuleRun) -> Iterator[Finding]:
    """GS1 and GB codes printed on one label must reach the same registration record."""
    groups: dict[object, list[CodeItem]] = defaultdict(list)
    for item in run.ctx.units():
        if item.label is not None:
            groups[("label", item.label)].append(item)
        elif item.line is not None:
            groups[("line", id(item.line))].append(item)
    for items in groups.values():
        if len(items) != 2:
            continue  # a label pairs exactly one GS1 code with one GB/T code
        gs1 = [i for i in items if not i.is_gb]
        gb = [i for i in items if i.is_gb]
        # Only a one-to-one pairing is a label; a line listing many units pairs nothing.
        if len(gs1) != 1 or len(gb) != 1:
            continue
        a, b = gs1[0], gb[0]
        ra, rb = a.record, b.record
        conflict = ra is not None and rb is not None and ra.record_id != rb.record_id
        if (
            ra is not None
            and ra.gb_code
            and b.key
            and ra.gb_code.replace("-", "") != b.key.replace("-", "")
        ):
            conflict = True
        if conflict:
            yield run.finding(
                "LABEL_CODES_DIFFERENT_RECORDS",
                refs=[a.ref, b.ref],
                code_raw=b.decoded.raw,
                gs1=a.decoded.raw,
                gb=b.decoded.raw,
                record_a=ra.record_id if ra else "",
                record_b=rb.record_id if rb else (ra.gb_code if ra else "") or "",
            )


def check_sscc(run: RuleRun) -> Iterator[Finding]:
    """Each SSCC (pallet or carton) appears once per shipment's labels and manifest lines."""
    seen: dict[str, list[CodeItem]] = defaultdict(list)
    for item in run.ctx.items:
        if item.decoded.key_kind == "sscc" and item.decoded.valid and item.key:
            seen[item.key].append(item)
    for key, items in seen.items():
        lines = {id(i.line) for i in items if i.line is not None}
        # The same SSCC on several lines of one pallet is normal; on several pallets it is not.
        pallets = {i.line.pallet for i in items if i.line is not None and i.line.pallet}
        if len(pallets) > 1 or (not pallets and len(lines) > 1 and len(items) > len(lines)):
            yield run.finding(
                "SSCC_DUPLICATE",
                refs=[i.ref for i in items],
                code_raw=items[0].decoded.raw,
                sscc=key.removeprefix("00:"),
                count=len(items),
            )


def check_read_quality(run: RuleRun) -> Iterator[Finding]:
    """Codes read by OCR with low confidence, or repaired, need a person to look."""
    threshold = run.number("min_confidence")
    for item in run.ctx.items:
        confidence = item.occurrence.confidence
        if confidence is not None and confidence < threshold:
            yield run.finding(
                "LOW_READ_CONFIDENCE",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                confidence=round(confidence, 2),
                threshold=threshold,
            )
        elif item.decoded.repaired:
            yield run.finding(
                "CODE_REPAIRED",
                refs=[item.ref],
                severity=Severity.INFO,
                code_raw=item.decoded.raw,
                detail="; ".join(p.message for p in item.decoded.problems) or "repaired",
                hint_detail_zh="；".join(
                    problem_zh(p, item.decoded.raw) for p in item.decoded.problems
                )
                or "已修复",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "identifiers.syntax",
        1,
        Severity.BLOCK,
        "GS1",
        ("CODE_SYNTAX_INVALID", "CHECK_DIGIT_INVALID"),
        check_syntax,
        "Codes parse as GS1 element strings, Digital Link URIs or GB/T codes; check digits hold.",
    ),
    Rule(
        "identifiers.unit_level",
        2,
        Severity.WARN,  # lot-coded cells below 2 kWh are lawful; a person decides
        "EUBR",
        ("UNIT_IDENTIFIER_MISSING",),
        check_unit_level,
        "Each battery carries a unit-level identifier (GTIN + serial, GIAI or GB/T code).",
    ),
    Rule(
        "identifiers.gb_date",
        1,
        Severity.WARN,
        "GB",
        ("GB_DATE_IN_FUTURE", "GB_DATE_MISMATCH"),
        check_gb_dates,
        "GB/T production dates are plausible and equal the registered manufacturing date.",
    ),
    Rule(
        "identifiers.gb45565_type",
        1,
        Severity.WARN,
        "GB",
        ("GB45565_TYPE_NOT_ESS",),
        check_gb45565_type,
        "GB/T 45565 codes of energy-storage units carry an ESS type letter (H, J, K).",
    ),
    Rule(
        "identifiers.label_same_record",
        1,
        Severity.BLOCK,
        "GB",
        ("LABEL_CODES_DIFFERENT_RECORDS",),
        check_label_same_record,
        "The GS1 and GB/T codes of one label reach the same registration record.",
    ),
    Rule(
        "identifiers.sscc_unique",
        1,
        Severity.WARN,
        "GS1",
        ("SSCC_DUPLICATE",),
        check_sscc,
        "Each SSCC identifies one logistic unit in the shipment.",
    ),
    Rule(
        "identifiers.read_quality",
        1,
        Severity.WARN,
        "PRACTICE",
        ("LOW_READ_CONFIDENCE", "CODE_REPAIRED"),
        check_read_quality,
        "Codes read with low OCR confidence or repaired from capture artefacts are reviewed.",
        defaults={"min_confidence": 0.8},
    ),
)
