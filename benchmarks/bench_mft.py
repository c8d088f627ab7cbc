"""Mean-field theory speed: fixed points with chi's and depth scales, critical points, and
full phase grids.  Run: ``python benchmarks/bench_mft.py`` (prints a Markdown table).

Each row is the median of several runs after one warm-up (lambdify, quadrature rules and
sympy kernels are built on first use and cached).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from nnqft.derive import meanfield
from nnqft.derive.meanfield.phase import phase_diagram
from nnqft.rules.network import Network


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    tanh_ordered = Network("feedforward", "tanh", sigma_w2=1.5, sigma_b2=0.05)
    tanh_chaotic = Network("feedforward", "tanh", sigma_w2=4.0, sigma_b2=0.3)
    erf_chaotic = Network("feedforward", "erf", sigma_w2=3.0, sigma_b2=0.2)
    grid_w, grid_b = np.linspace(0.5, 4.0, 200), np.linspace(0.0, 0.5, 200)
    rows = [
        (
            "tanh fixed point + chi's + xi's, ordered (1.5, 0.05)",
            lambda: meanfield.fixed_point(tanh_ordered),
            50,
        ),
        (
            "tanh fixed point + chi's + xi's, chaotic (4.0, 0.3)",
            lambda: meanfield.fixed_point(tanh_chaotic),
            50,
        ),
        (
            "erf fixed point (closed form), chaotic (3.0, 0.2)",
            lambda: meanfield.fixed_point(erf_chaotic),
            50,
        ),
        (
            "tanh critical point at sigma_b2 = 0.05 (scan + Brent)",
            lambda: (
                meanfield.criticality._ratio_scan.cache_clear(),
                meanfield.critical_point("tanh", 0.05),
            ),
            20,
        ),
        (
            "tanh critical line, 200 sigma_b2 values",
            lambda: meanfield.critical_line("tanh", grid_b),
            3,
        ),
        (
            "tanh phase grid 200 x 200 (incl. critical line)",
            lambda: phase_diagram("tanh", grid_w, grid_b, progress=False),
            3,
        ),
        (
            "erf phase grid 200 x 200 (closed form)",
            lambda: phase_diagram("erf", grid_w, grid_b, progress=False),
            3,
        ),
    ]
    print(f"cores available: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
    print()
    print("| task | time |")
    print("| --- | ---: |")
    for name, fn, repeat in rows:
        t = timed(fn, repeat)
        shown = f"{t * 1e3:.2f} ms" if t < 1 else f"{t:.2f} s"
        print(f"| {name} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
