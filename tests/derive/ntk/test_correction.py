"""The 1/n correction to the mean NTK: known zeros (scale invariance), the K1 of the same
chain against the finite-width recursion, and Monte Carlo of real networks at several
widths (the 1/n coefficient fitted with a 1/n^2 term)."""

import numpy as np
import pytest

from nnqft.derive.finite_width.recursions import finite_width
from nnqft.derive.montecarlo.ntk import empirical_ntk
from nnqft.derive.ntk.correction import ntk_mean_correction
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network


@pytest.mark.parametrize("act", ["linear", "relu"])
@pytest.mark.parametrize("sw, sb", [(2.0, 0.0), (1.3, 0.4), (0.7, 1.0)])
def test_no_correction_for_scale_invariant_activations(act, sw, sb):
    rows = ntk_mean_correction(Network("feedforward", act, sw, sb), 8, lambda_b=0.5, lambda_W=2)
    assert all(abs(r["ntk_correction"]) < 1e-12 * max(1.0, r["ntk"]) for r in rows)


@pytest.mark.parametrize("act", ["tanh", "erf", "gelu", "sin"])
def test_first_two_layers_exact_and_k1_is_the_recursions(act):
    net = Network("feedforward", act, 1.7, 0.1)
    rows = ntk_mean_correction(net, 6)
    assert rows[0]["ntk_correction"] == 0 and rows[1]["ntk_correction"] == 0
    assert any(abs(r["ntk_correction"]) > 1e-3 for r in rows[2:])
    ref = finite_width(net, 6)
    for r, f in zip(rows, ref):
        assert r["K1"] == pytest.approx(f["K1"], rel=1e-9, abs=1e-12)


def test_errors():
    with pytest.raises(InvalidParameter):
        ntk_mean_correction(Network("recurrent", "tanh", 1.5, 0.1, bias="shared"), 3)


def _fitted_coefficient(net, depth, widths, samples, H):
    """The 1/n coefficient of E H_ii - H at each layer, fitted over ``widths`` with a 1/n^2
    term (H known exactly), and its standard error."""
    y, e = [], []
    for i, n in enumerate(widths):
        sim = empirical_ntk(net.replace(width=n, depth=depth), samples, outputs=8, seed=40 + i)
        y.append([s["ntk"] for s in sim])
        e.append([s["ntk_stderr"] for s in sim])
    y, e = np.array(y), np.array(e)
    X = np.array([[1 / n, 1 / n**2] for n in widths])
    out = []
    for layer in range(depth):
        w = 1 / np.maximum(e[:, layer], 1e-300) ** 2
        A = X.T @ (w[:, None] * X)
        cov = np.linalg.inv(A)
        beta = cov @ X.T @ (w * (y[:, layer] - H[layer]))
        out.append((beta[0], np.sqrt(cov[0, 0])))
    return out


@pytest.mark.slow
def test_against_monte_carlo_of_real_networks():
    # swish at (2, 0.2): a large correction (H1(5) = 9.35 on H = 6.39), resolved by 20,000
    # networks at each of widths 16, 32, 64 (about 15 s)
    net = Network("feedforward", "swish", 2.0, 0.2)
    depth = 5
    rows = ntk_mean_correction(net, depth)
    H = [r["ntk"] for r in rows]
    fit = _fitted_coefficient(net, depth, (16, 32, 64), 20000, H)
    for r, (b, se) in zip(rows[2:], fit[2:]):
        assert abs(b - r["ntk_correction"]) < 3 * se, (r["layer"], b, se, r["ntk_correction"])
    # the deepest layer's correction is resolved: it is not consistent with zero
    b, se = fit[-1]
    assert b > 3 * se


@pytest.mark.slow
@pytest.mark.parametrize(
    "act, sw, sb", [("swish", 1.0, 0.0), ("gelu", 1.0, 0.0), ("tanh", 3.0, 0.5),
                    ("erf", 3.0, 0.5), ("relu", 2.0, 0.1)],
)  # fmt: skip
def test_first_corrected_layer_against_monte_carlo(act, sw, sb):
    # layer 3, the first with a correction, where the 1/n^2 terms are small: n (E H - H)
    # at widths 16 and 32 (50,000 networks each), weighted, within 3 standard errors of H1
    net = Network("feedforward", act, sw, sb)
    row = ntk_mean_correction(net, 3)[2]
    values, weights = [], []
    for i, n in enumerate((16, 32)):
        sim = empirical_ntk(net.replace(width=n, depth=3), 50000, outputs=8, seed=70 + i)[2]
        values.append(n * (sim["ntk"] - row["ntk"]))
        weights.append(1 / (n * sim["ntk_stderr"]) ** 2)
    mean = np.average(values, weights=weights)
    se = 1 / np.sqrt(sum(weights))
    assert abs(mean - row["ntk_correction"]) < 3 * se, (mean, se, row["ntk_correction"])
