"""Compare JSON outputs of two checkouts number by number (the two-input NTK speed-up was
checked with it: every number within 1e-12 relative).

    python benchmarks/json_diff.py OLD.json NEW.json [OLD2.json NEW2.json ...] [--rtol 1e-12]

(The outputs compared there: ``nnqft ntk --activation A --sigma-w2 2 --sigma-b2 0.05 --inputs 2
--c0 0.5 --depth L --width 64 --json`` for A in relu, tanh, gelu, erf and L = 6, 20; relu at
sigma_w2 = 3, L = 20, where the plane rule's size guard nulls the corrections; tanh at (1.5,
0.1), c0 = -0.3, L = 8 with lambda_b = 0.5, lambda_W = 2; swish at (2, 0.2), c0 = 0.9.)

Walks both recursively: keys, list lengths, strings and nulls must be equal; numbers within
``rtol`` relative (|a - b| <= rtol max(|a|, |b|)).  Prints per pair the count of numbers, how
many are bit-identical, the worst relative difference and where, the keys whose numbers are
not bit-identical, and every failure; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import math


def walk(a, b, path: str, out: dict) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            out["fail"].append(f"{path}: keys differ {sorted(a.keys() ^ b.keys())}")
        for k in a.keys() & b.keys():
            walk(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out["fail"].append(f"{path}: lengths {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]", out)
    elif _number(a) and _number(b):
        out["numbers"] += 1
        if a == b or (math.isnan(a) and math.isnan(b)):
            out["exact"] += 1
            return
        key = ".".join(part.split("[")[0] for part in path.split(".")[2:4])
        out["inexact"][key] = out["inexact"].get(key, 0) + 1
        rel = abs(a - b) / max(abs(a), abs(b))
        if rel > out["worst"][0]:
            out["worst"] = (rel, path, a, b)
        if rel > out["rtol"]:
            out["fail"].append(f"{path}: {a!r} vs {b!r} (rel {rel:.2e})")
    elif a != b:
        out["fail"].append(f"{path}: {a!r} != {b!r}")


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="pairs OLD NEW")
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args()
    if len(args.files) % 2:
        parser.error("give the files in pairs, OLD NEW")
    failures = 0
    for old, new in zip(args.files[::2], args.files[1::2]):
        out = {"fail": [], "worst": (0.0, None, None, None), "numbers": 0, "exact": 0,
               "rtol": args.rtol, "inexact": {}}  # fmt: skip
        with open(old) as f, open(new) as g:
            walk(json.load(f), json.load(g), "$", out)
        rel, where, a, b = out["worst"]
        over = len(out["fail"])
        print(f"{new}: {out['numbers']} numbers, {out['exact']} bit-identical, worst rel "
              f"{rel:.2e} at {where} ({a!r} vs {b!r}), {over} over {args.rtol:g}")  # fmt: skip
        if out["inexact"]:
            print(f"    not bit-identical: {', '.join(sorted(out['inexact']))}")
        for line in out["fail"][:20]:
            print("   ", line)
        failures += len(out["fail"])
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
