"""Diagrams from any Feynman rules (diagrams/from_rules.py).

* phi^4 is an instance: the rules of the O(N) model give the growth the vertices the phi^4
  entry points use, and the same diagrams (ids, symmetry factors, O(N) factors, loops, 1PI
  flags, classes) for orders 0-4, connected and not;
* the counts are checked against an independent route, the exact zero-dimensional
  integral: the sum over connected diagrams of coupling x S x index factor is the Taylor
  coefficient of log Z and of the connected 1-, 2- and 3-point functions, from Gaussian
  moments alone (phi^3, phi^4, phi^3 + phi^4), and the sum over all diagrams (vacuum
  bubbles included) is the coefficient of the unnormalised moment;
* the cubic vertex also agrees with the exhaustive Wick contraction and with the growth one
  propagator at a time;
* bad input raises the package's errors.
"""

import pytest
import sympy as sp

from nnqft.diagrams.from_rules import (
    MAX_HALF_EDGES,
    RulesDiagram,
    class_counts,
    diagrams_from_rules,
    growth_vertices,
)
from nnqft.diagrams.generate import (
    PHI4_VERTICES,
    generate_connected,
    generate_connected_by_edges,
)
from nnqft.diagrams.phi4 import generate_diagrams
from nnqft.diagrams.zero_dim import zero_dim_series
from nnqft.errors import InvalidParameter, InvalidType, OrderTooHigh, UnknownName
from nnqft.rules.action.models import Action
from nnqft.rules.expansion import rules_from_action
from nnqft.rules.feynman import Field, g, get_rules

X, A, B, T = sp.symbols("x a b t")
SCALAR = (Field("x", "x", "a scalar", ""),)


def _rules(potential, name):
    return rules_from_action(Action(name, X**2 / 2 + potential, -1, SCALAR))


CUBIC = _rules(A * X**3 / 6, "phi3")
QUARTIC = _rules(B * X**4 / 24, "phi4-scalar")
MIXED = _rules(A * X**3 / 6 + B * X**4 / 24, "phi3+phi4")


def _gaussian(poly):
    """E[poly(x)] for x ~ N(0, 1): x^n -> (n-1)!! (0 for odd n)."""
    poly = sp.Poly(sp.expand(poly), X)
    return sum(c * (sp.factorial2(n - 1) if n % 2 == 0 else 0) for (n,), c in poly.terms())


def _zero_dim(potential, order):
    """Coefficients of t^0..t^order of log Z and of the connected 1-, 2-, 3-point functions
    of the weight exp(-x^2/2 - t V) (t counts the vertices), from the moments alone."""
    weight = sum((-T * potential) ** k / sp.factorial(k) for k in range(order + 1))

    def moment(m):
        return sp.expand(sum(_gaussian(X**m * c) * T**k for k, c in enumerate(_coeffs(weight))))

    z = moment(0)

    def series(expr):
        s = sp.series(expr, T, 0, order + 1).removeO()
        return [sp.expand(s.coeff(T, k)) for k in range(order + 1)]

    m1, m2, m3 = (moment(k) / z for k in (1, 2, 3))
    return {
        0: series(sp.log(z)),
        1: series(m1),
        2: series(m2 - m1**2),
        3: series(m3 - 3 * m2 * m1 + 2 * m1**3),
        "unnormalised": {m: series(moment(m)) for m in (0, 1, 2)},
    }


def _coeffs(weight):
    poly = sp.Poly(sp.expand(weight), T)
    return [poly.coeff_monomial(T**k) for k in range(poly.degree() + 1)]


def _sum(diagrams):
    return sp.expand(sum((d.value() for d in diagrams), sp.S.Zero))


# --- phi^4 is an instance ------------------------------------------------------------------


def test_the_on_rules_give_the_phi4_vertices():
    assert growth_vertices(get_rules("on-phi4")) == PHI4_VERTICES


@pytest.mark.parametrize("connected", [True, False])
@pytest.mark.parametrize("legs", [0, 2, 4])
@pytest.mark.parametrize("order", [0, 1, 2, 3, 4])
def test_phi4_from_the_rules_is_the_phi4_generator(legs, order, connected):
    old = generate_diagrams(legs, order, connected=connected)
    new = diagrams_from_rules(get_rules("on-phi4"), legs, order, connected=connected)
    assert [d.id for d in new] == [d.id for d in old]
    for a, b in zip(new, old):
        assert a.symmetry_factor == b.symmetry_factor
        assert a.index_factor == b.channels  # the O(N) factor, by channel
        assert (a.loops, a.one_pi, a.connected) == (b.loops, b.one_pi, b.connected)
        assert a.diagram_class == b.diagram_class
        assert a.vertices == ("phi4",) * order


def test_phi4_disconnected_two_point_through_order_four():
    for order in range(5):
        old = generate_diagrams(2, order)
        new = diagrams_from_rules(get_rules("on-phi4"), 2, order, connected=False)
        assert [(d.id, d.symmetry_factor) for d in new] == [(d.id, d.symmetry_factor) for d in old]


def test_phi4_filters():
    rules = get_rules("on-phi4")
    for kwargs in ({"one_pi": True}, {"self_loops": False}):
        old = generate_diagrams(2, 3, connected=True, **kwargs)
        new = diagrams_from_rules(rules, 2, 3, **kwargs)
        assert [d.id for d in new] == [d.id for d in old]


@pytest.mark.parametrize("legs,key", [(0, "log_Z"), (2, "propagator")])
def test_on_phi4_sums_are_the_zero_dimensional_series(legs, key):
    exact = zero_dim_series(4)[key]
    for order in range(5):
        total = _sum(diagrams_from_rules(get_rules("on-phi4"), legs, order))
        assert sp.expand(total - exact[order] * g**order) == 0


# --- counts against the zero-dimensional integral ------------------------------------------


@pytest.mark.parametrize(
    "rules,potential,orders",
    [
        (CUBIC, A * X**3 / 6, 6),
        (QUARTIC, B * X**4 / 24, 4),
        (MIXED, A * X**3 / 6 + B * X**4 / 24, 4),
    ],
    ids=["phi3", "phi4", "phi3+phi4"],
)
def test_connected_sums_are_the_cumulants(rules, potential, orders):
    exact = _zero_dim(potential, orders)
    for legs in (0, 1, 2, 3):
        for order in range(orders + 1):
            total = _sum(diagrams_from_rules(rules, legs, order))
            want = exact[legs][order] if (legs, order) != (0, 0) else 0
            assert sp.expand(total - want) == 0, (legs, order)


@pytest.mark.parametrize(
    "rules,potential", [(CUBIC, A * X**3 / 6), (MIXED, A * X**3 / 6 + B * X**4 / 24)]
)
def test_all_diagrams_sum_to_the_unnormalised_moments(rules, potential):
    exact = _zero_dim(potential, 4)["unnormalised"]
    for legs in (0, 1, 2):
        for order in range(5):
            total = _sum(diagrams_from_rules(rules, legs, order, connected=False))
            want = exact[legs][order] if (legs, order) != (0, 0) else 0  # the 1 is not listed
            assert sp.expand(total - want) == 0, (legs, order)


# --- the cubic vertex by other routes --------------------------------------------------------


@pytest.mark.parametrize("legs,order", [(0, 2), (0, 4), (1, 3), (2, 2), (3, 3), (4, 2)])
def test_cubic_growth_is_the_wick_contraction(legs, order):
    growth = diagrams_from_rules(CUBIC, legs, order, method="growth")
    wick = diagrams_from_rules(CUBIC, legs, order, method="wick")
    assert [(d.id, d.symmetry_factor) for d in growth] == [(d.id, d.symmetry_factor) for d in wick]


@pytest.mark.parametrize("legs,order", [(0, 4), (1, 5), (2, 4), (3, 3)])
def test_cubic_vertex_growth_equals_edge_growth(legs, order):
    cubic = growth_vertices(CUBIC)
    by_vertex = generate_connected(legs, order, vertices=cubic)
    by_edge = generate_connected_by_edges(legs, order, vertices=cubic)
    assert sorted((d.labels, d.edges, d.aut) for d in by_vertex) == sorted(
        (d.labels, d.edges, d.aut) for d in by_edge
    )


def test_mixed_vertices_are_named_on_the_graph():
    ds = diagrams_from_rules(MIXED, 2, 2) + diagrams_from_rules(MIXED, 1, 2)
    kinds = {d.vertices for d in ds}
    assert kinds == {("x3", "x3"), ("x3", "x4"), ("x4", "x4")}  # (x3, x4) with one leg
    for d in ds:
        names = sorted(k for _, k in d.graph.nodes(data="vertex") if k)
        assert tuple(names) == d.vertices
        assert {k for _, _, k in d.graph.edges(data="kind")} == {"x"}
    assert sum(class_counts(ds).values()) == len(ds)
    assert isinstance(ds[0], RulesDiagram) and ds[0].to_dict()["vertices"] == list(ds[0].vertices)


def test_cubic_counts():
    """Connected <x x> of phi^3 at orders 2, 4: 2 and 10 diagrams; tadpoles exist (1-pt)."""
    assert [len(diagrams_from_rules(CUBIC, 2, k)) for k in (1, 2, 3, 4)] == [0, 2, 0, 10]
    assert [len(diagrams_from_rules(CUBIC, 1, k)) for k in (1, 3)] == [1, 3]


# --- two fields: the Wick route -------------------------------------------------------------


def test_two_fields_go_through_wick_and_match_the_integral():
    """S = x^2/2 + y^2/2 + c x y^2/2: the connected <x>, <x x>, <y y> and log Z from the
    two-variable Gaussian moments E[x^m y^n] = (m-1)!! (n-1)!!."""
    y, c = sp.symbols("y c")
    fields = (Field("x", "x", "", ""), Field("y", "y", "", ""))
    rules = rules_from_action(Action("xy2", X**2 / 2 + y**2 / 2 + c * X * y**2 / 2, -1, fields))
    order = 4
    weight = sp.expand(
        sum((-T * c * X * y**2 / 2) ** k / sp.factorial(k) for k in range(order + 1))
    )

    def expect(extra):
        total = sp.S.Zero
        for (m, n, k), coeff in sp.Poly(sp.expand(weight * extra), X, y, T).terms():
            if m % 2 == 0 and n % 2 == 0:
                total += coeff * sp.factorial2(m - 1) * sp.factorial2(n - 1) * T**k
        return total

    z = expect(1)

    def coeffs(expr):
        s = sp.series(expr, T, 0, order + 1).removeO()
        return [sp.expand(s.coeff(T, k)) for k in range(order + 1)]

    m1 = expect(X) / z
    cases = {
        (): coeffs(sp.log(z)),
        ("x",): coeffs(m1),
        ("x", "x"): coeffs(expect(X**2) / z - m1**2),
        ("y", "y"): coeffs(expect(y**2) / z),
    }
    for legs, exact in cases.items():
        for k in range(1, order + 1):
            ds = diagrams_from_rules(rules, legs, k)
            assert sp.expand(_sum(ds) - exact[k]) == 0, (legs, k)
    ds = diagrams_from_rules(rules, ("x", "x"), 2)
    assert {kind for d in ds for _, _, kind in d.graph.edges(data="kind")} == {"x", "y"}
    with pytest.raises(InvalidParameter):  # the growth takes one field
        diagrams_from_rules(rules, ("x", "x"), 2, method="growth")


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_raises_the_package_errors():
    rules = get_rules("on-phi4")
    with pytest.raises(InvalidType):
        diagrams_from_rules("on-phi4", 2, 1)
    with pytest.raises(InvalidType):
        diagrams_from_rules(rules, 2, "2")
    with pytest.raises(InvalidType):
        diagrams_from_rules(rules, 2, True)
    with pytest.raises(InvalidParameter):
        diagrams_from_rules(rules, 2, -1)
    with pytest.raises(InvalidParameter):
        diagrams_from_rules(rules, -2, 1)
    for legs in ("phi", 2.0, (1, 2)):
        with pytest.raises(InvalidType):
            diagrams_from_rules(rules, legs, 1)
    assert len(diagrams_from_rules(rules, (f for f in ("phi", "phi")), 1)) == 1  # any iterable
    with pytest.raises(InvalidParameter):
        diagrams_from_rules(rules, ("psi", "psi"), 1)
    with pytest.raises(InvalidParameter):  # time labels: the network's own generator
        diagrams_from_rules(get_rules("linear-feedforward"), 2, 1)
    with pytest.raises(UnknownName):
        diagrams_from_rules(rules, 2, 1, method="fast")
    with pytest.raises(OrderTooHigh):
        diagrams_from_rules(rules, 2, MAX_HALF_EDGES)
    with pytest.raises(InvalidParameter):
        generate_connected(2, 1, vertices=())
