"""Fixed points against a plain iteration of the maps with a quadrature written here."""

import math

import numpy as np
import pytest
from scipy.special import erf

from nnqft.derive.meanfield import fixed_point
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network

X, W = np.polynomial.hermite_e.hermegauss(300)
W = W / math.sqrt(2 * math.pi)


def _mean(f, q):
    return float(W @ f(math.sqrt(q) * X))


def _pair(f, q, c):
    u1 = math.sqrt(q) * X[:, None]
    u2 = math.sqrt(q) * (c * X[:, None] + math.sqrt(1 - c * c) * X[None, :])
    return float(W @ (f(u1) * f(u2)) @ W)


def _net(act, sw, sb):
    return Network("feedforward", act, sigma_w2=sw, sigma_b2=sb)


def test_tanh_ordered_fixed_point_by_iteration():
    sw, sb = 1.5, 0.05
    mf = fixed_point(_net("tanh", sw, sb))
    q = 1.0
    for _ in range(300):
        q = sw * _mean(lambda u: np.tanh(u) ** 2, q) + sb
    assert mf.q_star == pytest.approx(q, rel=1e-9)
    chi_1 = sw * _mean(lambda u: np.cosh(u) ** -4, q)
    assert mf.chi_1 == pytest.approx(chi_1, rel=1e-9)
    assert mf.phase == "ordered" and mf.c_star == 1.0
    assert mf.chi_c == pytest.approx(mf.chi_1, rel=1e-12)  # at c* = 1
    # the depth scales and the Lyapunov exponent are functions of the chi's
    assert mf.xi_c == pytest.approx(-1 / math.log(mf.chi_c), rel=1e-12)
    assert mf.xi_q == pytest.approx(-1 / math.log(mf.chi_parallel), rel=1e-12)
    assert mf.lyapunov_exponent == pytest.approx(0.5 * math.log(mf.chi_1), rel=1e-12)
    assert max(mf.quadrature_error.values()) < 1e-9


def test_tanh_chaotic_correlation_fixed_point_by_iteration():
    sw, sb = 3.0, 0.2
    mf = fixed_point(_net("tanh", sw, sb))
    assert mf.phase == "chaotic"
    c = 0.0
    for _ in range(300):
        c = (sw * _pair(np.tanh, mf.q_star, c) + sb) / mf.q_star
    assert mf.c_star == pytest.approx(c, rel=1e-8)
    assert mf.chi_c == pytest.approx(sw * _pair(lambda u: np.cosh(u) ** -2, mf.q_star, c), rel=1e-8)
    assert mf.chi_c < 1 < mf.chi_1
    assert mf.xi_c == pytest.approx(-1 / math.log(mf.chi_c), rel=1e-12)


def test_erf_chaotic_at_zero_bias_has_independent_inputs():
    """c* = 0 (odd phi, sigma_b2 = 0), chi_c = sigma_w2 E[erf']^2 = sigma_w2 4/(pi (1 + 2 q*))."""
    mf = fixed_point(_net("erf", 3.0, 0.0))
    assert mf.q_star == pytest.approx(
        3.0 * 2 / math.pi * math.asin(2 * mf.q_star / (1 + 2 * mf.q_star))
    )
    assert mf.c_star == 0.0
    assert mf.chi_c == pytest.approx(3.0 * 4 / (math.pi * (1 + 2 * mf.q_star)), rel=1e-12)
    assert _mean(erf, mf.q_star) == pytest.approx(0.0, abs=1e-15)


def test_relu_closed_forms():
    mf = fixed_point(_net("relu", 1.5, 0.1))  # q* = sigma_b2 / (1 - sigma_w2/2)
    assert mf.q_star == pytest.approx(0.1 / (1 - 0.75), rel=1e-12)
    assert mf.chi_1 == pytest.approx(0.75) and mf.xi_q == pytest.approx(-1 / math.log(0.75))
    assert mf.quadrature_error is None  # closed form
    assert fixed_point(_net("relu", 2.0, 0.0)).phase == "critical"
    unbounded = fixed_point(_net("relu", 2.5, 0.1))
    assert unbounded.phase == "unbounded" and math.isinf(unbounded.q_star)
    assert "q_star" in unbounded.reasons


def test_symbolic_variances_are_refused():
    with pytest.raises(InvalidParameter):
        fixed_point(Network("feedforward", "tanh"))
