"""The evaluator: diagram values read off the Feynman rules, checked against the exact Wick
enumeration of real Gaussian matrices (derive/loops/linear.py) and the mean-field map."""

import dataclasses

import pytest
import sympy as sp

from nnqft.derive.loops import evaluate as E
from nnqft.derive.loops.linear import exact_mean, feedforward_mean
from nnqft.errors import InvalidParameter
from nnqft.rules.feynman import get_rules
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, T, q0, sigma_b2, sigma_w2

eps = sp.Symbol("eps")
#: values of sigma_w2 with rational square roots (closed forms hold sigma_w2^(T/2))
SQUARES = [sp.Rational(4, 9), sp.Rational(25, 9), sp.Integer(4)]


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path / "cache"))


def _exact_coefficients(depth, bias, order):
    net = Network("recurrent", "linear", bias=bias, depth=depth)
    series = sp.expand(exact_mean(net).subs(N, 1 / eps))
    return [series.coeff(eps, d) for d in range(order + 1)]


def _assert_equal_to_enumeration(bias, order, depths):
    rules = get_rules(f"linear-recurrent-{bias}")
    by_order = {d: sp.Integer(0) for d in range(order + 1)}
    for diagram in E.mean_diagrams(rules, order):
        by_order[diagram.order] += diagram.value
    for depth in depths:
        exact = _exact_coefficients(depth, bias, order)
        for d, value in enumerate(exact):
            for s in SQUARES:
                got = sp.expand(by_order[d].subs(T, depth).subs(sigma_w2, s))
                assert got == sp.expand(value.subs(sigma_w2, s)), (bias, depth, d, s)


def test_placement_is_read_off_the_rules():
    ff = E.placement(get_rules("linear-feedforward"))
    assert (ff.pairing, ff.bias, ff.weight, ff.n_per_vertex, ff.n_per_face) == (
        "equal-time",
        "fresh",
        sigma_w2,
        -1,
        1,
    )
    shared = E.placement(get_rules("linear-recurrent-shared"))
    assert (shared.pairing, shared.bias, shared.bias_value) == ("any", "shared", sigma_b2)


def test_values_follow_a_changed_coupling():
    """Doubling the vertex coupling in the rules doubles every W pair's weight."""
    rules = get_rules("linear-recurrent-fresh")
    vertex = dataclasses.replace(rules.vertex("double_trace"), coupling=2 * sigma_w2 / N)
    doubled = dataclasses.replace(rules, vertices=(vertex,))
    plain = {d.id: d.value for d in E.mean_diagrams(rules, 1)}
    for d in E.mean_diagrams(doubled, 1):
        assert sp.simplify(d.value - plain[d.id].subs(sigma_w2, 2 * sigma_w2)) == 0


def test_rules_without_a_kernel_are_refused():
    rules = get_rules("linear-recurrent-fresh")
    vertex = dataclasses.replace(rules.vertex("double_trace"), time=None)
    with pytest.raises(InvalidParameter, match="no kernel"):
        E.placement(dataclasses.replace(rules, vertices=(vertex,)))


def test_feedforward_mean_is_the_cactus_only():
    diagrams = E.mean_diagrams(get_rules("linear-feedforward"), 3)
    assert [d.name for d in diagrams] == ["bare bias line", "ladder (cactus, mean field)"]
    assert sp.simplify(sum(d.value for d in diagrams) - feedforward_mean()) == 0


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_diagrams_through_second_order_equal_enumeration(bias):
    _assert_equal_to_enumeration(bias, 2, range(1, 6))


@pytest.mark.slow
@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_third_order_equals_enumeration(bias):
    """E Q(T) through 1/N^3 (new this round) = the brute-force polynomial at T = 1..7."""
    _assert_equal_to_enumeration(bias, 3, range(1, 8))


def test_multiplicity_and_symmetry_factor():
    for d in E.mean_diagrams(get_rules("linear-recurrent-shared"), 2):
        assert d.multiplicity == 2 * d.symmetry_factor
        assert d.n_power == -d.order
        assert set(d.to_dict()) >= {"id", "order", "symmetry_factor", "n_power", "value"}


def test_mean_coefficients_sum_the_diagrams():
    rules = get_rules("linear-recurrent-shared")
    coefficients = E.mean_coefficients(rules, 1)
    leading = q0 * sigma_w2**T + sigma_b2 * (1 - sigma_w2**T) / (1 - sigma_w2)
    assert sp.simplify(coefficients[0] - leading) == 0
    assert sp.simplify(coefficients[1].subs(T, 3) - 2 * sigma_b2 * sigma_w2) == 0
