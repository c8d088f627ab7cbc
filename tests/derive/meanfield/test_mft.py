"""Mean-field maps, chi's, fixed points: each checked by a second, independent route."""

import math

import numpy as np
import pytest
import sympy as sp
from conftest import reference_values
from hypothesis import given
from hypothesis import strategies as st

from nnqft.derive import meanfield
from nnqft.derive.gaussian import gaussian_kernel
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network

REFERENCE = reference_values("mft")

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
        (meanfield.length_map, (qs,)),
        (meanfield.chi_1, (qs,)),
        (meanfield.chi_parallel, (qs,)),
        (meanfield.chi_c, (qs, c)),
        (meanfield.correlation_map, (qs, qs[::-1], c * np.sqrt(qs * qs[::-1]))),
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
        f = [meanfield.length_map(net, q + k * h, nodes=nodes) for k in (-2, -1, 1, 2)]
        slope = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)
        assert meanfield.chi_parallel(net, q, nodes=nodes) == pytest.approx(slope, abs=1e-9)


@pytest.mark.parametrize("act", ["tanh", "erf", "relu", "gelu"])
def test_chi_c_is_the_slope_of_the_correlation_map(act):
    """Price's theorem: d q12'/d q12 = sigma_w2 E[phi' phi'] = chi_c."""
    net = _net(act)
    q = 0.8
    for c in (-0.5, 0.1, 0.7):
        h = 1e-6
        up = meanfield.correlation_map(net, q, q, q * (c + h))
        down = meanfield.correlation_map(net, q, q, q * (c - h))
        assert meanfield.chi_c(net, q, c) == pytest.approx((up - down) / (2 * h * q), abs=1e-7)


def test_chi_c_at_c_one_is_chi_1():
    net = _net("tanh")
    q = np.array([0.0, 0.3, 1.2])
    np.testing.assert_allclose(meanfield.chi_c(net, q, 1.0), meanfield.chi_1(net, q), rtol=1e-14)


def test_tanh_length_map_against_monte_carlo():
    """An independent route for the quadrature: sample u ~ N(0, q) (seeded, 10^6 draws)."""
    net = _net("tanh", sw=1.5, sb=0.05)
    u = np.sqrt(0.7) * np.random.default_rng(1).standard_normal(1_000_000)
    sample = 1.5 * np.tanh(u) ** 2 + 0.05
    se = sample.std() / math.sqrt(u.size)
    assert abs(meanfield.length_map(net, 0.7) - sample.mean()) < 4 * se


# --- symbolic routes ------------------------------------------------------------------


def test_symbolic_length_map_and_chi_1():
    relu = Network("feedforward", "relu")
    assert sp.simplify(meanfield.length_map(relu, S.q) - (S.sigma_b2 + S.sigma_w2 * S.q / 2)) == 0
    assert sp.simplify(meanfield.chi_1(relu, S.q) - S.sigma_w2 / 2) == 0
    erf = Network("feedforward", "erf")
    expected = 4 * S.sigma_w2 / (sp.pi * sp.sqrt(1 + 4 * S.q))
    assert sp.simplify(meanfield.chi_1(erf, S.q) - expected) == 0
    lin = Network("feedforward", "linear")
    assert meanfield.chi_parallel(lin, S.q) == S.sigma_w2


@pytest.mark.parametrize("act", CLOSED_FORM)
def test_symbolic_and_numeric_routes_agree(act):
    sym = Network("feedforward", act)
    num = _net(act, sw=1.3, sb=0.2)
    values = {S.sigma_w2: 1.3, S.sigma_b2: 0.2, S.q: 0.7}
    for fn in (meanfield.length_map, meanfield.chi_1, meanfield.chi_parallel):
        expr = fn(sym, S.q)
        assert expr.free_symbols <= {S.sigma_w2, S.sigma_b2, S.q}
        assert float(expr.subs(values)) == pytest.approx(float(fn(num, 0.7)), abs=1e-12)
    c = sp.Symbol("c")
    expr = meanfield.chi_c(sym, S.q, c)
    assert float(expr.subs(values).subs(c, 0.3)) == pytest.approx(
        float(meanfield.chi_c(num, 0.7, 0.3)), abs=1e-12
    )
    expr = meanfield.correlation_map(sym, S.q11, S.q22, S.q12)
    point = {S.sigma_w2: 1.3, S.sigma_b2: 0.2, S.q11: 0.7, S.q22: 1.1, S.q12: 0.4}
    assert float(expr.subs(point)) == pytest.approx(
        float(meanfield.correlation_map(num, 0.7, 1.1, 0.4)), abs=1e-12
    )


def test_symbolic_without_closed_form_raises():
    with pytest.raises(NoExactForm, match="tanh.*no closed-form"):
        meanfield.length_map(Network("feedforward", "tanh"), S.q)
    with pytest.raises(NoExactForm):
        meanfield.chi_1(_net("swish"), S.q)


def test_bad_inputs():
    net = _net("tanh")
    with pytest.raises(InvalidParameter, match="non-negative"):
        meanfield.length_map(net, -1.0)
    with pytest.raises(InvalidType):
        meanfield.length_map(net, "one")
    with pytest.raises(InvalidParameter, match="covariance"):
        meanfield.correlation_map(net, 1.0, 1.0, 2.0)
    with pytest.raises(InvalidParameter, match=r"\[-1, 1\]"):
        meanfield.chi_c(net, 1.0, 1.5)
    with pytest.raises(InvalidType, match="Network"):
        meanfield.length_map("tanh", 1.0)


# --- trajectories ---------------------------------------------------------------------


def test_linear_q_trajectory_closed_form():
    """docs/conventions.md §3: q(t) = sigma_w2^t q0 + sigma_b2 (1 - sigma_w2^t)/(1 - sigma_w2)."""
    sw, sb, q0 = 0.8, 0.3, 2.0
    net = Network("feedforward", "linear", sigma_w2=sw, sigma_b2=sb, q0=q0, depth=12)
    t = np.arange(1, 13)
    expected = sw**t * q0 + sb * (1 - sw**t) / (1 - sw)
    np.testing.assert_allclose(meanfield.q_trajectory(net), expected, rtol=1e-13)


def test_first_layer_does_not_apply_phi():
    for act in ("tanh", "relu", "cos"):
        net = Network("feedforward", act, sigma_w2=1.5, sigma_b2=0.05, q0=2.0, depth=3)
        assert meanfield.q_trajectory(net)[0] == pytest.approx(1.5 * 2.0 + 0.05)


def test_correlation_trajectory_relu_arccos():
    """ReLU at sigma_b2 = 0: c' = (sqrt(1 - c^2) + (pi - acos c) c)/pi independent of q."""
    net = Network("feedforward", "relu", sigma_w2=2.0, sigma_b2=0.0, depth=5)
    q11, q22, q12, c = meanfield.correlation_trajectory(net, 0.2)
    expected = [0.2]
    for _ in range(4):
        x = expected[-1]
        expected.append((math.sqrt(1 - x * x) + (math.pi - math.acos(x)) * x) / math.pi)
    np.testing.assert_allclose(c, expected, rtol=1e-12)
    np.testing.assert_allclose(q11, 2.0, rtol=1e-14)


@pytest.mark.parametrize(
    "module",
    [f"nnqft.derive.meanfield.{m}" for m in ("maps", "fixed_point", "criticality", "phase")]
    + [
        "nnqft.derive.meanfield",
        "nnqft.derive.gaussian.expect",
        "nnqft.derive.gaussian.quadrature",
    ],
)
def test_docstring_examples(module):
    """tests/test_doctests.py walks nnqft/ only; run this package's examples here."""
    import doctest
    import importlib

    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0 and result.failed == 0


# --- fixed points, against values.json and against the maps themselves -------------------


def test_reference_tanh_fixed_point():
    ref = REFERENCE["tanh_sigma_w2_1.5_sigma_b2_0.05"]
    mf = meanfield.fixed_point(_net("tanh", sw=1.5, sb=0.05))
    for key in ("q_star", "chi_1", "c_star", "xi_c", "xi_q"):
        assert getattr(mf, key) == pytest.approx(ref[key], abs=ref["tol"]), key
    assert mf.phase == "ordered"
    assert mf.lyapunov_exponent == pytest.approx(0.5 * math.log(mf.chi_1), rel=1e-14)
    assert "201" in mf.method


def test_reference_tanh_critical_point():
    ref = REFERENCE["tanh_critical_sigma_b2_0.05"]
    cp = meanfield.critical_point("tanh", 0.05)
    assert cp.sigma_w2 == pytest.approx(ref["sigma_w2"], abs=ref["tol"])
    assert cp.q_star == pytest.approx(ref["q_star"], abs=ref["tol"])


def test_reference_erf_and_relu_critical_points():
    cp = meanfield.critical_point("erf", 0.0)
    assert cp.sigma_w2 == pytest.approx(
        float(sp.sympify(REFERENCE["erf_critical_sigma_b2_0"]["sigma_w2"])), abs=1e-15
    )
    assert cp.q_star == 0.0
    relu = REFERENCE["relu_critical"]
    cp = meanfield.critical_point("relu")
    assert (cp.sigma_w2, cp.sigma_b2) == (relu["sigma_w2"], relu["sigma_b2"])
    assert meanfield.critical_point("relu", 0.0).sigma_w2 == 2.0


@pytest.mark.parametrize(
    "act, sb",
    [
        ("tanh", 0.01),
        ("tanh", 0.05),
        ("tanh", 0.2),
        ("tanh", 0.5),
        ("erf", 0.3),
        ("gelu", 0.3),
        ("sin", 0.1),
    ],
)
def test_critical_line_residual(act, sb):
    """A network built at the critical sigma_w2 has chi_1(q*) = 1 to 1e-10 (its own solve)."""
    cp = meanfield.critical_point(act, sb)
    mf = meanfield.fixed_point(_net(act, sw=cp.sigma_w2, sb=sb))
    assert abs(mf.chi_1 - 1) < 1e-10
    assert mf.q_star == pytest.approx(cp.q_star, rel=1e-9)
    assert (
        mf.phase == "critical"
        and mf.xi_c == math.inf
        and mf.lyapunov_exponent == pytest.approx(0, abs=1e-10)
    )
    # the critical line separates the phases
    assert meanfield.fixed_point(_net(act, sw=cp.sigma_w2 * 0.98, sb=sb)).phase == "ordered"
    assert meanfield.fixed_point(_net(act, sw=cp.sigma_w2 * 1.02, sb=sb)).phase == "chaotic"


def test_critical_line_matches_critical_point():
    sbs = [0.0, 0.05, 0.3]
    line = meanfield.critical_line("tanh", sbs)
    for sb, sw, qs in zip(sbs, line.sigma_w2, line.q_star):
        cp = meanfield.critical_point("tanh", sb)
        assert (sw, qs) == (cp.sigma_w2, cp.q_star)
    assert line.sigma_w2[0] == 1.0 and line.q_star[0] == 0.0  # tanh: phi'(0) = 1


@pytest.mark.parametrize(
    "act, sw, sb, phase",
    [
        ("relu", 2.0, 0.0, "critical"),
        ("relu", 1.5, 0.0, "ordered"),
        ("relu", 2.5, 0.0, "unbounded"),  # q grows: no fixed point, no phase at q*
        ("erf", math.pi / 4, 0.0, "critical"),
        ("erf", 0.7, 0.0, "ordered"),
        ("erf", 0.9, 0.0, "chaotic"),
        ("linear", 1.0, 0.0, "critical"),
        ("tanh", 1.0, 0.0, "critical"),
        ("tanh", 1.5, 0.05, "ordered"),
        ("tanh", 4.0, 0.3, "chaotic"),
    ],
)
def test_phase_at_known_points(act, sw, sb, phase):
    assert meanfield.fixed_point(_net(act, sw=sw, sb=sb)).phase == phase


def test_relu_closed_forms():
    """ReLU: q* = sigma_b2/(1 - sigma_w2/2), chi_1 = chi_c = chi_parallel = sigma_w2/2."""
    mf = meanfield.fixed_point(_net("relu", sw=1.5, sb=0.1))
    assert mf.q_star == pytest.approx(0.1 / (1 - 0.75), rel=1e-14)
    assert mf.chi_1 == mf.chi_c == pytest.approx(0.75, rel=1e-14)
    assert mf.xi_c == pytest.approx(-1 / math.log(0.75), rel=1e-13)
    grows = meanfield.fixed_point(_net("relu", sw=3.0, sb=0.1))
    assert grows.q_star == math.inf and math.isnan(grows.xi_c) and math.isnan(grows.chi_1)
    assert grows.phase == "unbounded" and "no fixed point" in grows.reasons["q_star"]


def test_odd_activation_chaotic_c_star_is_zero():
    for act in ("tanh", "erf", "sin"):
        mf = meanfield.fixed_point(_net(act, sw=3.0, sb=0.0))
        assert mf.phase == "chaotic" and mf.c_star == 0.0
        # chi_c at c* = 0 is sigma_w2 E[phi']^2: compare with the bivariate route at c = 0
        assert mf.chi_c == pytest.approx(
            float(meanfield.chi_c(_net(act, sw=3.0, sb=0.0), mf.q_star, 0.0)), abs=1e-12
        )


def test_q_star_zero_branch():
    """tanh at sigma_b2 = 0, sigma_w2 < 1: q -> 0, so chi's are those at q = 0."""
    mf = meanfield.fixed_point(_net("tanh", sw=0.8, sb=0.0))
    assert mf.q_star == 0.0 and mf.c_star == 1.0
    assert mf.chi_1 == pytest.approx(0.8) and mf.xi_q == pytest.approx(-1 / math.log(0.8))
    traj = meanfield.q_trajectory(_net("tanh", sw=0.8, sb=0.0, depth=150))
    assert traj[-1] < 1e-13


@pytest.mark.parametrize(
    "act, sw, sb",
    [
        ("tanh", 4.0, 0.3),
        ("tanh", 2.5, 0.05),
        ("erf", 3.0, 0.2),
        ("sin", 3.0, 0.1),
        ("cos", 3.0, 0.1),
        ("1/(1 + exp(-z)) - 1/2", 30.0, 0.1),
    ],
)
def test_chaotic_c_star_is_where_the_trajectory_goes(act, sw, sb):
    """c* (Newton on the Mehler series or closed form) equals the limit of c(t) iterated with
    the bivariate correlation map, and chi_c equals the map's slope at c*."""
    mf = meanfield.fixed_point(_net(act, sw=sw, sb=sb))
    assert mf.phase == "chaotic" and 0 <= mf.c_star < 1
    # start 0.1 away: |c - c*| shrinks like exp(-t/xi_c), so 1e-10 after ~21 xi_c layers
    net = _net(act, sw=sw, sb=sb, depth=int(25 * mf.xi_c) + 30)
    q11, _, _, c = meanfield.correlation_trajectory(net, max(mf.c_star - 0.1, -1.0))
    assert q11[-1] == pytest.approx(mf.q_star, rel=1e-12)
    assert c[-1] == pytest.approx(mf.c_star, abs=1e-9)
    assert mf.chi_c == pytest.approx(float(meanfield.chi_c(net, mf.q_star, mf.c_star)), abs=1e-9)


@pytest.mark.parametrize(
    "act, sw, sb", [("tanh", 1.5, 0.05), ("tanh", 4.0, 0.3), ("erf", 1.2, 0.4)]
)
def test_depth_scales_are_the_decay_rates_of_the_trajectories(act, sw, sb):
    """xi_q and xi_c from the chi's equal the measured exponential approach of q(t), c(t)
    (read off late, where the approach is linear but still far above rounding)."""
    mf = meanfield.fixed_point(_net(act, sw=sw, sb=sb, q0=1.6))
    net = _net(act, sw=sw, sb=sb, q0=1.6, depth=200)
    dq = np.abs(meanfield.q_trajectory(net) - mf.q_star)
    t = int(np.flatnonzero(dq > 1e-6)[-1])
    assert -1 / math.log(dq[t] / dq[t - 1]) == pytest.approx(mf.xi_q, rel=1e-4)
    net = _net(act, sw=sw, sb=sb, depth=400)
    _, _, _, c = meanfield.correlation_trajectory(net, 0.5)
    dc = np.abs(c - mf.c_star)
    t = int(np.flatnonzero(dc > 1e-6)[-1])
    assert -1 / math.log(dc[t] / dc[t - 1]) == pytest.approx(mf.xi_c, rel=1e-3)


def test_gelu_criticality_at_nonzero_q_star():
    """chi_parallel = chi_1 = 1 (PDLT's K* != 0 criticality) against a 30-digit solve of
    the closed-form kernels: E[phi phi''](q*) = d/dq E phi^2 - E phi'^2 = 0."""
    cp = meanfield.critical_point("gelu")
    act = get_activation("gelu")
    from nnqft.rules.activations import diagonal_kernel

    d0, d1 = diagonal_kernel(act, 0), diagonal_kernel(act, 1)
    q_star = sp.nsolve(sp.diff(d0, S.q) - d1, S.q, 3.5, prec=30)
    sw = 1 / d1.subs(S.q, q_star)
    sb = q_star - sw * d0.subs(S.q, q_star)
    assert cp.q_star == pytest.approx(float(q_star), rel=1e-12)
    assert cp.sigma_w2 == pytest.approx(float(sw), rel=1e-12)
    assert cp.sigma_b2 == pytest.approx(float(sb), rel=1e-10)
    assert cp.chi_1 == pytest.approx(1, abs=1e-12) and cp.chi_parallel == pytest.approx(
        1, abs=1e-10
    )
    assert cp.condition == "chi_parallel = chi_1 = 1"


def test_k_star_zero_class_and_errors():
    cp = meanfield.critical_point("tanh")
    assert (cp.sigma_w2, cp.sigma_b2, cp.q_star) == (1.0, 0.0, 0.0)
    with pytest.raises(NoExactForm, match="no critical point of 'gelu' at sigma_b2 = 0.1"):
        meanfield.critical_point("gelu", 0.1)
    with pytest.raises(InvalidParameter, match="sigma_b2"):
        meanfield.critical_point("tanh", -0.1)
    with pytest.raises(InvalidType):
        meanfield.critical_point("tanh", "x")
    with pytest.raises(InvalidParameter, match="numbers"):
        meanfield.fixed_point(Network("feedforward", "tanh"))


def test_fixed_point_quadrature_agrees_with_closed_form():
    for act, sw, sb in [("erf", 3.0, 0.2), ("gelu", 1.9, 0.3), ("sin", 2.0, 0.1)]:
        exact = meanfield.fixed_point(_net(act, sw=sw, sb=sb))
        quad = meanfield.fixed_point(_net(act, sw=sw, sb=sb), nodes=201)
        for key in ("q_star", "c_star", "chi_1", "chi_c", "chi_parallel", "xi_c", "xi_q"):
            assert getattr(quad, key) == pytest.approx(getattr(exact, key), rel=1e-9, abs=1e-12), (
                key
            )
        assert exact.method == "closed-form" and "gauss-hermite(201" in quad.method


def test_quadrature_accuracy_at_large_q_against_mpmath():
    """tanh(sqrt(q) x) sharpens with q; the node count grows with q so that E phi^2,
    chi_1/sigma_w2 and chi_parallel/sigma_w2 stay within 1e-10 of a 25-digit mpmath integral
    (201 fixed nodes would be off by ~1e-4 at q = 5)."""
    import mpmath as mp

    mp.mp.dps = 25
    net = _net("tanh", sw=1.0, sb=0.0)
    for qv in (0.7, 2.5, 5.0, 9.0):
        s = mp.sqrt(qv)

        def gauss(f, s=s):
            return mp.quad(lambda x: f(s * x) * mp.npdf(x), [-mp.inf, -2, -0.5, 0, 0.5, 2, mp.inf])

        m0 = gauss(lambda u: mp.tanh(u) ** 2)
        m1 = gauss(lambda u: (1 - mp.tanh(u) ** 2) ** 2)
        mp_ = gauss(lambda u: (1 - 3 * mp.tanh(u) ** 2) * (1 - mp.tanh(u) ** 2))
        assert float(meanfield.length_map(net, qv)) == pytest.approx(float(m0), rel=1e-10)
        assert float(meanfield.chi_1(net, qv)) == pytest.approx(float(m1), rel=1e-10)
        assert float(meanfield.chi_parallel(net, qv)) == pytest.approx(float(mp_), rel=1e-10)


@given(
    sw=st.floats(0.3, 6.0),
    sb=st.floats(0.0, 1.0),
    act=st.sampled_from(["tanh", "erf", "sin", "gelu"]),
)
def test_fixed_point_is_a_fixed_point_of_both_maps(sw, sb, act):
    """Property: q* is fixed by the length map, and q* c* by the (bivariate) correlation map,
    whichever phase and whichever route (closed form, Newton on the Mehler series) found them."""
    net = _net(act, sw=sw, sb=sb)
    mf = meanfield.fixed_point(net)
    if not math.isfinite(mf.q_star):
        assert mf.phase == "unbounded" and math.isnan(mf.chi_1)  # nothing at a q* that is not
        return
    assert float(meanfield.length_map(net, mf.q_star)) == pytest.approx(
        mf.q_star, rel=1e-11, abs=1e-13
    )
    assert mf.phase in ("ordered", "critical", "chaotic")
    assert (mf.c_star < 1) == (mf.phase == "chaotic" and mf.q_star > 0)
    if mf.q_star > 0:
        new = float(meanfield.correlation_map(net, mf.q_star, mf.q_star, mf.q_star * mf.c_star))
        assert new == pytest.approx(mf.q_star * mf.c_star, abs=1e-9 * max(1.0, mf.q_star))
        assert abs(mf.chi_c) < 1 + 1e-9  # c* is stable
