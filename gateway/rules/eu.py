"""EU-bound rules: category and the 2 kWh threshold, passport, DoC/CE, carbon footprint, EORI.

Source: Regulation (EU) 2023/1542 ("EUBR"). Dates that depend on Commission acts are ruleset
parameters, so they move without a code change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from gateway.domain import Finding, RegistrationRecord, Severity, SourceRef
from gateway.rules.context import CodeItem
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import EU_MEMBERS

_EORI = re.compile(r"\b[A-Z]{2}[A-Z0-9]{1,15}\b")


def _eu_units(run: RuleRun) -> list[CodeItem]:
    return [
        item
        for item in run.ctx.units()
        if item.record is not None and (run.ctx.destination(item.line) or "") in EU_MEMBERS
    ]


def eu_category(record: RegistrationRecord) -> str | None:
    """The EU battery category of a registered battery (Art. 3), when it can be derived."""
    if record.eu_category:
        return record.eu_category
    return {
        "nev_traction": "ev",
        "ci_ess": "industrial",
        "residential_ess": "industrial",
        "lmt": "lmt",
        "portable": "portable",
    }.get(record.category or "")


def _needs_passport(record: RegistrationRecord) -> bool:
    category = eu_category(record)
    if category in ("ev", "lmt"):
        return True
    return category in ("industrial", "sbess") and (record.rated_energy_kwh or 0) > 2


def _model(record: RegistrationRecord) -> str:
    return record.model or record.design_id or record.gtin or "?"


def check_category(run: RuleRun) -> Iterator[Finding]:
    """State the EU category and whether each model is above 2 kWh (one finding per model)."""
    seen: dict[tuple[str, str, bool], list[SourceRef]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        category = eu_category(record) or "unknown"
        seen[(_model(record), category, (record.rated_energy_kwh or 0) > 2)].append(item.ref)
    for (model, category, above), refs in sorted(seen.items()):
        yield run.finding(
            "EU_CATEGORY",
            refs=refs,
            model=model,
            category=category,
            above_2kwh="yes" if above else "no",
            count=len(refs),
        )


def check_passport(run: RuleRun) -> Iterator[Finding]:
    """From 2027-02-18 EV, LMT and industrial > 2 kWh batteries need an identifier + passport."""
    missing: dict[str, list[SourceRef]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        if _needs_passport(record) and not (record.passport_url and record.unique_identifier):
            missing[_model(record)].append(item.ref)
    applies = run.date("applies_from")
    for model, refs in sorted(missing.items()):
        yield run.finding(
            "EU_PASSPORT_MISSING",
            refs=refs,
            model=model,
            count=len(refs),
            applies_from=applies.isoformat() if applies else "-",
        )


def check_conformity(run: RuleRun) -> Iterator[Finding]:
    """An EU declaration of conformity and CE marking are on record (one finding per model)."""
    missing: dict[str, list[SourceRef]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        if not record.doc_url or record.ce_marked is not True:
            missing[_model(record)].append(item.ref)
    for model, refs in sorted(missing.items()):
        yield run.finding("EU_DOC_CE_MISSING", refs=refs, model=model, count=len(refs))


def check_carbon_footprint(run: RuleRun) -> Iterator[Finding]:
    """A carbon-footprint declaration once the Commission's acts apply (date in the ruleset)."""
    applies = run.date("applies_from")
    if applies is None or run.ctx.today < applies:
        return
    missing: dict[str, list[SourceRef]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        category = eu_category(record)
        needs = category == "ev" or (
            category == "industrial" and (record.rated_energy_kwh or 0) > 2
        )
        if needs and record.carbon_footprint_kgco2e_per_kwh is None:
            missing[_model(record)].append(item.ref)
    for model, refs in sorted(missing.items()):
        yield run.finding("EU_CARBON_FOOTPRINT_MISSING", refs=refs, model=model, count=len(refs))


def check_eori(run: RuleRun) -> Iterator[Finding]:
    """An EU-bound shipment names the consignee's EORI number."""
    destination = run.ctx.destination()
    if destination not in EU_MEMBERS:
        return
    stated = run.ctx.header("consignee_eori") or ""
    consignee = run.ctx.header("consignee") or ""
    if stated or re.search(r"EORI", consignee, re.IGNORECASE):
        return
    yield run.finding("EU_EORI_MISSING", destination=destination)


def check_residential_ess(run: RuleRun) -> Iterator[Finding]:
    """Residential storage, outside the platform claim's scope, is industrial in the EU."""
    refs = [
        item.ref
        for item in _eu_units(run)
        if item.record is not None and item.record.category == "residential_ess"
    ]
    if refs:
        yield run.finding("EU_RESIDENTIAL_ESS_INDUSTRIAL", refs=refs, count=len(refs))


_GENERIC = frozenset({"battery", "batteries", "goods", "parts", "电池", "货物", "lithium battery"})


def check_entry_summary(run: RuleRun) -> Iterator[Finding]:
    """EU-bound lines carry a 6-digit HS code and a precise description (ICS2 entry summary)."""
    refs: list[SourceRef] = []
    for _, line in run.ctx.lines():
        if (run.ctx.destination(line) or "") not in EU_MEMBERS:
            continue
        digits = "".join(c for c in line.hs_code or "" if c.isdigit())
        description = (line.description or "").strip().lower()
        if len(digits) < 6 or not description or description in _GENERIC:
            refs.append(line.source)
    if refs:
        yield run.finding("EU_ENTRY_SUMMARY_DATA", refs=refs, count=len(refs))


RULES: tuple[Rule, ...] = (
    Rule(
        "eu.category",
        1,
        Severity.INFO,
        "EUBR",
        ("EU_CATEGORY",),
        check_category,
        "The EU category and the 2 kWh threshold of each model.",
    ),
    Rule(
        "eu.passport",
        1,
        Severity.WARN,
        "EUBR",
        ("EU_PASSPORT_MISSING",),
        check_passport,
        "EV, LMT and industrial > 2 kWh batteries carry a unique identifier and a passport.",
        defaults={"applies_from": "2027-02-18"},
    ),
    Rule(
        "eu.conformity",
        1,
        Severity.WARN,
        "EUBR",
        ("EU_DOC_CE_MISSING",),
        check_conformity,
        "An EU declaration of conformity and CE marking are on record.",
    ),
    Rule(
        "eu.carbon_footprint",
        1,
        Severity.WARN,
        "EUBR",
        ("EU_CARBON_FOOTPRINT_MISSING",),
        check_carbon_footprint,
        "A carbon-footprint declaration once the Commission's acts apply.",
        defaults={"applies_from": None},
    ),
    Rule(
        "eu.eori",
        1,
        Severity.WARN,
        "PRACTICE",
        ("EU_EORI_MISSING",),
        check_eori,
        "An EU-bound shipment names the consignee's EORI.",
    ),
    Rule(
        "eu.entry_summary",
        1,
        Severity.WARN,
        "PRACTICE",
        ("EU_ENTRY_SUMMARY_DATA",),
        check_entry_summary,
        "EU-bound lines carry a 6-digit HS code and a precise description for ICS2.",
    ),
    Rule(
        "eu.residential_ess",
        1,
        Severity.WARN,
        "EUBR",
        ("EU_RESIDENTIAL_ESS_INDUSTRIAL",),
        check_residential_ess,
        "Residential storage is an industrial battery in the EU.",
    ),
)
