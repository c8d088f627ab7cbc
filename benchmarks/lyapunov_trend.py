"""Finite-width trend of the measured largest Lyapunov exponent near the edge of chaos.

tanh at (sigma_w2, sigma_b2) = (2.0, 0.05), just on the chaotic side of the critical line
(sigma_w2 = 1.76 at sigma_b2 = 0.05): the exponent from two renormalised replicas at
N = 250, 500, 1000, 2000 beside the mean-field (1/2) ln chi_1.  Feedforward nets use the
exact fast replica sampler, recurrent nets real matrices (shared and fresh bias).  A
second table shows the ordered recurrent net with shared bias, where the long-time
exponent is that of the fixed point's Jacobian W diag(phi'(z*)).  Prints Markdown tables.

    python benchmarks/lyapunov_trend.py [--networks 32] [--steps 300]
"""

from __future__ import annotations

import argparse
import time

from nnqft.derive.meanfield import fixed_point
from nnqft.derive.montecarlo.lyapunov import measure_lyapunov
from nnqft.rules.network import Network

WIDTHS = (250, 500, 1000, 2000)


def cell(m, theory: float) -> str:
    return f"{m.exponent:.4f} ± {m.stderr:.4f} ({m.exponent / theory - 1:+.0%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=32, help="recurrent nets per width")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--burn-in", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    opts = dict(steps=args.steps, burn_in=args.burn_in, jobs=args.jobs, seed=2026)
    start = time.perf_counter()

    sw2, sb2 = 2.0, 0.05
    theory = fixed_point(Network("feedforward", "tanh", sw2, sb2)).lyapunov_exponent
    print(
        f"tanh ({sw2}, {sb2}): (1/2) ln chi_1 = {theory:.4f}; "
        f"{args.steps} steps after {args.burn_in} layers; measured ± stderr (vs theory)\n"
    )
    print("| N | feedforward | recurrent, shared bias | recurrent, fresh bias |")
    print("| ---: | --- | --- | --- |")
    for n in WIDTHS:
        ff = measure_lyapunov(Network("feedforward", "tanh", sw2, sb2, width=n), 256, **opts)
        rec = {
            bias: measure_lyapunov(
                Network("recurrent", "tanh", sw2, sb2, width=n, bias=bias), args.networks, **opts
            )
            for bias in ("shared", "fresh")
        }
        print(
            f"| {n} | {cell(ff, theory)} | {cell(rec['shared'], theory)} | "
            f"{cell(rec['fresh'], theory)} |",
            flush=True,
        )

    sw2, sb2 = 1.5, 0.05
    theory = fixed_point(Network("feedforward", "tanh", sw2, sb2)).lyapunov_exponent
    print(f"\ntanh ({sw2}, {sb2}), recurrent, shared bias: (1/2) ln chi_1 = {theory:.4f}\n")
    print("| N | over 20 layers | over 300 layers |")
    print("| ---: | --- | --- |")
    for n in WIDTHS:
        net = Network("recurrent", "tanh", sw2, sb2, width=n, bias="shared")
        short = measure_lyapunov(net, 4 * args.networks, **(opts | {"steps": 20}))
        long = measure_lyapunov(net, args.networks, **(opts | {"steps": 300}))
        print(f"| {n} | {cell(short, theory)} | {cell(long, theory)} |", flush=True)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
