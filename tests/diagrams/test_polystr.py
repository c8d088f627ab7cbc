"""O(N) factor strings without sympy: the same text as str(sympy.factor(...))."""

import random
from fractions import Fraction

import pytest
import sympy as sp

from nnqft.diagrams.generate import generate_connected
from nnqft.diagrams.on_tensor import on_factor_expr
from nnqft.diagrams.phi4 import _vertex_components, generate_diagrams
from nnqft.diagrams.phi4 import is_one_particle_irreducible as one_pi
from nnqft.diagrams.polystr import _fast, _irreducible, factor_string

N = sp.Symbol("N")


def _items(expr):
    poly = sp.Poly(sp.expand(expr), N)
    return {m[0]: Fraction(int(c.p), int(c.q)) for m, c in zip(poly.monoms(), poly.coeffs())}


@pytest.mark.slow
def test_random_products_print_like_sympy():
    rng = random.Random(7)
    settled = 0
    for _ in range(120):
        expr = sp.Rational(rng.randint(1, 50), rng.choice([1, 2, 3, 9, 27, 81, 7]))
        for _ in range(rng.randint(0, 4)):
            r = rng.random()
            if r < 0.2:
                f = N
            elif r < 0.6:
                f = rng.randint(1, 9) * N + rng.randint(1, 40)
            elif r < 0.85:
                f = N**2 + rng.randint(1, 9) * N + rng.randint(1, 40)
            else:
                f = rng.randint(1, 3) * N**3 + rng.randint(1, 9) * N + rng.randint(1, 40)
            expr = expr * f ** rng.randint(1, 3)
        items = _items(expr)
        fast = _fast(tuple(sorted(items.items())))
        want = str(on_factor_expr(items))
        if fast is not None:
            settled += 1
            assert fast == want
        assert factor_string(items) == want  # the fallback gives sympy's text
    assert settled > 80


def test_quartic_remainders():
    # irreducible quartic (proved mod p) and a product of two quadratics (split)
    irreducible = N**4 + 10 * N**3 + 40 * N**2 + 80 * N + 96
    assert _irreducible([96, 80, 40, 10, 1])
    for expr in (irreducible / 729, (N**2 + 6 * N + 12) * (N**2 + 6 * N + 16) / 729):
        items = _items(expr)
        assert _fast(tuple(sorted(items.items()))) == str(sp.factor(expr))
    assert not _irreducible([192, 168, 64, 12, 1])  # (N^2+6N+12)(N^2+6N+16)


def test_every_factor_through_order_5_matches_sympy():
    seen = set()
    for legs, order in ((0, 4), (2, 5), (4, 4)):
        for d in generate_diagrams(legs, order, connected=True):
            for poly in (d.n_factor, *d.n_factor_channels):
                items = tuple(sorted((p, c) for p, c in poly.items() if c))
                if items in seen:
                    continue
                seen.add(items)
                assert _fast(items) == str(on_factor_expr(dict(items)))
    assert len(seen) > 40


def _one_pi_by_union_find(labels, edges):
    """The former definition: remove each single internal line, count components."""
    base = _vertex_components(labels, edges)
    for k, (a, b) in enumerate(edges):
        if a == b or labels[a] is not None or labels[b] is not None:
            continue
        if sum(1 for e in edges if sorted(e) == sorted((a, b))) > 1:
            continue
        if _vertex_components(labels, edges, skip=k) > base:
            return False
    return True


def test_bridge_search_agrees_with_removing_each_line():
    rng = random.Random(3)
    for legs, order in ((0, 4), (2, 5), (4, 4)):
        for raw in generate_connected(legs, order):
            labels, edges = list(raw.labels), list(raw.edges)
            perm = list(range(len(labels)))
            rng.shuffle(perm)
            shuffled = [None] * len(perm)
            for i, p in enumerate(perm):
                shuffled[p] = labels[i]
            moved = [(perm[a], perm[b]) for a, b in edges]
            rng.shuffle(moved)
            want = _one_pi_by_union_find(labels, edges)
            assert one_pi(labels, edges) == want == one_pi(shuffled, moved)


def test_numerical_root_proposals_are_checked_exactly():
    """Rational roots of large denominators (found from float estimates), irrational
    real roots next to them (proved non-rational by the shrunk Sturm interval), repeated
    roots: the text is sympy's, and every factor the numerics propose is exact."""
    from nnqft.diagrams import polystr

    cases = [
        (3 * N + 2) * (7 * N + 5) * (N**2 + 10 * N + 1),
        (N + 2) ** 2 * (N**2 + 3 * N + 1) * (2187 * N + 2186),
        (N**2 + 10 * N + 1) * (N**2 + 9 * N + 19),
        (729 * N + 728) * (N + 8) ** 3 / 81,
        N**3 * (N**2 + 6 * N + 20) * (5 * N + 4) ** 2,
    ]
    for expr in cases:
        polystr._cached.cache_clear()
        assert factor_string(_items(expr)) == str(sp.factor(expr)), expr
    # a float proposal that is not a root is rejected by the exact check
    roots = sorted(polystr._rational_roots([1, 1000001, 1000000]))
    assert roots == [Fraction(-1), Fraction(-1, 1000000)]
    assert polystr._rational_roots([1, 10, 1]) == []
