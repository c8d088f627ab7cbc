"""Benchmark: the list union-find of :mod:`nnqft.diagrams.unionfind` against
:class:`networkx.utils.UnionFind`, on the hot path of ``nnqft diagrams``.

The workload is the one :func:`nnqft.diagrams.phi4.loop_number` does for every generated
diagram: the connected components of its vertices.  Both routes run in the same session
on the same diagrams (connected phi^4 diagrams with 4 legs at order 6 by default, 10,441
of them); reported: the best of ``--repeat`` wall times and the ratio.

    python benchmarks/bench_unionfind.py [--legs 4] [--order 6] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

from networkx.utils import UnionFind

from nnqft.diagrams.generate import generate_connected
from nnqft.diagrams.unionfind import join, n_classes


def components_list(labels, edges) -> int:
    parent = list(range(len(labels)))
    for a, b in edges:
        if labels[a] is None and labels[b] is None:
            join(parent, a, b)
    return n_classes(parent, [i for i, lab in enumerate(labels) if lab is None])


def components_networkx(labels, edges) -> int:
    forest = UnionFind(i for i, lab in enumerate(labels) if lab is None)
    for a, b in edges:
        if labels[a] is None and labels[b] is None:
            forest.union(a, b)
    return sum(1 for _ in forest.to_sets())


def best_time(func, diagrams, repeat: int) -> tuple[float, int]:
    best, total = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        total = sum(func(d.labels, d.edges) for d in diagrams)
        best = min(best, time.perf_counter() - start)
    return best, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--legs", type=int, default=4)
    parser.add_argument("--order", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    diagrams = generate_connected(args.legs, args.order)
    ours, n1 = best_time(components_list, diagrams, args.repeat)
    peer, n2 = best_time(components_networkx, diagrams, args.repeat)
    assert n1 == n2, "the two union-finds disagree"
    print(f"{len(diagrams)} diagrams (legs {args.legs}, order {args.order}), best of {args.repeat}")
    print(f"{'union-find':<28}{'seconds':>10}{'us/diagram':>12}")
    for name, t in (("nnqft.diagrams.unionfind", ours), ("networkx.utils.UnionFind", peer)):
        print(f"{name:<28}{t:>10.3f}{1e6 * t / len(diagrams):>12.1f}")
    print(f"networkx / list: {peer / ours:.1f}x")


if __name__ == "__main__":
    main()
