"""The simulator's seeded data set: every status and the tricky cases, deterministic by seed.

The first records are a fixed showcase (one per status, a grace period, an already exported
unit, a GS1/GB code conflict, out-of-scope categories); the rest are plain registered units
that make the set as large as asked (the benchmark asks for 10,000).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace

from gateway.domain import RegistrationRecord, RegistrationStatus
from gateway.gs1.checksums import check_digit
from gateway.platform_client.keys import sgtin_key

PLATFORM_TZ = dt.timezone(dt.timedelta(hours=8))  # the platform answers in +08:00
_GB_YEAR = "123456789ABCDEFGHJKLMNPRSTUVWXY"  # year characters the GB/T 34014 gate admits
_GB_DAY = "123456789ABCDEFGHJKLMNPRSTUVWXY"  # day 1..31


@dataclass(frozen=True, slots=True)
class SimData:
    """Records plus the keys the simulated platform refuses as an unsupported category."""

    records: tuple[RegistrationRecord, ...]
    unsupported: frozenset[str]  # keys answered 422 UNSUPPORTED_CATEGORY
    seed: int


def make_gtin(prefix: str, item: int) -> str:
    """A valid GTIN-14 (indicator 0) from a 7-digit company prefix and an item reference."""
    body = f"0{prefix}{item:05d}"[:13]
    return body + check_digit(body)


def make_gb34014(maker: str, level: str, chemistry: str, day: dt.date, serial: int) -> str:
    """A 24-character code with the GB/T 34014 structure (the date alphabet is assumed)."""
    kind = {"pack": "P", "module": "M", "cell": "C"}.get(level, "P")
    chem = {"LFP": "B", "NCM": "E", "NCA": "E"}.get(chemistry, "Z")
    year = _GB_YEAR[(day.year - 2011) % len(_GB_YEAR)]
    month = "123456789ABC"[day.month - 1]
    return f"{maker}{kind}{chem}01TRC0001{year}{month}{_GB_DAY[day.day - 1]}{serial % 10**7:07d}"


def make_gb45565(enterprise: str, level: str, day: dt.date, serial: int) -> str:
    """A code with the GB/T 45565 structure for an ESS item (type H module, J cluster, K system)."""
    kind = {"module": "H", "cluster": "J", "system": "K"}.get(level, "K")
    return f"{enterprise}{kind}B1-{day:%Y%m%d}{serial % 10**8:08d}"


def generate(seed: int = 0, size: int = 60) -> SimData:
    """A deterministic data set of `size` records (at least the showcase) for `seed`."""
    rng = random.Random(seed)
    prefix = f"690{rng.randrange(10**4):04d}"
    # a letter first: a code starting with two digits reads as a GS1 element string
    letters, alnum = "ABCDEFGHJKLMNPRSTUVWXYZ", "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    maker = rng.choice(letters) + "".join(rng.choice(alnum) for _ in range(2))
    enterprise = rng.choice(letters) + "".join(rng.choice(alnum) for _ in range(3))
    updated = dt.datetime(2026, 5, 1, 9, 30, tzinfo=PLATFORM_TZ)
    products = [
        # gtin item, category, level, chemistry, kWh, kg, design id, model
        (1, "nev_traction", "pack", "NCM", 75.0, 480.0, "D-NEV-75", "NP-75"),
        (2, "nev_traction", "module", "LFP", 5.12, 32.0, "D-NEV-M5", "NM-5"),
        (3, "ci_ess", "cluster", "LFP", 215.0, 1650.0, "D-ESS-215", "ES-215"),
        (4, "ci_ess", "system", "LFP", 3727.0, 26000.0, "D-ESS-3727", "ES-3727"),
        (5, "residential_ess", "pack", "LFP", 10.24, 95.0, "D-RES-10", "HB-10"),
        (6, "lmt", "pack", "NCM", 0.96, 6.2, "D-LMT-1", "EB-48"),
        (7, "portable", "pack", "NCM", 0.1, 0.4, "D-POR-1", "PB-20"),
    ]
    records: list[RegistrationRecord] = []

    def unit(index: int, product: int, status: RegistrationStatus, **extra: object) -> None:
        item, category, level, chemistry, kwh, kg, design, model = products[product]
        gtin = make_gtin(prefix, item)
        made = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(120))
        gb = scheme = None
        if category == "nev_traction":
            gb, scheme = make_gb34014(maker, level, chemistry, made, index + 1), "GB_T_34014"
        elif category == "ci_ess":
            gb, scheme = make_gb45565(enterprise, level, made, index + 1), "GB_T_45565"
        record = RegistrationRecord(
            record_id=f"SIM-{seed}-{index:06d}",
            status=status,
            source="simulator",
            gs1_element_string=f"(01){gtin}(21)S{index:07d}",
            gtin=gtin,
            serial=f"S{index:07d}",
            gb_code=gb,
            gb_code_scheme=scheme,
            category=category,
            level=level,
            design_id=design,
            model=model,
            chemistry=chemistry,
            rated_energy_kwh=kwh,
            mass_kg=kg,
            specific_energy_wh_per_kg=round(kwh * 1000 / kg, 1),
            hs_code_cn="8507600020" if category == "nev_traction" else "8507600090",
            un_number="UN3480",
            manufacturer_name="Simulated Battery Co., Ltd.",
            manufacturer_uscc="91320500MA1SIMUL8X",
            manufacturing_date=made,
            lot=f"L{made:%y%m%d}-{product}",
            exporter_uscc="91310000EXPORTER1X",
            destination_country=("DE", "NL", "FR", "US", "GB", "AU")[index % 6],
            review_mode="automatic",
            updated_at=updated,
        )
        records.append(replace(record, **extra))  # type: ignore[arg-type]

    # the showcase: every status and the tricky cases at fixed positions
    unit(0, 0, RegistrationStatus.REGISTERED)
    unit(1, 2, RegistrationStatus.REGISTERED)
    unit(2, 0, RegistrationStatus.PENDING_REVIEW, review_mode="manual")
    unit(
        3,
        1,
        RegistrationStatus.NEEDS_CORRECTION,
        reason_code="MINOR_OMISSION",
        missing_fields=("un38_3_summary_ref",),
        grace_until=dt.date(2026, 9, 30),
    )
    unit(4, 0, RegistrationStatus.REJECTED, reason_code="DESIGN_NOT_FILED")
    unit(5, 3, RegistrationStatus.REVOKED, reason_code="WITHDRAWN_BY_MANUFACTURER")
    unit(6, 1, RegistrationStatus.SUSPENDED, reason_code="UNDER_INVESTIGATION")
    unit(7, 2, RegistrationStatus.EXPIRED, reason_code="VALIDITY_ELAPSED")
    unit(8, 0, RegistrationStatus.EXPORTED, declared_in=("223320260000123456",))
    unit(9, 4, RegistrationStatus.REGISTERED)  # residential ESS: out of the seed's scope
    unit(10, 5, RegistrationStatus.REGISTERED)  # LMT: out of scope
    # GS1 and GB code on different records: record 12 carries record 11's GB code
    unit(11, 0, RegistrationStatus.REGISTERED)
    unit(12, 0, RegistrationStatus.REGISTERED, gb_code=records[-1].gb_code)
    unit(13, 6, RegistrationStatus.REGISTERED)  # power bank: refused as unsupported (422)
    unsupported = frozenset({sgtin_key(records[-1].gtin or "", records[-1].serial or "")})
    records.pop()
    for index in range(len(records) + 1, max(size, 13) + 1):
        unit(index, rng.choice((0, 1, 2, 3)), RegistrationStatus.REGISTERED)
    return SimData(tuple(records), unsupported, seed)
