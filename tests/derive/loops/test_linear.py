"""Exact finite-N results for linear nets: brute-force Wick enumeration against the known
closed forms, the reference values and Monte Carlo of real networks."""

import numpy as np
import pytest
import sympy as sp
from conftest import reference_values

from nnqft.derive.loops.linear import (
    exact_mean,
    exact_variance,
    feedforward_log_mean,
    feedforward_mean,
    feedforward_variance,
    trace_moment,
)
from nnqft.errors import InvalidParameter, NoExactForm
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, T, parse_expression, q0, sigma_b2, sigma_w2


def _reference(name):
    return reference_values("linear_exact")[name]


def test_recurrent_shared_T3_polynomial_matches_reference():
    ref = parse_expression(_reference("recurrent_shared_bias_T3")["formula"])
    assert sp.expand(exact_mean(Network("recurrent", bias="shared", depth=3)) - ref) == 0


@pytest.mark.parametrize("k,m", [(k, m) for k in range(6) for m in range(6) if (k + m) % 2 == 0])
def test_trace_moment_leading_orders(k, m):
    """docs/conventions.md §5: M(k,m) = d_km s^k + (min+1) s^((k+m)/2)/N [k != m] + O(1/N^2)."""
    eps = sp.Symbol("eps")
    series = sp.expand(trace_moment(k, m).subs(N, 1 / eps))
    half = sp.Integer(k + m) / 2
    assert series.coeff(eps, 0) == (sigma_w2**k if k == m else 0)
    assert series.coeff(eps, 1) == (0 if k == m else (min(k, m) + 1) * sigma_w2**half)
    assert trace_moment(k, m) == trace_moment(m, k)


def test_odd_words_vanish():
    assert trace_moment(2, 1) == 0


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_feedforward_mean_is_mean_field_exactly(depth):
    assert (
        sp.simplify(exact_mean(Network("feedforward", depth=depth)) - feedforward_mean(depth)) == 0
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_feedforward_variance_brute_force(depth):
    assert (
        sp.simplify(
            exact_variance(Network("feedforward", depth=depth)) - feedforward_variance(depth)
        )
        == 0
    )


def _recursion(depth, n, s, b, x):
    """docs/conventions.md §5: V(t) = (1+2/N) s^2 V(t-1) + (2/N) m(t)^2, V(0) = 0, m = s m + b."""
    m, v = x, sp.Integer(0)
    for _ in range(depth):
        m = s * m + b
        v = (1 + sp.Integer(2) / n) * s**2 * v + sp.Integer(2) / n * m**2
    return v


def test_feedforward_variance_equals_recursion_symbolically():
    for depth in range(1, 6):
        diff = feedforward_variance(depth) - _recursion(depth, N, sigma_w2, sigma_b2, q0)
        assert sp.simplify(diff) == 0


def test_feedforward_variance_equals_recursion_at_many_rationals():
    closed = feedforward_variance()
    rng = np.random.default_rng(5)
    for _ in range(40):
        depth, n = int(rng.integers(1, 30)), int(rng.integers(1, 200))
        s = sp.Rational(int(rng.integers(1, 40)), 17)
        b, x = sp.Rational(int(rng.integers(0, 9)), 7), sp.Rational(int(rng.integers(1, 9)), 5)
        got = closed.subs({T: depth, N: n, sigma_w2: s, sigma_b2: b, q0: x})
        assert sp.nsimplify(sp.simplify(got)) == _recursion(depth, n, s, b, x)


def test_relative_variance_without_bias():
    ref = parse_expression(_reference("feedforward_relative_variance_sigma_b2_0")["formula"])
    rel = feedforward_variance().subs(sigma_b2, 0) / feedforward_mean().subs(sigma_b2, 0) ** 2
    for depth in range(1, 8):
        assert sp.simplify(rel.subs(T, depth) - ref.subs(T, depth)) == 0


def test_log_mean_needs_zero_bias():
    with pytest.raises(NoExactForm):
        feedforward_log_mean(T, sigma_b2)
    with pytest.raises(InvalidParameter):
        trace_moment(-1, 0)


def test_exact_moments_take_a_linear_network_of_integer_depth():
    from nnqft.errors import InvalidType

    with pytest.raises(InvalidType):
        exact_mean("recurrent")
    with pytest.raises(InvalidParameter, match="linear"):
        exact_variance(Network("recurrent", "tanh", depth=2))
    with pytest.raises(InvalidParameter, match="depth"):
        exact_mean(Network("recurrent"))  # symbolic depth T: no enumeration


def test_fresh_bias_mean_has_no_first_order_term():
    eps = sp.Symbol("eps")
    for depth in range(1, 5):
        series = sp.expand(
            exact_mean(Network("recurrent", bias="fresh", depth=depth)).subs(N, 1 / eps)
        )
        assert series.coeff(eps, 1) == 0


# --- Monte Carlo of real networks -------------------------------------------------------


def _mc(arch, bias, width, depth, samples, seed, sampler, s=0.8):
    from nnqft.derive.montecarlo.simulate import simulate

    net = Network(arch, "linear", s, 0.3, width=width, depth=depth, bias=bias, q0=1.2)
    return simulate(net, samples, seed=seed, sampler=sampler).layers[-1]


VALUES_AT = {sigma_w2: sp.Rational(4, 5), sigma_b2: sp.Rational(3, 10), q0: sp.Rational(6, 5)}


@pytest.mark.parametrize("width", [8, 16, 32])
@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_recurrent_mean_and_variance_monte_carlo(width, bias):
    depth = 3
    row = _mc("recurrent", bias, width, depth, 20000, 11 + width, "full")
    mean = float(
        exact_mean(Network("recurrent", bias=bias, depth=depth)).subs(VALUES_AT).subs(N, width)
    )
    var = float(
        exact_variance(Network("recurrent", bias=bias, depth=depth)).subs(VALUES_AT).subs(N, width)
    )
    assert abs(row.mean - mean) < 4 * row.mean_stderr
    assert abs(row.variance - var) < 4 * row.variance_stderr


@pytest.mark.parametrize("width", [8, 16, 32])
def test_feedforward_variance_monte_carlo(width):
    depth = 6
    # (sigma_w2 = 0.9: the closed form has removable 0/0 points where (1 + 2/N) s^2 = s)
    row = _mc("feedforward", None, width, depth, 40000, 3 + width, "fast", s=0.9)
    at = {**VALUES_AT, sigma_w2: sp.Rational(9, 10)}
    var = float(feedforward_variance(depth).subs(at).subs(N, width))
    mean = float(feedforward_mean(depth).subs(at))
    assert abs(row.mean - mean) < 4 * row.mean_stderr
    assert abs(row.variance - var) < 4 * row.variance_stderr


def test_log_mean_monte_carlo():
    from nnqft.derive.montecarlo.simulate import simulate

    net = Network("feedforward", "linear", 1.3, 0.0, width=8, depth=5, q0=0.7)
    row = simulate(net, 40000, seed=7).layers[-1]
    exact = feedforward_log_mean(5, 0).subs({sigma_w2: sp.Rational(13, 10), q0: sp.Rational(7, 10)})
    assert abs(row.log_mean - float(exact.subs(N, 8))) < 4 * row.log_mean_stderr


def test_planar_four_block_moments_are_junction_ladders():
    """phi(c^a c*^b c^d c*^e) = #{x12 : max(0, b-d) <= x12 <= min(a, b)} s^(n/2) when
    a + d = b + e (the count used by the recurrent variance), by brute force."""
    from itertools import product

    from nnqft.derive.loops.linear import trace_word_moment

    eps = sp.Symbol("eps")
    for a, b, d, e in product(range(4), repeat=4):
        n = a + b + d + e
        if n == 0 or n > 10 or n % 2:
            continue
        word = "W" * a + "T" * b + "W" * d + "T" * e
        planar = sp.expand(trace_word_moment(word).subs(N, 1 / eps)).coeff(eps, 0)
        count = max(0, min(a, b) - max(0, b - d) + 1) if a + d == b + e else 0
        assert planar == count * sigma_w2 ** (n // 2), (a, b, d, e)
