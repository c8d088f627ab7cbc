"""The maps and chi's against a Gauss-Hermite rule and closed forms written here."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from nnqft.derive.meanfield import maps as M
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

#: 300 nodes, even (no node at the ReLU kink): tanh (poles at +-i pi/2) converges slowly in
#: Gauss-Hermite, to ~1e-12 here at q <= 2.5
X, W = np.polynomial.hermite_e.hermegauss(300)
W = W / math.sqrt(2 * math.pi)

PHI = {
    "linear": (lambda u: u, lambda u: np.ones_like(u)),
    "relu": (lambda u: np.maximum(u, 0.0), lambda u: (u > 0).astype(float)),
    "erf": (erf, lambda u: 2 / math.sqrt(math.pi) * np.exp(-(u**2))),
    "tanh": (np.tanh, lambda u: 1 / np.cosh(u) ** 2),
}
QS = np.array([0.1, 0.6, 1.3, 2.5])
SW, SB = 1.7, 0.15


def _mean(f, q):
    return np.array([W @ f(math.sqrt(v) * X) for v in np.atleast_1d(q)])


def _net(act, **kw):
    return Network("feedforward", act, sigma_w2=SW, sigma_b2=SB, **kw)


@pytest.mark.parametrize("act", PHI)
def test_length_map_and_chi_1_equal_gauss_hermite(act):
    phi, dphi = PHI[act]
    np.testing.assert_allclose(
        M.length_map(_net(act), QS), SW * _mean(lambda u: phi(u) ** 2, QS) + SB, rtol=1e-10
    )
    np.testing.assert_allclose(
        M.chi_1(_net(act), QS), SW * _mean(lambda u: dphi(u) ** 2, QS), rtol=1e-10
    )


@pytest.mark.parametrize("act", ["erf", "tanh"])
def test_chi_parallel_is_the_slope_of_the_length_map(act):
    phi = PHI[act][0]
    h = 1e-5
    slope = SW * (_mean(lambda u: phi(u) ** 2, QS + h) - _mean(lambda u: phi(u) ** 2, QS - h))
    np.testing.assert_allclose(M.chi_parallel(_net(act), QS), slope / (2 * h), rtol=1e-6)


def _pair(f, q11, q22, q12):
    """E[f(u1) f(u2)] by a tensor Gauss-Hermite rule written here."""
    s1, s2 = math.sqrt(q11), math.sqrt(q22)
    c = q12 / (s1 * s2)
    u1 = s1 * X[:, None]
    u2 = s2 * (c * X[:, None] + math.sqrt(1 - c * c) * X[None, :])
    return W @ (f(u1) * f(u2)) @ W


@pytest.mark.parametrize("act", ["erf", "tanh"])
def test_correlation_map_and_chi_c_equal_a_tensor_rule(act):
    phi, dphi = PHI[act]
    for q11, q22, c in [(0.5, 1.2, 0.3), (1.0, 1.0, -0.7), (2.0, 0.8, 0.95)]:
        q12 = c * math.sqrt(q11 * q22)
        got = M.correlation_map(_net(act), q11, q22, q12)
        assert math.isclose(got, SW * _pair(phi, q11, q22, q12) + SB, rel_tol=1e-10)
    for q, c in [(0.7, 0.4), (1.5, -0.2)]:
        assert math.isclose(M.chi_c(_net(act), q, c), SW * _pair(dphi, q, q, q * c), rel_tol=1e-9)


def test_closed_forms_written_here():
    q = S.q
    assert (
        sp.simplify(
            M.length_map(Network("feedforward", "erf"), q)
            - (S.sigma_w2 * 2 / sp.pi * sp.asin(2 * q / (1 + 2 * q)) + S.sigma_b2)
        )
        == 0
    )
    assert sp.simplify(M.chi_1(Network("feedforward", "linear"), q) - S.sigma_w2) == 0
    # the relu arc-cosine kernel at c = 0: q/(2 pi)
    got = M.correlation_map(Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0), 1.5, 1.5, 0)
    assert math.isclose(got, 2.0 * 1.5 / (2 * math.pi), rel_tol=1e-13)


def test_symbolic_and_numeric_routes_agree():
    net = Network("feedforward", "erf")
    expr = M.chi_c(net, S.q, sp.Symbol("c"))
    value = float(expr.subs({S.q: 0.8, sp.Symbol("c"): 0.3, S.sigma_w2: SW}))
    assert math.isclose(value, M.chi_c(_net("erf"), 0.8, 0.3), rel_tol=1e-12)
    assert math.isclose(M.chi_c(_net("tanh"), 0.9, 1.0), M.chi_1(_net("tanh"), 0.9), rel_tol=1e-14)


def test_trajectories_iterate_the_maps():
    net = _net("tanh", depth=6)
    q = [SW * net.q0 + SB]
    for _ in range(5):
        q.append(float(SW * _mean(lambda u: np.tanh(u) ** 2, q[-1])[0] + SB))
    np.testing.assert_allclose(M.q_trajectory(net), q, rtol=1e-10)
    q11, q22, q12, c = M.correlation_trajectory(net, 0.4)
    np.testing.assert_allclose(q11, q, rtol=1e-10)
    np.testing.assert_allclose(c, q12 / np.sqrt(q11 * q22))
    assert c[0] == pytest.approx((SW * net.q0 * 0.4 + SB) / q[0])


def test_bad_input_raises_the_package_errors():
    with pytest.raises(InvalidParameter, match="non-negative"):
        M.length_map(_net("tanh"), -1.0)
    with pytest.raises(InvalidType):
        M.chi_1(_net("tanh"), "1")
    with pytest.raises(InvalidParameter, match="covariance"):
        M.correlation_map(_net("tanh"), 1.0, 1.0, 1.5)
    with pytest.raises(InvalidParameter, match=r"\[-1, 1\]"):
        M.chi_c(_net("tanh"), 1.0, 1.2)
    with pytest.raises(NoExactForm, match="'tanh'"):
        M.length_map(Network("feedforward", "tanh"), S.q)
