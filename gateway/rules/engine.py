"""The rules engine: rules, rulesets (YAML data) and the loop that runs them.

A rule is a pure function over a `RuleContext` that yields `Finding`s. A ruleset says which
rules run, overrides severities (also from a date on), and sets parameters. A rule that raises
is listed in `crashed_rules` and the others still run.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gc
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import yaml

from gateway.domain import Finding, Severity, SourceRef
from gateway.logs import get_logger
from gateway.rules.context import RuleContext
from gateway.rules.messages import MESSAGES, format_message
from gateway.rules.words import words

log = get_logger(__name__)

CORE = "core"
PLATFORM_POLICY = "platform_policy"  # rules resting only on the unconfirmed 2026 platform claim

# A finding lists at most this many places; more would drown the report (the count stays).
MAX_REFS = 20


class RulesetError(ValueError):
    """A ruleset (file or tenant override) does not have the expected shape."""


@dataclass(frozen=True)
class Rule:
    """One check: an id `family.name`, a version, a default severity and its source."""

    id: str
    version: int
    severity: Severity
    source: str  # "GS1", "GB", "EUBR", "DG", "CN-CUS", "CN-EXP", "PRACTICE", "SEED", ...
    codes: tuple[str, ...]  # the finding codes the rule may emit
    check: Callable[[RuleRun], Iterable[Finding]]
    summary: str
    pack: str = CORE
    defaults: Mapping[str, object] = field(default_factory=dict)  # parameters and defaults


@dataclass(frozen=True)
class RuleConfig:
    """What a ruleset says about one rule."""

    enabled: bool = True
    severity: Severity | None = None
    schedule: tuple[tuple[dt.date, Severity], ...] = ()  # from this date, this severity
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Ruleset:
    """Which rules run and how. Loaded from `rulesets/<name>.yaml`, plus a tenant override."""

    name: str
    version: str
    packs: Mapping[str, bool] = field(default_factory=dict)
    rules: Mapping[str, RuleConfig] = field(default_factory=dict)
    codes: Mapping[str, Severity] = field(default_factory=dict)  # severity per finding code
    override_digest: str | None = None  # set when a tenant override was applied

    @property
    def label(self) -> str:
        """Name and version as reports show them, e.g. "default@2026.11.1+t3f2a9c1d"."""
        base = f"{self.name}@{self.version}"
        return f"{base}+t{self.override_digest}" if self.override_digest else base

    def config(self, rule_id: str) -> RuleConfig:
        """The configuration of one rule (defaults when the ruleset does not name it)."""
        return self.rules.get(rule_id, RuleConfig())

    def enabled(self, rule: Rule) -> bool:
        """True when the rule's pack is on and the rule is not switched off."""
        if not self.packs.get(rule.pack, rule.pack == CORE):
            return False
        return self.config(rule.id).enabled


class RuleRun:
    """One rule applied to one shipment: the context, parameters and a finding factory."""

    def __init__(self, rule: Rule, ctx: RuleContext, ruleset: Ruleset) -> None:
        """Bind a rule to a context under a ruleset."""
        self.rule = rule
        self.ctx = ctx
        self._config = ruleset.config(rule.id)
        self._codes = ruleset.codes
        self.severity = _effective_severity(rule, self._config, ctx.today)

    def param(self, name: str) -> object:
        """A parameter: the ruleset's value, else the rule's default."""
        if name in self._config.params:
            return self._config.params[name]
        if name in self.rule.defaults:
            return self.rule.defaults[name]
        msg = f"Rule {self.rule.id!r} has no parameter {name!r}."
        raise KeyError(msg)

    def number(self, name: str) -> float:
        """A numeric parameter."""
        value = self.param(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"Parameter {name!r} of {self.rule.id!r}: expected a number, got {value!r}."
            raise RulesetError(msg)
        return float(value)

    def date(self, name: str) -> dt.date | None:
        """A date parameter (None when unset)."""
        value = self.param(name)
        if value is None or isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        msg = f"Parameter {name!r} of {self.rule.id!r}: expected a date, got {value!r}."
        raise RulesetError(msg)

    def strings(self, name: str) -> tuple[str, ...]:
        """A list-of-strings parameter."""
        value = self.param(name)
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        msg = f"Parameter {name!r} of {self.rule.id!r}: expected a list, got {value!r}."
        raise RulesetError(msg)

    def finding(
        self,
        code: str,
        *,
        refs: Sequence[SourceRef] = (),
        severity: Severity | None = None,
        code_raw: str | None = None,
        span: tuple[int, int] | None = None,
        **values: object,
    ) -> Finding:
        """Build a finding of this rule; `values` fill the messages and become evidence."""
        if code not in self.rule.codes:
            msg = f"Rule {self.rule.id!r} emitted undeclared finding code {code!r}."
            raise ValueError(msg)
        final = self._codes.get(code) or severity or self.severity
        text = MESSAGES[code]
        unique_refs = tuple(dict.fromkeys(refs))
        # hint_* values only decorate the texts; the evidence keeps the facts
        evidence = {k: v for k, v in values.items() if not k.startswith("hint_")}
        if len(unique_refs) > MAX_REFS:
            evidence["places"] = len(unique_refs)
        en, zh = words(values, "en"), words(values, "zh")
        return Finding(
            rule_id=self.rule.id,
            code=code,
            severity=final,
            message_en=format_message(text.en, en),
            message_zh=format_message(text.zh, zh),
            fix_en=format_message(text.fix_en, en),
            fix_zh=format_message(text.fix_zh, zh),
            source=self.rule.source,
            refs=unique_refs[:MAX_REFS],
            code_raw=code_raw,
            span=span,
            evidence=evidence,
            rule_version=self.rule.version,
        )


def _effective_severity(rule: Rule, config: RuleConfig, today: dt.date) -> Severity:
    severity = config.severity or rule.severity
    for start, later in sorted(config.schedule):
        if today >= start:
            severity = later
    return severity


@dataclass(frozen=True)
class RuleOutcome:
    """What running a ruleset produced."""

    findings: tuple[Finding, ...]
    crashed: tuple[str, ...]  # "rule.id@version: ExceptionType"
    ran: tuple[str, ...]


def run_rules(ctx: RuleContext, ruleset: Ruleset, rules: Iterable[Rule]) -> RuleOutcome:
    """Run every enabled rule; a rule that raises is recorded and the others still run."""
    findings: list[Finding] = []
    crashed: list[str] = []
    ran: list[str] = []
    # The rules and the context's shared values allocate a few objects per unit and no
    # reference cycles; the cyclic collector would walk the whole shipment again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for rule in rules:
            if not ruleset.enabled(rule):
                continue
            ran.append(rule.id)
            try:
                # Materialise inside the try: a rule's generator raises while it is consumed.
                produced = list(rule.check(RuleRun(rule, ctx, ruleset)))
            except Exception as exc:  # a rule's bug must not stop the other rules
                log.warning("rule_crashed", rule=rule.id, error=type(exc).__name__)
                crashed.append(f"{rule.id}@{rule.version}: {type(exc).__name__}")
                continue
            findings.extend(produced)
    finally:
        if collecting:
            gc.enable()
    return RuleOutcome(tuple(findings), tuple(crashed), tuple(ran))


# --- loading rulesets -------------------------------------------------------------------

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@functools.cache
def available_rulesets() -> tuple[str, ...]:
    """Names of the rulesets shipped in `gateway/rules/rulesets/`."""
    folder = resources.files("gateway.rules") / "rulesets"
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


@functools.cache
def _shipped_ruleset(name: str) -> dict[str, object]:
    """A shipped ruleset file, parsed once per process (YAML parsing is slow on hot paths)."""
    text = (resources.files("gateway.rules") / "rulesets" / f"{name}.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        msg = f"Ruleset {name!r}: expected a mapping at the top, got {type(data).__name__}."
        raise RulesetError(msg)
    return data


def load_ruleset(name: str = "default", override: Mapping[str, object] | None = None) -> Ruleset:
    """Load a shipped ruleset by name, with an optional tenant override of the same shape.

    Raises:
        RulesetError: unknown name, or a file or override of the wrong shape.
    """
    if not _NAME.match(name) or name not in available_rulesets():
        msg = f"Unknown ruleset {name!r}: expected one of {list(available_rulesets())}."
        raise RulesetError(msg)
    data = copy.deepcopy(_shipped_ruleset(name))
    digest = None
    if override:
        if not isinstance(override, Mapping):
            msg = f"Tenant ruleset override: expected a mapping, got {type(override).__name__}."
            raise RulesetError(msg)
        data = _merge(data, dict(override))
        canonical = json.dumps(override, sort_keys=True, default=str).encode()
        digest = hashlib.sha256(canonical).hexdigest()[:8]
    return _parse(data, digest)


def _merge(base: dict[str, object], top: Mapping[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in top.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def _severity(value: object, where: str) -> Severity:
    try:
        return Severity(str(value))
    except ValueError:
        msg = f"{where}: expected one of block/warn/info, got {value!r}."
        raise RulesetError(msg) from None


def _parse(data: Mapping[str, object], digest: str | None) -> Ruleset:
    name = data.get("name")
    version = data.get("version")
    if not isinstance(name, str) or not isinstance(version, str | int | float):
        msg = f"Ruleset: expected 'name' and 'version', got {name!r} and {version!r}."
        raise RulesetError(msg)
    packs_raw = data.get("packs") or {}
    rules_raw = data.get("rules") or {}
    codes_raw = data.get("codes") or {}
    if not isinstance(packs_raw, Mapping) or not isinstance(rules_raw, Mapping):
        msg = "Ruleset: 'packs' and 'rules' must be mappings."
        raise RulesetError(msg)
    if not isinstance(codes_raw, Mapping):
        msg = f"Ruleset: 'codes' must map finding codes to severities, got {codes_raw!r}."
        raise RulesetError(msg)
    rules: dict[str, RuleConfig] = {}
    for rule_id, raw in rules_raw.items():
        rules[str(rule_id)] = _parse_rule(str(rule_id), raw)
    codes = {str(c): _severity(s, f"Ruleset code {c!r}") for c, s in codes_raw.items()}
    for code in codes:
        if code not in MESSAGES:
            msg = f"Ruleset names unknown finding code {code!r}."
            raise RulesetError(msg)
    packs = {str(k): bool(v) for k, v in packs_raw.items()}
    return Ruleset(name, str(version), packs, rules, codes, digest)


def _parse_rule(rule_id: str, raw: object) -> RuleConfig:
    if raw is None:
        return RuleConfig()
    if isinstance(raw, bool):  # "rule.id: false" switches a rule off
        return RuleConfig(enabled=raw)
    if not isinstance(raw, Mapping):
        msg = f"Ruleset rule {rule_id!r}: expected a mapping or true/false, got {raw!r}."
        raise RulesetError(msg)
    unknown = set(raw) - {"enabled", "severity", "schedule", "params"}
    if unknown:
        msg = f"Ruleset rule {rule_id!r}: unknown keys {sorted(unknown)}."
        raise RulesetError(msg)
    severity = raw.get("severity")
    schedule: list[tuple[dt.date, Severity]] = []
    for entry in raw.get("schedule") or ():
        if not isinstance(entry, Mapping) or "from" not in entry or "severity" not in entry:
            msg = f"Ruleset rule {rule_id!r}: schedule entries need 'from' and 'severity'."
            raise RulesetError(msg)
        start = entry["from"]
        if isinstance(start, str):
            start = dt.date.fromisoformat(start)
        if not isinstance(start, dt.date):
            msg = f"Ruleset rule {rule_id!r}: expected a date in 'from', got {start!r}."
            raise RulesetError(msg)
        schedule.append((start, _severity(entry["severity"], f"Rule {rule_id!r} schedule")))
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        msg = f"Ruleset rule {rule_id!r}: 'params' must be a mapping, got {params!r}."
        raise RulesetError(msg)
    return RuleConfig(
        enabled=bool(raw.get("enabled", True)),
        severity=_severity(severity, f"Rule {rule_id!r}") if severity is not None else None,
        schedule=tuple(schedule),
        params={str(k): v for k, v in params.items()},
    )
