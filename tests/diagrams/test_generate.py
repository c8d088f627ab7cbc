"""Diagram generation: the two construction paths give the same diagrams, and at N = 1
(where every O(N) factor is 1) their symmetry factors sum to the exact series."""

from fractions import Fraction

import pytest

from nnqft.diagrams.generate import generate_connected, generate_connected_by_edges
from nnqft.diagrams.zero_dim import zero_dim_series
from nnqft.rules.symbols import N


@pytest.mark.parametrize("legs,order", [(0, 2), (2, 1), (2, 2), (2, 3), (4, 1), (4, 2)])
def test_vertex_growth_equals_edge_growth(legs, order):
    by_vertex = generate_connected(legs, order)
    by_edge = generate_connected_by_edges(legs, order)
    key = sorted((d.labels, d.edges, d.aut) for d in by_vertex)
    assert key == sorted((d.labels, d.edges, d.aut) for d in by_edge)
    assert len({(d.labels, d.edges) for d in by_vertex}) == len(by_vertex)  # each once


@pytest.mark.parametrize("order", [1, 2, 3])
def test_symmetry_factors_sum_to_the_n1_propagator(order):
    """<x^2> at N = 1: the g^V coefficient is (-1)^V sum over connected 2-leg diagrams of S."""
    exact = zero_dim_series(order)["propagator"][order].subs(N, 1)
    total = sum(Fraction(1, d.aut) for d in generate_connected(2, order))
    assert total == Fraction(int((-1) ** order * exact.p), int(exact.q))


def test_no_self_loops_drops_the_tadpoles():
    full = generate_connected(2, 2)
    without = generate_connected(2, 2, self_loops=False)
    assert 0 < len(without) < len(full)
    assert all(a != b for d in without for a, b in d.edges)
