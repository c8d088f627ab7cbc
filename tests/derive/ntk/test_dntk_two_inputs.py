"""PDLT's dNTK statistics P_{a0a1a2a3}, Q_{a0a1a2a3} for two inputs: the one-input values on the
diagonal, the symmetries, and Monte Carlo of real networks (the empirical dNTK by finite
differences of the two-input NTK, derive/montecarlo/dntk.py) at one width (layer 2, exact at
every width) and fitted over widths (layer 3), for tanh and ReLU."""

import numpy as np
import pytest

from nnqft.derive.montecarlo.dntk import empirical_dntk
from nnqft.derive.ntk.dntk import dntk_statistics
from nnqft.derive.ntk.dntk_two_inputs import component_keys, dntk_two_input_statistics
from nnqft.errors import InvalidParameter
from nnqft.rules.network import Network

QUADS = list(np.ndindex(2, 2, 2, 2))


@pytest.mark.parametrize("act, sw, sb, c0", [("tanh", 1.5, 0.05, 0.5), ("relu", 2.0, 0.1, 0.5),
                                             ("gelu", 1.5, 0.05, -0.3), ("erf", 2.0, 0.0, 0.5),
                                             ("linear", 1.0, 0.3, -0.3)])  # fmt: skip
def test_equal_indices_are_the_one_input_values(act, sw, sb, c0):
    net = Network("feedforward", act, sw, sb)
    one = dntk_statistics(net, 4, 0.7, 1.3)
    two = dntk_two_input_statistics(net, c0, 4, lambda_b=0.7, lambda_W=1.3)
    for t, o in zip(two, one):
        for key in ("P", "Q"):
            for a in (0, 1):
                v = np.array(t[key])[a, a, a, a]
                assert v == pytest.approx(o[key], rel=1e-10, abs=1e-12), (key, t["layer"])


def test_identical_inputs_and_the_limit():
    net = Network("feedforward", "tanh", 1.5, 0.05)
    one = dntk_statistics(net, 4)
    same = dntk_two_input_statistics(net, 1.0, 4)
    near = dntk_two_input_statistics(net, 0.99999, 4)
    for s, m, o in zip(same, near, one):
        for key in ("P", "Q"):
            assert np.all(np.array(s[key]) == o[key])
            # every component tends to the one-input value as c0 -> 1
            assert np.allclose(np.array(m[key]), o[key], rtol=2e-4, atol=1e-12)


def test_symmetries():
    net = Network("feedforward", "tanh", 1.5, 0.05)
    for r in dntk_two_input_statistics(net, 0.3, 4, lambda_b=0.4):
        P, Q = np.array(r["P"]), np.array(r["Q"])
        # dH symmetric under (i1, a1) <-> (i2, a2): P_{a0a1a2a3} = P_{a0a2a1a3}
        assert np.array_equal(P, P.transpose(0, 2, 1, 3))
        # the two inputs have the same norm: relabelling 1 <-> 2
        for T in (P, Q):
            assert np.allclose(T, T[::-1, ::-1, ::-1, ::-1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ["tanh", "erf"])
def test_odd_phi_without_bias_flips_odd_components(act):
    # x2 -> -x2 with phi odd, no bias and lambda_b = 0 (the bias gradients give H_12 a part
    # that does not flip): z_;2 -> -z_;2 at every layer, so a component changes sign with
    # the number of indices 2 among a0 a1 a2 a3
    net = Network("feedforward", act, 2.0, 0.0)
    plus = dntk_two_input_statistics(net, 0.4, 3, lambda_b=0.0)
    minus = dntk_two_input_statistics(net, -0.4, 3, lambda_b=0.0)
    sign = np.array([(-1) ** sum(q) for q in QUADS]).reshape(2, 2, 2, 2)
    for p, m in zip(plus, minus):
        for key in ("P", "Q"):
            a, b = np.array(p[key]), sign * np.array(m[key])
            assert np.allclose(a, b, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(a).max()))
    assert np.abs(np.array(plus[-1]["P"])[0, 0, 0, 1]) > 0.05  # not trivially zero


def test_errors():
    with pytest.raises(InvalidParameter):
        dntk_two_input_statistics(Network("recurrent", "tanh", 1.5, 0.1, bias="shared"), 0.5, 3)
    with pytest.raises(InvalidParameter, match="degenerate"):
        dntk_two_input_statistics(Network("feedforward", "tanh", 1.5, 0.0), -1.0, 3)
    with pytest.raises(InvalidParameter):
        dntk_two_input_statistics(Network("feedforward", "tanh", 1.5, 0.1), 1.5, 3)
    with pytest.raises(InvalidParameter):
        empirical_dntk(Network("feedforward", "tanh", 1.5, 0.1, width=4, depth=2), 10, c0=2.0)


#: mixed components checked against Monte Carlo (a0 a1 a2 a3, inputs 1-based)
MIXED = ("1111", "1212", "1221", "1122", "2111", "1112", "2221")


def _check(value, se, theory, what):
    for key in MIXED:
        q = tuple(int(c) - 1 for c in key)
        assert abs(value[q] - theory[q]) < 3 * se[q], (what, key, value[q], se[q], theory[q])


@pytest.mark.parametrize("act, sw, sb", [("tanh", 1.5, 0.05), ("relu", 2.0, 0.1)])
def test_layer_two_at_one_width(act, sw, sb):
    # layer 2 is exact at every width (z(1) Gaussian, H(1) constant).  ReLU's mixed
    # components have phi'' = delta(u_1) with u_2 elsewhere; the dNTK, a derivative within
    # each network's linear piece, does not see it (with it, P_1221 would be 4.31, not 2.74)
    net = Network("feedforward", act, sw, sb, width=8, depth=2)
    theory = dntk_two_input_statistics(net, 0.3, 2)[1]
    sim = empirical_dntk(net, 8000, c0=0.3, seed=11)[1]
    for key in ("P", "Q"):
        _check(sim[key], sim[key + "_stderr"], np.array(theory[key]), key)


def _fit(net, c0, depth, widths, samples, seed):
    """n E[dH z] at each width fitted by P + c1/n, component by component: the layer-`depth`
    values at 1/n -> 0 and their standard errors."""
    X = np.array([[1.0, 1.0 / n] for n in widths])
    ys = {"P": [], "Q": []}
    es = {"P": [], "Q": []}
    for i, n in enumerate(widths):
        sim = empirical_dntk(net.replace(width=n, depth=depth), samples, c0=c0, seed=seed + i)
        for key in ys:
            ys[key].append(sim[-1][key])
            es[key].append(sim[-1][key + "_stderr"])
    out = {}
    for key in ys:
        Y, E = np.array(ys[key]), np.array(es[key])
        beta, se = np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 2, 2))
        for q in QUADS:
            wt = 1 / E[(slice(None), *q)] ** 2
            cov = np.linalg.inv(X.T @ (wt[:, None] * X))
            beta[q] = (cov @ X.T @ (wt * Y[(slice(None), *q)]))[0]
            se[q] = np.sqrt(cov[0, 0])
        out[key] = (beta, se)
    return out


def test_tanh_layer_three_against_monte_carlo():
    # layer 3, where R(2), B(2) and the propagation of P(2), Q(2) first enter with mixed
    # indices; widths 8, 16, 32, 2000 networks each: P_2111 = -2.10 is ~20 standard errors
    # from 0, Q_1221 = +0.83 has the sign opposite to the diagonal's; about 5 s
    net = Network("feedforward", "tanh", 1.5, 0.05)
    theory = dntk_two_input_statistics(net, 0.3, 3)[2]
    fit = _fit(net, 0.3, 3, (8, 16, 32), 2000, seed=50)
    for key in ("P", "Q"):
        _check(*fit[key], np.array(theory[key]), (key, 3))


@pytest.mark.slow
def test_relu_layer_three_against_monte_carlo():
    # critical ReLU (2, 0.1), c0 = 0.3: P_1221(3) = 11.9, Q_1122(3) = 5.9; widths 8, 16, 32,
    # 2000 networks each; about 12 s
    net = Network("feedforward", "relu", 2.0, 0.1)
    theory = dntk_two_input_statistics(net, 0.3, 3)[2]
    fit = _fit(net, 0.3, 3, (8, 16, 32), 2000, seed=50)
    for key in ("P", "Q"):
        _check(*fit[key], np.array(theory[key]), (key, 3))


def test_component_keys():
    assert component_keys()[0] == "1111" and component_keys()[-1] == "2222"
    assert len(set(component_keys())) == 16


@pytest.mark.slow
def test_tanh_layer_four_against_monte_carlo():
    # layer 4, where R(2)'s off-diagonal (Stein) part and the propagated P(3), Q(3) enter;
    # widths 16, 32, 64 (width 8 carries large 1/n^2 terms here), 3000 networks each: at
    # n = 64 alone P_1112 = -1.62 +- 0.28 on -1.64 and Q_1221 = 1.24 +- 0.17 on 1.15;
    # about 25 s
    net = Network("feedforward", "tanh", 1.5, 0.05)
    theory = dntk_two_input_statistics(net, 0.3, 4)[3]
    fit = _fit(net, 0.3, 4, (16, 32, 64), 3000, seed=60)
    for key in ("P", "Q"):
        _check(*fit[key], np.array(theory[key]), (key, 4))
