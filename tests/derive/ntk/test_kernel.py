"""The infinite-width NTK recursion, by independent routes.

Second routes: the linear network's geometric sums derived by hand here; ReLU's arc-cosine
kernels (Cho and Saul 2009) typed in here for two inputs; for tanh (no closed form) the
recursion again with scipy's adaptive quadrature; and the identities c0 = 1 (two equal
inputs are one), lambda = (C_b, C_W) at layer 1 (H = K) and recurrent = feedforward.
The Monte Carlo route is tests/derive/montecarlo/test_ntk.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnqft.derive.ntk.kernel import check_correlation, learning_rates, ntk_trajectory
from nnqft.errors import InvalidParameter, InvalidType
from nnqft.rules.network import Network


def _linear_by_hand(s, b, q0, lb, lw, layer):
    """Linear net: K(m) = s^m q0 + b (1 - s^m)/(1 - s) (K(0) = q0, the input), and
    H(l) = sum_{m=0}^{l-1} s^(l-1-m) (lb + lw K(m)) unrolled by hand."""

    def K(m):
        return s**m * q0 + b * (1 - s**m) / (1 - s)

    return lb * (1 - s**layer) / (1 - s) + lw * sum(
        s ** (layer - 1 - m) * K(m) for m in range(layer)
    )


@pytest.mark.parametrize("s, b, q0, lb, lw", [(0.7, 0.3, 1.5, 1.0, 1.0), (1.6, 0.1, 0.4, 0.3, 2.0)])
def test_linear_against_its_geometric_sums(s, b, q0, lb, lw):
    rows = ntk_trajectory(
        Network("feedforward", "linear", s, b, q0=q0), 7, lambda_b=lb, lambda_W=lw
    )
    for r in rows:
        assert r["ntk"] == pytest.approx(_linear_by_hand(s, b, q0, lb, lw, r["layer"]), rel=1e-12)
        assert r["chi_perp"] == pytest.approx(s, rel=1e-14)


def _arccos(q11, q22, q12, derivative):
    """Arc-cosine kernels of ReLU: E[relu relu] = sqrt(q11 q22)(sin t + (pi - t) cos t)/(2 pi),
    E[step step] = (pi - t)/(2 pi), cos t = q12/sqrt(q11 q22)."""
    t = math.acos(max(-1.0, min(1.0, q12 / math.sqrt(q11 * q22))))
    if derivative:
        return (math.pi - t) / (2 * math.pi)
    return math.sqrt(q11 * q22) * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)


def _relu_two_inputs(cw, cb, q0, c0, lb, lw, depth):
    k = [cb + cw * q0, cb + cw * q0 * c0]  # equal norms: (11, 12)
    h = [lb + lw * q0, lb + lw * q0 * c0]
    out = []
    for _ in range(depth):
        out.append((list(k), list(h)))
        e = [_arccos(k[0], k[0], k[0], 0), _arccos(k[0], k[0], k[1], 0)]
        d = [_arccos(k[0], k[0], k[0], 1), _arccos(k[0], k[0], k[1], 1)]
        h = [lb + lw * e[i] + cw * d[i] * h[i] for i in range(2)]
        k = [cb + cw * e[i] for i in range(2)]
    return out


@pytest.mark.parametrize("c0", [0.5, -0.3, 0.0])
def test_relu_two_inputs_against_the_arc_cosine_kernels(c0):
    cw, cb, q0, lb, lw = 1.8, 0.2, 1.3, 0.5, 1.5
    net = Network("feedforward", "relu", cw, cb, q0=q0)
    ours = ntk_trajectory(net, 6, c0=c0, lambda_b=lb, lambda_W=lw)
    for r, (k, h) in zip(ours, _relu_two_inputs(cw, cb, q0, c0, lb, lw, 6)):
        assert r["K"][0][0] == pytest.approx(k[0], rel=1e-12)
        assert r["K"][0][1] == pytest.approx(k[1], rel=1e-12)
        assert r["ntk"][0][0] == pytest.approx(h[0], rel=1e-12)
        assert r["ntk"][0][1] == pytest.approx(h[1], rel=1e-12)
        assert r["ntk"][1][0] == r["ntk"][0][1] and r["ntk"][1][1] == r["ntk"][0][0]


def test_tanh_against_an_independent_adaptive_quadrature():
    from scipy.integrate import quad

    cw, cb, q0 = 1.5, 0.05, 1.0

    def mean(f, q):
        density = lambda u: f(u) * math.exp(-u * u / (2 * q)) / math.sqrt(2 * math.pi * q)  # noqa: E731
        return quad(density, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)[0]

    K, H = cb + cw * q0, 1 + q0
    ours = ntk_trajectory(Network("feedforward", "tanh", cw, cb, q0=q0), 8)
    for r in ours:
        assert r["K"] == pytest.approx(K, rel=1e-10)
        assert r["ntk"] == pytest.approx(H, rel=1e-10)
        phi2, dphi2 = (
            mean(lambda u: math.tanh(u) ** 2, K),
            mean(lambda u: (1 - math.tanh(u) ** 2) ** 2, K),
        )
        K, H = cb + cw * phi2, 1 + phi2 + cw * dphi2 * H


@pytest.mark.parametrize("act", ["tanh", "relu", "erf", "gelu"])
def test_identical_inputs_are_one_input(act):
    net = Network("feedforward", act, 1.4, 0.1, q0=0.8)
    one = ntk_trajectory(net, 5, lambda_b=0.7)
    two = ntk_trajectory(net, 5, c0=1.0, lambda_b=0.7)
    for a, b in zip(one, two):
        assert b["ntk"][0][1] == pytest.approx(a["ntk"], rel=1e-10)
        assert b["ntk"][0][0] == pytest.approx(a["ntk"], rel=1e-12)


def test_orthogonal_odd_inputs_stay_orthogonal():
    """erf is odd, so at sigma_b2 = 0 inputs with c0 = 0 keep K12 = 0 and H12 = 0."""
    rows = ntk_trajectory(Network("feedforward", "erf", 2.0, 0.0), 5, c0=0.0, lambda_b=0.0)
    assert all(abs(r["ntk"][0][1]) < 1e-14 and abs(r["K"][0][1]) < 1e-14 for r in rows)


def test_first_layer_ntk_is_the_kernel_when_lambdas_are_the_variances():
    net = Network("feedforward", "sin", 1.7, 0.4, q0=0.9)
    (row,) = ntk_trajectory(net, 1, lambda_b=0.4, lambda_W=1.7)
    assert row["ntk"] == pytest.approx(row["K"], rel=1e-15)


@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_recurrent_equals_feedforward_at_infinite_width(bias):
    ff = ntk_trajectory(Network("feedforward", "tanh", 1.2, 0.2), 6, c0=0.4)
    rec = ntk_trajectory(Network("recurrent", "tanh", 1.2, 0.2, bias=bias), 6, c0=0.4)
    assert [r["ntk"] for r in rec] == [r["ntk"] for r in ff]


def test_lambdas_enter_linearly():
    net = Network("feedforward", "gelu", 1.3, 0.2)
    hb = ntk_trajectory(net, 5, lambda_b=1.0, lambda_W=0.0)
    hw = ntk_trajectory(net, 5, lambda_b=0.0, lambda_W=1.0)
    both = ntk_trajectory(net, 5, lambda_b=2.0, lambda_W=3.0)
    for a, b, c in zip(hb, hw, both):
        assert c["ntk"] == pytest.approx(2 * a["ntk"] + 3 * b["ntk"], rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"lambda_b": -1.0}, InvalidParameter),
        ({"lambda_W": float("nan")}, InvalidParameter),
        ({"lambda_b": "1"}, InvalidType),
        ({"c0": 1.5}, InvalidParameter),
        ({"c0": True}, InvalidParameter),
        ({"depth": 0}, InvalidParameter),
    ],
)
def test_bad_input_is_refused(kwargs, error):
    with pytest.raises(error):
        ntk_trajectory(Network("feedforward", "tanh", 1.0, 0.0), **({"depth": 3} | kwargs))


def test_symbolic_variances_and_overflow_are_refused():
    with pytest.raises(InvalidParameter, match="numbers"):
        ntk_trajectory(Network("feedforward", "relu"), 3)
    with pytest.raises(InvalidParameter, match="floating-point range"):
        ntk_trajectory(Network("feedforward", "linear", 1e200, 0.0), 5)
    with pytest.raises(InvalidParameter, match="positive"):
        ntk_trajectory(Network("feedforward", "relu", 1.0, 0.0, q0=0.0), 2)
    assert learning_rates(0, 2) == (0.0, 2.0) and check_correlation(-1) == -1.0
