"""The MSRDJ action and its disorder average, derived by nnqft.rules.action.

Independent routes: the vertex and bias term against docs/conventions.md §2 written out by hand
here; the Gaussian rule against Monte Carlo of real weights (fixed seed, tolerance in
standard errors); Price's theorem against finite differences of quadrature.
"""

import numpy as np
import pytest
import sympy as sp

from nnqft.errors import InvalidParameter, NnqftError
from nnqft.rules import action as A
from nnqft.rules import symbols as S
from nnqft.rules.activations import bivariate_gaussian_mean, get_activation
from nnqft.rules.network import Network

i, j = A.NEURON[:2]
t, s = A.TIME[:2]
N, T = S.N, S.T
NETS = [
    Network("feedforward", "linear"),
    Network("recurrent", "linear", bias="shared"),
    Network("recurrent", "linear", bias="fresh"),
]


def same(a, b):
    """Equal as sums over indices (canonical normal forms)."""
    return A.normal_form(sp.expand(a - b)) == []


def handwritten_average(net):
    """docs/conventions.md §2 typed by hand:
    (sigma_w2/2N) sum K (zt.zt)(phi.phi) + (sigma_b2/2) sum B zt.zt."""
    delta = sp.KroneckerDelta(t, s)
    K = delta if net.arch == "feedforward" else 1
    B = 1 if net.bias == "shared" else delta
    dot_zt = sp.Sum(A.zt[i, t] * A.zt[i, s], (i, 1, N))
    dot_phi = sp.Sum(A.phi(A.z[j, t - 1]) * A.phi(A.z[j, s - 1]), (j, 1, N))
    vertex = S.sigma_w2 / (2 * N) * sp.Sum(K * dot_zt * dot_phi, (t, 1, T), (s, 1, T))
    bias = S.sigma_b2 / 2 * sp.Sum(B * dot_zt, (t, 1, T), (s, 1, T))
    return vertex + bias


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.arch}-{n.bias}")
def test_disorder_average_is_the_double_trace_vertex_and_bias_term(net):
    derived = A.disorder_average(net)
    assert not derived.has(sp.KroneckerDelta)  # every delta contracted by the engine
    assert same(derived, handwritten_average(net))
    # and the W, b-free rest of the action is -sum zt z
    rest = A.averaged_action(net) - derived
    assert same(rest, -sp.Sum(A.zt[i, t] * A.z[i, t], (i, 1, N), (t, 1, T)))


@pytest.mark.parametrize("width,depth", [(3, 2), (2, 4)])
def test_numeric_width_and_depth(width, depth):
    """Small numeric N and T (which look like replica counts) give the symbolic result."""
    for net in NETS:
        numeric = net.replace(width=width, depth=depth)
        raw = A.disorder_average(numeric)
        assert not raw.atoms(sp.Symbol) & set(A.REPLICA)  # indices keep their kind
        assert A.disorder_average(numeric).has(sp.Sum) and raw.atoms(sp.Symbol) & set(A.NEURON)
        got = raw.doit()
        want = A.disorder_average(net).subs({N: width, T: depth}).doit()
        assert sp.expand(got - want) == 0


def test_generic_time_structure_specialises_to_each_network():
    generic = A.disorder_average(NETS[0], generic=True)
    for net in NETS:
        delta = sp.KroneckerDelta(t, s)
        k = delta if net.arch == "feedforward" else sp.Integer(1)
        bb = sp.Integer(1) if net.bias == "shared" else delta
        specialised = generic.replace(A.K, lambda a, c, k=k: k.xreplace({t: a, s: c}))
        specialised = specialised.replace(A.B, lambda a, c, bb=bb: bb.xreplace({t: a, s: c}))
        assert same(specialised, A.disorder_average(net))


def test_feedforward_and_recurrent_averages_differ():
    assert not same(A.disorder_average(NETS[0]), A.disorder_average(NETS[1]))
    assert not same(A.disorder_average(NETS[1]), A.disorder_average(NETS[2]))


def _monte_carlo_log_mgf(net, n, depth, zt_vals, phi_vals, samples, rng):
    """log E exp(sum W_ij(t) zt_i(t) phi_j(t-1) + sum b_i(t) zt_i(t)) over sampled W, b."""
    sw, sb = 0.8, 0.3
    if net.arch == "feedforward":
        W = rng.normal(0, np.sqrt(sw / n), (samples, depth, n, n))
    else:  # one W for every step
        W = np.repeat(rng.normal(0, np.sqrt(sw / n), (samples, 1, n, n)), depth, axis=1)
    if net.bias == "shared":
        b = np.repeat(rng.normal(0, np.sqrt(sb), (samples, 1, n)), depth, axis=1)
    else:
        b = rng.normal(0, np.sqrt(sb), (samples, depth, n))
    expo = np.einsum("mtij,ti,tj->m", W, zt_vals, phi_vals) + np.einsum("mti,ti->m", b, zt_vals)
    vals = np.exp(expo)
    mean, sd = vals.mean(), vals.std(ddof=1)
    return np.log(mean), sd / mean / np.sqrt(samples)  # delta-method standard error


def _engine_exponent(net, n, depth, zt_vals, phi_vals):
    exponent = A.disorder_average(net).subs({N: n, T: depth}).doit()
    values = {}
    for tt in range(1, depth + 1):
        for k in range(1, n + 1):
            values[A.zt[k, tt]] = zt_vals[tt - 1, k - 1]
            values[A.phi(A.z[k, tt - 1])] = phi_vals[tt - 1, k - 1]
    return float(exponent.xreplace(values).subs({S.sigma_w2: 0.8, S.sigma_b2: 0.3}))


@pytest.mark.parametrize("k", range(3), ids=["feedforward", "recurrent-shared", "recurrent-fresh"])
def test_gaussian_rule_against_monte_carlo_of_real_weights(k):
    """The engine's averaged exponent, evaluated at N = 2, T = 3 with fixed field values,
    equals log E[exp(W-linear part)] estimated from sampled real weights within 4 s.e.;
    the other two architectures' exponents miss it by more than 20 s.e. (the test has power)."""
    n, depth = 2, 3
    rng = np.random.default_rng(7)
    zt_vals = rng.uniform(0.2, 0.5, (depth, n))
    phi_vals = rng.uniform(0.3, 1.0, (depth, n))  # phi(z_j(t-1)), t = 1..T
    engines = [_engine_exponent(net, n, depth, zt_vals, phi_vals) for net in NETS]
    mc, se = _monte_carlo_log_mgf(NETS[k], n, depth, zt_vals, phi_vals, 200_000, rng)
    assert abs(engines[k] - mc) < 4 * se, (engines[k], mc, se)
    for other, value in enumerate(engines):
        if other != k:
            assert abs(value - mc) > 20 * se


def test_linear_coefficient_reads_the_sources():
    net = NETS[0]
    fw, fb = A.disorder_families(net)
    jw, rest = A.linear_coefficient(A.msrdj_action(net), fw)
    assert jw == A.zt[fw.indices[0], fw.indices[2]] * A.phi(A.z[fw.indices[1], fw.indices[2] - 1])
    jb, _ = A.linear_coefficient(rest, fb)
    assert jb == A.zt[fb.indices]
    with pytest.raises(NnqftError, match="not linear"):
        A.linear_coefficient(sp.Sum(A.W[i, j, t] ** 2, (i, 1, N), (j, 1, N), (t, 1, T)), fw)


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.arch}-{n.bias}")
def test_collective_fields_decouple_the_neurons(net):
    cf = A.collective_fields(net)
    # the single-neuron action has no neuron index and no network fields left
    assert not cf.single_neuron.has(A.z, A.zt)
    assert not (cf.single_neuron.free_symbols & set(A.NEURON))
    # N x (single-neuron) reproduces the averaged action once Q takes its definition
    n = net.width
    qq = cf.qq_term
    assert qq.has(A.Q) and qq.has(A.Qt)
    # the definition is symmetric under (t) <-> (s)
    rhs = cf.definition.rhs
    assert same(rhs, rhs.xreplace({t: s, s: t}))
    assert cf.initial == sp.Eq(A.Q(1, 1), net.sigma_w2 * net.q0)
    assert n == N


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.arch}-{n.bias}")
def test_saddle_point_conjugate_vanishes_and_maps_agree_across_architectures(net):
    sp1 = A.saddle_point(net)
    assert sp1.solution_qt.rhs == 0
    q = S.q
    expected = S.sigma_w2 * A.GaussianMean(sp.Lambda(A.u, A.phi(A.u) ** 2), q) + S.sigma_b2
    assert sp.simplify(sp1.maps["length"] - expected) == 0
    sp2 = A.saddle_point(net, replicas=2)
    assert sp2.maps["length"] == sp1.maps["length"]  # replica diagonal = one input


def test_recurrent_two_time_covariance_keeps_its_off_diagonal():
    shared = A.saddle_point(NETS[1]).two_time.rhs
    fresh = A.saddle_point(NETS[2]).two_time.rhs
    ff = A.saddle_point(NETS[0]).two_time.rhs
    assert ff.has(sp.KroneckerDelta)  # layers are independent
    assert not shared.has(sp.KroneckerDelta)  # shared bias correlates all times
    assert sp.simplify((shared - fresh).xreplace({s: t})) == 0  # equal at t = s


def test_distance_recursion_and_lyapunov():
    dr = A.distance_recursion(NETS[0])
    expected_chi = S.sigma_w2 * A.GaussianMean(
        sp.Lambda(A.u, sp.Derivative(A.phi(A.u), A.u) ** 2), A.q_star
    )
    assert sp.simplify(dr.chi_1 - expected_chi) == 0
    assert dr.lyapunov.rhs == sp.log(A.chi_1) / 2
    assert dr.critical == sp.Eq(A.chi_1, 1)
    assert dr.ordered == (A.chi_1 < 1) and dr.chaotic == (A.chi_1 > 1)


def test_price_theorem_against_finite_differences():
    """d/dq12 E[phi(u1) phi(u2)] = E[phi'(u1) phi'(u2)] for tanh, by quadrature."""
    f = sp.Lambda((A.u1, A.u2), A.phi(A.u1) * A.phi(A.u2))
    deriv = sp.diff(A.BivariateGaussianMean(f, S.q11, S.q22, S.q12), S.q12)
    tanh = get_activation("tanh")
    g = A.numeric_function_of(deriv, (S.q11, S.q22, S.q12), tanh, use_kernels=False)
    ph = tanh.numeric(0)
    h = 1e-4
    for v1, v2, c in [(0.7, 1.3, 0.2), (2.0, 0.5, -0.4)]:
        fd = (
            bivariate_gaussian_mean(ph, ph, v1, v2, c + h)
            - bivariate_gaussian_mean(ph, ph, v1, v2, c - h)
        ) / (2 * h)
        assert abs(float(g(v1, v2, c)) - fd) < 1e-7


def test_gaussian_mean_rules():
    assert A.GaussianMean(sp.Lambda(A.u, A.u**4), S.q) == 3 * S.q**2
    assert A.GaussianMean(sp.Lambda(A.u, sp.cos(A.u)), 0) == 1
    collapsed = A.BivariateGaussianMean(sp.Lambda((A.u1, A.u2), A.u1 * A.u2), S.q, S.q, S.q)
    assert collapsed == S.q
    with pytest.raises(InvalidParameter):
        A.GaussianMean(S.q, S.q)


def test_bad_replica_count():
    with pytest.raises(InvalidParameter, match="replicas"):
        A.msrdj_action(NETS[0], replicas=3)
