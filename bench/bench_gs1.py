"""Throughput of the GS1 engine against biip on the same 100,000 distinct inputs.

    .venv/bin/python bench/bench_gs1.py [--n 100000] [--seed 7] [--repeat 3] [--cli]

Inputs are generated with a fixed seed (bracketed, raw with GS, AIM symbology identifiers,
Digital Link URIs, GB/T codes, some invalid); every input is distinct, so no per-input cache can
inflate the figure. In process, both parsers run interleaved; the median of the repeats is
reported with the ratio engine/biip (target: at least 5x) and, for scale, against the C GS1
reference engine's published figure of about 200,000 inputs/s (not measured here).

`--cli` also pipes the inputs through `gateway codes --jsonl` and through a biip process that
answers the same line protocol, each timed net of its start-up: once with the distinct inputs
and once with a manifest-like stream where every input comes back 20 times (labels and
manifests repeat codes; the command answers a repeated line from its cache). Target: at least
10x biip. biip is a bench-only dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
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


C_ENGINE_RATE = 200_000  # the GS1 Barcode Syntax Engine (C), as its project states it


def _biip_lines() -> int:
    """The line protocol answered by biip: one JSON object per stdin line, flushed at the end."""
    parse = _biip_parser()
    if parse is None:
        return 2
    out: list[str] = []
    for raw in sys.stdin.buffer.read().split(b"\n")[:-1]:
        got = parse(raw.decode("utf-8", errors="replace"))
        out.append(json.dumps({"valid": not isinstance(got, Exception)}))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _pipe_rate(argv: list[str], inputs: list[str]) -> float:
    """Inputs/s of a line-protocol command, net of its start-up (one input's run)."""
    payload = ("\n".join(inputs) + "\n").encode()

    def run(data: bytes) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(argv, input=data, capture_output=True, check=True)
        elapsed = time.perf_counter() - t0
        lines, asked = done.stdout.count(b"\n"), data.count(b"\n")
        if lines != asked:
            msg = f"{argv[0]}: {lines} answers to {asked} lines"
            raise RuntimeError(msg)
        return elapsed

    startup = sorted(run(b"(01)09521234543213\n") for _ in range(3))[1]
    net = run(payload) - startup
    if net < 0.1:
        msg = f"{argv[0]}: {net:.3f} s net of start-up is too short to time; raise --n"
        raise RuntimeError(msg)
    return len(inputs) / net


def _cli(inputs: list[str], repeat: int) -> None:
    gateway = os.path.join(os.path.dirname(sys.executable), "gateway")
    ours = [gateway, "codes", "--jsonl"]
    theirs = [sys.executable, os.path.abspath(__file__), "--biip-lines"]
    rng = random.Random(1)
    repeated = [s for s in inputs[: len(inputs) // 20] for _ in range(20)]
    rng.shuffle(repeated)
    for label, data in (("distinct", inputs), ("repeated x20", repeated)):
        rates: dict[str, list[float]] = {"gateway codes --jsonl": [], "biip (same protocol)": []}
        for _ in range(repeat):
            rates["gateway codes --jsonl"].append(_pipe_rate(ours, data))
            rates["biip (same protocol)"].append(_pipe_rate(theirs, data))
        med = {k: statistics.median(v) for k, v in rates.items()}
        for k, v in med.items():
            print(f"CLI {label:13s} {k:22s}: median {v:10.0f} inputs/s")
        ratio = med["gateway codes --jsonl"] / med["biip (same protocol)"]
        print(f"CLI {label:13s} ratio gateway/biip  : {ratio:.2f}x (target >= 10x)")


def main() -> int:
    """Run the benchmark and print inputs/s for each parser and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli", action="store_true", help="also time the command line protocol")
    ap.add_argument("--biip-lines", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.biip_lines:
        return _biip_lines()
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
    print(
        f"C reference engine : about {C_ENGINE_RATE} inputs/s (its published figure): this "
        f"engine does {engine / C_ENGINE_RATE:.2f}x of it"
    )
    if not theirs:
        print("biip               : not installed, no ratio")
        return 0
    base = statistics.median(theirs)
    print(f"biip               : median {base:10.0f} inputs/s (runs: {[round(r) for r in theirs]})")
    print(f"ratio engine/biip  : {engine / base:.2f}x (target >= 5x)")
    if args.cli:
        _cli(inputs, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
