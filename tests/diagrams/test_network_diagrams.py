"""The linear network's diagrams: their sum reproduces the exact E Q(T); the reduced
chord diagrams reproduce the exact moments M(k, m)."""

from collections import defaultdict

import pytest
import sympy as sp

from nnqft.derive.loops.linear import exact_mean, trace_moment
from nnqft.diagrams.network import network_diagrams, trace_diagrams
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, q0, sigma_b2, sigma_w2


@pytest.mark.parametrize(
    "arch,bias", [("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")]
)
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_diagrams_of_orders_up_to_3_sum_to_exact_mean(arch, bias, depth):
    exact = sp.expand(exact_mean(Network(arch, bias=bias, depth=depth)))
    total = sp.Integer(0)
    for order in range(0, 4):
        for d in network_diagrams(Network(arch, "linear", bias=bias, depth=depth), order):
            source = q0 if d.source == "q0" else sigma_b2
            total += d.multiplicity * source * sigma_w2**order * N**d.n_power
    assert sp.expand(total - exact) == 0


def test_feedforward_diagrams_are_cactus_chains():
    """Feedforward: one diagram per order, O(1): the mean-field geometric series."""
    for order in range(1, 4):
        ds = network_diagrams(Network("feedforward", depth=3), order)
        assert [(d.n_power, d.multiplicity) for d in ds] == [(0, 1)]


def test_recurrent_n_powers_at_order_2():
    powers = sorted(
        d.n_power for d in network_diagrams(Network("recurrent", bias="shared", depth=3), 2)
    )
    assert powers == [-2, -2, 0]


def _count(diagrams, k, m):
    """M(k, m) from the reduced diagrams: compositions of ladder lengths (brute force)."""
    from itertools import product

    total = defaultdict(int)
    for d in diagrams:
        if not d.chords:
            total[d.deficit] += int(k == 0 and m == 0)
            continue
        a_side = [(q < d.k) + (p < d.k) for p, q in d.chords]
        for mult in product(range(1, k + m + 1), repeat=len(d.chords)):
            ka = sum(x * s for x, s in zip(mult, a_side))
            kb = sum(x * (2 - s) for x, s in zip(mult, a_side))
            if ka == k and kb == m:
                total[d.deficit] += 1
    return total


def test_reduced_diagrams_reproduce_moments():
    diagrams = trace_diagrams(1)
    eps = sp.Symbol("eps")
    for k in range(5):
        for m in range(5):
            if (k + m) % 2:
                continue
            series = sp.expand(trace_moment(k, m).subs(N, 1 / eps))
            counts = _count(diagrams, k, m)
            for d in (0, 1):
                expected = series.coeff(eps, d) / sigma_w2 ** sp.Rational(k + m, 2)
                assert counts[d] == expected, (k, m, d)


def test_reduced_diagram_ids_distinct_up_to_transpose():
    diagrams = trace_diagrams(1)
    by_id = defaultdict(list)
    for d in diagrams:
        by_id[d.id].append(d)
    for members in by_id.values():
        assert len(members) <= 2
        if len(members) == 2:
            a, b = members
            assert (a.k, a.m) == (b.m, b.k) and a.types == b.types[::-1]
