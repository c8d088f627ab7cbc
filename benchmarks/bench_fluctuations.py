"""Benchmark: the 1/N correction by the fluctuation diagrams, as a user runs it, beside the
recursion (a plain loop over layers) and the Monte Carlo a measurement of the same number
would need.

Run: ``python benchmarks/bench_fluctuations.py``.  Whole processes (fresh interpreter,
median of 3 after a warm-up), in one run so that load affects every route alike:

* ``nnqft correlator --activation tanh --sigma-w2 1.5 --sigma-b2 0.05 --depth 100 --order 1``
  (the pipeline: action -> rules -> diagrams -> contraction, every layer);
* the same 1/N coefficient K1 from the cumulant recursion (derive/finite_width), in-process;
* the Monte Carlo: real networks (fast exact sampler) at N = 64, the networks needed to
  resolve K1/N to one standard error of 10% of its size, and their time (measured rate).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from process_timing import header, python, run

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.montecarlo.simulate import fast_feedforward_preactivations
from nnqft.rules.network import Network

ARGS = ["--activation", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--order", "1"]


def main() -> None:
    print(header())
    print(f"{'route':<46}{'depth':>6}{'time [s]':>11}{'ratio':>9}")
    print("-" * 72)
    cli_time = {}
    for depth in (10, 100):
        cli = [sys.executable, "-m", "nnqft", "correlator", *ARGS, "--depth", str(depth), "--json"]
        t_cli, _ = run(cli)
        code = (
            "from nnqft.rules.network import Network\n"
            "from nnqft.derive.finite_width.recursions import finite_width\n"
            f"finite_width(Network('feedforward','tanh',1.5,0.05,q0=1.0), {depth})"
        )
        t_rec, _ = run(python(code))
        cli_time[depth] = t_cli
        print(f"{'nnqft correlator (fluctuation diagrams)':<46}{depth:>6}{t_cli:>11.2f}{1:>9.2f}")
        print(f"{'recursion, whole process':<46}{depth:>6}{t_rec:>11.2f}{t_rec / t_cli:>9.2f}")
    # Monte Carlo at N = 64, depth 10: networks for a 10% standard error on K1/N
    n, depth = 64, 10
    net = Network("feedforward", "tanh", 1.5, 0.05, width=n, depth=depth, q0=1.0)
    k1 = finite_width(net, depth)[-1]["K1"]
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    z2 = fast_feedforward_preactivations(net, 20_000, rng)[-1] ** 2
    rate = 20_000 / (time.perf_counter() - t0)
    sd = (z2.mean(-1)).std(ddof=1)
    needed = (sd / (0.1 * abs(k1) / n)) ** 2
    print(f"{'Monte Carlo, N = 64 (fast exact sampler)':<46}{depth:>6}{needed / rate:>11.1f}"
          f"{needed / rate / cli_time[depth]:>9.0f}   ({needed:.2g} networks for 10% on K1/N)")


if __name__ == "__main__":
    main()
