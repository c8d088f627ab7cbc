"""Benchmark: connected phi^4 diagrams with symmetry factors and O(N) factors.

Times nnqft's generator (growth with canonical deduplication; symmetry factors come out of
the same canonical search) and its O(N) contraction for the connected 2-point diagrams
through order 7 and the connected 4-point diagrams through order 6, per order and per
diagram, and in the same run the FeynGraph wheel (a Rust topology generator, if it is
installed: ``pip install feyngraph``; it is not a dependency of nnqft) on the same
topologies.  Wall time and CPU time are both reported: the machine is shared, so wall
time includes waiting.

    python benchmarks/bench_diagrams.py [--max-2pt 7] [--max-4pt 6]
"""

from __future__ import annotations

import argparse
import time


def _clock(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def nnqft_rows(legs: int, max_order: int) -> list[dict]:
    from nnqft.diagrams.generate import generate_connected
    from nnqft.diagrams.on_tensor import contract

    rows = []
    for order in range(1, max_order + 1):
        diagrams, gen_wall, gen_cpu = _clock(lambda: generate_connected(legs, order))  # noqa: B023
        _, on_wall, on_cpu = _clock(
            lambda: [contract(len(d.labels), list(d.labels), list(d.edges)) for d in diagrams]  # noqa: B023
        )
        total = gen_wall + on_wall
        rows.append(
            {
                "legs": legs,
                "order": order,
                "diagrams": len(diagrams),
                "generate+S [s]": gen_wall,
                "O(N) [s]": on_wall,
                "total wall [s]": total,
                "total CPU [s]": gen_cpu + on_cpu,
                "CPU per diagram [us]": 1e6 * (gen_cpu + on_cpu) / max(len(diagrams), 1),
            }
        )
    return rows


def feyngraph_row(legs: int, order: int) -> dict:
    """FeynGraph's topologies with only quartic nodes: loops = order + 1 - legs/2."""
    try:
        from feyngraph.topology import TopologyGenerator, TopologyModel
    except ImportError:
        return {"legs": legs, "order": order, "status": "feyngraph not installed"}
    loops = order + 1 - legs // 2
    model = TopologyModel([4])
    topologies, wall, cpu = _clock(lambda: TopologyGenerator(legs, loops, model).generate())
    # read every symmetry factor, so the comparison includes them
    _ = [topologies[i].symmetry_factor() for i in range(len(topologies))]
    return {"legs": legs, "order": order, "diagrams": len(topologies), "wall": wall, "cpu": cpu}


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-2pt", type=int, default=7)
    parser.add_argument("--max-4pt", type=int, default=6)
    args = parser.parse_args()
    two = nnqft_rows(2, args.max_2pt)
    four = nnqft_rows(4, args.max_4pt)
    print("nnqft: connected phi^4 diagrams, symmetry factors and O(N) factors\n")
    print(_table(two + four))
    print()
    comparison = []
    for ours, (legs, order) in ((two[-1], (2, args.max_2pt)), (four[-1], (4, args.max_4pt))):
        fg = feyngraph_row(legs, order)
        if "status" in fg:
            comparison.append({"case": f"{legs}-pt order {order}", "feyngraph": fg["status"]})
            continue
        comparison.append(
            {
                "case": f"{legs}-pt order {order}",
                "diagrams nnqft / FeynGraph": f"{ours['diagrams']} / {fg['diagrams']}",
                "nnqft wall [s]": ours["total wall [s]"],
                "FeynGraph wall [s]": fg["wall"],
                "ratio wall": ours["total wall [s]"] / fg["wall"],
                "nnqft CPU [s]": ours["total CPU [s]"],
                "FeynGraph CPU [s]": fg["cpu"],
                "ratio CPU": ours["total CPU [s]"] / max(fg["cpu"], 1e-9),
            }
        )
    print("side by side (FeynGraph: topologies with symmetry factors, no O(N) factors)\n")
    print(_table(comparison))


if __name__ == "__main__":
    main()
