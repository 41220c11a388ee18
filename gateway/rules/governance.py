"""Governance rules: every report says which rules and which platform answers it rests on."""

from __future__ import annotations

from collections.abc import Iterator

from gateway.domain import Finding, Severity
from gateway.rules.engine import Rule, RuleRun


def check_versions(run: RuleRun) -> Iterator[Finding]:
    """State the ruleset, the platform contract and where the answers came from."""
    source = run.ctx.platform_source
    yield run.finding(
        "RULESET_AND_PLATFORM",
        ruleset=run.ctx.ruleset_label,
        contract=run.ctx.platform_contract,
        source=source,
    )
    if source == "simulator":
        # Simulated answers prove nothing about the real platform: a person must know.
        yield run.finding("SIMULATED_PLATFORM", severity=Severity.WARN, source=source)


RULES: tuple[Rule, ...] = (
    Rule(
        "governance.versions",
        1,
        Severity.INFO,
        "ASSUMPTION",
        ("RULESET_AND_PLATFORM", "SIMULATED_PLATFORM"),
        check_versions,
        "The report states its ruleset, the platform contract and real vs simulated answers.",
    ),
)
