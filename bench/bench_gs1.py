"""Throughput of the GS1 engine against biip on the same 100,000 distinct inputs, in-process.

    .venv/bin/python bench/bench_gs1.py [--n 100000] [--seed 7] [--repeat 3]

Inputs are generated with a fixed seed (bracketed, raw with GS, AIM symbology identifiers,
Digital Link URIs, GB/T codes, some invalid); every input is distinct, so no per-input cache can
inflate the figure. Both parsers run interleaved in the same process; the median of the repeats
is reported with the ratio engine/biip (target: at least 5x). biip is a bench-only dependency.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from collections.abc import Callable

from gateway.gs1 import check_digit, decode

GS = "\x1d"
ALNUM = string.ascii_uppercase + string.digits
CSET82_SAFE = string.ascii_letters + string.digits + "-./_"


def _gtin(rng: random.Random) -> str:
    body = "0" + str(rng.choice((690, 691, 692, 693, 694, 695, 400, 401, 870, 871, 950, 952)))
    body += "".join(rng.choice(string.digits) for _ in range(13 - len(body)))
    return body + check_digit(body)


def _sscc(rng: random.Random) -> str:
    body = "3" + "".join(rng.choice(string.digits) for _ in range(16))
    return body + check_digit(body)


def _word(rng: random.Random, lo: int, hi: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def _date(rng: random.Random) -> str:
    return f"{rng.randint(20, 35):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def make_inputs(n: int, seed: int) -> list[str]:
    """`n` distinct inputs in a realistic mix of forms."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        kind = rng.random()
        gtin, lot, serial = _gtin(rng), _word(rng, 3, 10), _word(rng, 5, 12)
        if kind < 0.25:
            s = f"(01){gtin}(17){_date(rng)}(10){lot}(21){serial}"
        elif kind < 0.40:
            s = f"01{gtin}17{_date(rng)}10{lot}{GS}21{serial}"
        elif kind < 0.60:
            sym = rng.choice(("]C1", "]d2", "]Q3", "]e0"))
            s = f"{sym}01{gtin}21{serial}{GS}10{lot}"
        elif kind < 0.70:
            s = f"]C100{_sscc(rng)}02{gtin}37{rng.randint(1, 500)}"
        elif kind < 0.85:
            host = rng.choice(("https://id.gs1.org", "https://dl.example-battery.cn/p"))
            s = f"{host}/01/{gtin}/10/{lot}/21/{serial}?17={_date(rng)}"
        elif kind < 0.93:
            s = (
                _word(rng, 3, 3)
                + rng.choice("PMC")
                + rng.choice("BE")
                + _word(rng, 9, 9)
                + rng.choice("ABCDEF")
                + rng.choice("123456789ABC")
                + rng.choice("123456789")
                + f"{rng.randint(0, 9_999_999):07d}"
            )
        else:
            # invalid: a mistyped check digit
            s = f"(01){gtin[:-1]}{(int(gtin[-1]) + 1) % 10}(21){serial}"
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _time(fn: Callable[[str], object], inputs: list[str]) -> float:
    t0 = time.perf_counter()
    for s in inputs:
        fn(s)
    return len(inputs) / (time.perf_counter() - t0)


def _biip_parser() -> Callable[[str], object] | None:
    try:
        import biip
        from biip.gs1_messages import GS1Message
    except ImportError:
        return None

    def parse(s: str) -> object:
        try:
            if s.startswith("("):
                return GS1Message.parse_hri(s)
            return biip.parse(s)
        except Exception as exc:  # biip raises on bad input; that is its answer
            return exc

    return parse


def main() -> int:
    """Run the benchmark and print inputs/s for each parser and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inputs = make_inputs(args.n, args.seed)
    avg = sum(map(len, inputs)) / len(inputs)
    print(f"inputs: {len(inputs)} distinct, {avg:.1f} characters on average, seed {args.seed}")
    biip_parse = _biip_parser()
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.repeat):
        ours.append(_time(decode, inputs))
        if biip_parse is not None:
            theirs.append(_time(biip_parse, inputs))
    engine = statistics.median(ours)
    print(f"gateway.gs1.decode : median {engine:10.0f} inputs/s (runs: {[round(r) for r in ours]})")
    if not theirs:
        print("biip               : not installed, no ratio")
        return 0
    base = statistics.median(theirs)
    print(f"biip               : median {base:10.0f} inputs/s (runs: {[round(r) for r in theirs]})")
    print(f"ratio engine/biip  : {engine / base:.2f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
