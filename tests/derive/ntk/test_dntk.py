"""PDLT's dNTK statistics P and Q: closed forms of linear nets, layer 2 exactly at every
width, and Monte Carlo of real networks (the empirical dNTK by finite differences of the
NTK, derive/montecarlo/dntk.py) at several widths, the 1/n coefficient fitted."""

import numpy as np
import pytest
from scipy.integrate import quad

from nnqft.derive.montecarlo.dntk import empirical_dntk
from nnqft.derive.ntk.dntk import dntk_statistics
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


@pytest.mark.parametrize("lw, q0", [(1.0, 1.0), (0.5, 2.0), (3.0, 0.3)])
def test_linear_closed_form(lw, q0):
    # C_b = lambda_b = 0, C_W = 1: K = q0, H(l) = lambda_W q0 l, R(l) = K H(l) + R(l-1), and
    # Q(l+1) = lambda_W R(l) + Q(l) sums to lambda_W^2 q0^2 (L-1) L (L+1)/6; P = 2 Q
    net = Network("feedforward", "linear", 1.0, 0.0, q0=q0)
    rows = dntk_statistics(net, 7, lambda_b=0.0, lambda_W=lw)
    for r in rows:
        L = r["layer"]
        assert r["Q"] == pytest.approx(lw**2 * q0**2 * (L - 1) * L * (L + 1) / 6, rel=1e-12)
        assert r["P"] == pytest.approx(2 * r["Q"], rel=1e-12, abs=1e-15)


def test_layer_two_by_hand():
    # layer 2: z(1) ~ N(0, K1) exactly, H(1) = lambda_b + lambda_W q0 constant, so
    # P(2) = 2 lambda_W C_W H1 <phi^2 phi'^2> + 2 C_W^2 H1^2 <phi phi'^2 phi''> and
    # Q(2) = lambda_W C_W H1 <phi^2 phi'^2> + 2 C_W^2 H1^2 <phi phi'^2 phi''>; ReLU at
    # C_W = 2, C_b = 0, q0 = 1: K1 = 2, H1 = 2, <phi^2 phi'^2> = K1/2 = 1, phi phi'' = 0
    rows = dntk_statistics(Network("feedforward", "relu", 2.0, 0.0), 2)
    assert rows[1]["P"] == pytest.approx(8.0, rel=1e-10)
    assert rows[1]["Q"] == pytest.approx(4.0, rel=1e-10)
    # tanh: the means by quadrature of phi'' itself (not the Stein forms of the module)
    cw, cb, lb, lw = 1.5, 0.05, 0.3, 0.8
    K1, H1 = cb + cw, lb + lw

    def mean(f):  # adaptive quadrature (Gauss-Hermite converges slowly: tanh has poles)
        def g(z):
            return f(np.tanh(z)) * np.exp(-z * z / (2 * K1)) / np.sqrt(2 * np.pi * K1)

        return quad(g, -40, 40, epsabs=1e-14, epsrel=1e-13, limit=200)[0]

    a = mean(lambda t: t**2 * (1 - t**2) ** 2)
    c = mean(lambda t: t * (1 - t**2) ** 2 * (-2 * t * (1 - t**2)))
    rows = dntk_statistics(Network("feedforward", "tanh", cw, cb), 2, lambda_b=lb, lambda_W=lw)
    assert rows[1]["P"] == pytest.approx(2 * lw * cw * H1 * a + 2 * cw**2 * H1**2 * c, rel=1e-9)
    assert rows[1]["Q"] == pytest.approx(lw * cw * H1 * a + 2 * cw**2 * H1**2 * c, rel=1e-9)


def test_errors():
    with pytest.raises(InvalidParameter):
        dntk_statistics(Network("recurrent", "tanh", 1.5, 0.1, bias="shared"), 3)


def _agree(value, se, prediction, what):
    assert abs(value - prediction) < 3 * se, (what, value, se, prediction)


@pytest.mark.parametrize("act", ["linear", "tanh", "gelu", "swish"])
def test_layer_two_at_one_width(act):
    # layer 2 has no 1/n^2 term (z(1) is exactly Gaussian and H(1) constant): n E[dH z]
    # equals P(2), Q(2) at every width
    net = Network("feedforward", act, 1.5, 0.05, width=8, depth=2)
    theory = dntk_statistics(net, 2)[1]
    sim = empirical_dntk(net, 4000, seed=11)[1]
    _agree(sim["P"], sim["P_stderr"], theory["P"], "P")
    _agree(sim["Q"], sim["Q_stderr"], theory["Q"], "Q")


def _fit(net, depth, widths, samples, seed, terms=2):
    """n E[dH z] at each width fitted by P + c1/n (+ c2/n^2): per layer, for P and Q, the
    fitted 1/n -> 0 value and its standard error."""
    y = {"P": [], "Q": []}
    e = {"P": [], "Q": []}
    for i, n in enumerate(widths):
        sim = empirical_dntk(net.replace(width=n, depth=depth), samples, seed=seed + i)
        for key in y:
            y[key].append([s[key] for s in sim])
            e[key].append([s[key + "_stderr"] for s in sim])
    X = np.array([[n**-p for p in range(terms)] for n in widths], dtype=float)
    out = {}
    for key in y:
        Y, E = np.array(y[key]), np.array(e[key])
        fits = [(0.0, 0.0)]
        for layer in range(1, depth):  # layer 1: dH = 0 exactly, no error to weigh
            wt = 1 / np.maximum(E[:, layer], 1e-300) ** 2
            cov = np.linalg.inv(X.T @ (wt[:, None] * X))
            beta = cov @ X.T @ (wt * Y[:, layer])
            fits.append((beta[0], np.sqrt(cov[0, 0])))
        out[key] = fits
    return out


@pytest.mark.parametrize(
    "act, sw, sb, lb, samples",
    [("linear", 1.0, 0.0, 1.0, 3000), ("tanh", 1.5, 0.05, 1.0, 6000),
     ("gelu", 1.5, 0.05, 1.0, 4000)],
)  # fmt: skip
def test_third_layer_against_monte_carlo(act, sw, sb, lb, samples):
    # layer 3, where the recursion's every term first shows (chi_par chi_perp P(2), R(1),
    # and for Q the B(2) <phi'^2> <phi phi''> of the squared off-diagonal NTK: -0.87 of
    # tanh's Q(3) = -4.16, about 8 standard errors of the fit); widths 8, 16, 32
    net = Network("feedforward", act, sw, sb)
    theory = dntk_statistics(net, 3, lambda_b=lb)
    fit = _fit(net, 3, (8, 16, 32), samples, seed=20)
    for key in ("P", "Q"):  # layer 2 is exact at every width: test_layer_two_at_one_width
        b, se = fit[key][2]
        _agree(b, se, theory[2][key], (key, 3))


@pytest.mark.slow
@pytest.mark.parametrize("act", ["tanh", "gelu"])
def test_fourth_layer_against_monte_carlo(act):
    # layer 4 of tanh and gelu at (1.5, 0.05): 20,000 networks at widths 16, 32, 64, fitted
    # with 1/n and 1/n^2 terms (gelu's corrections are large: n E[dH z] = 24.6 at n = 16 on
    # P(4) = 21.0); about 35 s each
    net = Network("feedforward", act, 1.5, 0.05)
    theory = dntk_statistics(net, 4)
    fit = _fit(net, 4, (16, 32, 64), 20000, seed=30, terms=3)
    for key in ("P", "Q"):
        for r, (b, se) in zip(theory[1:], fit[key][1:]):
            _agree(b, se, r[key], (key, r["layer"]))


def test_relu_layer_two_at_one_width():
    # ReLU: the finite difference is kept within one linear piece (derive/montecarlo/dntk.py)
    net = Network("feedforward", "relu", 2.0, 0.1, width=8, depth=2)
    theory = dntk_statistics(net, 2)[1]
    sim = empirical_dntk(net, 4000, seed=12)[1]
    _agree(sim["P"], sim["P_stderr"], theory["P"], "P")
    _agree(sim["Q"], sim["Q_stderr"], theory["Q"], "Q")


@pytest.mark.slow
def test_relu_layers_three_and_four_against_monte_carlo():
    # critical ReLU (2, 0.1): P(3) = 34.6, P(4) = 89.1; n E[dH z] at width 16 is 39 and 117,
    # so 1/n and 1/n^2 terms are fitted from widths 16, 32, 64; 8,000 networks give the
    # limits to 4-5% (P(3) = 33.3 +- 1.4, P(4) = 88.9 +- 4.7); about 40 s on a loaded machine
    net = Network("feedforward", "relu", 2.0, 0.1)
    theory = dntk_statistics(net, 4)
    fit = _fit(net, 4, (16, 32, 64), 8000, seed=40, terms=3)
    for key in ("P", "Q"):
        for r, (b, se) in zip(theory[2:], fit[key][2:]):
            _agree(b, se, r[key], (key, r["layer"]))
