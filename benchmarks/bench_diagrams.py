"""Benchmark: ``nnqft diagrams`` against FeynGraph, whole processes, side by side.

Each case runs, in the same session and paired (one after the other, repeated), the
command line ``nnqft diagrams --model on-phi4 --legs L --order K --connected --json``
(connected diagrams with ids, symmetry factors, O(N) factors, loops, 1PI flags, written
as JSON) and a small script that makes FeynGraph (a Rust topology generator, ``pip
install feyngraph``; not a dependency of nnqft) generate the same topologies (quartic
nodes, loops = K + 1 - L/2) and read every symmetry factor.  Reported: the median wall
time over the repeats, the peak resident memory of each child process (``os.wait4``),
and the ratios nnqft / FeynGraph.  The machine may be shared, so wall times include
waiting; the medians are paired within one run.

    python benchmarks/bench_diagrams.py [--cases 2:7,2:8,4:6,4:7] [--repeat 3]
                                        [--nnqft "python -m nnqft"]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

FEYNGRAPH = """
import sys
from feyngraph.topology import TopologyGenerator, TopologyModel
legs, loops = int(sys.argv[1]), int(sys.argv[2])
topologies = TopologyGenerator(legs, loops, TopologyModel([4])).generate()
factors = [topologies[i].symmetry_factor() for i in range(len(topologies))]
print(len(factors))
"""


def run_child(argv: list[str]) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS in MiB, stdout) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{shlex.join(argv)} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out


def has_feyngraph() -> bool:
    try:
        import feyngraph  # noqa: F401
    except ImportError:
        return False
    return True


def bench_case(legs: int, order: int, repeat: int, nnqft: list[str], feyngraph: bool) -> dict:
    ours = nnqft + ["diagrams", "--model", "on-phi4", "--legs", str(legs), "--order", str(order)]
    ours += ["--connected", "--json"]
    theirs = [sys.executable, "-c", FEYNGRAPH, str(legs), str(order + 1 - legs // 2)]
    walls, mems, fwalls, fmems = [], [], [], []
    count = fcount = None
    for _ in range(repeat):
        wall, mem, out = run_child(ours)
        walls.append(wall)
        mems.append(mem)
        # the count is the last field but two; avoid parsing the whole JSON text
        count = int(out.rsplit(b'"count": ', 1)[1].split(b",", 1)[0])
        if feyngraph:
            wall, mem, out = run_child(theirs)
            fwalls.append(wall)
            fmems.append(mem)
            fcount = int(out)
    row = {
        "case": f"{legs}-pt order {order}",
        "diagrams": count if fcount is None else f"{count} / {fcount}",
        "nnqft wall [s]": statistics.median(walls),
        "nnqft peak [MiB]": max(mems),
    }
    if feyngraph:
        row["FeynGraph wall [s]"] = statistics.median(fwalls)
        row["FeynGraph peak [MiB]"] = max(fmems)
        row["ratio wall"] = row["nnqft wall [s]"] / row["FeynGraph wall [s]"]
        row["ratio memory"] = row["nnqft peak [MiB]"] / row["FeynGraph peak [MiB]"]
    return row


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="2:7,2:8,4:6,4:7", help="legs:order,...")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--nnqft", default=f"{sys.executable} -m nnqft", help="the nnqft command line to time"
    )
    args = parser.parse_args()
    feyngraph = has_feyngraph()
    nnqft = shlex.split(args.nnqft)
    rows = []
    for case in args.cases.split(","):
        legs, order = (int(x) for x in case.split(":"))
        rows.append(bench_case(legs, order, args.repeat, nnqft, feyngraph))
        print(_table(rows[-1:]), file=sys.stderr, flush=True)
    print(f"nnqft ({args.nnqft}) vs FeynGraph, whole processes, median of {args.repeat}\n")
    if not feyngraph:
        print("(FeynGraph is not installed: pip install feyngraph)\n")
    print(_table(rows))


if __name__ == "__main__":
    main()
