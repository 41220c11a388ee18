"""The engine: rulesets as data, overrides, crash isolation, messages in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.domain import Severity
from gateway.rules import (
    ALL_RULES,
    Rule,
    RulesetError,
    available_rulesets,
    load_ruleset,
    run_rules,
)
from gateway.rules.engine import RuleRun
from gateway.rules.messages import MESSAGES, placeholders
from tests.rules.rule_factories import context, item, line, record, sgtin


def test_every_finding_code_has_both_languages_and_a_fix():
    declared = {code for rule in ALL_RULES for code in rule.codes}
    assert declared <= set(MESSAGES), declared - set(MESSAGES)
    for code, text in MESSAGES.items():
        for value in (text.en, text.zh, text.fix_en, text.fix_zh):
            assert value.strip(), code
        # the Chinese text names the same values as the English one
        assert placeholders(text.zh) == placeholders(text.en), code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.zh + text.fix_zh), code


def test_rule_ids_are_family_dot_name_and_unique():
    ids = [rule.id for rule in ALL_RULES]
    assert len(ids) == len(set(ids))
    families = {
        "identifiers",
        "registration",
        "manifest",
        "customs",
        "dangerous_goods",
        "eu",
        "governance",
    }
    for rule_id in ids:
        family, _, name = rule_id.partition(".")
        assert family in families, rule_id
        assert name, rule_id


def test_every_shipped_ruleset_loads_and_names_only_known_rules():
    known = {rule.id for rule in ALL_RULES}
    for name in available_rulesets():
        ruleset = load_ruleset(name)
        assert set(ruleset.rules) <= known, set(ruleset.rules) - known
        assert ruleset.label.startswith(f"{name}@")


def test_tenant_override_changes_the_label_and_merges_params():
    plain = load_ruleset("default")
    tuned = load_ruleset(
        "default", {"rules": {"registration.tolerance": {"params": {"tolerance": 0.1}}}}
    )
    assert plain.label == f"default@{plain.version}"
    assert tuned.label.startswith(plain.label + "+t")
    assert tuned.config("registration.tolerance").params["tolerance"] == 0.1
    # the rest of the default stays: the ruleset's schedule, the rule's own parameters
    passport = load_ruleset("default", {"rules": {"eu.passport": {"params": {"x": 1}}}})
    assert passport.config("eu.passport").schedule == plain.config("eu.passport").schedule != ()
    rule = next(r for r in ALL_RULES if r.id == "customs.export_control")
    assert RuleRun(rule, context(), tuned).number("threshold_wh_per_kg") == 300


@pytest.mark.parametrize("name", ["default", "confirmed"])
def test_every_parameter_a_rule_reads_has_its_default_on_the_rule(name):
    ruleset = load_ruleset(name)
    for rule in ALL_RULES:
        assert set(ruleset.config(rule.id).params) <= set(rule.defaults), rule.id


@pytest.mark.parametrize(
    "override",
    [
        {"rules": {"eu.eori": {"severity": "fatal"}}},
        {"rules": {"eu.eori": {"colour": "red"}}},
        {"codes": {"NO_SUCH_CODE": "block"}},
        {"rules": {"eu.passport": {"schedule": [{"from": "soon", "severity": "block"}]}}},
    ],
)
def test_bad_override_is_refused_with_the_reason(override):
    with pytest.raises((RulesetError, ValueError)):
        load_ruleset("default", override)


def test_unknown_ruleset_name_is_refused():
    with pytest.raises(RulesetError, match=r"Unknown ruleset '\.\./etc'"):
        load_ruleset("../etc")


def test_severity_override_per_code_and_rule_switch_off():
    it = item(sgtin("SN1"), rec=record("SN1", un38_3_summary_ref=None), on=line())
    rules = [r for r in ALL_RULES if r.id == "dangerous_goods.un38_3"]
    ctx = context([it])
    base = run_rules(ctx, load_ruleset("default"), rules).findings
    raised = run_rules(
        ctx, load_ruleset("default", {"codes": {"UN38_3_SUMMARY_MISSING": "block"}}), rules
    )
    off = run_rules(
        ctx, load_ruleset("default", {"rules": {"dangerous_goods.un38_3": False}}), rules
    )
    assert [f.severity for f in base] == [Severity.WARN]
    assert [f.severity for f in raised.findings] == [Severity.BLOCK]
    assert off.findings == ()
    assert off.ran == ()


def test_schedule_changes_severity_from_its_date():
    ruleset = load_ruleset(
        "default",
        {"rules": {"eu.eori": {"schedule": [{"from": "2026-12-01", "severity": "block"}]}}},
    )
    rules = [r for r in ALL_RULES if r.id == "eu.eori"]
    it = item(sgtin("SN1"), on=line())
    before = run_rules(context([it], today=dt.date(2026, 11, 30)), ruleset, rules).findings
    after = run_rules(context([it], today=dt.date(2026, 12, 1)), ruleset, rules).findings
    assert [f.severity for f in before] == [Severity.WARN]
    assert [f.severity for f in after] == [Severity.BLOCK]


def test_a_crashing_rule_is_recorded_and_the_others_still_run():
    def boom(run):
        raise ZeroDivisionError
        yield  # pragma: no cover

    crashing = Rule("manifest.boom", 3, Severity.BLOCK, "PRACTICE", (), boom, "crashes")
    others = [r for r in ALL_RULES if r.id == "governance.versions"]
    outcome = run_rules(context(), load_ruleset("default"), [crashing, *others])
    assert outcome.crashed == ("manifest.boom@3: ZeroDivisionError",)
    assert [f.code for f in outcome.findings] == ["RULESET_AND_PLATFORM"]


def test_a_rule_emitting_an_undeclared_code_counts_as_crashed():
    def sneaky(run):
        yield run.finding("EU_EORI_MISSING")

    rule = Rule("manifest.sneaky", 1, Severity.WARN, "PRACTICE", ("NO_UNIT_CODES",), sneaky, "x")
    outcome = run_rules(context(), load_ruleset("default"), [rule])
    assert outcome.crashed == ("manifest.sneaky@1: ValueError",)
