"""Phase diagram speed, whole processes: ``nnqft phase --activation tanh --points N --json``
with its moment table (derive/meanfield/tabulated.py) against the same command on the
direct route (every integral by quadrature, as before the table), in the same run.

Run: ``python benchmarks/bench_phase.py [--points 200 100]`` (prints a Markdown table;
each cell is the median of 3 runs after a warm-up).  Also checks that both routes print
the same phases and numbers within the stated tolerance (1e-9).
"""

from __future__ import annotations

import argparse
import json
import subprocess

from process_timing import header, python, run

CLI = "import sys\nfrom nnqft.cli import main\nmain(sys.argv[1:])"
#: the same command with the table switched off: phase_diagram(..., tabulate=False)
DIRECT = (
    "import sys\nfrom nnqft.derive.meanfield import phase\n"
    "phase.phase_diagram.__kwdefaults__['tabulate'] = False\n" + CLI
)


def _close(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        # depth scales are infinite at the edge of chaos: compare them as 1/xi
        return abs(a - b) <= 1e-9 * abs(b) or abs(1 / a - 1 / b) <= 1e-9
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, nargs="*", default=[200, 100])
    parser.add_argument("--activation", default="tanh")
    opts = parser.parse_args()
    print(header())
    print()
    print("| `nnqft phase` | tabulated | direct route (peer) | direct / tabulated | same output |")
    print("| --- | ---: | ---: | ---: | --- |")
    for points in opts.points:
        args = ["phase", "--activation", opts.activation, "--points", str(points), "--json"]
        fast, _ = run(python(CLI, *args))
        slow, _ = run(python(DIRECT, *args))
        outs = [
            json.loads(subprocess.run(python(c, *args), capture_output=True, text=True).stdout)
            for c in (CLI, DIRECT)
        ]
        same = _close(outs[0], outs[1])
        print(
            f"| {opts.activation}, {points} x {points} | {fast:.2f} s | {slow:.2f} s "
            f"| {slow / fast:.1f}x | {'yes' if same else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
