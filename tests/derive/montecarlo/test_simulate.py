"""Monte Carlo of real networks against exact results, the mean-field theory and itself.

Every statistical check states its tolerance in standard errors and fixes its seed.
"""

import math

import numpy as np
import pytest
from conftest import reference_values
from scipy.special import digamma

from nnqft.derive.meanfield import correlation_trajectory, q_trajectory
from nnqft.derive.montecarlo.simulate import (
    _Moments,
    fast_feedforward_preactivations,
    simulate,
)
from nnqft.errors import InvalidParameter, InvalidType, UnknownName
from nnqft.rules import symbols as S
from nnqft.rules.network import Network
from nnqft.rules.symbols import parse_expression

REFERENCE = reference_values()


def assert_within(value, expected, stderr, k, what=""):
    """|value - expected| <= k standard errors (arrays: every entry)."""
    value, expected, stderr = np.broadcast_arrays(value, expected, stderr)
    z = (value - expected) / stderr
    assert np.all(np.isfinite(z)), f"{what}: non-finite z-scores {z}"
    assert np.all(np.abs(z) <= k), f"{what}: z-scores {np.round(z, 2)} exceed {k}"


# --- mean-field theory against real networks (docs/conventions.md §3) ---------------------

POINTS = {  # an ordered and a chaotic point per activation (chi_1 < 1 and > 1)
    ("tanh", "ordered"): (1.5, 0.05),
    ("tanh", "chaotic"): (4.0, 0.3),
    ("erf", "ordered"): (0.5, 0.05),
    ("erf", "chaotic"): (3.0, 0.3),
}
CASES = [
    (act, phase, arch, bias)
    for (act, phase) in POINTS
    for arch, bias in (("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh"))
]


@pytest.mark.parametrize(
    ("act", "phase", "arch", "bias"),
    [pytest.param(*case, marks=[pytest.mark.slow] if case[3] == "fresh" else []) for case in CASES],
)
def test_mean_field_q_and_c_match_width_512(act, phase, arch, bias):
    """At N = 512 and 400 networks the O(1/N) bias is below the statistical error: q(t) and
    c(t) of mean-field theory lie within 3 standard errors in every layer.

    Each case has its own fixed seed, so that one unlucky draw of layer 1 (which every later
    layer inherits) is not shared by all twelve cases.  c(t) is the mean over networks of
    z1.z2/(|z1||z2|); its own O(1/N) bias (about -1/N here) is below 1.5 standard errors.
    """
    sw2, sb2 = POINTS[act, phase]
    net = Network(arch, act, sw2, sb2, width=512, depth=8, bias=bias)
    seed = 1000 + CASES.index((act, phase, arch, bias))
    result = simulate(net, 400, seed=seed, inputs=2, c0=0.6)
    q11, _, q12, c = correlation_trajectory(net, 0.6)
    assert result.sampler == ("fast" if arch == "feedforward" else "full")
    assert_within(result.column("mean"), q11, result.column("mean_stderr"), 3, "q(t)")
    assert_within(result.column("correlation"), c, result.column("correlation_stderr"), 3, "c(t)")
    assert_within(result.column("q12"), q12, result.column("q12_stderr"), 3, "q12(t)")
    np.testing.assert_allclose(q11, q_trajectory(net))


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ordered", "chaotic"])
def test_mean_field_matches_full_feedforward_matrices_width_512(point):
    """The same comparison with real 512 x 512 weight matrices in every layer."""
    net = Network("feedforward", "tanh", *POINTS["tanh", point], width=512, depth=6)
    result = simulate(net, 200, seed=7, sampler="full", inputs=2, c0=0.6)
    _, _, _, c = correlation_trajectory(net, 0.6)
    assert_within(result.column("mean"), q_trajectory(net), result.column("mean_stderr"), 3)
    assert_within(result.column("correlation"), c, result.column("correlation_stderr"), 3)


# --- the fast sampler is the full one in distribution ------------------------------------


def _agree(a, b, names, k=4.0):
    for name in names:
        err = np.hypot(a.column(name + "_stderr"), b.column(name + "_stderr"))
        assert_within(a.column(name), b.column(name), err, k, name)


@pytest.mark.parametrize(
    ("act", "sw2", "sb2", "c0"),
    [("tanh", 4.0, 0.3, 0.3), ("relu", 2.0, 0.1, None), ("erf", 0.5, 0.05, -0.5)],
)
def test_fast_sampler_agrees_with_full_matrices(act, sw2, sb2, c0):
    net = Network("feedforward", act, sw2, sb2, width=24, depth=5, q0=0.7)
    inputs = 1 if c0 is None else 2
    full = simulate(net, 6000, seed=11, sampler="full", inputs=inputs, c0=c0)
    fast = simulate(net, 30000, seed=12, sampler="fast", inputs=inputs, c0=c0)
    assert (full.sampler, fast.sampler) == ("full", "fast")
    names = ["mean", "variance", "log_mean"] + (["correlation", "q12"] if c0 is not None else [])
    _agree(full, fast, names)


# --- linear networks: exact finite-N facts (docs/conventions.md §5) -----------------------


@pytest.mark.parametrize("sampler", ["fast", "full"])
def test_linear_feedforward_mean_is_mean_field_at_n8(sampler):
    """E Q(t) equals the mean-field q(t) exactly at every width (here N = 8)."""
    net = Network("feedforward", "linear", 1.2, 0.3, width=8, depth=6, q0=0.8)
    result = simulate(net, 200_000 if sampler == "fast" else 40_000, seed=5, sampler=sampler)
    assert_within(result.column("mean"), q_trajectory(net), result.column("mean_stderr"), 4)


@pytest.mark.parametrize("sampler", ["fast", "full"])
def test_linear_feedforward_relative_variance_at_n8(sampler):
    """sigma_b2 = 0: Var Q(T) / E Q(T)^2 = (1 + 2/N)^T - 1 (the O(T/N) effect), and
    E ln Q(T) = ln q0 + T [ln sigma_w2 + psi(N/2) - ln(N/2)]."""
    n, depth, sw2, q0 = 8, 6, 1.3, 0.9
    net = Network("feedforward", "linear", sw2, 0.0, width=n, depth=depth, q0=q0)
    result = simulate(net, 200_000 if sampler == "fast" else 40_000, seed=6, sampler=sampler)
    t = np.arange(1, depth + 1)
    mean = q0 * sw2**t
    formula = parse_expression(
        REFERENCE["linear_exact"]["feedforward_relative_variance_sigma_b2_0"]["formula"]
    )
    relative = np.array([float(formula.subs({S.N: n, S.T: int(k)})) for k in t])
    assert_within(
        result.column("variance"), relative * mean**2, result.column("variance_stderr"), 4
    )
    log_mean = np.log(q0) + t * (np.log(sw2) + digamma(n / 2) - np.log(n / 2))
    assert_within(result.column("log_mean"), log_mean, result.column("log_mean_stderr"), 4)
    assert np.all(
        np.abs(result.column("log_mean") - np.log(mean)) > 10 * result.column("log_mean_stderr")[-1]
    )


def test_linear_feedforward_variance_recursion_with_bias():
    """V(t) = (1 + 2/N) sigma_w2^2 V(t-1) + (2/N) m(t)^2, V(0) = 0, m the mean-field q(t)."""
    n, sw2, sb2 = 6, 0.9, 0.4
    net = Network("feedforward", "linear", sw2, sb2, width=n, depth=5, q0=1.5)
    result = simulate(net, 200_000, seed=9)
    m = q_trajectory(net)
    v, prev = [], 0.0
    for mt in m:
        prev = (1 + 2 / n) * sw2**2 * prev + 2 / n * mt**2
        v.append(prev)
    assert_within(result.column("variance"), v, result.column("variance_stderr"), 4)


def test_linear_recurrent_shared_bias_mean_is_exact_polynomial_in_1_over_n():
    """Shared weights and bias at N = 4, T = 3: E Q(3) is the exact Wick-pairing polynomial
    in 1/N (reference), and visibly not the mean-field value."""
    n, sw2, sb2, q0 = 4, 1.5, 1.0, 0.7
    net = Network("recurrent", "linear", sw2, sb2, width=n, depth=3, bias="shared", q0=q0)
    result = simulate(net, 100_000, seed=13)
    formula = parse_expression(REFERENCE["linear_exact"]["recurrent_shared_bias_T3"]["formula"])
    exact = float(formula.subs({S.N: n, S.sigma_w2: sw2, S.sigma_b2: sb2, S.q0: q0}))
    last = result.layers[-1]
    assert_within(last.mean, exact, last.mean_stderr, 4, "E Q(3)")
    assert abs(last.mean - q_trajectory(net)[-1]) > 10 * last.mean_stderr


def test_linear_recurrent_fresh_bias_differs_from_shared():
    """The two bias conventions differ at O(1/N): at N = 4 the shared bias adds
    2 sigma_w2 sigma_b2 / N (+ O(1/N^2)) to E Q(3); a fresh bias has no such cross term."""
    nets = {
        b: Network("recurrent", "linear", 1.5, 1.0, width=4, depth=3, bias=b, q0=0.7)
        for b in ("shared", "fresh")
    }
    res = {b: simulate(net, 100_000, seed=14).layers[-1] for b, net in nets.items()}
    gap = res["shared"].mean - res["fresh"].mean
    err = math.hypot(res["shared"].mean_stderr, res["fresh"].mean_stderr)
    # cross terms sigma_b2 sum_{k != m} M(k, m): 2 s/N + 2 s^2/N^2 at T = 3
    # (docs/conventions.md §5)
    assert_within(gap, 2 * 1.5 / 4 + 2 * 1.5**2 / 16, err, 4, "shared - fresh")


# --- raw pre-activations for finite-width checks ------------------------------------------


def test_fast_preactivations_second_moments():
    """Layer 1 is iid N(0, sigma_w2 q0 + sigma_b2); in layer 2 of a linear net
    Cov(z_i^2, z_j^2) = Var K = sigma_w2^2 Var Q(1) = sigma_w2^2 2 K1^2 / N (i != j)."""
    n, sw2, sb2, q0 = 4, 1.5, 0.2, 1.0
    net = Network("feedforward", "linear", sw2, sb2, width=n, depth=2, q0=q0)
    z = fast_feedforward_preactivations(net, 400_000, np.random.default_rng(3))
    assert z.shape == (2, 400_000, n)
    k1 = sw2 * q0 + sb2
    z2 = z[0] ** 2
    assert_within(z2.mean(), k1, z2.std() / math.sqrt(z2.size), 4, "E z(1)^2")
    prod = z[1, :, 0] ** 2 * z[1, :, 1] ** 2
    sq = z[1, :, 0] ** 2
    cov = prod.mean() - sq.mean() * (z[1, :, 1] ** 2).mean()
    assert_within(cov, sw2**2 * 2 * k1**2 / n, prod.std() / math.sqrt(len(prod)), 4, "Cov")
    with pytest.raises(InvalidParameter):
        fast_feedforward_preactivations(net.replace(arch="recurrent"), 10, np.random.default_rng())


# --- bookkeeping ---------------------------------------------------------------------------


def test_moments_merge_exactly():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=(1000, 3))
    merged = _Moments.of(x[:17]).merge(_Moments.of(x[17:600])).merge(_Moments.of(x[600:]))
    whole = _Moments.of(x)
    for name in ("mean", "m2", "m3", "m4"):
        np.testing.assert_allclose(getattr(merged, name), getattr(whole, name), rtol=1e-10)
    n = len(x)
    s2 = x.var(axis=0, ddof=1)
    np.testing.assert_allclose(whole.variance(), s2)
    np.testing.assert_allclose(whole.mean_stderr(), np.sqrt(s2 / n))


def test_result_rows_and_columns():
    net = Network("feedforward", "tanh", 1.5, 0.05, width=8, depth=3)
    result = simulate(net, 100)
    assert [r["layer"] for r in result.rows()] == [1, 2, 3]
    assert set(result.rows()[0]) == {
        "layer",
        "mean",
        "mean_stderr",
        "variance",
        "variance_stderr",
        "log_mean",
        "log_mean_stderr",
    }
    np.testing.assert_array_equal(result.column("layer"), [1, 2, 3])
    with pytest.raises(UnknownName):
        result.column("avg")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"samples": 0}, InvalidParameter),
        ({"samples": 2.5}, InvalidType),
        ({"jobs": 0}, InvalidParameter),
        ({"sampler": "quick"}, UnknownName),
        ({"inputs": 3}, InvalidParameter),
        ({"inputs": 2}, InvalidParameter),
        ({"inputs": 2, "c0": 1.5}, InvalidParameter),
        ({"c0": 0.5}, InvalidParameter),
        ({"seed": -1}, InvalidParameter),
    ],
)
def test_bad_input(kwargs, error):
    net = Network("feedforward", "tanh", 1.5, 0.05, width=4, depth=2)
    kwargs = {"samples": 10} | kwargs
    with pytest.raises(error):
        simulate(net, kwargs.pop("samples"), **kwargs)


def test_bad_networks():
    with pytest.raises(InvalidParameter, match="numeric width"):
        simulate(Network("feedforward", "tanh", 1.5, 0.05, depth=2), 10)
    with pytest.raises(InvalidParameter, match="numeric sigma_w2"):
        simulate(Network("feedforward", "tanh", depth=2, width=3), 10)
    with pytest.raises(InvalidParameter, match="feedforward"):
        simulate(Network("recurrent", "tanh", 1.5, 0.05, width=4, depth=2), 10, sampler="fast")
