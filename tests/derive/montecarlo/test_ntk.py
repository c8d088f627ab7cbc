"""The empirical NTK: its backpropagation against finite differences, its statistics against
the infinite-width theory of nnqft.derive.ntk.

Routes: (1) on tiny networks, the Jacobian of every layer's outputs with respect to every
parameter by central finite differences of a forward pass written out here, contracted as
J Lambda J^T, against :func:`network_ntk`; (2) the mean NTK of real random networks at
several widths, fitted as a + b/n by weighted least squares, against the infinite-width
recursion of :func:`nnqft.derive.ntk.ntk_trajectory`: |a - H| < 3 standard errors of a.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnqft.derive.montecarlo.ntk import draw_parameters, empirical_ntk, network_ntk
from nnqft.derive.ntk import ntk_trajectory
from nnqft.errors import InvalidParameter
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network

# --- (1) backpropagation against finite differences ------------------------------------------


def _outputs(theta, shapes, x, arch, bias, depth):
    """z(l) for l = 1..depth, (depth, P, n), of one network given its flat parameter vector."""
    sizes = [int(np.prod(s)) for s in shapes]
    W, b = (a.reshape(s) for a, s in zip(np.split(theta, np.cumsum(sizes)[:-1]), shapes))
    out, h = [], x  # x: (P, n)
    for layer in range(depth):
        Wl = W if arch == "recurrent" else W[layer]
        bl = b if bias == "shared" else b[layer]
        z = np.array([Wl @ h[p] + bl for p in range(len(h))])
        out.append(z)
        h = np.tanh(z)
    return np.array(out)


@pytest.mark.parametrize("arch, bias", [("feedforward", None), ("recurrent", "shared"),
                                        ("recurrent", "fresh")])  # fmt: skip
def test_backpropagation_against_finite_differences(arch, bias):
    n, depth, lb, lw = 3, 3, 0.7, 1.3
    net = Network(arch, "tanh", 1.8, 0.3, width=n, depth=depth, bias=bias)
    rng = np.random.default_rng(5)
    weights, biases, x = draw_parameters(net, 1, rng, inputs=2, c0=0.3)
    ours = network_ntk(weights, biases, x, get_activation("tanh"), arch=arch, bias=bias,
                       depth=depth, lambda_b=lb, lambda_W=lw)  # fmt: skip
    shapes = [weights.shape[1:], biases.shape[1:]]
    theta = np.concatenate([weights[0].ravel(), biases[0].ravel()])
    rates = np.concatenate([np.full(weights[0].size, lw / n), np.full(biases[0].size, lb)])
    eps = 1e-6
    J = np.empty((theta.size, depth, 2, n))
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = eps
        up = _outputs(theta + step, shapes, x[0], arch, bias, depth)
        down = _outputs(theta - step, shapes, x[0], arch, bias, depth)
        J[k] = (up - down) / (2 * eps)
    by_differences = np.einsum("klpi,k,klqj->lpqij", J, rates, J)
    assert np.allclose(ours["ntk"][0], by_differences, rtol=1e-7, atol=1e-9)
    if arch == "recurrent":  # the t != s terms are part of it, and not zero on a network
        assert np.abs(ours["cross_time"][0, -1]).max() > 1e-3


def test_layer_one_is_exact_and_the_block_is_symmetric():
    net = Network("feedforward", "relu", 2.0, 0.5, width=6, depth=2, q0=1.5)
    weights, biases, x = draw_parameters(net, 4, np.random.default_rng(0), inputs=2, c0=-0.4)
    H = network_ntk(weights, biases, x, net.activation, lambda_b=0.3, lambda_W=2.0)["ntk"]
    # H_ij(1; a, b) = d_ij (lambda_b + lambda_W x_a.x_b/n) for every network
    gram = np.array([[1.5, -0.6], [-0.6, 1.5]])
    expect = (0.3 + 2.0 * gram)[None, :, :, None, None] * np.eye(6)
    assert np.allclose(H[:, 0], expect, rtol=1e-12, atol=1e-12)
    assert np.allclose(
        H, np.swapaxes(np.swapaxes(H, 2, 3), 4, 5), rtol=1e-12
    )  # H_ij(a,b) = H_ji(b,a)


# --- (2) the mean NTK against the infinite-width recursion ---------------------------------


def _fit(widths, means, errs):
    """Weighted least squares of means = a + b/n: (a, standard error of a, b)."""
    X = np.column_stack([np.ones(len(widths)), 1.0 / np.asarray(widths, float)])
    w = 1.0 / np.asarray(errs) ** 2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    a, b = cov @ (X.T @ (w * np.asarray(means)))
    return a, math.sqrt(cov[0, 0]), b


def _check_against_theory(net, widths, samples, c0=None, entry=(0, 0), seed=11, **rates):
    theory = ntk_trajectory(net, c0=c0, **rates)
    runs = [
        empirical_ntk(net.replace(width=n), m, c0=c0, seed=seed + n, **rates)
        for n, m in zip(widths, samples)
    ]
    report = []
    for layer in range(1, int(net.depth)):  # layer 1 is exact at every width

        def pick(v):
            return v if c0 is None else v[entry[0]][entry[1]]

        means = [pick(run[layer]["ntk"]) for run in runs]
        errs = [pick(run[layer]["ntk_stderr"]) for run in runs]
        a, err, b = _fit(widths, means, errs)
        H = pick(theory[layer]["ntk"])
        report.append((layer + 1, H, a, err, b))
        assert abs(a - H) < 3 * err, f"layer {layer + 1}: theory {H}, fit {a} +- {err}"
        assert err < 0.03 * abs(H), "the check must be able to fail"
    return report


def test_mean_ntk_approaches_the_infinite_width_value_small_widths():
    net = Network("feedforward", "tanh", 1.5, 0.1, depth=3)
    _check_against_theory(net, (8, 16, 32, 64), (1500, 800, 400, 200), lambda_b=0.5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "net, c0, entry",
    [
        (Network("feedforward", "tanh", 1.5, 0.1, depth=4), None, (0, 0)),
        (Network("feedforward", "relu", 2.0, 0.2, depth=4), 0.5, (0, 1)),
        (Network("recurrent", "erf", 1.8, 0.1, depth=4, bias="shared"), None, (0, 0)),
        (Network("recurrent", "tanh", 1.5, 0.1, depth=4, bias="fresh"), 0.3, (0, 1)),
    ],
    ids=["tanh", "relu-two-inputs", "recurrent-shared", "recurrent-fresh-two-inputs"],
)
def test_mean_ntk_at_widths_32_to_512(net, c0, entry):
    _check_against_theory(net, (32, 64, 128, 256, 512), (400, 200, 100, 60, 40), c0=c0,
                          entry=entry)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("bias", ["shared", "fresh"])
def test_cross_time_terms_of_recurrent_nets_vanish_at_infinite_width(bias):
    """The t != s terms of backpropagation through time: a + b/n with a = 0 (kernel.py)."""
    net = Network("recurrent", "tanh", 1.5, 0.2, depth=4, bias=bias)
    widths, samples = (48, 96, 192, 384), (600, 300, 150, 80)
    runs = [empirical_ntk(net.replace(width=n), m, seed=3 + n) for n, m in zip(widths, samples)]
    for layer in (2, 3):
        means = [run[layer]["cross_time"] for run in runs]
        errs = [run[layer]["cross_time_stderr"] for run in runs]
        a, err, _ = _fit(widths, means, errs)
        assert abs(a) < 3 * err, (layer, a, err)


def test_off_diagonal_mean_is_zero_and_layers_are_reported():
    net = Network("feedforward", "erf", 1.2, 0.1, width=16, depth=3)
    rows = empirical_ntk(net, 300, seed=4)
    assert [r["layer"] for r in rows] == [1, 2, 3]
    for r in rows[1:]:
        assert abs(r["offdiagonal"]) < 4 * r["offdiagonal_stderr"] + 1e-12
        assert r["variance"] > 0 and r["cross_time"] is None


def test_same_seed_same_numbers_and_bad_input():
    net = Network("feedforward", "tanh", 1.5, 0.1, width=5, depth=2)
    assert empirical_ntk(net, 10, seed=2) == empirical_ntk(net, 10, seed=2)
    with pytest.raises(InvalidParameter):
        empirical_ntk(net, 1)
    with pytest.raises(InvalidParameter):
        empirical_ntk(net, 10, c0=1.5)
    with pytest.raises(InvalidParameter):
        empirical_ntk(net, 10, lambda_b=-1)
    with pytest.raises(InvalidParameter):
        empirical_ntk(Network("feedforward", "tanh", 1.5, 0.1, depth=2), 10)  # symbolic width
