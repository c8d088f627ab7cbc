"""Mean-field maps, chi's, fixed points: each checked by a second, independent route."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from nnqft.derive import mft
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm
from nnqft.rules import symbols as S
from nnqft.rules.activations import gaussian_kernel, get_activation
from nnqft.rules.network import Network

REFERENCE = json.loads(
    (Path(__file__).resolve().parents[3] / "shared" / "reference" / "values.json").read_text()
)["mft"]

CLOSED_FORM = ["linear", "relu", "leaky_relu(0.2)", "erf", "sin", "cos", "gelu"]
RNG = np.random.default_rng(20260)


def _net(act, sw=1.7, sb=0.15, **kw):
    return Network("feedforward", act, sigma_w2=sw, sigma_b2=sb, **kw)


# --- maps: closed form against quadrature ------------------------------------------------


@pytest.mark.parametrize("act", CLOSED_FORM)
def test_maps_and_chis_closed_form_equal_quadrature(act):
    net = _net(act)
    qs = RNG.uniform(0.05, 3.0, 6)
    c = RNG.uniform(-0.95, 0.95, 6)
    for fn, args in [
        (mft.length_map, (qs,)),
        (mft.chi_1, (qs,)),
        (mft.chi_parallel, (qs,)),
        (mft.chi_c, (qs, c)),
        (mft.correlation_map, (qs, qs[::-1], c * np.sqrt(qs * qs[::-1]))),
    ]:
        exact = fn(net, *args)
        quad = fn(net, *args, nodes=201)
        np.testing.assert_allclose(exact, quad, rtol=0, atol=1e-10, err_msg=fn.__name__)


def test_gelu_closed_form_kernels_equal_quadrature():
    """GELU's kernels (derived via Stein's lemma and Price's theorem) vs 201x201 Gauss-Hermite."""
    act = get_activation("gelu")
    v1, v2 = RNG.uniform(0.01, 4.0, 40), RNG.uniform(0.01, 4.0, 40)
    cov = RNG.uniform(-1, 1, 40) * np.sqrt(v1 * v2)
    cov[:2] = np.sqrt(v1[:2] * v2[:2]) * np.array([1.0, -1.0])  # the edges c = +-1
    for k in (0, 1):
        exact = gaussian_kernel(act, v1, v2, cov, derivative=k)
        quad = gaussian_kernel(act, v1, v2, cov, derivative=k, nodes=201)
        np.testing.assert_allclose(exact, quad, rtol=0, atol=1e-10)
    # Price's theorem on the symbolic kernels: d/dq12 E[phi phi] = E[phi' phi']
    assert sp.simplify(sp.diff(act.kernel, S.q12) - act.derivative_kernel) == 0


@pytest.mark.parametrize("act", ["tanh", "erf", "gelu", "swish", "sin"])
def test_chi_parallel_is_the_slope_of_the_length_map(act):
    """chi_parallel = d(length map)/dq, checked by a central finite difference."""
    net = _net(act)
    nodes = None if act in CLOSED_FORM else 401  # 201 Gauss-Hermite nodes: ~1e-8 at q = 2.5
    for q in (0.2, 0.9, 2.5):
        h = 1e-3  # five-point stencil: truncation O(h^4), quadrature noise / h small
        f = [mft.length_map(net, q + k * h, nodes=nodes) for k in (-2, -1, 1, 2)]
        slope = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)
        assert mft.chi_parallel(net, q, nodes=nodes) == pytest.approx(slope, abs=1e-9)


@pytest.mark.parametrize("act", ["tanh", "erf", "relu", "gelu"])
def test_chi_c_is_the_slope_of_the_correlation_map(act):
    """Price's theorem: d q12'/d q12 = sigma_w2 E[phi' phi'] = chi_c."""
    net = _net(act)
    q = 0.8
    for c in (-0.5, 0.1, 0.7):
        h = 1e-6
        up = mft.correlation_map(net, q, q, q * (c + h))
        down = mft.correlation_map(net, q, q, q * (c - h))
        assert mft.chi_c(net, q, c) == pytest.approx((up - down) / (2 * h * q), abs=1e-7)


def test_chi_c_at_c_one_is_chi_1():
    net = _net("tanh")
    q = np.array([0.0, 0.3, 1.2])
    np.testing.assert_allclose(mft.chi_c(net, q, 1.0), mft.chi_1(net, q), rtol=1e-14)


def test_tanh_length_map_against_monte_carlo():
    """An independent route for the quadrature: sample u ~ N(0, q) (seeded, 10^6 draws)."""
    net = _net("tanh", sw=1.5, sb=0.05)
    u = np.sqrt(0.7) * np.random.default_rng(1).standard_normal(1_000_000)
    sample = 1.5 * np.tanh(u) ** 2 + 0.05
    se = sample.std() / math.sqrt(u.size)
    assert abs(mft.length_map(net, 0.7) - sample.mean()) < 4 * se


# --- symbolic routes ------------------------------------------------------------------


def test_symbolic_length_map_and_chi_1():
    relu = Network("feedforward", "relu")
    assert sp.simplify(mft.length_map(relu, S.q) - (S.sigma_b2 + S.sigma_w2 * S.q / 2)) == 0
    assert sp.simplify(mft.chi_1(relu, S.q) - S.sigma_w2 / 2) == 0
    erf = Network("feedforward", "erf")
    expected = 4 * S.sigma_w2 / (sp.pi * sp.sqrt(1 + 4 * S.q))
    assert sp.simplify(mft.chi_1(erf, S.q) - expected) == 0
    lin = Network("feedforward", "linear")
    assert mft.chi_parallel(lin, S.q) == S.sigma_w2


@pytest.mark.parametrize("act", CLOSED_FORM)
def test_symbolic_and_numeric_routes_agree(act):
    sym = Network("feedforward", act)
    num = _net(act, sw=1.3, sb=0.2)
    values = {S.sigma_w2: 1.3, S.sigma_b2: 0.2, S.q: 0.7}
    for fn in (mft.length_map, mft.chi_1, mft.chi_parallel):
        expr = fn(sym, S.q)
        assert expr.free_symbols <= {S.sigma_w2, S.sigma_b2, S.q}
        assert float(expr.subs(values)) == pytest.approx(float(fn(num, 0.7)), abs=1e-12)
    c = sp.Symbol("c")
    expr = mft.chi_c(sym, S.q, c)
    assert float(expr.subs(values).subs(c, 0.3)) == pytest.approx(
        float(mft.chi_c(num, 0.7, 0.3)), abs=1e-12
    )
    expr = mft.correlation_map(sym, S.q11, S.q22, S.q12)
    point = {S.sigma_w2: 1.3, S.sigma_b2: 0.2, S.q11: 0.7, S.q22: 1.1, S.q12: 0.4}
    assert float(expr.subs(point)) == pytest.approx(
        float(mft.correlation_map(num, 0.7, 1.1, 0.4)), abs=1e-12
    )


def test_symbolic_without_closed_form_raises():
    with pytest.raises(NoExactForm, match="tanh.*no closed-form"):
        mft.length_map(Network("feedforward", "tanh"), S.q)
    with pytest.raises(NoExactForm):
        mft.chi_1(_net("swish"), S.q)


def test_bad_inputs():
    net = _net("tanh")
    with pytest.raises(InvalidParameter, match="non-negative"):
        mft.length_map(net, -1.0)
    with pytest.raises(InvalidType):
        mft.length_map(net, "one")
    with pytest.raises(InvalidParameter, match="covariance"):
        mft.correlation_map(net, 1.0, 1.0, 2.0)
    with pytest.raises(InvalidParameter, match=r"\[-1, 1\]"):
        mft.chi_c(net, 1.0, 1.5)
    with pytest.raises(InvalidType, match="Network"):
        mft.length_map("tanh", 1.0)


# --- trajectories ---------------------------------------------------------------------


def test_linear_q_trajectory_closed_form():
    """PHYSICS.md §3: q(t) = sigma_w2^t q0 + sigma_b2 (1 - sigma_w2^t)/(1 - sigma_w2)."""
    sw, sb, q0 = 0.8, 0.3, 2.0
    net = Network("feedforward", "linear", sigma_w2=sw, sigma_b2=sb, q0=q0, depth=12)
    t = np.arange(1, 13)
    expected = sw**t * q0 + sb * (1 - sw**t) / (1 - sw)
    np.testing.assert_allclose(mft.q_trajectory(net), expected, rtol=1e-13)


def test_first_layer_does_not_apply_phi():
    for act in ("tanh", "relu", "cos"):
        net = Network("feedforward", act, sigma_w2=1.5, sigma_b2=0.05, q0=2.0, depth=3)
        assert mft.q_trajectory(net)[0] == pytest.approx(1.5 * 2.0 + 0.05)


def test_correlation_trajectory_relu_arccos():
    """ReLU at sigma_b2 = 0: c' = (sqrt(1 - c^2) + (pi - acos c) c)/pi independent of q."""
    net = Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0, depth=5)
    q11, q22, q12, c = mft.correlation_trajectory(net, 0.2)
    expected = [0.2]
    for _ in range(4):
        x = expected[-1]
        expected.append((math.sqrt(1 - x * x) + (math.pi - math.acos(x)) * x) / math.pi)
    np.testing.assert_allclose(c, expected, rtol=1e-12)
    np.testing.assert_allclose(q11, 2.0, rtol=1e-14)


@pytest.mark.parametrize("module", ["nnqft.derive.mft", "nnqft.derive.phase"])
def test_docstring_examples(module):
    """tests/test_doctests.py walks nnqft/ only; run this package's examples here."""
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0
