"""EU-bound rules: category and the 2 kWh threshold, passport, DoC/CE, carbon footprint, EORI.

Source: Regulation (EU) 2023/1542 ("EUBR"). Dates that depend on Commission acts are ruleset
parameters, so they move without a code change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping

from gateway.domain import Finding, RegistrationRecord, Severity, SourceRef
from gateway.rules.context import CodeItem
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import EU_MEMBERS, digits

_EORI = re.compile(r"\b[A-Z]{2}[A-Z0-9]{1,15}\b")


def _eu_units(run: RuleRun) -> list[CodeItem]:
    """Registered units bound for an EU member state (shared by the EU rules)."""

    def build() -> list[CodeItem]:
        return [
            item
            for item in run.ctx.units()
            if item.record is not None and (run.ctx.destination(item.line) or "") in EU_MEMBERS
        ]

    return run.ctx.memo("eu.units", build)


_EU_CATEGORY_OF = {
    "nev_traction": "ev",
    "ci_ess": "industrial",
    "residential_ess": "industrial",
    "lmt": "lmt",
    "portable": "portable",
}


def eu_category(record: RegistrationRecord) -> str | None:
    """The EU battery category of a registered battery (Art. 3), when it can be derived."""
    if record.eu_category:
        return record.eu_category
    return _EU_CATEGORY_OF.get(record.category or "")


def _needs_passport(record: RegistrationRecord) -> bool:
    category = eu_category(record)
    if category in ("ev", "lmt"):
        return True
    return category in ("industrial", "sbess") and (record.rated_energy_kwh or 0) > 2


def _model(record: RegistrationRecord) -> str:
    return record.model or record.design_id or record.gtin or "?"


def _refs(items: list[CodeItem]) -> list[SourceRef]:
    return [item.ref for item in items]


def _count(items: list[CodeItem]) -> int:
    """Batteries, not places: invoice and packing list both listing a unit count it once."""
    return len({item.unit or item.key for item in items})


def check_category(run: RuleRun) -> Iterator[Finding]:
    """State the EU category and whether each model is above 2 kWh (one finding per model)."""
    seen: dict[tuple[str, str, bool], list[CodeItem]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        category = eu_category(record) or "unknown"
        seen[(_model(record), category, (record.rated_energy_kwh or 0) > 2)].append(item)
    for (model, category, above), items in sorted(seen.items(), key=lambda kv: kv[0]):
        yield run.finding(
            "EU_CATEGORY",
            refs=_refs(items),
            model=model,
            category=category,
            above_2kwh="yes" if above else "no",
            count=_count(items),
        )


def check_passport(run: RuleRun) -> Iterator[Finding]:
    """From 2027-02-18 EV, LMT and industrial > 2 kWh batteries need an identifier + passport."""
    missing: dict[str, list[CodeItem]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        if _needs_passport(record) and not (record.passport_url and record.unique_identifier):
            missing[_model(record)].append(item)
    applies = run.date("applies_from")
    for model, items in sorted(missing.items(), key=lambda kv: kv[0]):
        yield run.finding(
            "EU_PASSPORT_MISSING",
            refs=_refs(items),
            model=model,
            count=_count(items),
            applies_from=applies.isoformat() if applies else "-",
        )


def check_conformity(run: RuleRun) -> Iterator[Finding]:
    """An EU declaration of conformity and CE marking are on record (one finding per model)."""
    missing: dict[str, list[CodeItem]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        if not record.doc_url or record.ce_marked is not True:
            missing[_model(record)].append(item)
    for model, items in sorted(missing.items(), key=lambda kv: kv[0]):
        yield run.finding("EU_DOC_CE_MISSING", refs=_refs(items), model=model, count=_count(items))


def check_carbon_footprint(run: RuleRun) -> Iterator[Finding]:
    """A carbon-footprint declaration once the Commission's acts apply (date in the ruleset)."""
    applies = run.date("applies_from")
    if applies is None or run.ctx.today < applies:
        return
    missing: dict[str, list[CodeItem]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        category = eu_category(record)
        needs = category == "ev" or (
            category == "industrial" and (record.rated_energy_kwh or 0) > 2
        )
        if needs and record.carbon_footprint_kgco2e_per_kwh is None:
            missing[_model(record)].append(item)
    for model, items in sorted(missing.items(), key=lambda kv: kv[0]):
        yield run.finding(
            "EU_CARBON_FOOTPRINT_MISSING", refs=_refs(items), model=model, count=_count(items)
        )


def check_eori(run: RuleRun) -> Iterator[Finding]:
    """An EU-bound shipment names the consignee's EORI number."""
    destination = run.ctx.destination()
    if destination not in EU_MEMBERS:
        return
    if run.ctx.stated("eori"):
        return
    # any document of the shipment may print it inside the consignee's address
    for extraction in run.ctx.extractions:
        if re.search(r"EORI", extraction.header.get("consignee") or "", re.IGNORECASE):
            return
    yield run.finding("EU_EORI_MISSING", destination=destination)


def check_residential_ess(run: RuleRun) -> Iterator[Finding]:
    """Residential storage, outside the platform claim's scope, is industrial in the EU."""
    items = [
        item
        for item in _eu_units(run)
        if item.record is not None and item.record.category == "residential_ess"
    ]
    if items:
        yield run.finding("EU_RESIDENTIAL_ESS_INDUSTRIAL", refs=_refs(items), count=_count(items))


_GENERIC = frozenset({"battery", "batteries", "goods", "parts", "电池", "货物", "lithium battery"})


def check_entry_summary(run: RuleRun) -> Iterator[Finding]:
    """EU-bound lines carry a 6-digit HS code and a precise description (ICS2 entry summary)."""
    refs: list[SourceRef] = []
    for _, line in run.ctx.lines():
        if (run.ctx.destination(line) or "") not in EU_MEMBERS:
            continue
        hs = digits(line.hs_code or "")
        description = (line.description or "").strip().lower()
        if len(hs) < 6 or not description or description in _GENERIC:
            refs.append(line.source)
    if refs:
        yield run.finding("EU_ENTRY_SUMMARY_DATA", refs=refs, count=len(refs))


# Annex VI Part A label data the registration record can show, and how to read each one.
# Place of manufacture, hazardous substances, extinguishing agent and critical raw materials
# have no field in the platform contract, so they cannot be checked here.
_LABEL_FIELDS: Mapping[str, Callable[[RegistrationRecord], object]] = {
    "manufacturer": lambda r: r.manufacturer_name or r.manufacturer_uscc,
    "category": eu_category,
    "model": lambda r: r.model or r.design_id,
    "manufacturing_date": lambda r: r.manufacturing_date,
    "weight": lambda r: r.mass_kg,
    "capacity": lambda r: r.rated_capacity_ah or r.rated_energy_kwh,
    "chemistry": lambda r: r.chemistry,
}


def check_label_data(run: RuleRun) -> Iterator[Finding]:
    """From the labelling date, EU-bound models have their Annex VI Part A data on record.

    One finding per model, naming the missing data and every unit's place.
    """
    applies = run.date("applies_from")
    on = run.ctx.facts.declared_on or run.ctx.today
    if applies is not None and on < applies:
        return
    wanted = [name for name in run.strings("fields") if name in _LABEL_FIELDS]
    missing: dict[str, set[str]] = defaultdict(set)
    places: dict[str, list[CodeItem]] = defaultdict(list)
    for item in _eu_units(run):
        record = item.record
        assert record is not None
        absent = {name for name in wanted if _LABEL_FIELDS[name](record) in (None, "")}
        if absent:
            model = _model(record)
            missing[model] |= absent
            places[model].append(item)
    for model in sorted(missing):
        yield run.finding(
            "EU_LABEL_DATA_MISSING",
            refs=_refs(places[model]),
            model=model,
            missing=", ".join(n for n in wanted if n in missing[model]),
            count=_count(places[model]),
            applies_from=applies.isoformat() if applies else "-",
        )


def check_due_diligence(run: RuleRun) -> Iterator[Finding]:
    """From the due-diligence date, EU-bound batteries come with the importer's obligation."""
    applies = run.date("applies_from")
    on = run.ctx.facts.declared_on or run.ctx.today
    if applies is None or on < applies:
        return
    items = _eu_units(run)
    if items:
        yield run.finding(
            "EU_DUE_DILIGENCE",
            refs=_refs(items),
            count=_count(items),
            applies_from=applies.isoformat(),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "eu.category",
        3,
        Severity.INFO,
        "EUBR",
        ("EU_CATEGORY",),
        check_category,
        "The EU category and the 2 kWh threshold of each model.",
    ),
    Rule(
        "eu.passport",
        3,
        Severity.WARN,
        "EUBR",
        ("EU_PASSPORT_MISSING",),
        check_passport,
        "EV, LMT and industrial > 2 kWh batteries carry a unique identifier and a passport.",
        defaults={"applies_from": "2027-02-18"},  # EUBR Art. 77 applies
    ),
    Rule(
        "eu.conformity",
        3,
        Severity.WARN,
        "EUBR",
        ("EU_DOC_CE_MISSING",),
        check_conformity,
        "An EU declaration of conformity and CE marking are on record.",
    ),
    Rule(
        "eu.carbon_footprint",
        3,
        Severity.WARN,
        "EUBR",
        ("EU_CARBON_FOOTPRINT_MISSING",),
        check_carbon_footprint,
        "A carbon-footprint declaration once the Commission's acts apply.",
        defaults={"applies_from": None},  # set when the Commission's Art. 7 acts apply
    ),
    Rule(
        "eu.eori",
        3,
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
        3,
        Severity.WARN,
        "EUBR",
        ("EU_RESIDENTIAL_ESS_INDUSTRIAL",),
        check_residential_ess,
        "Residential storage is an industrial battery in the EU.",
    ),
    Rule(
        "eu.label_data",
        2,
        Severity.WARN,
        "EUBR",
        ("EU_LABEL_DATA_MISSING",),
        check_label_data,
        "Annex VI Part A label data is on record for EU-bound models from 2026-08-18.",
        # EUBR Art. 13(1), Annex VI Part A
        defaults={"applies_from": "2026-08-18", "fields": list(_LABEL_FIELDS)},
    ),
    Rule(
        "eu.due_diligence",
        2,
        Severity.INFO,
        "EUBR",
        ("EU_DUE_DILIGENCE",),
        check_due_diligence,
        "Battery due diligence (Art. 48) applies to EU-bound batteries from 2027-08-18.",
        defaults={"applies_from": "2027-08-18"},  # EUBR Art. 48, as postponed
    ),
)
