"""The generator over Feynman rules, against the phi^4 grower, the automorphism route to
symmetry factors and exact zero-dimensional integrals."""

from fractions import Fraction

import pytest
import sympy as sp

from nnqft.diagrams.canonical import symmetry_factor
from nnqft.diagrams.on_tensor import channel_coefficients
from nnqft.diagrams.phi4 import generate_diagrams
from nnqft.diagrams.wick import index_factor, wick_diagrams
from nnqft.diagrams.zero_dim import zero_dim_series
from nnqft.errors import InvalidParameter
from nnqft.rules.action.models import Action
from nnqft.rules.expansion import rules_from_action
from nnqft.rules.feynman import Field, get_rules
from nnqft.rules.symbols import N

x, a3 = sp.symbols("x a3")


def _rational(f: Fraction):
    return sp.Rational(f.numerator, f.denominator)


@pytest.mark.parametrize("legs,order", [(2, 0), (2, 1), (2, 2), (4, 1), (4, 2), (0, 2)])
def test_phi4_instance_equals_the_grower(legs, order):
    """Same diagrams (canonical ids), same symmetry factors as diagrams/phi4.py, and S from
    counting contractions equals 1/|Aut| from the automorphism search."""
    rules = get_rules("on-phi4")
    mine = wick_diagrams(rules, ("phi",) * legs, order)
    theirs = generate_diagrams(legs, order, connected=True)
    assert {d.id: d.symmetry_factor for d in mine} == {d.id: d.symmetry_factor for d in theirs}
    for d in mine:
        assert d.symmetry_factor == symmetry_factor(d.graph)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_phi4_propagator_series_equals_the_exact_integral(order):
    """sum over diagrams of coupling^k S F(N) = the g^k coefficient of <x.x>/N of the
    zero-dimensional O(N) integral (exact Gaussian moments)."""
    rules = get_rules("on-phi4")
    coupling = rules.vertex("phi4").coupling
    total = sp.Integer(0)
    for d in wick_diagrams(rules, ("phi", "phi"), order):
        poly = index_factor(d, rules)[((1, 2),)]
        factor = sum(_rational(c) * N**p for p, c in poly.items())
        total += coupling**order * _rational(d.symmetry_factor) * factor
    g = sp.Symbol("g", positive=True)
    exact = zero_dim_series(order)["propagator"][order] * g**order
    assert sp.expand(total - exact) == 0


def test_index_factor_equals_the_tensor_contraction():
    """The O(N) factor from the rules' index pairings = diagrams/on_tensor.py's contraction."""
    rules = get_rules("on-phi4")
    mine = {d.id: index_factor(d, rules) for d in wick_diagrams(rules, ("phi",) * 4, 2)}
    theirs = {d.id: d for d in generate_diagrams(4, 2, connected=True)}
    assert set(mine) == set(theirs)
    for key, factor in mine.items():
        assert channel_coefficients(factor, 4) == list(theirs[key].n_factor_channels), key


def _gaussian_moment(k: int) -> int:
    return 0 if k % 2 else int(sp.factorial2(k - 1)) if k else 1


def _exact_series(power: int, order: int):
    """<x^power> for S = x^2/2 + a3 x^3/6 through a3^order, from Gaussian moments."""
    weight = sum((-a3 * x**3 / 6) ** j / sp.factorial(j) for j in range(order + 1))

    def mean(f):
        poly = sp.Poly(sp.expand(f * weight), x)
        return sum(c * _gaussian_moment(m[0]) for m, c in zip(poly.monoms(), poly.coeffs()))

    return sp.series(mean(x**power) / mean(1), a3, 0, order + 1).removeO()


def test_a_cubic_theory_goes_through_the_same_code():
    """The connected <x x> at a3^2 for S = x^2/2 + a3 x^3/6 (rules expanded from the
    action, two cubic vertices) = <x^2> - <x>^2 from Gaussian moments: a3^2."""
    action = Action("cubic", x**2 / 2 + a3 * x**3 / 6, -1, (Field("x", "x", "scalar", ""),))
    rules = rules_from_action(action)
    (vertex,) = rules.vertices
    total = sum(
        vertex.coupling**2 * _rational(d.symmetry_factor)
        for d in wick_diagrams(rules, ("x", "x"), 2)
    )
    cumulant = sp.expand(_exact_series(2, 2) - _exact_series(1, 2) ** 2)
    assert sp.expand(total - cumulant.coeff(a3, 2) * a3**2) == 0
    assert wick_diagrams(rules, ("x", "x"), 1) == []  # odd number of half-edges


def test_bad_requests():
    rules = get_rules("on-phi4")
    with pytest.raises(InvalidParameter, match="unknown leg field 'z'"):
        wick_diagrams(rules, ("z", "z"), 1)
    with pytest.raises(InvalidParameter, match="without time labels"):
        wick_diagrams(get_rules("linear-recurrent-shared"), ("z", "z"), 1)
    with pytest.raises(InvalidParameter, match="half-edges"):
        wick_diagrams(rules, ("phi", "phi"), 4)
