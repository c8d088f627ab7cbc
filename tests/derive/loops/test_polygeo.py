"""The polynomial x geometric engine of constrained_sum against brute-force sums.

Each closed form from :func:`polygeo_sum` (its generic piece, written back by
:func:`to_expr`) must equal the direct sum over the polytope's integer points at every
depth v = 0..8, exactly (rational sigma_w2); the representation must round-trip; summands
outside it must be refused for the sympy route.
"""

import itertools

import pytest
import sympy as sp

from nnqft.derive.loops.polygeo import (
    NeedsResidue,
    NotPolyGeo,
    agrees,
    from_expr,
    generic,
    polygeo_sum,
    to_expr,
)
from nnqft.rules.symbols import q0, sigma_w2

x, y, z = sp.symbols("x y z", integer=True)
v = sp.Symbol("v", integer=True)
S0 = sp.Rational(3, 7)


def _brute(summand, variables, eqs, ineqs, depth):
    total = sp.Integer(0)
    box = range(0, depth + 1)  # every case bounds its variables by 0 and v
    for point in itertools.product(box, repeat=len(variables)):
        sub = dict(zip(variables, point)) | {v: depth}
        if all(e.subs(sub) == 0 for e in eqs) and all(f.subs(sub) >= 0 for f in ineqs):
            total += summand.subs(sub)
    return total


CASES = [
    # sum_{x=0}^{v} x^2 s^x
    (x**2 * sigma_w2**x, [x], [], [x, v - x]),
    # two ladders with a shared budget: x, y >= 1, x + y <= v
    ((x - 1) * sigma_w2 ** (x + y), [x, y], [], [x - 1, y - 1, v - x - y]),
    # an equality solved for a unit variable: x = v - y >= 1, y >= 0
    (x * sigma_w2 ** (x + 2 * y), [x, y], [x + y - v], [x - 1, y]),
    # three variables, box constraints on two of their sums (the variance's shape)
    (sigma_w2 ** (x + y + z), [x, y, z], [], [x, y, z, v - 1 - x - y, v - 1 - y - z]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_closed_form_equals_the_direct_sum(case):
    summand, variables, eqs, ineqs = CASES[case]
    pieces, base = polygeo_sum(summand, variables, eqs, ineqs, v, 0)
    n = len(variables)
    assert agrees(pieces, n, 0) is None  # the pieces' edges agree with the generic form
    symbols = [*variables, v]
    for depth in range(0, 9):
        valid = [to_expr(t, symbols, base) for t, (lo, hi) in pieces
                 if (lo is None or lo <= depth) and (hi is None or depth <= hi)]
        closed = sp.Add(*valid).subs({v: depth, sigma_w2: S0})
        assert sp.nsimplify(closed) == _brute(summand.subs(sigma_w2, S0), variables, eqs,
                                              ineqs, depth), (case, depth)
        generic_form = to_expr(generic(pieces), symbols, base).subs({v: depth, sigma_w2: S0})
        assert sp.nsimplify(generic_form) == sp.nsimplify(closed), (case, depth)


def test_representation_round_trips():
    expr = (x**2 - 3 * x * v) * sigma_w2 ** (2 * x - v) * (sigma_w2 - 2) / 5 + sigma_w2**-1
    terms = from_expr(expr, [x, v], sigma_w2)
    assert sp.cancel(to_expr(terms, [x, v], sigma_w2) - expr) == 0


def test_outside_the_representation():
    with pytest.raises(NotPolyGeo):
        polygeo_sum(q0**x * sigma_w2**x, [x], [], [x, v - x], v, 0)
    with pytest.raises(NotPolyGeo):  # only monomial denominators are read
        from_expr(sigma_w2**x / (sigma_w2 - 1), [x, v], sigma_w2)


def test_a_bound_that_needs_the_parity_of_v_asks_for_a_residue():
    """x = v - 2 y has no unit variable: block_sum then splits v by its residue."""
    with pytest.raises(NeedsResidue):
        polygeo_sum(x * sigma_w2 ** (x + 2 * y), [x, y], [x + 2 * y - v], [x, y], v, 0)
