"""O(N) factors by the transfer contraction against brute-force tensor contraction here:
every edge an index 0..N-1, every vertex the tensor (d d + d d + d d)/3, summed by numpy."""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from nnqft.diagrams.on_tensor import on_factor
from nnqft.diagrams.phi4 import generate_diagrams


def _vertex_tensor(n):
    d = np.eye(n)
    return (
        np.einsum("ab,cd->abcd", d, d)
        + np.einsum("ac,bd->abcd", d, d)
        + np.einsum("ad,bc->abcd", d, d)
    ) / 3


def brute_force(graph, n):
    """The diagram's index sum with both legs at index 0 (the d_ab channel at a = b)."""
    edges = list(graph.edges(keys=True))
    legs = {
        u if graph.nodes[u]["kind"] == "leg" else v
        for u, v, _ in edges
        if "leg" in (graph.nodes[u]["kind"], graph.nodes[v]["kind"])
    }
    free = [e for e in edges if not (set(e[:2]) & legs)]
    vertices = [v for v in graph.nodes if graph.nodes[v]["kind"] == "vertex"]
    tensor = _vertex_tensor(n)
    total = 0.0
    for values in itertools.product(range(n), repeat=len(free)):
        index = dict(zip(free, values))
        term = 1.0
        for v in vertices:
            slots = []
            for e in edges:
                if v in e[:2]:
                    i = index.get(e, 0)
                    slots += [i, i] if e[0] == e[1] else [i]
            term *= tensor[tuple(slots)]
            if term == 0:
                break
        total += term
    return total


@pytest.mark.parametrize("order", [1, 2])
def test_transfer_contraction_equals_brute_force(order):
    for diagram in generate_diagrams(2, order, connected=True):
        (poly,) = on_factor(diagram.graph).values()  # one channel: d_ab
        for n in (1, 2, 3):
            value = sum(Fraction(c) * n**p for p, c in poly.items())
            assert float(value) == pytest.approx(brute_force(diagram.graph, n), rel=1e-12)
