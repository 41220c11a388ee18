"""The rules engine: pure checks over one shipment, grouped by family, driven by rulesets.

Families: `identifiers`, `registration` (the switchable platform policy pack), `manifest`,
`customs`, `dangerous_goods`, `eu`, `governance`. `ALL_RULES` is every rule the gateway knows;
a ruleset (`rulesets/*.yaml`) picks, tunes and dates them.
"""

from __future__ import annotations

from gateway.rules import (
    customs,
    dangerous_goods,
    eu,
    governance,
    identifiers,
    manifest,
    registration,
)
from gateway.rules.context import CodeItem, RejectedDocument, RuleContext, ShipmentFacts
from gateway.rules.engine import (
    CORE,
    PLATFORM_POLICY,
    Rule,
    RuleOutcome,
    RuleRun,
    Ruleset,
    RulesetError,
    available_rulesets,
    load_ruleset,
    run_rules,
)
from gateway.rules.nearmiss import KeyIndex, KeySet, NearMissIndex, NeighbourIndex

ALL_RULES: tuple[Rule, ...] = (
    *manifest.RULES,
    *identifiers.RULES,
    *registration.RULES,
    *customs.RULES,
    *dangerous_goods.RULES,
    *eu.RULES,
    *governance.RULES,
)

__all__ = [
    "ALL_RULES",
    "CORE",
    "PLATFORM_POLICY",
    "CodeItem",
    "KeyIndex",
    "KeySet",
    "NearMissIndex",
    "NeighbourIndex",
    "RejectedDocument",
    "Rule",
    "RuleContext",
    "RuleOutcome",
    "RuleRun",
    "Ruleset",
    "RulesetError",
    "ShipmentFacts",
    "available_rulesets",
    "load_ruleset",
    "run_rules",
]
