"""Benchmark: K0, V, K1 by the finite-width recursions against what Monte Carlo would cost.

Run: ``python benchmarks/bench_finite_width.py``.  Prints two tables:

1. wall time of :func:`nnqft.finite_width` for 100 layers (best of 5);
2. how many random networks the fast exact sampler would need to measure K1 and V/K0^2 to
   1% (one standard error), from a pilot run that measures the per-network spread and the
   sampling rate, and the time ratio Monte Carlo / engine.  These counts are lower bounds:
   Monte Carlo at width n measures K1 + K2/n + ..., so isolating K1 also needs several widths.
"""

from __future__ import annotations

import math
import time

import numpy as np

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.montecarlo.simulate import fast_feedforward_preactivations
from nnqft.rules.network import Network


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pilot(net: Network, samples: int, seed: int = 0):
    """Per-network spread of the K1 and V estimators at the last layer, and networks/s."""
    rng = np.random.default_rng(seed)
    n, T = net.width, net.depth
    chunk = max(100, 4_000_000 // (n * T))
    b_parts, a_parts = [], []
    t0 = time.perf_counter()
    for lo in range(0, samples, chunk):
        z2 = fast_feedforward_preactivations(net, min(chunk, samples - lo), rng)[-1] ** 2
        s1, s2 = z2.sum(-1), (z2 * z2).sum(-1)
        b_parts.append(s1 / n)
        a_parts.append((s1 * s1 - s2) / (n * (n - 1)))
    rate = samples / (time.perf_counter() - t0)
    b, a = np.concatenate(b_parts), np.concatenate(a_parts)
    sd_k1 = n * b.std(ddof=1)  # K1 estimate: n (mean b - K0)
    sd_cov = (a - 2 * b.mean() * b).std(ddof=1)  # Cov estimate: mean a - (mean b)^2
    return sd_k1, sd_cov, rate


def main() -> None:
    print("Table 1: engine time for 100 layers (best of 5)\n")
    print(f"{'activation':<12}{'(sigma_w2, sigma_b2)':<24}{'method':<14}{'time [s]':>10}")
    print("-" * 60)
    cases = [
        ("tanh", 1.0, 0.0, False),
        ("tanh", 1.0, 0.0, True),
        ("relu", 2.0, 0.0, False),
        ("gelu", 1.983, 0.173, False),
        ("swish", 1.988, 0.555, False),
    ]
    engine = {}
    for act, cw, cb, nxt in cases:
        net = Network("feedforward", act, cw, cb)
        t = best_of(lambda net=net, nxt=nxt: finite_width(net, 100, next_order=nxt))
        engine[(act, nxt)] = t
        label = act + (" +next" if nxt else "")
        kind = "closed form" if act == "relu" else "quadrature"
        print(f"{label:<12}{f'({cw:g}, {cb:g})':<24}{kind:<14}{t:>10.3f}")

    print("\nTable 2: Monte Carlo networks for 1% (1 standard error) on K1 and V/K0^2, tanh")
    print("critical point (1, 0), at the last layer; pilot run measures spread and rate\n")
    head = (
        f"{'depth':>5}{'width':>7}{'quantity':>10}{'value':>11}{'networks':>12}"
        f"{'MC time [s]':>13}{'engine [s]':>12}{'ratio':>10}"
    )
    print(head)
    print("-" * len(head))
    for depth, width, samples in ((6, 16, 40_000), (100, 1000, 2_000)):
        net = Network("feedforward", "tanh", 1.0, 0.0, width=width, depth=depth)
        t_engine = best_of(lambda net=net, depth=depth: finite_width(net, depth))
        row = finite_width(net, depth)[-1]
        sd_k1, sd_cov, rate = pilot(net, samples)
        k2 = row["K0"] ** 2
        for name, value, sd in (
            ("K1", row["K1"], sd_k1),
            ("V/K0^2", row["V"] / k2, width * sd_cov / k2),
        ):
            networks = math.ceil((sd / (0.01 * abs(value))) ** 2)
            t_mc = networks / rate
            print(
                f"{depth:>5}{width:>7}{name:>10}{value:>11.4g}{networks:>12.3g}"
                f"{t_mc:>13.3g}{t_engine:>12.3g}{t_mc / t_engine:>10.2g}"
            )


if __name__ == "__main__":
    main()
