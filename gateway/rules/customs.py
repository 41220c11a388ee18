"""Chinese export customs rules: HS code vs battery type, export control, DG packaging, rebate.

Sources: GACC tariff lines under 8507.60 and declaration practice ("CN-CUS"); MOFCOM/GACC
Announcement 2025 No. 58 and its suspension by No. 70, MOF/STA Announcement 2026 No. 2
("CN-EXP").
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence

from gateway.domain import Finding, ManifestLine, RegistrationRecord, Severity, SourceRef
from gateway.rules.engine import Rule, RuleRun
from gateway.rules.reference import PACKAGING_APPRAISAL_UN, digits, normalize_un, text_key

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
        hs = digits(line.hs_code)
        records = run.ctx.records_of(line)
        if not records:
            continue
        record = records[0]
        chemistry = (record.chemistry or "").upper()
        lithium = chemistry in _LITHIUM or not chemistry
        if lithium != hs.startswith("850760"):  # lithium is 8507.60, the others are not
            yield run.finding(
                "HS_HEADING_CONFLICT",
                refs=[run.ctx.field_ref(line, "hs_code")],
                severity=Severity.BLOCK,
                stated=line.hs_code,
                expected="8507.60" if lithium else "8507.80",
                chemistry=chemistry or "Li-ion",
                line=line.line_no or "",
            )
            continue
        expected = expected_hs(record)
        # Only a full 10-digit code can be compared with a 10-digit tariff line.
        if expected and len(hs) == 10 and hs != expected:
            yield run.finding(
                "HS_SUBHEADING_MISMATCH",
                refs=[run.ctx.field_ref(line, "hs_code")],
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
    # The appraisal number is usually given once in the title block, sometimes per line.
    if run.ctx.stated("dg_packaging_cert"):
        return
    refs: list[SourceRef] = []
    numbers: set[str] = set()
    for _, line in run.ctx.lines():
        un = normalize_un(line.un_number)
        if un in PACKAGING_APPRAISAL_UN:
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


# --- declaration elements (申报要素) of heading 8507 -------------------------------------

# The elements of the customs catalogue for 8507.60 lines, in the catalogue's order (a
# positional "a|b|c" string follows it), each with a pattern recognising its label.
DECLARATION_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("brand_type", r"品牌类型|brand\s*type"),
    ("preference", r"享惠|优惠|preferen"),
    ("use", r"用途|\buse\b|purpose"),
    ("electrode_material", r"电极|正极|electrode|cathode"),
    ("specific_energy", r"比能量|能量密度|specific\s*energy"),
    ("brand", r"品牌|brand"),
    ("model", r"型号|model"),
    ("capacity", r"容量|capacity"),
    ("mercury", r"汞|mercury|\bhg\b"),
    ("rated_voltage", r"电压|voltage"),
    ("gtin", r"gtin|商品条码|条形码|条码"),
    ("cas", r"\bcas\b"),
)
_ELEMENT_LABELS = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in DECLARATION_ELEMENTS)
ELEMENT_NAMES = tuple(name for name, _ in DECLARATION_ELEMENTS)
# Chinese names, for the messages: the broker fills the declaration in Chinese.
ELEMENT_ZH = {
    "brand_type": "品牌类型",
    "preference": "出口享惠情况",
    "use": "用途",
    "electrode_material": "电极材料",
    "specific_energy": "比能量",
    "brand": "品牌",
    "model": "型号",
    "capacity": "容量",
    "mercury": "汞含量",
    "rated_voltage": "额定电压",
    "gtin": "GTIN",
    "cas": "CAS",
}
_EMPTY = frozenset({"", "-", "--", "—"})
_SEPARATORS = re.compile(r"[|｜;；]")


def parse_declaration_elements(text: str | None) -> dict[str, str]:
    """Elements of a declaration-elements string, labelled or positional (see `_parse`).

    >>> parse_declaration_elements("锂离子电池|0|3|电动汽车用|NCM|160Wh/kg")["use"]
    '电动汽车用'
    >>> parse_declaration_elements("品牌类型:0;GTIN:06901234567892;用途:储能")["gtin"]
    '06901234567892'
    """
    if not text:
        return {}
    return dict(_parse(text))


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[tuple[str, str], ...]:
    # Lines repeat the same description and model: each distinct text is parsed once.
    return tuple(_parse_uncached(text).items())


def _parse_uncached(text: str) -> dict[str, str]:
    """Elements of a declaration-elements string, labelled or positional.

    Labelled: "品牌类型:0|用途:电动汽车用|GTIN:06901234567892" (also with ";"); positional,
    "|"-separated in the catalogue's order: "0|3|电动汽车用|NCM|160Wh/kg|...", possibly after
    the goods name. A text with fewer than four "|" parts and fewer than two labelled parts is
    not a declaration string (a description may hold a stray separator).
    """
    if "|" not in text and "｜" not in text and ":" not in text and "：" not in text:
        return {}
    parts = [p.strip() for p in _SEPARATORS.split(text)]
    labelled: dict[str, str] = {}
    for part in parts:
        label, sep, value = part.replace("：", ":").partition(":")
        if not sep:
            continue
        name = _element_of_label(label)
        if name is not None and value.strip() not in _EMPTY:
            labelled.setdefault(name, value.strip())
    if len(labelled) >= 2 and len(labelled) * 2 >= len([p for p in parts if p]):
        return labelled
    positional = [p.strip() for p in re.split(r"[|｜]", text)]
    if len(positional) < 4:
        return {}
    # The brand type (a code 0-4, or words naming the brand) opens the elements; a goods
    # name written before it is skipped.
    start = next(
        (i for i, p in enumerate(positional[:3]) if re.fullmatch(r"[0-4]", p) or "品牌" in p),
        0,
    )
    return {
        name: value
        for name, value in zip(ELEMENT_NAMES, positional[start:], strict=False)
        if value not in _EMPTY
    }


def _element_of_label(label: str) -> str | None:
    for name, pattern in _ELEMENT_LABELS:
        if pattern.search(label):
            return name
    return None


def line_groups(run: RuleRun) -> dict[tuple[str, str], list[ManifestLine]]:
    """Heading-8507 lines grouped as one declaration item: same model (or description), HS."""

    def build() -> dict[tuple[str, str], list[ManifestLine]]:
        groups: dict[tuple[str, str], list[ManifestLine]] = defaultdict(list)
        for _, line in run.ctx.lines():
            hs = digits(line.hs_code or "")
            if hs.startswith("8507"):
                groups[(text_key(line.model or line.description or "?"), hs)].append(line)
        return groups

    return run.ctx.memo("customs.line_groups", build)


def stated_elements(run: RuleRun, lines: Sequence[ManifestLine]) -> dict[str, str]:
    """Declaration elements the documents state for a group of lines.

    From a declaration-elements column or title-block field, element columns of their own
    (brand, capacity, ...), or a description/model cell holding the element string.
    """
    found: dict[str, str] = {}
    seen: set[tuple[object, ...]] = set()
    for line in lines:
        texts: tuple[str | None, ...] = (
            line.extra.get("declaration_elements"),
            line.description,
            line.model,
        )
        # lines of one group mostly repeat their texts: a line like one read before adds nothing
        same = (*texts, *line.extra.items()) if line.extra else texts
        if same in seen:
            continue
        seen.add(same)
        for text in texts:
            for name, value in parse_declaration_elements(text).items():
                found.setdefault(name, value)
        if line.extra:
            for name in ELEMENT_NAMES:
                cell = line.extra.get(name)
                if name not in found and cell and cell.strip() not in _EMPTY:
                    found[name] = cell.strip()
    for name, value in parse_declaration_elements(run.ctx.stated("declaration_elements")).items():
        found.setdefault(name, value)
    return found


def group_elements(run: RuleRun) -> dict[tuple[str, str], dict[str, str]]:
    """`stated_elements` of every line group, found once for the rules that read them."""

    def build() -> dict[tuple[str, str], dict[str, str]]:
        return {key: stated_elements(run, lines) for key, lines in line_groups(run).items()}

    return run.ctx.memo("customs.group_elements", build)


def _group_label(lines: Sequence[ManifestLine]) -> str:
    first = lines[0]
    return first.model or first.description or "?"


def _line_numbers(lines: Sequence[ManifestLine]) -> str:
    # Invoice and packing list number the same lines alike: each number is shown once.
    numbers = list(dict.fromkeys(line.line_no for line in lines if line.line_no))
    shown = ", ".join(numbers[:10])
    return shown + (f" (+{len(numbers) - 10})" if len(numbers) > 10 else "")


def check_declaration_elements(run: RuleRun) -> Iterator[Finding]:
    """Heading-8507 items carry the declaration elements customs asks for.

    Incomplete elements warn once per line group; no elements anywhere (a packing list is not
    the declaration) is one information finding for the shipment.
    """
    required = [n for n in run.strings("required") if n in ELEMENT_NAMES]
    groups = line_groups(run)
    bare: list[ManifestLine] = []
    elements = group_elements(run)
    for (model, hs), lines in sorted(groups.items()):
        found = elements[(model, hs)]
        if not found:
            bare.extend(lines)
            continue
        missing = [n for n in required if n not in found]
        if missing:
            yield run.finding(
                "DECLARATION_ELEMENTS_INCOMPLETE",
                refs=[run.ctx.field_ref(line, "hs_code") for line in lines],
                model=_group_label(lines),
                hs=hs,
                lines=_line_numbers(lines),
                missing=", ".join(missing),
                hint_zh="、".join(ELEMENT_ZH[n] for n in missing),
            )
    if bare:
        # One note for the shipment, pointing at the documents rather than at every line.
        documents = dict.fromkeys(line.source.document_id for line in bare)
        yield run.finding(
            "DECLARATION_ELEMENTS_NOT_PROVIDED",
            refs=[SourceRef(document_id=d) for d in documents],
            severity=Severity.INFO,
            count=len(bare),
            elements=", ".join(required),
            hint_zh="、".join(ELEMENT_ZH[n] for n in required),
        )


def _gtin14(text: str) -> str:
    found = digits(text)
    return found.zfill(14) if 8 <= len(found) <= 14 else found


def check_declaration_gtin(run: RuleRun) -> Iterator[Finding]:
    """The GTIN a declaration item states equals the GTIN of the unit codes listed under it."""
    elements = group_elements(run)
    for (model, hs), lines in sorted(line_groups(run).items()):
        stated: set[str] = set()
        element = elements[(model, hs)].get("gtin")
        if element:
            stated.add(_gtin14(element))
        units: set[str] = set()
        for line in lines:
            for item in run.ctx.items_of(line):
                gtin = item.decoded.ais.get("01")
                if not gtin or not item.decoded.valid:
                    continue
                if item.decoded.key_kind == "gtin":
                    stated.add(gtin)  # a product-code column: the GTIN the line declares
                elif item.is_unit:
                    units.add(gtin)
        if not stated or not units or units <= stated:
            continue
        yield run.finding(
            "DECLARATION_GTIN_MISMATCH",
            refs=[run.ctx.field_ref(line, "hs_code") for line in lines],
            model=_group_label(lines),
            hs=hs,
            lines=_line_numbers(lines),
            stated=", ".join(sorted(stated)),
            decoded=", ".join(sorted(units)),
        )


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
            "suspended_until": "2026-11-10",  # MOFCOM/GACC Announcement 2025 No. 70
        },
    ),
    Rule(
        "customs.dg_packaging",
        2,
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
    Rule(
        "customs.declaration_elements",
        1,
        Severity.WARN,
        "CN-CUS",
        ("DECLARATION_ELEMENTS_INCOMPLETE", "DECLARATION_ELEMENTS_NOT_PROVIDED"),
        check_declaration_elements,
        "Heading-8507 items carry their declaration elements (申报要素).",
        defaults={"required": list(ELEMENT_NAMES)},
    ),
    Rule(
        "customs.declaration_gtin",
        1,
        Severity.WARN,
        "CN-CUS",
        ("DECLARATION_GTIN_MISMATCH",),
        check_declaration_gtin,
        "The GTIN in the declaration elements equals the GTIN of the unit codes.",
    ),
)
