"""The NTK's fluctuations across initialisations at O(1/n), by independent routes.

Routes: (1) layer 2, where the Markov-chain result is exact at every width (layer 1 is
deterministic, so Var(H_ii(2)) = (A + 2B)/n with A and B single-variable Gaussian integrals,
done here with scipy's adaptive quadrature), against Monte Carlo at width 4 without any
fit; (2) the four-point vertex V = n Var G against the finite-width recursions of §7 (a
separate implementation); (3) Monte Carlo of real networks at several widths: n Var(H_ii),
n Var(H_ij) and n Cov(H_ii, H_jj), fitted as a + b/n, against A + 2B, B and A within 3
standard errors of a.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.montecarlo.ntk import empirical_ntk
from nnqft.derive.ntk.variance import ntk_fluctuations
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


def _fit(widths, means, errs):
    """Weighted least squares of means = a + b/n: (a, standard error of a, b)."""
    X = np.column_stack([np.ones(len(widths)), 1.0 / np.asarray(widths, float)])
    w = 1.0 / np.asarray(errs) ** 2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    a, b = cov @ (X.T @ (w * np.asarray(means)))
    return a, math.sqrt(cov[0, 0]), b


def _gauss(f, K):
    from scipy.integrate import quad

    def density(u):
        return f(u) * math.exp(-u * u / (2 * K)) / math.sqrt(2 * math.pi * K)

    return quad(density, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize(
    "act, phi, dphi",
    [
        ("tanh", math.tanh, lambda u: 1 - math.tanh(u) ** 2),
        ("sin", math.sin, math.cos),
    ],
)
def test_layer_two_by_quadrature(act, phi, dphi):
    cw, cb, q0, lb, lw = 1.4, 0.2, 0.9, 0.6, 1.3
    K1, H1 = cb + cw * q0, lb + lw * q0

    def summand(u):
        return lw * phi(u) ** 2 + cw * H1 * dphi(u) ** 2

    A = _gauss(lambda u: summand(u) ** 2, K1) - _gauss(summand, K1) ** 2
    B = cw**2 * H1**2 * _gauss(lambda u: dphi(u) ** 4, K1)
    row = ntk_fluctuations(Network("feedforward", act, cw, cb, q0=q0), 2, lb, lw)[1]
    assert row["A"] == pytest.approx(A, rel=1e-10)
    assert row["B"] == pytest.approx(B, rel=1e-10)
    assert row["ntk_variance"] == pytest.approx(A + 2 * B, rel=1e-10)


def test_layer_two_is_exact_at_width_four():
    net = Network("feedforward", "tanh", 1.5, 0.1, width=4, depth=2)
    theory = ntk_fluctuations(net)[1]
    sim = empirical_ntk(net, 20000, seed=8)[1]
    n = 4
    assert abs(n * sim["variance"] - theory["ntk_variance"]) < 3 * n * sim["variance_stderr"]
    assert (
        abs(n * sim["diagonal_covariance"] - theory["A"])
        < 3 * n * sim["diagonal_covariance_stderr"]
    )
    assert (
        abs(n * sim["offdiagonal_variance"] - theory["B"])
        < 3 * n * sim["offdiagonal_variance_stderr"]
    )


@pytest.mark.parametrize("act", ["tanh", "relu", "erf", "gelu"])
def test_the_vertex_is_that_of_the_finite_width_recursions(act):
    net = Network("feedforward", act, 1.6, 0.15, q0=1.2)
    ours = ntk_fluctuations(net, 6)
    theirs = finite_width(net, 6)
    for a, b in zip(ours, theirs):
        assert a["V"] == pytest.approx(b["V"], rel=1e-9, abs=1e-14)
        assert a["K"] == pytest.approx(b["K0"], rel=1e-10)


def _check(net, widths, samples, keys, seed=3):
    theory = ntk_fluctuations(net)
    runs = [empirical_ntk(net.replace(width=n), m, seed=seed + n) for n, m in zip(widths, samples)]
    for layer in range(1, int(net.depth)):
        for key, what in keys:
            values = [n * run[layer][key] for n, run in zip(widths, runs)]
            errs = [n * run[layer][key + "_stderr"] for n, run in zip(widths, runs)]
            a, err, _ = _fit(widths, values, errs)
            want = theory[layer][what]
            assert abs(a - want) < 3 * err, f"layer {layer + 1} {key}: {want} vs {a} +- {err}"
            assert err < 0.15 * abs(want), "the check must be able to fail"


def test_linear_net_variance_against_monte_carlo_small_widths():
    net = Network("feedforward", "linear", 1.0, 0.0, depth=3)
    _check(net, (8, 16, 32), (3000, 2000, 1000), [("variance", "ntk_variance")])


ALL = [("variance", "ntk_variance"), ("offdiagonal_variance", "B"), ("diagonal_covariance", "A")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "net, keys",
    [
        (Network("feedforward", "relu", 2.0, 0.2, depth=4), ALL),
        (Network("feedforward", "linear", 1.0, 0.0, depth=4), ALL),
        (Network("feedforward", "tanh", 1.5, 0.1, depth=4), ALL[:1]),
    ],
    ids=["relu", "linear", "tanh"],
)
def test_variance_against_monte_carlo(net, keys):
    _check(net, (16, 32, 64, 128), (3000, 2000, 1500, 1000), keys)


def test_refused():
    with pytest.raises(InvalidParameter, match="feedforward"):
        ntk_fluctuations(Network("recurrent", "tanh", 1.0, 0.0), 3)
    with pytest.raises(InvalidParameter, match="numbers"):
        ntk_fluctuations(Network("feedforward", "tanh"), 3)
    with pytest.raises(InvalidParameter):
        ntk_fluctuations(Network("feedforward", "linear", 1e200, 0.0), 6)
