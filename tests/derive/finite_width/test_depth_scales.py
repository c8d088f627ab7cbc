"""Finite-width depth scales (derive/finite_width/depth_scales.py, docs/conventions.md §9).

Each number is checked by a second route: the linear network's exact results
(derive/loops), an exact ReLU formula, the recursions of derive/finite_width/recursions.py
iterated through depth (the 1/N shift of a slope shows there as secular growth, t lambda1
lambda0^(t-1)), and an independent derivation of chi_c(N) at c* = 1 from the tangent
dynamics.  Monte Carlo: test_depth_scales_montecarlo.py.
"""

import math

import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import binom

from nnqft.derive.finite_width.depth_scales import (
    depth_scales,
    lyapunov_exponent,
    stationary_law,
)
from nnqft.derive.finite_width.recursions import finite_width, finite_width_two_inputs
from nnqft.derive.loops.amplitudes import correlation_lengths
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


def ff(act, sw, sb, width=64, **kw):
    return Network("feedforward", act, sw, sb, width=width, **kw)


# --- linear: against the exact results -------------------------------------------------------


def test_linear_against_exact_results():
    net = ff("linear", 0.5, 0.2, width=64)
    r = depth_scales(net)
    exact = correlation_lengths(net)
    # E Q(t) = q(t) exactly (§5): no 1/N shift of the slopes; xi's as today's
    for key in ("chi_parallel", "chi_c", "xi_q", "xi_c", "chi_1"):
        assert r[key]["coefficient_1"] == 0.0, key
    assert r["xi_q"]["mean_field"] == pytest.approx(exact["xi_mean_field"], rel=1e-12)
    # the exponent's 1/N coefficient is that of the exact (1/2)[ln s + psi(N/2) - ln(N/2)]
    big = 10**5
    series = big * (0.5 * (digamma(big / 2) - math.log(big / 2)))
    assert r["lyapunov_exponent"]["coefficient_1"] == pytest.approx(series, abs=1e-4)
    assert r["lyapunov_exponent"]["exact_at_N"] == pytest.approx(exact["lyapunov_exponent"])
    # the critical point: (N/2) exp(-psi(N/2)) = 1 + 1/N + O(1/N^2)
    crit = correlation_lengths(Network("feedforward", "linear", 1.0, 0.2, width=big))
    assert r["sigma_w2_critical"]["coefficient_1"] == pytest.approx(
        big * (crit["sigma_w2_critical"] - 1), rel=1e-4
    )


def test_linear_stationary_variance_closed_form():
    # G' = C_b + C_W G chi^2_N/N: N Var G -> 2 C_W^2 K*^2/(1 - C_W^2), K* = C_b/(1 - C_W)
    s, b = 0.6, 0.3
    law = stationary_law(ff("linear", s, b))
    k = b / (1 - s)
    assert law["K0"] == pytest.approx(k, rel=1e-13)
    assert law["K1"] == 0.0
    assert law["V"] == pytest.approx(2 * s**2 * k**2 / (1 - s**2), rel=1e-12)


# --- exact ReLU exponent -------------------------------------------------------------------


def test_relu_exponent_against_exact_binomial_formula():
    # ReLU: |J d|^2/|d|^2 = (s/N) chi^2_N * Beta(k/2, (N-k)/2), k ~ Bin(N, 1/2) active units,
    # so 2 lambda = ln s - ln(N/2) + E_k psi(k/2) exactly; its 1/N term must be -5/4 (x2)
    s, n = 1.5, 4000
    k = np.arange(1, n + 1)
    exact = 0.5 * (math.log(s) - math.log(n / 2) + float(binom.pmf(k, n, 0.5) @ digamma(k / 2)))
    r = lyapunov_exponent(ff("relu", s, 0.2, width=n))
    assert r["coefficient_1"] == -1.25
    assert n * (exact - r["mean_field"]) == pytest.approx(r["coefficient_1"], abs=2e-3)


# --- the recursions iterated through depth ---------------------------------------------------


def test_fixed_point_is_the_deep_limit_of_the_recursions():
    net = ff("tanh", 1.5, 0.3)
    law = stationary_law(net)
    deep = finite_width(net, 120)[-1]
    for key in ("K0", "K1", "V"):
        assert law[key] == pytest.approx(deep[key], rel=1e-9), key


def _secular_slope(rows_a, rows_b, pick0, pick1, t):
    """d/dt of delta1(t)/delta0(t): -> lambda1/lambda0 (exp. in 1/N of (l0 + l1/N)^t)."""
    r = [pick1(rows_a[s]) - pick1(rows_b[s]) for s in (t - 1, t)]
    r0 = [pick0(rows_a[s]) - pick0(rows_b[s]) for s in (t - 1, t)]
    return r[1] / r0[1] - r[0] / r0[0]


def test_chi_parallel_against_the_iterated_recursions():
    net = ff("tanh", 1.5, 0.3)
    r = depth_scales(net)["chi_parallel"]
    # chi_parallel ~ 0.32: by layer 14 the faster modes are gone and K0 still resolved
    a = finite_width(net.replace(q0=1.01), 15)
    b = finite_width(net.replace(q0=0.99), 15)
    slope = _secular_slope(a, b, lambda x: x["K0"], lambda x: x["K1"], 14)
    assert slope == pytest.approx(r["coefficient_1"] / r["mean_field"], rel=2e-5)


@pytest.mark.slow
def test_chi_c_chaotic_against_the_iterated_two_input_recursions():
    # chaotic (c* < 1): the two-input recursions iterated from c* +- 1e-4; the transients
    # (and the relaxation of the base trajectory's K1, V) decay like chi_c^t ~ 0.71^t
    net = ff("erf", 10.0, 2.0)
    r = depth_scales(net)
    assert r["mean_field"]["phase"] == "chaotic"
    cs, chi = r["mean_field"]["c_star"], r["chi_c"]
    a = finite_width_two_inputs(net, cs + 1e-4, 36)
    b = finite_width_two_inputs(net, cs - 1e-4, 36)
    slope = _secular_slope(a, b, lambda x: x["K0"][2], lambda x: x["K1"][2], 35)
    assert slope == pytest.approx(chi["coefficient_1"] / chi["mean_field"], rel=2e-4)


def test_chi_c_at_c_star_one_against_the_tangent_dynamics():
    # independent derivation at c* = 1: the separation d = z1 - z2 with D = E d^2, C = E z d;
    # E D' = C_W E[g(G) D + 2 g'(G) C^2] with g = <phi'^2>, closed by
    # X = N Cov(G, D)/E D
    #   = [chi_par C_W g' V + C_W^2 (<phi^2 phi'^2> - <phi^2> g)]/(chi_1 (1 - chi_par)),
    # Y = N E C^2/E D = C_W^2 <phi^2 phi'^2>/(chi_1 - chi_par^2):
    # chi_c(N) = chi_1 + (C_W/N)[g' (K1* + X + 2 Y) + g'' V*/2]
    from scipy.special import erf

    cw, cb = 1.2, 0.1
    r = depth_scales(ff("erf", cw, cb))
    law = stationary_law(ff("erf", cw, cb))
    K, K1, V = law["K0"], law["K1"], law["V"]
    x, w = np.polynomial.hermite_e.hermegauss(160)
    w = w / w.sum()

    def mean(f, k):
        return float(w @ f(math.sqrt(k) * x))

    def dphi(u):
        return 2 / math.sqrt(math.pi) * np.exp(-(u**2))

    def g(k):
        return mean(lambda u: dphi(u) ** 2, k)

    h = 1e-3 * K
    g0, g1 = g(K), (g(K + h) - g(K - h)) / (2 * h)
    g2 = (g(K + h) - 2 * g0 + g(K - h)) / h**2
    p2 = mean(lambda u: erf(u) ** 2, K)
    p2d2 = mean(lambda u: erf(u) ** 2 * dphi(u) ** 2, K)
    chi1 = cw * g0
    chipar = (
        cw * (mean(lambda u: erf(u) ** 2, K + h) - mean(lambda u: erf(u) ** 2, K - h)) / (2 * h)
    )
    X = (chipar * cw * g1 * V + cw**2 * (p2d2 - p2 * g0)) / (chi1 * (1 - chipar))
    Y = cw**2 * p2d2 / (chi1 - chipar**2)
    assert r["mean_field"]["c_star"] == 1.0
    assert r["chi_c"]["mean_field"] == pytest.approx(chi1, rel=1e-9)
    assert r["chi_c"]["coefficient_1"] == pytest.approx(
        cw * (g1 * (K1 + X + 2 * Y) + g2 * V / 2), rel=1e-5
    )
    # chi_1(N) = C_W E g(G), the same moments: differs from chi_c(N) by C_W g'(X + 2Y)
    assert r["chi_1"]["coefficient_1"] == pytest.approx(cw * (g1 * K1 + g2 * V / 2), rel=1e-5)


# --- nulls with reasons, reliability -----------------------------------------------------------


def test_nulls_carry_reasons():
    zero = depth_scales(ff("tanh", 0.8, 0.0))  # q* = 0
    assert zero["chi_parallel"]["value_at_N"] is None
    assert "q* = 0" in zero["reasons"]["chi_parallel"]
    grows = depth_scales(ff("relu", 3.0, 0.1))  # q grows
    assert grows["fixed_point"]["K_star"]["value_at_N"] is None
    assert "grows" in grows["reasons"]["fixed_point"]
    # the ReLU exponent needs no fixed point (<phi'^2> does not depend on q)
    assert grows["lyapunov_exponent"]["coefficient_1"] == -1.25
    kinked = depth_scales(ff("relu", 1.5, 0.2))
    assert "kinked" in kinked["reasons"]["chi_c"]


def test_critical_correlation_is_null():
    from nnqft.derive.meanfield.criticality import critical_point

    sw = critical_point("erf", 0.2).sigma_w2
    r = depth_scales(ff("erf", sw, 0.2))
    assert r["xi_c"]["value_at_N"] is None and "critical" in r["reasons"]["xi_c"]


def test_reliability_flags():
    wide = depth_scales(ff("erf", 4.0, 0.5, width=4096))["chi_c"]
    narrow = depth_scales(ff("erf", 4.0, 0.5, width=16))["chi_c"]
    assert wide["reliable"] and not narrow["reliable"]
    assert narrow["relative_correction"] == pytest.approx(
        abs(narrow["coefficient_1"] / 16) / narrow["mean_field"]
    )
    assert narrow["gap_ratio"] > 0.1 > wide["gap_ratio"]


def test_bad_input():
    with pytest.raises(InvalidParameter):
        depth_scales(Network("recurrent", "tanh", 1.0, 0.1, width=8, bias="shared"))
    with pytest.raises(InvalidParameter):
        depth_scales(Network("feedforward", "tanh", 1.0, 0.1))  # no width
