"""Dangerous-goods rules: UN number vs battery, UN38.3 summary, air limits, state of charge, Wh.

Sources: UN Model Regulations, IMDG Code, IATA DGR 67th edition ("DG").
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from gateway.domain import Finding, ManifestLine, RegistrationRecord, Severity, SourceRef
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import (
    BATTERY_UN,
    LITHIUM_ION_UN,
    LITHIUM_METAL_UN,
    SODIUM_ION_UN,
    normalize_un,
)


def _records(run: RuleRun, line: ManifestLine) -> Sequence[RegistrationRecord]:
    return run.ctx.records_of(line)


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
        records = _records(run, line)
        if un is None:
            # another document stating the UN number for the same units states it here too
            if (records or line.codes) and not run.ctx.line_states(line, "un_number"):
                missing.append(line.source)
            continue
        if un not in BATTERY_UN:
            yield run.finding(
                "UN_NUMBER_NOT_BATTERY",
                refs=[run.ctx.field_ref(line, "un_number")],
                stated=un,
                line=line.line_no or "",
            )
            continue
        if records:
            allowed = _allowed_un(records[0])
            if allowed is not None and un not in allowed:
                yield run.finding(
                    "UN_NUMBER_MISMATCH",
                    refs=[run.ctx.field_ref(line, "un_number")],
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
    if run.ctx.stated("un38_3"):
        return  # the documents cite the test summary themselves
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
        extra = line.extra
        known = (
            bool(extra)
            and bool(
                extra.get("rated_energy_wh")
                or extra.get("rated_energy_kwh")
                or extra.get("wh_rating")
            )
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


_SPECIAL_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (
        kind,
        provision,
        re.compile(
            "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in words)
        ),
    )
    for kind, provision, words in _SPECIAL
)


@functools.lru_cache(maxsize=4096)
def special_kinds(description: str) -> tuple[tuple[str, str], ...]:
    """(kind, provision) of each special battery a description names (lines repeat texts)."""
    text = description.lower()
    return tuple((kind, provision) for kind, provision, p in _SPECIAL_PATTERNS if p.search(text))


def check_special_batteries(run: RuleRun) -> Iterator[Finding]:
    """Damaged, prototype or waste batteries need special packing; damaged ones never fly."""
    air = run.ctx.transport_mode() == "air"
    for _, line in run.ctx.lines():
        for kind, provision in special_kinds(line.description or ""):
            yield run.finding(
                "SPECIAL_BATTERY",
                refs=[run.ctx.field_ref(line, "description")],
                severity=Severity.BLOCK if air and kind == "damaged" else None,
                kind=kind,
                provision=provision,
                line=line.line_no or "",
            )


def _number(text: str | None) -> float | None:
    if not text:
        return None
    match = re.search(r"\d+(?:\.\d+)?", text.replace(",", ""))
    return float(match.group()) if match else None


@dataclass
class _DgFigures:
    """What one document says about its dangerous goods."""

    un_numbers: set[str] = field(default_factory=set)
    packages: float | None = None
    net_kg: float | None = None
    # compared field -> the lines stating it (their cells are looked up only for a finding)
    places: dict[str, list[ManifestLine]] = field(default_factory=dict)


def _dg_figures(run: RuleRun) -> dict[str, _DgFigures]:
    """Per document (by file name): battery UN numbers, packages and net kg of those lines."""
    figures: dict[str, _DgFigures] = {}
    for extraction in run.ctx.extractions:
        seen = _DgFigures()
        line_packages: float | None = None
        for line in extraction.lines:
            un = normalize_un(line.un_number)
            if un not in BATTERY_UN:
                continue
            seen.un_numbers.add(un)
            seen.places.setdefault("un_number", []).append(line)
            count = _number(line.extra.get("packages"))
            if count is not None:
                line_packages = (line_packages or 0.0) + count
                seen.places.setdefault("packages", []).append(line)
            if line.net_kg is not None:
                seen.net_kg = (seen.net_kg or 0.0) + line.net_kg
                seen.places.setdefault("net_kg", []).append(line)
        header_un = normalize_un(extraction.header.get("un_number"))
        if not seen.un_numbers and header_un in BATTERY_UN:
            seen.un_numbers.add(header_un)
        # a title-block "packages" field, else the totals row's (or title block's) total
        total = _number(
            extraction.header.get("packages") or extraction.header.get("total_packages")
        )
        seen.packages = total if total is not None else line_packages
        if seen.un_numbers:
            figures[extraction.document.filename] = seen
    return figures


def check_dg_declaration(run: RuleRun) -> Iterator[Finding]:
    """The DG declaration and the other documents agree on UN numbers, packages and net mass.

    Documents that state these figures are compared with each other (a disagreement blocks).
    When no DG declaration is among them, one information finding gives the figures the
    declaration must carry.
    """
    figures = _dg_figures(run)
    if not figures:
        return
    tolerance = run.number("net_tolerance")
    refs = [SourceRef(document_id=e.document.id) for e in run.ctx.extractions]

    def cells(name: str) -> list[SourceRef]:
        # The cells that state the figure in each document (the document when none does).
        lines = [line for f in figures.values() for line in f.places.get(name, ())]
        found = [run.ctx.field_ref(line, name) for line in lines]
        return found or refs

    if len(figures) > 1:
        compared: tuple[tuple[str, str, dict[str, str]], ...] = (
            (
                "UN numbers / UN编号",
                "un_number",
                {n: ", ".join(sorted(f.un_numbers)) for n, f in figures.items()},
            ),
            (
                "packages / 件数",
                "packages",
                {n: _fmt(f.packages) for n, f in figures.items() if f.packages is not None},
            ),
        )
        for _, cell, values in compared:
            if len(set(values.values())) > 1:
                yield run.finding(
                    "DG_DECLARATION_INCONSISTENT",
                    refs=cells(cell),
                    field=cell,
                    values="; ".join(f"{doc}: {v}" for doc, v in values.items()),
                )
        nets = {n: f.net_kg for n, f in figures.items() if f.net_kg is not None}
        if nets and max(nets.values()) - min(nets.values()) > tolerance * max(nets.values()):
            yield run.finding(
                "DG_DECLARATION_INCONSISTENT",
                refs=cells("net_kg"),
                field="net_kg",
                values="; ".join(f"{doc}: {_fmt(v)}" for doc, v in nets.items()),
            )
    if run.ctx.stated("dg_declaration"):
        return
    first = next(iter(figures.values()))
    air = run.ctx.transport_mode() == "air"
    # Figures in a form both languages read: UN numbers, "pkgs", "N.W." as printed on DGDs.
    shown = [", ".join(sorted({u for f in figures.values() for u in f.un_numbers}))]
    shown_zh = list(shown)
    if first.packages is not None:
        shown.append(f"{_fmt(first.packages)} pkgs")
        shown_zh.append(f"{_fmt(first.packages)} 件")
    if first.net_kg is not None:
        shown.append(f"N.W. {_fmt(first.net_kg)} kg")
        shown_zh.append(f"净重 {_fmt(first.net_kg)} kg")
    yield run.finding(
        "DG_DECLARATION_NOT_PROVIDED",
        refs=refs,
        severity=Severity.INFO,
        form="Shipper's Declaration for Dangerous Goods" if air else "IMO dangerous goods form",
        figures=" · ".join(shown),
        hint_figures_zh=" · ".join(shown_zh),
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def check_sds(run: RuleRun) -> Iterator[Finding]:
    """A safety data sheet is cited for the batteries; one finding per shipment.

    Information by sea, road and rail; a warning by air, where the carrier asks for it at
    booking.
    """
    numbers = sorted(
        {un for _, line in run.ctx.lines() if (un := normalize_un(line.un_number)) in BATTERY_UN}
    )
    if not numbers or run.ctx.stated("msds"):
        return
    air = run.ctx.transport_mode() == "air"
    yield run.finding(
        "SDS_REFERENCE_MISSING",
        refs=[SourceRef(document_id=e.document.id) for e in run.ctx.extractions],
        severity=Severity.WARN if air else None,
        un_numbers=", ".join(numbers),
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "dangerous_goods.un_number",
        2,
        Severity.BLOCK,
        "DG",
        ("UN_NUMBER_NOT_BATTERY", "UN_NUMBER_MISMATCH", "UN_NUMBER_MISSING"),
        check_un_number,
        "The UN number is a battery entry fitting the registered chemistry and packing.",
    ),
    Rule(
        "dangerous_goods.un38_3",
        2,
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
    Rule(
        "dangerous_goods.declaration",
        2,
        Severity.BLOCK,
        "DG",
        ("DG_DECLARATION_INCONSISTENT", "DG_DECLARATION_NOT_PROVIDED"),
        check_dg_declaration,
        "The DG declaration and the other documents agree on UN numbers, packages and net mass.",
        defaults={"net_tolerance": 0.005},
    ),
    Rule(
        "dangerous_goods.sds",
        1,
        Severity.INFO,
        "PRACTICE",
        ("SDS_REFERENCE_MISSING",),
        check_sds,
        "A safety data sheet (SDS/MSDS) is cited for the batteries.",
    ),
)
