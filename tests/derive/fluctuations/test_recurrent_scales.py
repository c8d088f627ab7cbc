"""The recurrent finite-width depth scales (derive/fluctuations/recurrent_scales.py) against
independent routes: the exact stationary limits of the linear recurrent 1/N coefficients
(derive/loops, closed forms in T, and `correlation_lengths`' q_star_recurrent), sequences
with known limits for the extrapolation, and Monte Carlo of real shared-W networks."""

import math

import numpy as np
import pytest
import sympy as sp

from nnqft.derive.fluctuations.recurrent_scales import recurrent_depth_scales, tail_limit
from nnqft.errors import InvalidParameter
from nnqft.rules import symbols as S
from nnqft.rules.network import Network


def test_tail_limit_of_known_sequences():
    # alternating and secular modes: the limit to 1e-9, the slowest rate
    seq = [1.5 - 0.3 * 0.8**t + 0.2 * (-0.8) ** t + t * 0.5**t for t in range(1, 90)]
    r = tail_limit(seq, scale=1.5)
    assert r["reason"] is None and r["limit"] == pytest.approx(1.5, abs=1e-9)
    assert r["rate"] == pytest.approx(0.8, abs=1e-3)
    grows = tail_limit([1.01**t for t in range(1, 40)], scale=1.0)
    assert "grows" in grows["reason"]
    slow = tail_limit([1 + 1 / t for t in range(1, 20)], scale=1.0)  # algebraic: no rate
    assert "not converged" in slow["reason"]
    flat = tail_limit([0.0] * 20, scale=1.0)  # a mode-free tail: converged, no rate
    assert flat["reason"] is None and flat["limit"] == 0.0 and flat["rate"] is None


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_linear_K_star_is_the_exact_stationary_coefficient(bias):
    from nnqft.derive.loops.amplitudes import (
        correlation_lengths,
        recurrent_mean_coefficients,
        stationary_limit,
    )

    sw, sb = 0.25, 0.2
    r = recurrent_depth_scales(Network("recurrent", "linear", sw, sb, bias=bias, width=64), 16)
    coefficients = recurrent_mean_coefficients(bias, 1)
    exact = [float(stationary_limit(sp.sympify(coefficients[k])).subs(
        {S.sigma_w2: sw, S.sigma_b2: sb, S.q0: 1})) for k in (0, 1)]
    k = r["fixed_point"]["K_star"]
    assert k["mean_field"] == pytest.approx(exact[0], rel=1e-12)
    assert k["coefficient_1"] == pytest.approx(exact[1], abs=2e-6)
    assert k["value_at_N"] == pytest.approx(k["mean_field"] + k["coefficient_1"] / 64)
    if bias == "shared":  # today's linear recurrent result
        lengths = correlation_lengths(Network(sigma_w2=sw, sigma_b2=sb, width=64))
        assert k["coefficient_1"] == pytest.approx(
            lengths["q_star_recurrent_coefficients"]["1"], abs=2e-6)
        # the 1/N term decays as sqrt(sigma_w2)^t (closed form): slower than chi = sigma_w2
        assert r["rate_1"] == pytest.approx(math.sqrt(sw), abs=0.01)
        assert r["chi_parallel"]["value_at_N"] is None
        assert "more slowly than chi_parallel" in r["reasons"]["chi_parallel"]
    else:  # fresh: E Q(t) has no 1/N term at all (closed form), so chi(N) = chi exactly
        assert exact[1] == 0
        assert r["chi_parallel"]["coefficient_1"] == pytest.approx(0.0, abs=1e-8)
        assert r["xi_q"]["mean_field"] == pytest.approx(-1 / math.log(sw))


def test_nulls_carry_reasons():
    # chaotic tanh, shared bias: the 1/N coefficient does not settle within the steps
    r = recurrent_depth_scales(Network("recurrent", "tanh", 3.0, 0.05, width=32), 10)
    assert r["fixed_point"]["K_star"]["value_at_N"] is None
    assert r["reasons"]["fixed_point"] and r["reasons"]["chi_parallel"]
    # relu at sigma_w2 = 2.5 > 2: q grows, no mean-field fixed point
    hot = recurrent_depth_scales(Network("recurrent", "relu", 2.5, 0.1, width=32), 10)
    assert hot["trajectory"] is None and "no mean-field fixed point" in hot["reasons"]["xi_q"]
    with pytest.raises(InvalidParameter, match="at least 9"):
        recurrent_depth_scales(Network("recurrent", "tanh", 0.5, 0.5, width=32), 5)
    with pytest.raises(InvalidParameter, match="recurrent"):
        recurrent_depth_scales(Network("feedforward", "tanh", 0.5, 0.5, width=32), 12)


def _fit(widths, means, errs, a0):
    """Weighted least squares of mean - a0 = b/N + c/N^2: (b, its standard error)."""
    n = np.asarray(widths, float)
    X = np.stack([1 / n, 1 / n**2], axis=1)
    w = 1 / np.asarray(errs) ** 2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ (X.T @ (w * (np.asarray(means) - a0)))
    return beta[0], math.sqrt(cov[0, 0])


@pytest.mark.slow
def test_K_star_matches_monte_carlo_of_shared_W_networks():
    """tanh, sigma_w2 = 0.5, sigma_b2 = 0.5, shared bias (ordered): E Q(24) of real
    networks at N = 16, 32, 64 (equal cost per width), E Q - q* = b/N + c/N^2 fitted; b
    within 3 standard errors of K1*.  At t = 24 the approach terms are below 1e-4/N."""
    from nnqft.derive.montecarlo.simulate import simulate

    r = recurrent_depth_scales(Network("recurrent", "tanh", 0.5, 0.5, width=32), 17)
    k = r["fixed_point"]["K_star"]
    assert k["reason"] is None
    means, errs, widths = [], [], (16, 32, 64)
    for N in widths:
        net = Network("recurrent", "tanh", 0.5, 0.5, bias="shared", width=N, depth=24)
        layer = simulate(net, int(1.0e8 / N**2), sampler="full", seed=11 + N).layers[-1]
        means.append(layer.mean)
        errs.append(layer.mean_stderr)
    b, se = _fit(widths, means, errs, k["mean_field"])
    print(f"K1*: diagrams {k['coefficient_1']:.4f}, Monte Carlo {b:.4f} +- {se:.4f}")
    assert abs(b - k["coefficient_1"]) < 3 * se
    assert se < 0.3 * abs(k["coefficient_1"])  # the test resolves the coefficient
