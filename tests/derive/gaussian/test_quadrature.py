"""The quadrature rules against Gaussian moments and closed-form kernels written here."""

import math

import numpy as np
import pytest
from scipy.special import erf

from nnqft.derive.gaussian import quadrature as Q
from nnqft.errors import InvalidParameter

VARS = np.array([0.05, 0.7, 2.0, 5.0, 9.0, 25.0, 80.0])  # every band, and the panel rule


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_gaussian_mean_integrates_even_moments_exactly(k):
    """E[u^k] = (k-1)!! var^(k/2) on Gauss-Hermite bands and on the panel rule alike."""
    got = Q.gaussian_mean(lambda u: u**k, VARS)
    np.testing.assert_allclose(got, _double_factorial(k - 1) * VARS ** (k / 2), rtol=1e-11)
    odd = Q.gaussian_mean(lambda u: u ** (k - 1), VARS)  # 0, against the scale var^((k-1)/2)
    assert np.all(np.abs(odd) <= 1e-10 * VARS ** ((k - 1) / 2))


def test_hermite_rule_is_exact_below_its_degree():
    x, w = Q.hermite_rule(12)
    assert math.isclose(w.sum(), 1.0, rel_tol=1e-14)
    for k in range(0, 23, 2):  # degree <= 2n - 1 = 23
        assert math.isclose(w @ x**k, _double_factorial(k - 1), rel_tol=1e-11), k


@pytest.mark.parametrize("nodes", [1, 0, 2.5, True, "9"])
def test_hermite_rule_rejects_bad_node_counts(nodes):
    with pytest.raises(InvalidParameter, match="integer number of nodes"):
        Q.hermite_rule(nodes)


def test_node_counts_follow_the_bands():
    counts = Q.node_counts([0.5, 2.0, 5.0, 100.0])
    assert list(counts) == [n for _, n in Q.NODE_BANDS]
    assert list(Q.node_counts([0.5, 100.0], nodes=33)) == [33, 33]


def test_panel_rule_moments_with_a_kink():
    u, w = Q.panel_rule(30.0, kinks=(0.3,))
    assert math.isclose(w.sum(), 1.0, rel_tol=1e-12)
    assert math.isclose(w @ u**4, 3 * 30.0**2, rel_tol=1e-11)
    assert math.isclose(w @ np.maximum(u, 0.0) ** 2, 15.0, rel_tol=1e-11)  # half of E u^2


def _relu_kernel(v1, v2, cov):
    """Arc-cosine kernel of degree 1 (Cho & Saul): E[relu(u1) relu(u2)]."""
    s = np.sqrt(v1 * v2)
    theta = np.arccos(np.clip(cov / s, -1, 1))
    return s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))


def _erf_kernel(v1, v2, cov):
    """Williams' arcsine kernel: E[erf(u1) erf(u2)]."""
    return 2 / np.pi * np.arcsin(2 * cov / np.sqrt((1 + 2 * v1) * (1 + 2 * v2)))


RNG = np.random.default_rng(7)
V1, V2 = RNG.uniform(0.1, 3.0, 12), RNG.uniform(0.1, 3.0, 12)
COV = RNG.uniform(-0.95, 0.95, 12) * np.sqrt(V1 * V2)


def relu(u):
    return np.maximum(u, 0.0)


def test_polar_rule_reproduces_the_arc_cosine_kernel():
    got = Q.polar_gaussian_mean(relu, relu, V1, V2, COV)
    np.testing.assert_allclose(got, _relu_kernel(V1, V2, COV), rtol=1e-11)


def test_plane_rule_reproduces_the_arc_cosine_and_arcsine_kernels():
    for v1, v2, cov in zip(V1[:4], V2[:4], COV[:4]):
        rule = Q.PlaneRule(v1, v2, cov, (0.0,))
        assert math.isclose(rule.mean(relu, relu), _relu_kernel(v1, v2, cov), rel_tol=1e-10)
        assert math.isclose(rule.mean(erf, erf), _erf_kernel(v1, v2, cov), abs_tol=1e-11)


def test_bivariate_hermite_reproduces_the_arcsine_kernel():
    got = Q.bivariate_gaussian_mean(erf, erf, V1, V2, COV)
    np.testing.assert_allclose(got, _erf_kernel(V1, V2, COV), rtol=0, atol=1e-10)
    # a kink converges only algebraically on a tensor Hermite rule (why the polar rule exists)
    exact = _relu_kernel(V1, V2, COV)
    rough = np.abs(Q.bivariate_gaussian_mean(relu, relu, V1, V2, COV) - exact)
    assert rough.max() < 2e-3
    assert rough.max() > 1e3 * np.abs(Q.polar_gaussian_mean(relu, relu, V1, V2, COV) - exact).max()


def test_mehler_series_sums_to_the_arcsine_kernel():
    q = np.array([0.4, 1.7])
    b = Q.mehler_coefficients(erf, q, None)
    for c in (-0.8, 0.0, 0.3, 0.99):
        series = np.polynomial.polynomial.polyval(c, b.T)  # sum_n b_n c^n, per q
        np.testing.assert_allclose(series, _erf_kernel(q, q, q * c), rtol=0, atol=1e-12)
    assert np.allclose(b[:, 0::2], 0.0, atol=1e-16)  # erf is odd: no even Hermite components


def test_orthonormal_hermite_is_the_recurrence_scaled_by_the_weights():
    x, w = Q.hermite_rule(10)
    H = Q.orthonormal_hermite(10)
    for n in range(10):
        direct = np.sqrt(w) * Q.hermite_e(n, x) / math.sqrt(math.factorial(n))
        np.testing.assert_allclose(H[n], direct, rtol=1e-12, atol=1e-15)


def test_gaussian_tail_tells_the_kinds_of_failure_apart():
    assert Q.gaussian_tail(lambda u: np.exp(u**2), 1.0) == "diverges"  # e^{x^2/2} grows
    assert Q.gaussian_tail(lambda u: np.exp(u**2), 0.2) is None  # e^{0.2 x^2 - x^2/2} falls
    assert Q.gaussian_tail(np.exp, 40.0) == "unresolved"  # the mass sits near x = sqrt(40)
    assert Q.gaussian_tail(lambda u: u**4, 3.0) is None
