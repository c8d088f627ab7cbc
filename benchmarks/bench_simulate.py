"""Throughput of ``simulate``: real weight matrices vs the exact fast sampler at N = 256.

Both samplers draw from the same distribution (tests/derive/test_simulate.py checks it), so
networks per second compare the cost of the same statistics.  Prints a Markdown table.

    python benchmarks/bench_simulate.py [--width 256] [--depth 10] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time

from nnqft.derive.montecarlo.simulate import simulate
from nnqft.rules.network import Network


def rate(net: Network, samples: int, **kwargs) -> tuple[float, object]:
    """Networks per second (best of two runs) and the last result."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        result = simulate(net, samples, **kwargs)
        best = min(best, time.perf_counter() - start)
    return samples / best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    n, depth = args.width, args.depth
    ff = Network("feedforward", "tanh", 1.5, 0.05, width=n, depth=depth)
    rec = Network("recurrent", "tanh", 1.5, 0.05, width=n, depth=depth, bias="shared")
    rows = [
        ("feedforward, full matrices", *rate(ff, 400, sampler="full")),
        ("feedforward, fast (exact)", *rate(ff, 100_000, sampler="fast")),
        (f"feedforward, fast, --jobs {args.jobs}", *rate(ff, 100_000, jobs=args.jobs)),
        ("feedforward, full, 2 inputs", *rate(ff, 400, sampler="full", inputs=2, c0=0.5)),
        ("feedforward, fast, 2 inputs", *rate(ff, 100_000, sampler="fast", inputs=2, c0=0.5)),
        ("recurrent (shared bias), full", *rate(rec, 2000)),
    ]
    full_rate = rows[0][1]
    print(f"tanh (1.5, 0.05), N = {n}, T = {depth}, float64\n")
    print("| sampler | networks/s | vs full | E Q(T) |")
    print("| --- | ---: | ---: | --- |")
    for name, r, result in rows:
        last = result.layers[-1]
        print(
            f"| {name} | {r:,.0f} | {r / full_rate:,.1f}x | "
            f"{last.mean:.5f} ± {last.mean_stderr:.5f} |"
        )


if __name__ == "__main__":
    main()
