"""Mean-field theory speed: fixed points with chi's and depth scales, critical points, and
full phase grids.  Run: ``python benchmarks/bench_mft.py`` (prints Markdown tables).

The first table is whole processes: ``nnqft mft ... --json`` from start to exit, against a
plain-numpy peer in the same run (a fresh interpreter iterating the tanh length map with
201 Gauss-Hermite nodes: the least a program doing this can cost), and against the same
command in an interpreter that imports sympy first (what every numeric command cost
before it stopped importing sympy).  The second table times calls inside a warm process:
each row is the median of several runs after one warm-up (quadrature rules are built on
first use and cached).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from process_timing import header, python, run

from nnqft.derive import meanfield
from nnqft.derive.meanfield.phase import phase_diagram
from nnqft.rules.network import Network

MFT = ["mft", "--activation", "tanh", "--sigma-w2", "1.5", "--sigma-b2", "0.05", "--json"]
#: the peer: q* and chi_1 of tanh at (1.5, 0.05) by plain numpy, printed as JSON
PEER = """
import json, numpy as np
x, w = np.polynomial.hermite_e.hermegauss(201)
w = w / w.sum()
q = 1.5 * 1.0 + 0.05
for _ in range(10000):
    new = 1.5 * w @ np.tanh(np.sqrt(q) * x) ** 2 + 0.05
    if abs(new - q) <= 1e-14 * max(1.0, new):
        break
    q = new
chi_1 = 1.5 * w @ (1 - np.tanh(np.sqrt(q) * x) ** 2) ** 2
print(json.dumps({"q_star": q, "chi_1": chi_1}))
"""
CLI = "import sys\nfrom nnqft.cli import main\nmain(sys.argv[1:])"


def startup_table(repeat: int = 5) -> None:
    """Whole-process rows: nnqft mft, the numpy peer, nnqft mft after importing sympy."""
    rows = [
        ("`nnqft mft --activation tanh ... --json`", python(CLI, *MFT)),
        ("peer: plain numpy loop (201 nodes, tanh length map)", python(PEER)),
        (
            "`nnqft mft` in an interpreter that imports sympy first",
            python("import sympy\n" + CLI, *MFT),
        ),
    ]
    results = [(name, *run(args, repeat)) for name, args in rows]
    peer = results[1][1]
    print("| whole process | time | peak memory | / peer |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds, mib in results:
        print(f"| {name} | {seconds:.2f} s | {mib:.0f} MiB | {seconds / peer:.1f}x |", flush=True)
    print()


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
    print(header())
    print()
    startup_table()
    print("| task | time |")
    print("| --- | ---: |")
    for name, fn, repeat in rows:
        t = timed(fn, repeat)
        shown = f"{t * 1e3:.2f} ms" if t < 1 else f"{t:.2f} s"
        print(f"| {name} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
