"""Finite width beyond mean field (docs/conventions.md §7): K0, V, K1 by independent routes.

Routes: the reference values; exact laws of scale-invariant nets; closed forms against
quadrature; quadrature against scipy's adaptive integrator and finite differences; the
exact finite-n recursion of linear nets; the mean-field code of derive/meanfield/; and real
random networks (the exact fast sampler of derive/montecarlo/simulate.py), with tolerances in
standard errors and fixed seeds.
"""

import math

import numpy as np
import pytest
import sympy as sp
from conftest import reference_values
from scipy.integrate import quad

from nnqft.derive import meanfield
from nnqft.derive.finite_width.recursions import (
    _moments,
    finite_width,
    finite_width_symbolic,
    finite_width_two_inputs,
    gaussian_moment,
    quadrature_method,
    scale_invariant_closed_form,
    universality_class,
)
from nnqft.derive.gaussian import PlaneRule
from nnqft.derive.montecarlo.simulate import fast_feedforward_preactivations, simulate
from nnqft.errors import InvalidParameter, InvalidType, NoExactForm, UnknownActivation
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network

REFERENCE = reference_values("finite_width")


def net(act, cw, cb, q0=1.0, width=16, depth=8):
    return Network("feedforward", act, cw, cb, width=width, depth=depth, q0=q0)


# --- reference values and exact laws ---------------------------------------------------------


def test_reference_values_tanh_critical_layer_6():
    ref = REFERENCE["tanh_CW1_Cb0_q0_1_layer6"]
    row = finite_width(net("tanh", 1.0, 0.0), 6)[-1]
    assert row["layer"] == 6
    assert abs(row["K0"] - ref["K0"]) < ref["tol"]
    assert abs(row["K1"] - ref["K1"]) < ref["tol"]


def test_first_layer_is_gaussian_pdlt_convention():
    for act in ("tanh", "relu", "gelu", "sin"):
        row = finite_width(net(act, 1.7, 0.3, q0=2.0), 1)[0]
        assert row["K0"] == pytest.approx(0.3 + 1.7 * 2.0, rel=1e-15)  # phi not applied to x
        assert row["V"] == 0 and row["K1"] == 0


@pytest.mark.parametrize(
    "act, nu", [("relu", 5), ("linear", 2), ("leaky_relu(0.2)", None), ("abrelu(-0.5, 2)", None)]
)
@pytest.mark.parametrize("cw", [0.7, 1.0, 2.0, 3.1])
def test_scale_invariant_exact_in_l(act, nu, cw):
    """At C_b = 0: K1 == 0 identically and V/K^2 = nu (l-1) for every C_W, nu = 3A4/A2^2 - 1."""
    a = get_activation(act)
    if nu is None:  # derive nu from the slopes by hand: phi = b z (z > 0), a z (z < 0)
        lo, hi = {"leaky_relu(0.2)": (0.2, 1.0), "abrelu(-0.5, 2)": (-0.5, 2.0)}[act]
        A2, A4 = (lo**2 + hi**2) / 2, (lo**4 + hi**4) / 2
        nu = 3 * A4 / A2**2 - 1
    assert float(universality_class(a).constants["nu"]) == pytest.approx(nu, rel=1e-14)
    rows = finite_width(net(a, cw, 0.0, q0=0.8), 30)
    for r in rows:
        assert r["K1"] == 0.0
        assert r["V"] / r["K0"] ** 2 == pytest.approx(nu * (r["layer"] - 1), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("act", ["relu", "linear", "leaky_relu(0.1)"])
def test_scale_invariant_k1_vanishes_with_bias_too(act):
    rows = finite_width(net(act, 1.3, 0.4), 12)
    assert all(r["K1"] == 0.0 for r in rows)
    assert rows[-1]["V"] > 0


def test_scale_invariant_closed_form_in_layer_index():
    for act in ("relu", "linear", "leaky_relu(0.3)"):
        cf = scale_invariant_closed_form(act)
        cw, q0 = 1.7, 0.9
        rows = finite_width(net(act, cw, 0.0, q0=q0), 9)
        for r in rows:
            sub = {S.T: r["layer"], S.sigma_w2: cw, S.q0: q0}
            assert float(cf["K0"].subs(sub)) == pytest.approx(r["K0"], rel=1e-13)
            assert float(cf["V"].subs(sub)) == pytest.approx(r["V"], rel=1e-12, abs=1e-14)
            assert cf["K1"] == 0
    assert scale_invariant_closed_form("relu")["nu"] == 5
    assert scale_invariant_closed_form("linear")["nu"] == 2


def test_linear_next_order_against_the_exact_finite_n_recursion():
    """Linear nets: Var G obeys v' = C_W^2 ((1 + 2/n) v + 2 m^2/n) exactly
    (docs/conventions.md §5),
    so n Cov = V + V1/n + O(1/n^2) and E[z^2] = K0 exactly (K1 = K2 = 0)."""
    cw, cb, depth = 1.1, 0.3, 7
    rows = finite_width(net("linear", cw, cb, q0=0.6), depth, next_order=True)
    for n in (1e3, 1e4):
        v = 0.0
        for r in rows[:-1]:
            v = cw**2 * ((1 + 2 / n) * v + 2 * r["K0"] ** 2 / n)
        last = rows[-1]
        assert last["K1"] == last["K2"] == 0.0
        # the remainder after V + V1/n is O(1/n^2): check it shrinks like 1/n^2
        rest = n * v - last["V"] - last["V1"] / n
        assert abs(rest) < 50 * last["V"] / n**2
        assert last["V1"] != 0


# --- closed forms, quadrature and the mean-field code -------------------------------------------


@pytest.mark.parametrize("act", ["relu", "linear", "leaky_relu(0.2)", "sin", "cos", "erf"])
def test_symbolic_and_numeric_paths_agree(act):
    cw, cb, q0 = 1.4, 0.2, 0.7
    sym = finite_width_symbolic(Network("feedforward", act, q0=S.q0), 5)
    num = finite_width(net(act, cw, cb, q0=q0), 5, quadrature=True)
    assert "gauss-legendre" in quadrature_method(get_activation(act), quadrature=True)
    for s, n in zip(sym, num):
        for key in ("K0", "K1", "V", "chi_parallel", "chi_perp"):
            if s[key] is None:
                assert act == "erf" and key in ("K1", "V")  # <erf^4> does not close
                continue
            value = sp.lambdify((S.sigma_w2, S.sigma_b2, S.q0), s[key], "mpmath")(cw, cb, q0)
            assert float(value) == pytest.approx(n[key], rel=1e-10, abs=1e-13), key


def test_symbolic_rows_are_exact_expressions():
    rows = finite_width_symbolic(Network("feedforward", "linear", q0=S.q0), 3)
    K1 = S.sigma_b2 + S.sigma_w2 * S.q0
    assert sp.simplify(rows[1]["V"] - 2 * S.sigma_w2**2 * K1**2) == 0
    assert rows[2]["K1"] == 0
    with pytest.raises(NoExactForm):
        finite_width_symbolic(Network("feedforward", "tanh"), 3)


def test_gaussian_moment_closed_forms():
    q = S.q
    assert gaussian_moment(S.z**6) == 15 * q**3
    assert gaussian_moment(sp.Max(0, S.z) ** 3) == 2 * sp.sqrt(2) * q ** sp.Rational(3, 2) / (
        2 * sp.sqrt(sp.pi)
    )
    assert sp.simplify(gaussian_moment(sp.cos(S.z) ** 2) - (1 + sp.exp(-2 * q)) / 2) == 0
    assert sp.simplify(gaussian_moment(sp.exp(S.z)) - sp.exp(q / 2)) == 0
    assert gaussian_moment(sp.erf(S.z) ** 4) is None


def _scipy_mean(f, K):
    def integrand(x):
        return f(math.sqrt(K) * x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    return quad(integrand, -40, 40, limit=500, epsabs=1e-15, epsrel=1e-13, points=[0.0])[0]


@pytest.mark.parametrize("act", ["tanh", "swish", "gelu", "softplus", "Max(0, z - 1/2)"])
@pytest.mark.parametrize("K", [0.02, 1.0, 20.0])
def test_quadrature_accuracy_against_adaptive_integration(act, K):
    """Smooth and kinked activations to ~1e-10, at small and large variance; the
    K-derivatives (Hermite weights) also against a finite difference."""
    a = get_activation(act)
    phi = a.numeric()
    mo = _moments(a, K, 1, quadrature=True)
    ref2 = _scipy_mean(lambda u: float(phi(u)) ** 2, K)
    ref4 = _scipy_mean(lambda u: float(phi(u)) ** 4, K)
    assert mo.m2[0] == pytest.approx(ref2, rel=1e-10)
    assert mo.m4[0] == pytest.approx(ref4, rel=1e-10)
    h = 1e-4 * K
    fd = (
        _moments(a, K + h, 1, quadrature=True).m2[0] - _moments(a, K - h, 1, quadrature=True).m2[0]
    ) / (2 * h)
    assert mo.m2[1] == pytest.approx(fd, rel=1e-6)
    fd2 = (
        _moments(a, K + h, 1, quadrature=True).m2[1] - _moments(a, K - h, 1, quadrature=True).m2[1]
    ) / (2 * h)
    assert mo.m2[2] == pytest.approx(fd2, rel=1e-5, abs=1e-9 / K)


@pytest.mark.parametrize(
    "act, cw, cb", [("tanh", 1.5, 0.05), ("erf", 2.0, 0.1), ("gelu", 1.9, 0.2)]
)
def test_k0_and_chis_agree_with_mean_field_code(act, cw, cb):
    """K0 is the mean-field length-map iterate; chi_par, chi_perp as derive/meanfield/."""
    n = net(act, cw, cb, q0=1.2)
    rows = finite_width(n, 10)
    K0 = np.array([r["K0"] for r in rows])
    np.testing.assert_allclose(K0, meanfield.q_trajectory(n, 10), rtol=1e-9)
    np.testing.assert_allclose(
        [r["chi_parallel"] for r in rows], meanfield.chi_parallel(n, K0), rtol=1e-8
    )
    np.testing.assert_allclose([r["chi_perp"] for r in rows], meanfield.chi_1(n, K0), rtol=1e-9)


# --- universality classes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "act, a1, cw", [("tanh", -2, 1.0), ("erf", -2, math.pi / 4), ("sin", -1, 1)]
)
def test_k_star_zero_class(act, a1, cw):
    u = universality_class(act)
    assert u.name == "K*=0"
    assert float(u.constants["a1"]) == pytest.approx(a1, rel=1e-12)
    assert float(u.sigma_w2) == pytest.approx(cw, rel=1e-12) and u.sigma_b2 == 0
    assert u.large_depth["V/(l K0^2) ->"] == sp.Rational(2, 3)


@pytest.mark.parametrize("act", ["tanh", "sin"])
def test_k_star_zero_large_depth(act):
    """(-a1) l K -> 1, V/(l K^2) -> 2/3, K1 -> 1/(3 a1), approached with corrections ~ ln l / l."""
    u = universality_class(act)
    a1 = float(u.constants["a1"])
    rows = finite_width(net(act, float(u.sigma_w2), 0.0), 3000)
    errors = []
    for layer in (300, 3000):
        r = rows[layer - 1]
        errors.append(
            (
                abs(-a1 * layer * r["K0"] - 1),
                abs(r["V"] / (layer * r["K0"] ** 2) - 2 / 3),
                abs(r["K1"] - 1 / (3 * a1)) * abs(a1),
            )
        )
    assert all(late < early for early, late in zip(*errors))  # converging
    assert max(errors[1]) < 5e-3


@pytest.mark.parametrize("act", ["gelu", "swish"])
def test_k_star_nonzero_criticality(act):
    """chi_par = chi_perp = 1 at the reported point, checked with derive/meanfield/, and the
    large-depth laws V = nu_eff (l-1) K*^2, K1/(l^2 K*) -> const."""
    u = universality_class(act)
    assert u.name == "K*!=0"
    cw, cb, K = u.sigma_w2, u.sigma_b2, u.K_star
    n = net(act, cw, cb, q0=(K - cb) / cw)
    phi, dphi = n.activation.numeric(0), n.activation.numeric(1)
    # adaptive integration (independent of the engine's rules) to 1e-10 ...
    assert cb + cw * _scipy_mean(lambda u: float(phi(u)) ** 2, K) == pytest.approx(K, rel=1e-10)
    assert cw * _scipy_mean(lambda u: float(dphi(u)) ** 2, K) == pytest.approx(1.0, rel=1e-10)
    chi_par = cw * _scipy_mean(lambda u: float(phi(u) ** 2 * (u * u / K - 1)), K) / (2 * K)
    assert chi_par == pytest.approx(1.0, rel=1e-10)
    # ... and derive/meanfield/, whose 201-node Gauss-Hermite rule is good to ~1e-7 at K* ~ 14
    assert float(meanfield.length_map(n, K)) == pytest.approx(K, rel=1e-6)
    assert float(meanfield.chi_1(n, K)) == pytest.approx(1.0, rel=1e-6)
    assert float(meanfield.chi_parallel(n, K)) == pytest.approx(1.0, rel=1e-6)
    rows = finite_width(n, 400)
    r = rows[-1]
    assert r["K0"] == pytest.approx(K, rel=1e-6)
    assert r["V"] / (399 * K**2) == pytest.approx(u.constants["nu_eff"], rel=1e-5)
    assert r["K1"] / (400**2 * K) == pytest.approx(u.large_depth["K1/(l^2 K*) ->"], rel=2e-2)


def test_no_criticality_for_sigmoid():
    assert universality_class("sigmoid").name == "none"


# --- two inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "act, cw, cb, q0", [("tanh", 1.5, 0.05, 1.0), ("erf", 1.5, 0.05, 1.0), ("tanh", 10.0, 1.0, 3.0)]
)
def test_two_identical_inputs_reduce_to_one(act, cw, cb, q0):
    n = net(act, cw, cb, q0=q0)
    one = finite_width(n, 6)
    for r2, r1 in zip(finite_width_two_inputs(n, 1.0, 6), one):
        np.testing.assert_allclose(r2["K0"], [r1["K0"]] * 3, rtol=1e-12)
        np.testing.assert_allclose(r2["K1"], [r1["K1"]] * 3, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r2["V"], np.full((3, 3), r1["V"]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "act, cw, cb, q0", [("erf", 1.3, 0.1, 1.0), ("sin", 1.3, 0.1, 1.0), ("erf", 6.0, 0.5, 2.0)]
)
def test_two_inputs_closed_form_and_price_theorem_agree(act, cw, cb, q0):
    """Closed-form kernel derivatives against Price's theorem with two-variable quadrature
    (phi differentiated up to 4 times), also at large variance (K ~ 5)."""
    n = net(act, cw, cb, q0=q0)
    a = finite_width_two_inputs(n, 0.4, 6)
    b = finite_width_two_inputs(n, 0.4, 6, quadrature=True)
    for ra, rb in zip(a, b):
        np.testing.assert_allclose(ra["K1"], rb["K1"], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ra["V"], rb["V"], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("v1, v2, c", [(8.0, 5.0, 0.5), (0.3, 2.0, -0.9)])
def test_plane_rule_against_nested_adaptive_integration(v1, v2, c):
    s1, s2 = math.sqrt(v1), math.sqrt(v2)
    tanh = get_activation("tanh")
    rule = PlaneRule(v1, v2, c * s1 * s2, ())
    for k in (0, 2):
        f = tanh.numeric(k)

        def inner(u1, f=f):
            mu, sd = c * s2 / s1 * u1, s2 * math.sqrt(1 - c * c)
            return quad(
                lambda x: float(f(mu + sd * x)) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi),
                -13,
                13,
                points=[-mu / sd],
                limit=400,
                epsabs=1e-15,
            )[0]

        ref = quad(
            lambda u, f=f: (
                float(f(u)) * inner(u) * math.exp(-u * u / (2 * v1)) / math.sqrt(2 * math.pi * v1)
            ),
            -13 * s1,
            13 * s1,
            points=[0.0],
            limit=400,
            epsabs=1e-15,
        )[0]
        assert rule.mean(f, f) == pytest.approx(ref, rel=1e-11, abs=1e-14)


def test_two_inputs_k0_is_the_correlation_trajectory():
    n = net("tanh", 1.5, 0.05)
    rows = finite_width_two_inputs(n, 0.3, 7)
    q11, q22, q12, c = meanfield.correlation_trajectory(n, 0.3, 7)
    np.testing.assert_allclose([r["K0"][2] for r in rows], q12, rtol=1e-9)
    np.testing.assert_allclose([r["correlation0"] for r in rows], c, rtol=1e-9)


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input():
    with pytest.raises(InvalidParameter, match="depth"):
        finite_width(net("tanh", 1.0, 0.0), 0)
    with pytest.raises(InvalidParameter, match="sigma_b2"):
        finite_width(net("tanh", 1.0, -0.1), 3)
    with pytest.raises(InvalidParameter, match="feedforward"):
        finite_width(Network("recurrent", "tanh", 1.0, 0.0), 3)
    with pytest.raises(InvalidParameter, match="positive"):
        finite_width(net("tanh", 1.0, 0.0, q0=0.0), 3)
    with pytest.raises(InvalidParameter, match="number for sigma_w2"):
        finite_width(Network("feedforward", "tanh"), 3)
    with pytest.raises(InvalidType):
        finite_width("tanh", 3)
    with pytest.raises(InvalidParameter, match="floating-point range"):
        finite_width(net("tanh", 0.5, 0.0), 1000)  # ordered phase: K0 ~ 2^-l underflows
    with pytest.raises(UnknownActivation):
        universality_class("tnah")
    with pytest.raises(InvalidParameter, match="scale-invariant"):
        scale_invariant_closed_form("tanh")
    with pytest.raises(InvalidParameter, match="c0"):
        finite_width_two_inputs(net("tanh", 1.0, 0.0), 1.5, 3)
    with pytest.raises(NoExactForm):
        finite_width_two_inputs(net("Max(0, z - 1)", 1.0, 0.1), 0.5, 3)


# --- real networks ------------------------------------------------------------------------------


def _network_statistics(n, samples, seed):
    """Per layer: E[z^2], Cov(z_i^2, z_j^2) (i != j) and their standard errors, from
    ``samples`` networks of the exact fast sampler, in chunks of ~4e6 numbers."""
    rng = np.random.default_rng(seed)
    width, depth = n.width, n.depth
    chunk = max(1000, 4_000_000 // (width * depth))
    parts = []
    for lo in range(0, samples, chunk):
        z2 = fast_feedforward_preactivations(n, min(chunk, samples - lo), rng) ** 2
        s1, s2 = z2.sum(-1), (z2 * z2).sum(-1)
        # per network: b = mean_i z_i^2, a = mean_{i != j} z_i^2 z_j^2 (unbiased pair mean)
        parts.append(np.stack([s1 / width, (s1 * s1 - s2) / (width * (width - 1))], -1))
    x = np.concatenate(parts, axis=1)  # (T, samples, 2)
    b, a = x[..., 0].mean(1), x[..., 1].mean(1)
    b_err = x[..., 0].std(1, ddof=1) / math.sqrt(samples)
    cov = a - b * b  # delta method for the error of a - b^2
    cov_err = (x[..., 1] - 2 * b[:, None] * x[..., 0]).std(1, ddof=1) / math.sqrt(samples)
    return b, b_err, cov, cov_err


@pytest.mark.slow
@pytest.mark.parametrize("cw, cb", [(1.0, 0.0), (1.5, 0.05)])
def test_kernel_against_real_networks_n16(cw, cb):
    """E[z^2] within 3 standard errors (+ the engine's own O(1/n^2) estimate |K2|/n^2) of
    K0 + K1/n at layers 3-6, while K0 alone misses by more than 10 standard errors."""
    n = net("tanh", cw, cb, width=16, depth=6)
    rows = finite_width(n, 6, next_order=True)
    b, err, cov, cov_err = _network_statistics(n, 1_600_000, seed=6)
    for r in rows[2:]:
        t = r["layer"] - 1
        leading = r["K0"] + r["K1"] / 16
        assert abs(b[t] - leading) <= 3 * err[t] + abs(r["K2"]) / 16**2, r["layer"]
        assert abs(b[t] - r["K0"]) > 10 * err[t], r["layer"]
        # the next-order engine: at n = 16, n Cov/K^2 agrees with (V + V1/n)/K^2
        K2 = r["K0"] ** 2
        measured, measured_err = 16 * cov[t] / K2, 16 * cov_err[t] / K2
        assert abs(measured - (r["V"] + r["V1"] / 16) / K2) <= 3 * measured_err, r["layer"]


@pytest.mark.slow
@pytest.mark.parametrize("cw, cb", [(1.0, 0.0), (1.5, 0.05)])
def test_four_point_vertex_against_real_networks_n64(cw, cb):
    """n Cov(z_i^2, z_j^2)/K^2 against V/K^2 at n = 64, layers 3-6: within 3 standard errors
    plus the truncation |V1|/(n K^2), V1 the engine's next-order coefficient."""
    n = net("tanh", cw, cb, width=64, depth=6)
    rows = finite_width(n, 6, next_order=True)
    b, err, cov, cov_err = _network_statistics(n, 400_000, seed=64)
    for r in rows[2:]:
        t = r["layer"] - 1
        K2 = r["K0"] ** 2
        measured, measured_err = 64 * cov[t] / K2, 64 * cov_err[t] / K2
        truncation = abs(r["V1"]) / (64 * K2)
        assert abs(measured - r["V"] / K2) <= 3 * measured_err + truncation, r["layer"]
        assert abs(b[t] - r["K0"] - r["K1"] / 64) <= 3 * err[t] + abs(r["K2"]) / 64**2


@pytest.mark.slow
@pytest.mark.parametrize("act, cw, cb, c0", [("tanh", 1.5, 0.05, 0.5), ("relu", 2.0, 0.0, 0.5)])
def test_two_input_kernel_against_real_networks(act, cw, cb, c0):
    """E[z_1 z_2] = K12 + K1_12/n (n = 16) within 3.5 standard errors at every layer, while
    K12 alone misses by more than 5 at the last (ReLU: K1_11 = 0 but K1_12 != 0)."""
    n = net(act, cw, cb, width=16, depth=6)
    rows = finite_width_two_inputs(n, c0, 6)
    with np.errstate(all="ignore"):  # ln Q of dead ReLU nets is -inf; unused here
        sim = simulate(n, 400_000, inputs=2, c0=c0, seed=12)
    for r, s in zip(rows, sim.layers):
        assert abs(s.q12 - r["K0"][2] - r["K1"][2] / 16) <= 3.5 * s.q12_stderr, r["layer"]
    assert abs(sim.layers[-1].q12 - rows[-1]["K0"][2]) > 5 * sim.layers[-1].q12_stderr
