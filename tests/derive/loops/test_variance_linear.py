"""The recurrent variance from its diagrams: at 1/N equal to the planar closed form typed
in by hand (recurrent_variance_coefficients) and to exhaustive Wick enumeration."""

import pytest
import sympy as sp

from nnqft.derive.loops import amplitudes as A
from nnqft.derive.loops.linear import exact_variance
from nnqft.derive.loops.time_sums import tidy
from nnqft.derive.loops.variance import (
    BlockDiagramValue,
    variance_coefficients,
    variance_coefficients_at,
    variance_diagrams,
)
from nnqft.errors import InvalidParameter, OrderTooHigh
from nnqft.rules.feynman import get_rules
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, T


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_first_order_equals_the_planar_closed_form(bias):
    c = variance_coefficients(get_rules(f"linear-recurrent-{bias}"), 1)
    assert c[0] == 0
    assert tidy(c[1] - A.recurrent_variance_coefficients(bias)[1]) == 0


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_first_order_equals_exact_enumeration(bias):
    c = variance_coefficients(get_rules(f"linear-recurrent-{bias}"), 1)
    for depth in (1, 2, 3):
        exact = sp.expand(exact_variance(Network("recurrent", bias=bias, depth=depth)))
        assert sp.simplify(exact.coeff(N, -1) - c[1].subs(T, depth)) == 0


def test_diagrams_carry_their_graphs_and_orders():
    ds = variance_diagrams(get_rules("linear-recurrent-shared"), 1)
    assert all(isinstance(d, BlockDiagramValue) and d.order == 1 for d in ds)
    assert any(d.id.startswith("sphere|") for d in ds)
    for d in ds:
        g = d.graph
        assert sum(1 for _, data in g.nodes(data=True) if data.get("leg") == "source") == 2
        assert d.name


def test_bad_requests():
    with pytest.raises(InvalidParameter):
        variance_diagrams(get_rules("linear-feedforward"), 1)
    with pytest.raises(OrderTooHigh):
        variance_diagrams(get_rules("linear-recurrent-shared"), 3)  # closed form: 1/N^2
    with pytest.raises(OrderTooHigh):
        variance_diagrams(get_rules("linear-recurrent-fresh"), 3)


def test_correlator_lists_the_variance_diagrams(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path))
    net = Network("recurrent", "linear", bias="fresh")
    for _ in range(2):  # computed, then read back from the cache
        c = A.correlator(net, "variance", order=1)
        assert c.diagrams and all(isinstance(d, BlockDiagramValue) for d in c.diagrams)
        total = tidy(sp.Add(*[d.value for d in c.diagrams]))
        assert tidy(total - c.coefficients[1]) == 0
        entries = c.to_dict()["diagrams"]
        assert {"id", "order", "value", "symmetry_factor", "types", "name"} <= set(entries[0])
    assert c.derivation().steps


def _exact_coefficients(bias, depth):
    exact = sp.expand(exact_variance(Network("recurrent", bias=bias, depth=depth)))
    return {d: exact.coeff(N, -d) for d in (1, 2)}


@pytest.mark.parametrize("bias", ["shared", "fresh"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_second_order_route_equals_exact_enumeration(bias, depth):
    """Through 1/N^2 at integer depth: the one-trace diagrams of deficit <= 1, the
    connected two-trace diagrams and the sphere entries sum to the exact variance's
    coefficients (exhaustive Wick enumeration of E Q^2 - (E Q)^2 with the fixed input)."""
    c = variance_coefficients_at(get_rules(f"linear-recurrent-{bias}"), 2, depth)
    exact = _exact_coefficients(bias, depth)
    for d in (1, 2):
        assert sp.cancel(c[d] - exact[d]) == 0, d


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_integer_depth_route_agrees_with_the_closed_form_at_first_order(bias):
    rules = get_rules(f"linear-recurrent-{bias}")
    form = variance_coefficients(rules, 1)[1]
    for depth in (1, 4, 6):
        at = variance_coefficients_at(rules, 1, depth)[1]
        assert sp.cancel(form.subs(T, depth) - at) == 0


def test_integer_depth_bad_input():
    with pytest.raises(InvalidParameter):
        variance_coefficients_at(get_rules("linear-recurrent-shared"), 2, 0)
    with pytest.raises(OrderTooHigh):
        variance_coefficients_at(get_rules("linear-recurrent-shared"), 3, 2)


def _fresh_second_order():
    return variance_coefficients(get_rules("linear-recurrent-fresh"), 2)


@pytest.mark.parametrize("depths", [range(1, 6), pytest.param(range(6, 8), marks=pytest.mark.slow)])
def test_fresh_second_order_closed_form_equals_the_integer_depth_route(depths):
    """The closed form in T of V_2 (fresh bias) at T = 1..5 (1..7 slow) equals the same
    diagrams counted at each depth, which equal exhaustive Wick enumeration at T <= 3."""
    rules = get_rules("linear-recurrent-fresh")
    c = _fresh_second_order()
    for depth in depths:
        at = variance_coefficients_at(rules, 2, depth)
        for d in (1, 2):
            assert sp.cancel(c[d].subs(T, depth) - at[d]) == 0, (depth, d)


def test_fresh_second_order_equals_exact_enumeration():
    c = _fresh_second_order()
    for depth in (1, 2, 3):
        exact = _exact_coefficients("fresh", depth)
        assert sp.cancel(c[2].subs(T, depth) - exact[2]) == 0


def test_correlator_reaches_second_order_with_a_fresh_bias(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path))
    c = A.correlator(Network("recurrent", "linear", bias="fresh"), "variance", order=2)
    assert tidy(c.coefficients[2] - _fresh_second_order()[2]) == 0
    assert {d.order for d in c.diagrams} == {1, 2}
    with pytest.raises(OrderTooHigh, match="maximum 2"):
        A.correlator(Network("recurrent", "linear", bias="shared"), "variance", order=3)
