"""Manifest rules: readable documents, duplicates, quantities, weights, required fields, places.

Sources: Chinese customs logic checks on declarations ("CN-CUS") and forwarding practice
("PRACTICE"); re-use of a code already declared rests also on the platform claim.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Iterator

from gateway.countries import ALPHA2, normalize_country
from gateway.domain import (
    Extraction,
    ExtractionMethod,
    Finding,
    ManifestLine,
    Severity,
    SourceRef,
)
from gateway.rules.context import CodeItem
from gateway.rules.engine import PLATFORM_POLICY, Rule, RuleRun
from gateway.rules.nearmiss import key_to_hri
from gateway.rules.reference import looks_like_unlocode, text_key
from gateway.rules.words import word


def check_documents(run: RuleRun) -> Iterator[Finding]:
    """Documents that could not be read, and what could not be read inside them."""
    for rejected in run.ctx.rejected:
        yield run.finding(
            "DOCUMENT_REJECTED",
            refs=[SourceRef(document_id=rejected.document.id)],
            document=rejected.document.filename,
            reason=rejected.reason,
            detail=rejected.message,
            hint_detail_zh=word("reason", rejected.reason, "zh"),
        )
    for extraction in run.ctx.extractions:
        by_kind: dict[tuple[str, Severity], list[SourceRef]] = defaultdict(list)
        messages: dict[tuple[str, Severity], str] = {}
        for problem in extraction.problems:
            group = (problem.kind, problem.severity)
            source = problem.source or SourceRef(document_id=extraction.document.id)
            if problem.line_no and source.line is None:
                source = dataclasses.replace(source, line=problem.line_no)
            by_kind[group].append(source)
            messages.setdefault(group, problem.message)
        # One finding per kind of problem per document, listing every place.
        for (kind, severity), refs in by_kind.items():
            yield run.finding(
                "DOCUMENT_PROBLEM",
                refs=refs,
                severity=severity,
                kind=kind,
                detail=messages[(kind, severity)],
                hint_detail_zh=word("kind", kind, "zh"),
                count=len(refs),
                document=extraction.document.filename,
            )


def check_duplicates(run: RuleRun) -> Iterator[Finding]:
    """A unit code appears once in the shipment, across all its documents."""
    # A unit is its registration record (else its key): the GS1 code on one line and the
    # GB/T code of the same pack on another list the pack twice.
    allow_cross_document = bool(run.param("same_unit_across_documents_ok"))
    for named in run.ctx.units_by_unit.values():
        if len(named) < 2:
            continue
        items = [i for i in named if i.decoded.key_kind != "sscc"]
        if len(items) < 2:
            continue
        key = items[0].key or ""
        # A line printing a code twice (as text and as a barcode) lists the unit once, and so
        # does a label marking it twice (a 2-D symbol or Digital Link beside the GS1-128).
        places = _places(items)
        if len(places) < 2:
            continue
        documents = {i.document.id for i in items}
        # Invoice and packing list often both list a unit: once per document is not a copy.
        if allow_cross_document and len(documents) == len(places):
            continue
        yield run.finding(
            "DUPLICATE_UNIT_CODE",
            refs=[i.ref for i in items],
            code_raw=items[0].decoded.raw,
            key=key,
            unit=key_to_hri(key),
            count=len(places),
        )


def _places(items: list[CodeItem]) -> set[tuple[object, ...]]:
    """Where one unit is listed: its manifest lines, the labels it was read off, the codes.

    Codes typed, posted or listed outside a line are each a listing of their own, even when
    they are checked together as one label: the n-th listing of a code is a place. The GS1
    and the GB/T code of one pack in such a list are its first listing under two keys, so
    one place; the same code twice is two.
    """
    places: set[tuple[object, ...]] = set()
    listed: dict[tuple[object, str | None], int] = defaultdict(int)
    for item in items:
        if item.line is not None:
            places.add(("line", id(item.line)))
        elif item.label is not None and item.occurrence.method is not ExtractionMethod.INPUT:
            places.add(("label", item.label))
        else:
            where = item.label or item.document.id
            places.add(("listed", where, listed[(where, item.key)]))
            listed[(where, item.key)] += 1
    return places


def check_already_declared(run: RuleRun) -> Iterator[Finding]:
    """A unit code already used on an earlier export declaration is blocked."""
    for item in run.ctx.units():
        if not item.key:
            continue
        earlier = run.ctx.history.get(item.key)
        record = item.record
        if earlier is None and record is not None and record.declared_in:
            earlier = ", ".join(record.declared_in)
        if earlier:
            yield run.finding(
                "UNIT_ALREADY_DECLARED",
                refs=[item.ref],
                code_raw=item.decoded.raw,
                key=item.key,
                unit=key_to_hri(item.key),
                earlier=earlier,
            )


def check_quantity(run: RuleRun) -> Iterator[Finding]:
    """A line's quantity equals the number of unit codes listed on it."""
    lines_without_codes: list[SourceRef] = []
    loose_units = any(i.line is None and i.is_unit for i in run.ctx.items)
    reconciled = reconciled_packages(run)
    for _, line in run.ctx.lines():
        on_line = run.ctx.items_of(line)
        # A unit is one registration record (or one key when not registered), never one
        # code: a pack's GS1 and GB/T codes on one line are one unit. An invalid code was
        # still meant as one unit: count it, so a typo is not also reported as a missing unit.
        units: set[object] = {i.unit for i in on_line if i.is_unit}
        units |= {id(i) for i in on_line if not i.decoded.valid}
        if line.quantity is None:
            continue
        if not units:
            if not line.codes:
                lines_without_codes.append(line.source)
            continue
        if abs(line.quantity - len(units)) > 1e-9 and id(line) not in reconciled:
            yield run.finding(
                "QUANTITY_CODE_COUNT_MISMATCH",
                refs=[run.ctx.field_ref(line, "quantity")],
                quantity=_num(line.quantity),
                codes=len(units),
                line=line.line_no or "",
            )
    no_units = not any(True for _ in run.ctx.units())
    if no_units and run.ctx.extractions and all(i.decoded.valid for i in run.ctx.items):
        yield run.finding("NO_UNIT_CODES", severity=Severity.WARN)
        return
    # Codes may sit on a separate serial list or on labels; only say so when none were found.
    if lines_without_codes and not loose_units:
        yield run.finding(
            "LINES_WITHOUT_CODES",
            refs=lines_without_codes,
            severity=Severity.WARN,
            count=len(lines_without_codes),
        )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def check_weights(run: RuleRun) -> Iterator[Finding]:
    """Net weight never exceeds gross weight, per line and in the totals; totals add up."""
    tolerance = run.number("total_tolerance")
    for extraction in run.ctx.extractions:
        for line in extraction.lines:
            if (
                line.net_kg is not None
                and line.gross_kg is not None
                and line.net_kg > line.gross_kg
            ):
                yield run.finding(
                    "NET_EXCEEDS_GROSS",
                    refs=[run.ctx.field_ref(line, "net_kg")],
                    net=line.net_kg,
                    gross=line.gross_kg,
                    line=line.line_no or "",
                )
        lines = totalled_lines(extraction)
        for name, attribute in (("total_net_kg", "net_kg"), ("total_gross_kg", "gross_kg")):
            stated = _float(extraction.header.get(name))
            if stated is None or _unreadable(lines, attribute):
                continue  # a line's weight is no number: manifest.numbers names that cell
            total = sum(v for line in lines if (v := getattr(line, attribute)) is not None)
            if total == 0:
                continue
            # weights printed per piece ("N.W./PC") add up to the total times the quantities
            per_piece = sum(
                v * (line.quantity if line.quantity is not None else 1.0)
                for line in lines
                if (v := getattr(line, attribute)) is not None
            )
            if all(abs(stated - t) > max(tolerance * stated, 0.01) for t in (total, per_piece)):
                yield run.finding(
                    "WEIGHT_TOTAL_MISMATCH",
                    refs=[total_ref(extraction, name)],
                    field=name,
                    stated=stated,
                    computed=round(total, 3),
                    document=extraction.document.filename,
                )


def _unreadable(lines: list[ManifestLine], name: str) -> bool:
    """True when a line's `name` cell held no usable number: its sum cannot be judged."""
    return any(line.extra and name + _RAW in line.extra for line in lines)


def totalled_lines(extraction: Extraction) -> list[ManifestLine]:
    """The lines a document's stated totals cover: those of the totals row's sheet.

    A workbook whose sheets each close with their own totals row keeps the first sheet's
    totals (the readers keep the first value of a header field), so only that sheet's lines
    are added up; a CSV or a PDF has one table.
    """
    sheet = extraction.header.get("totals_sheet")
    if sheet is None:
        return list(extraction.lines)
    return [line for line in extraction.lines if line.source.sheet == sheet]


def total_ref(extraction: Extraction, name: str) -> SourceRef:
    """Where a stated total was printed: its cell in the totals row, else the document."""
    header = extraction.header
    row = header.get("totals_row")
    page = header.get("totals_page")
    box: tuple[float, float, float, float] | None = None
    try:
        parts = [float(v) for v in header.get("totals_box", "").split(",") if v]
        if len(parts) == 4:
            box = (parts[0], parts[1], parts[2], parts[3])
    except ValueError:
        box = None
    return SourceRef(
        document_id=extraction.document.id,
        page=int(page) if page and page.isdigit() else None,
        sheet=header.get("totals_sheet"),
        row=int(row) if row and row.isdigit() else None,
        cell=header.get(f"{name}_cell"),
        bbox=box,
    )


def check_totals(run: RuleRun) -> Iterator[Finding]:
    """A document's stated total quantity and number of packages equal its lines.

    Quantities are counts and must add up exactly. The packages a totals row states are
    compared with the lines' packages column added up, and also accepted when they equal
    the number of distinct cartons (or pallets) the lines name, or the packages their ranges
    (`C001-C010`) count: documents count packages in any of these ways.
    """
    for extraction in run.ctx.extractions:
        lines = totalled_lines(extraction)
        stated = _float(extraction.header.get("total_quantity"))
        quantities = [line.quantity for line in lines if line.quantity is not None]
        if (
            stated is not None
            and quantities
            and not _unreadable(lines, "quantity")
            and abs(stated - sum(quantities)) > 1e-9
        ):
            yield run.finding(
                "QUANTITY_TOTAL_MISMATCH",
                refs=[total_ref(extraction, "total_quantity")],
                stated=_num(stated),
                computed=_num(sum(quantities)),
                document=extraction.document.filename,
            )
        stated = _float(extraction.header.get("total_packages"))
        if stated is None:
            continue
        counted = _package_counts(lines)
        if counted and all(abs(stated - c) > 1e-9 for c in counted):
            yield run.finding(
                "PACKAGE_TOTAL_MISMATCH",
                refs=[total_ref(extraction, "total_packages")],
                severity=Severity.WARN,  # cartons or pallets: a person tells which
                stated=_num(stated),
                computed=_num(counted[0]),
                document=extraction.document.filename,
            )


def _package_counts(lines: list[ManifestLine]) -> list[float]:
    """The ways the lines count their packages (column sum, distinct packages, ranges)."""
    counts: list[float] = []
    numbers = [_float(line.extra.get("packages")) for line in lines]
    if any(n is not None for n in numbers):
        counts.append(sum(n for n in numbers if n is not None))
    packages = {p for line in lines if (p := package_of(line)) is not None}
    if packages:
        counts.append(float(len(packages)))
        ranges = [range_count(name) for _, name in packages]
        if all(r is not None for r in ranges):
            counts.append(float(sum(r for r in ranges if r is not None)))
    return counts


def _float(text: str | None) -> float | None:
    if not text:
        return None
    match = _NUMBER.match(text.replace(",", ""))
    return float(match.group(1)) if match else None


# a number, optionally followed by its unit: "12", "12 CTNS", "3510 kg"; never "1-5"
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[A-Za-z\u4e00-\u9fff.]*\s*$")


# Units in which a quantity need not be whole; any other unit (pcs, sets, 件, 个) counts.
_MEASURE_UNITS = frozenset(
    {"kg", "kgs", "g", "t", "ton", "tons", "tonne", "tonnes", "mt", "lb", "lbs", "m", "km",
     "l", "kwh", "wh", "mwh", "千克", "公斤", "克", "吨", "米", "升", "千瓦时"}
)  # fmt: skip
# The readers keep a quantity or weight cell that holds no usable number under this suffix.
_RAW = "_raw"


def check_numbers(run: RuleRun) -> Iterator[Finding]:
    """Quantities and weights are finite numbers of zero or more, counts are whole, and no
    line states an absurd figure.

    Not finite (`1e400`, `inf`, `nan`) or negative blocks: the declaration cannot carry it.
    A cell that is not a number, a count that is not whole (2.5 pcs) and a figure above the
    per-line maximum warn: a person looks at the cell.
    """
    limits = (
        ("quantity", run.number("max_quantity_per_line")),
        ("net_kg", run.number("max_kg_per_line")),
        ("gross_kg", run.number("max_kg_per_line")),
    )
    for _, line in run.ctx.lines():
        for name, limit in limits:
            raw = line.extra.get(name + _RAW) if line.extra else None
            stated = getattr(line, name)
            if raw is None:
                if stated is None:
                    continue
                value = float(stated)
                if 0 <= value <= limit and (name != "quantity" or value.is_integer()):
                    continue  # the common case, decided without building anything
            yield from _number_findings(run, line, name, raw, stated, limit)


def _number_findings(
    run: RuleRun,
    line: ManifestLine,
    name: str,
    raw: str | None,
    stated: float | None,
    limit: float,
) -> Iterator[Finding]:
    ref = run.ctx.field_ref(line, name)
    where = line.line_no or ""
    if raw is not None:
        yield run.finding(
            "NUMBER_INVALID",
            refs=[ref],
            severity=None if _not_finite(raw) else Severity.WARN,
            field=name,
            value=raw,
            line=where,
        )
        return
    value = float(stated or 0.0)
    if value < 0:
        yield run.finding("NUMBER_INVALID", refs=[ref], field=name, value=_num(value), line=where)
    elif (
        name == "quantity"
        and not value.is_integer()
        and (line.unit or "").strip().lower().rstrip(".") not in _MEASURE_UNITS
    ):
        yield run.finding(
            "QUANTITY_NOT_WHOLE",
            severity=Severity.WARN,
            refs=[ref],
            value=_num(value),
            unit=line.unit or "",
            line=where,
        )
    elif value > limit:
        yield run.finding(
            "NUMBER_IMPLAUSIBLE",
            severity=Severity.WARN,
            refs=[ref],
            field=name,
            value=_num(value),
            limit=_num(limit),
            line=where,
        )


def _not_finite(text: str) -> bool:
    """True for text that reads as a number too large or undefined: `1e400`, `inf`, `NaN`."""
    compact = text.strip().replace(",", "").replace(" ", "").lower()
    if compact.lstrip("+-") in ("∞", "infinity", "inf", "nan"):
        return True
    try:
        return not math.isfinite(float(compact))
    except ValueError:
        return False


_LINE_FIELDS = ("description", "quantity", "hs_code", "net_kg", "gross_kg")
_HEADER_FIELDS = ("shipper", "consignee")


def check_required(run: RuleRun) -> Iterator[Finding]:
    """Fields customs needs are present somewhere in the shipment (one finding per field)."""
    if not any(e.lines for e in run.ctx.extractions):
        return  # label photos and scanned codes are not manifests
    for name in _HEADER_FIELDS:
        if run.ctx.header(name) is None:
            yield run.finding("REQUIRED_FIELD_MISSING", field=name, count=1)
    if run.ctx.destination() is None:
        yield run.finding("REQUIRED_FIELD_MISSING", field="destination", count=1)
    lines = [line for _, line in run.ctx.lines()]
    for name in _LINE_FIELDS:
        # a field another document gives for the same units is given (invoice + packing list)
        missing = [line.source for line in lines if not run.ctx.line_states(line, name)]
        if missing:
            yield run.finding(
                "REQUIRED_FIELD_MISSING", refs=missing, field=name, count=len(missing)
            )


def check_places(run: RuleRun) -> Iterator[Finding]:
    """Countries are ISO 3166 codes or names the gateway knows, ports look like UN/LOCODEs,
    and destinations agree.

    A destination written as a name (`日本`, `Denmark / 丹麦`, `Finland (FI)`) is the country
    it names. A two- or three-letter value that is no ISO 3166 code blocks (a mistyped code).
    Words that name no country the gateway knows (a city such as `Rotterdam` under "Final
    destination") cannot be judged: they warn when nothing else gives the destination, and
    inform when the lines, another document or the user do.
    """
    destinations: dict[str, list[SourceRef]] = defaultdict(list)
    unknown: list[tuple[str, SourceRef]] = []
    for _, line in run.ctx.lines():
        if not line.destination:
            continue
        ref = run.ctx.field_ref(line, "destination")
        code = country_of(line.destination)
        if code is not None:
            destinations[code].append(ref)
        elif _code_shaped(line.destination):
            yield run.finding(
                "COUNTRY_CODE_INVALID", refs=[ref], value=line.destination, field="destination"
            )
        else:
            unknown.append((line.destination, ref))
    for extraction in run.ctx.extractions:
        header = (extraction.header.get("destination") or "").strip()
        ref = SourceRef(document_id=extraction.document.id)
        if header:
            code = country_of(header)
            if code is not None:
                destinations[code].append(ref)
            elif _code_shaped(header):
                yield run.finding(
                    "COUNTRY_CODE_INVALID", refs=[ref], value=header, field="destination"
                )
            else:
                unknown.append((header, ref))
        for port in ("port_of_loading", "port_of_discharge"):
            value = extraction.header.get(port)
            compact = (value or "").replace(" ", "")
            # Only judge values written as codes; a port name in words is not a mistake.
            written_as_code = compact.isalnum() and compact.isupper() and len(compact) == 5
            if (
                value
                and written_as_code
                and (not looks_like_unlocode(compact) or compact[:2] not in ALPHA2)
            ):
                yield run.finding(
                    "PORT_CODE_INVALID",
                    refs=[ref],
                    value=value,
                    field=port,
                    severity=Severity.WARN,
                )
    if run.ctx.facts.destination:
        destinations[run.ctx.facts.destination.upper()].append(SourceRef(document_id="shipment"))
    for value, ref in unknown:
        yield run.finding(
            "COUNTRY_CODE_INVALID",
            refs=[ref],
            value=value,
            field="destination",
            severity=Severity.INFO if destinations else Severity.WARN,
        )
    if len(destinations) > 1:
        yield run.finding(
            "DESTINATION_INCONSISTENT",
            refs=[r for refs in destinations.values() for r in refs],
            severity=Severity.WARN,
            values=", ".join(sorted(destinations)),
        )


def country_of(value: str) -> str | None:
    """The ISO 3166 code a destination names: a code, a name, or a place ending in a code.

    `Rotterdam, NL` and `Hamburg / DE` name their country by a code after the place.
    """
    code = normalize_country(value)
    if code is not None:
        return code
    tail = re.split(r"[\s,;/()（）]+", value.strip(" )）"))[-1]
    return tail if len(tail) == 2 and tail.isupper() and tail in ALPHA2 else None


def _code_shaped(value: str) -> bool:
    """A value written as a country code: two (or three) ASCII letters."""
    text = value.strip()
    return text.isascii() and text.isalpha() and len(text) in (2, 3)


def check_document_totals(run: RuleRun) -> Iterator[Finding]:
    """Documents of one shipment (invoice, packing list) agree on the total quantity."""
    totals: dict[str, float] = {}
    for extraction in run.ctx.extractions:
        quantities = [line.quantity for line in extraction.lines if line.quantity is not None]
        if quantities:
            totals[extraction.document.filename] = sum(quantities)
    if len(set(totals.values())) > 1:
        yield run.finding(
            "DOCUMENT_TOTALS_DIFFER",
            refs=[SourceRef(document_id=e.document.id) for e in run.ctx.extractions],
            totals=", ".join(f"{name}: {_num(total)}" for name, total in totals.items()),
        )


def check_mixed_scope(run: RuleRun) -> Iterator[Finding]:
    """A shipment mixing units in and out of the platform's scope is reported line by line."""
    in_scope = set(run.strings("in_scope_categories"))
    inside: list[SourceRef] = []
    outside: list[SourceRef] = []
    for _, line in run.ctx.lines():
        categories = {i.record.category for i in run.ctx.items_of(line) if i.record}
        if categories & in_scope:
            inside.append(line.source)
        elif categories:
            outside.append(line.source)
    if inside and outside:
        yield run.finding(
            "MIXED_SCOPE_SHIPMENT", refs=outside, inside=len(inside), outside=len(outside)
        )


# --- packages: codes per carton or pallet ------------------------------------------------

_RANGE = re.compile(
    r"^\s*([A-Za-z]*)[ #-]?(\d{1,6})\s*(?:-|~|～|–|—|至|到|to)\s*([A-Za-z]*)[ #-]?(\d{1,6})\s*$",
    re.IGNORECASE,
)


def package_of(line: ManifestLine) -> tuple[str, str] | None:
    """("carton", "C-01") or ("pallet", "P1") for a packed line; the carton wins."""
    if line.carton and line.carton.strip():
        return ("carton", line.carton.strip())
    if line.pallet and line.pallet.strip():
        return ("pallet", line.pallet.strip())
    return None


def range_count(text: str) -> int | None:
    """How many packages a range such as "C001-C010" or "1~5" names (None: not a range)."""
    match = _RANGE.match(text)
    if match is None or match.group(1).upper() != (match.group(3) or match.group(1)).upper():
        return None
    first, last = int(match.group(2)), int(match.group(4))
    return last - first + 1 if last >= first else None


def _line_units(run: RuleRun, line: ManifestLine) -> frozenset[str]:
    """The units (registration records, else keys) listed on a line."""
    return run.ctx.units_of(line)


def _unit_keys(run: RuleRun) -> dict[str, str]:
    """unit -> the first key naming it, for messages."""

    def build() -> dict[str, str]:
        keys: dict[str, str] = {}
        for unit, items in run.ctx.units_by_unit.items():
            key = next((i.key for i in items if i.key), None)
            if key:
                keys[unit] = key
        return keys

    return run.ctx.memo("manifest.unit_keys", build)


def reconciled_packages(run: RuleRun) -> set[int]:
    """Lines (by identity) whose package holds as many unit codes as its lines' quantities.

    A packing list may state the quantity once per carton and list the carton's codes on the
    rows below; such a line is not a per-line quantity mismatch.
    """
    ok: set[int] = set()
    for extraction in run.ctx.extractions:
        groups: dict[tuple[str, str], list[ManifestLine]] = defaultdict(list)
        for line in extraction.lines:
            package = package_of(line)
            if package is not None:
                groups[package].append(line)
        for lines in groups.values():
            if len(lines) < 2:
                continue
            quantities = [line.quantity for line in lines if line.quantity is not None]
            units: set[str] = set()
            for line in lines:
                units |= _line_units(run, line)
            if quantities and units and abs(sum(quantities) - len(units)) < 1e-9:
                ok.update(id(line) for line in lines)
    return ok


def check_packages(run: RuleRun) -> Iterator[Finding]:
    """Codes per carton or pallet equal the packing list's quantity; each unit in one package.

    Only documents with a carton or pallet column are judged. A package of one line is left to
    `manifest.quantity`, which compares the same numbers.
    """
    # key -> document id -> packages naming the unit there
    placed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    places: dict[str, list[SourceRef]] = defaultdict(list)
    for extraction in run.ctx.extractions:
        if not any(package_of(line) for line in extraction.lines):
            continue
        groups: dict[tuple[str, str], list[ManifestLine]] = defaultdict(list)
        unpacked: list[SourceRef] = []
        for line in extraction.lines:
            package = package_of(line)
            units = _line_units(run, line)
            if package is None:
                if units:
                    unpacked.append(line.source)
                continue
            groups[package].append(line)
            label = f"{package[0]} {package[1]}"
            for key in units:
                placed[key][extraction.document.id].add(label)
                places[key].append(run.ctx.field_ref(line, package[0]))
            stated = _float(line.extra.get("packages"))
            counted = range_count(package[1])
            if stated is not None and counted is not None and abs(stated - counted) > 1e-9:
                yield run.finding(
                    "PACKAGE_RANGE_COUNT_MISMATCH",
                    refs=[run.ctx.field_ref(line, package[0])],
                    line=line.line_no or "",
                    range=package[1],
                    counted=counted,
                    stated=_num(stated),
                )
        for (kind, name), lines in groups.items():
            quantities = [line.quantity for line in lines if line.quantity is not None]
            packed: set[str] = set()
            for line in lines:
                packed |= _line_units(run, line)
            if len(lines) < 2 or not quantities or not packed:
                continue
            if abs(sum(quantities) - len(packed)) > 1e-9:
                yield run.finding(
                    "PACKAGE_CODE_COUNT_MISMATCH",
                    refs=[run.ctx.field_ref(line, kind) for line in lines],
                    kind=kind,
                    package=name,
                    quantity=_num(sum(quantities)),
                    codes=len(packed),
                )
        if unpacked:
            yield run.finding("UNITS_WITHOUT_PACKAGE", refs=unpacked, count=len(unpacked))
    # The same unit in two packages of one document is a duplicate (manifest.duplicates);
    # here, documents that pack a unit differently.
    split = sorted(
        key
        for key, by_document in placed.items()
        if len(by_document) > 1
        and all(len(p) == 1 for p in by_document.values())
        and len({text_key(p) for ps in by_document.values() for p in ps}) > 1
    )
    if split:
        first = split[0]
        yield run.finding(
            "UNIT_IN_SEVERAL_PACKAGES",
            refs=[ref for key in split for ref in places[key]],
            count=len(split),
            unit=key_to_hri(_unit_keys(run).get(first, first)),
            packages=" / ".join(sorted({p for ps in placed[first].values() for p in ps})),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "manifest.documents",
        1,
        Severity.BLOCK,
        "PRACTICE",
        ("DOCUMENT_REJECTED", "DOCUMENT_PROBLEM"),
        check_documents,
        "Every document can be read; what cannot be read is named with its place.",
    ),
    Rule(
        "manifest.duplicates",
        2,
        Severity.BLOCK,
        "PRACTICE",
        ("DUPLICATE_UNIT_CODE",),
        check_duplicates,
        "A unit code appears once in the shipment.",
        defaults={"same_unit_across_documents_ok": True},
    ),
    Rule(
        "manifest.already_declared",
        1,
        Severity.BLOCK,
        "PRACTICE",
        ("UNIT_ALREADY_DECLARED",),
        check_already_declared,
        "A unit code was not declared on an earlier export.",
    ),
    Rule(
        "manifest.quantity",
        3,
        Severity.BLOCK,
        "PRACTICE",
        ("QUANTITY_CODE_COUNT_MISMATCH", "LINES_WITHOUT_CODES", "NO_UNIT_CODES"),
        check_quantity,
        "A line's quantity equals the number of unit codes on it.",
    ),
    Rule(
        "manifest.weights",
        2,
        Severity.BLOCK,
        "CN-CUS",
        ("NET_EXCEEDS_GROSS", "WEIGHT_TOTAL_MISMATCH"),
        check_weights,
        "Net weight never exceeds gross; stated totals equal the sum of the lines.",
        defaults={"total_tolerance": 0.005},
    ),
    Rule(
        "manifest.totals",
        1,
        Severity.BLOCK,
        "CN-CUS",
        ("QUANTITY_TOTAL_MISMATCH", "PACKAGE_TOTAL_MISMATCH"),
        check_totals,
        "A document's stated total quantity and number of packages equal its lines.",
    ),
    Rule(
        "manifest.numbers",
        1,
        Severity.BLOCK,
        "PRACTICE",
        ("NUMBER_INVALID", "QUANTITY_NOT_WHOLE", "NUMBER_IMPLAUSIBLE"),
        check_numbers,
        "Quantities and weights are finite and not negative, counts whole, figures plausible.",
        # units, or net or gross kg, on one line above these are a typo
        defaults={"max_quantity_per_line": 1_000_000, "max_kg_per_line": 100_000},
    ),
    Rule(
        "manifest.document_totals",
        1,
        Severity.WARN,
        "PRACTICE",
        ("DOCUMENT_TOTALS_DIFFER",),
        check_document_totals,
        "Invoice and packing list agree on the total quantity.",
    ),
    Rule(
        "manifest.mixed_scope",
        1,
        Severity.INFO,
        "SEED",
        ("MIXED_SCOPE_SHIPMENT",),
        check_mixed_scope,
        "Shipments mixing in-scope and out-of-scope units are reported line by line.",
        PLATFORM_POLICY,
        {"in_scope_categories": ["nev_traction", "ci_ess"]},
    ),
    Rule(
        "manifest.required_fields",
        2,
        Severity.WARN,
        "CN-CUS",
        ("REQUIRED_FIELD_MISSING",),
        check_required,
        "Shipper, consignee, destination, description, quantity, HS code and weights are given.",
    ),
    Rule(
        "manifest.places",
        2,
        Severity.BLOCK,
        "PRACTICE",
        ("COUNTRY_CODE_INVALID", "PORT_CODE_INVALID", "DESTINATION_INCONSISTENT"),
        check_places,
        "Country codes are ISO 3166, port codes UN/LOCODE, and destinations agree.",
    ),
    Rule(
        "manifest.packages",
        2,
        Severity.WARN,
        "PRACTICE",
        (
            "PACKAGE_CODE_COUNT_MISMATCH",
            "UNIT_IN_SEVERAL_PACKAGES",
            "UNITS_WITHOUT_PACKAGE",
            "PACKAGE_RANGE_COUNT_MISMATCH",
        ),
        check_packages,
        "Codes per carton or pallet equal the packing list's quantity; each unit in one package.",
    ),
)
